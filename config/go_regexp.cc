#include "config/go_regexp.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "config/utf8.h"

namespace fedgate {
namespace {

// Go's regexp/syntax wording for each RE2 error code (RE2's own texts differ:
// "missing )" vs Go's "missing closing )").
struct GoRegexpError {
  RE2::ErrorCode code;
  absl::string_view text;
};
constexpr GoRegexpError kGoRegexpErrors[] = {
    {RE2::ErrorBadEscape, "invalid escape sequence"},
    {RE2::ErrorBadCharClass, "invalid character class"},
    {RE2::ErrorBadCharRange, "invalid character class range"},
    {RE2::ErrorMissingBracket, "missing closing ]"},
    {RE2::ErrorMissingParen, "missing closing )"},
    {RE2::ErrorUnexpectedParen, "unexpected )"},
    {RE2::ErrorTrailingBackslash, "trailing backslash at end of expression"},
    {RE2::ErrorRepeatArgument, "missing argument to repetition operator"},
    {RE2::ErrorRepeatSize, "invalid repeat count"},
    {RE2::ErrorRepeatOp, "invalid nested repetition operator"},
    {RE2::ErrorBadPerlOp, "invalid or unsupported Perl syntax"},
    {RE2::ErrorBadUTF8, "invalid UTF-8"},
    {RE2::ErrorBadNamedCapture, "invalid named capture"},
    // Go 1.19 has no program size limit; this is Go 1.20's wording.
    {RE2::ErrorPatternTooLarge, "expression too large"},
};

absl::string_view GoRegexpErrorCode(RE2::ErrorCode code) {
  for (const GoRegexpError& error : kGoRegexpErrors) {
    if (error.code == code) return error.text;
  }
  return "regexp/syntax: internal error";
}

absl::Status RegexpError(absl::string_view code, absl::string_view expr) {
  return absl::InvalidArgumentError(
      absl::StrCat("error parsing regexp: ", code, ": `", expr, "`"));
}

// Returns whether `re` uses `\C` (any byte) outside `\Q...\E`: RE2 accepts
// it, Go rejects it as an invalid escape.
bool HasAnyByteEscape(absl::string_view re) {
  for (size_t i = 0; i + 1 < re.size(); ++i) {
    if (re[i] != '\\') continue;
    if (re[i + 1] == 'C') return true;
    if (re[i + 1] == 'Q') {
      const size_t end = re.find("\\E", i + 2);
      if (end == absl::string_view::npos) return false;
      i = end;
    }
    ++i;  // Skip the escaped character.
  }
  return false;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RE2>> CompileGoRegexp(
    absl::string_view pattern, int64_t max_mem) {
  RE2::Options options;
  options.set_log_errors(false);
  if (max_mem > 0) options.set_max_mem(max_mem);
  auto compiled = std::make_shared<RE2>(
      re2::StringPiece(pattern.data(), pattern.size()), options);
  const bool any_byte = HasAnyByteEscape(pattern);
  if (!compiled->ok()) {
    const RE2::ErrorCode code = compiled->error_code();
    if (code == RE2::ErrorBadUTF8) {
      // RE2 leaves the argument empty; Go quotes the rest of the pattern
      // from the first bad byte.
      size_t bad = FirstInvalidUtf8(pattern);
      if (bad == absl::string_view::npos) bad = 0;
      return RegexpError(GoRegexpErrorCode(code), pattern.substr(bad));
    }
    // Go stops at `\C`, usually before it notices an unbalanced `)`.
    if (any_byte &&
        (code == RE2::ErrorMissingParen || code == RE2::ErrorUnexpectedParen)) {
      return RegexpError("invalid escape sequence", "\\C");
    }
    if (code == RE2::ErrorPatternTooLarge) {
      return RegexpError(GoRegexpErrorCode(code), pattern);
    }
    return RegexpError(GoRegexpErrorCode(code), compiled->error_arg());
  }
  if (const size_t bad = FirstInvalidUtf8(pattern);
      bad != absl::string_view::npos) {
    // Encoded surrogates: RE2 takes them, Go does not.
    return RegexpError("invalid UTF-8", pattern.substr(bad));
  }
  if (any_byte) return RegexpError("invalid escape sequence", "\\C");
  return std::shared_ptr<const RE2>(std::move(compiled));
}

}  // namespace fedgate
