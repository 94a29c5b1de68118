#include "merge/label_matcher.h"

#include "absl/strings/str_cat.h"

namespace fedgate {
namespace {

// Go's regexp/syntax wording for each RE2 error code (RE2's own texts differ:
// "missing )" vs Go's "missing closing )").
absl::string_view GoRegexpErrorCode(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
      return "invalid character class";
    case RE2::ErrorBadCharRange:
      return "invalid character class range";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case RE2::ErrorPatternTooLarge:
      // Go 1.19 has no program size limit; this is Go 1.20's wording.
      return "expression too large";
    default:
      return "regexp/syntax: internal error";
  }
}

absl::Status RegexpError(absl::string_view code, absl::string_view expr) {
  return absl::InvalidArgumentError(
      absl::StrCat("error parsing regexp: ", code, ": `", expr, "`"));
}

// Returns the offset of the first byte that Go's UTF-8 decoder rejects
// (invalid, overlong, surrogate or > U+10FFFF), or npos.
size_t FirstInvalidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // Range of the second byte.
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    const unsigned char b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      const unsigned char bk = static_cast<unsigned char>(s[i + k]);
      if (bk < 0x80 || bk > 0xBF) return i;
    }
    i += len;
  }
  return absl::string_view::npos;
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

// Compiles `value` as Prometheus 2.42's NewFastRegexMatcher does: Go's
// regexp.Compile of `^(?:value)$`, then syntax.Parse of the bare `value` (so
// `a)|(b`, balanced only by the wrapper, is rejected), with Go's error texts.
absl::StatusOr<std::shared_ptr<const RE2>> CompileAnchored(
    absl::string_view value) {
  const std::string anchored = absl::StrCat("^(?:", value, ")$");
  RE2::Options options;
  options.set_log_errors(false);
  auto compiled = std::make_shared<RE2>(anchored, options);
  const bool any_byte = HasAnyByteEscape(anchored);
  if (!compiled->ok()) {
    const RE2::ErrorCode code = compiled->error_code();
    if (code == RE2::ErrorBadUTF8) {
      // RE2 leaves the argument empty; Go quotes the rest of the pattern
      // from the first bad byte.
      size_t bad = FirstInvalidUtf8(anchored);
      if (bad == absl::string_view::npos) bad = 0;
      return RegexpError(GoRegexpErrorCode(code),
                         absl::string_view(anchored).substr(bad));
    }
    // Go stops at `\C`, usually before it notices an unbalanced `)`.
    if (any_byte &&
        (code == RE2::ErrorMissingParen || code == RE2::ErrorUnexpectedParen)) {
      return RegexpError("invalid escape sequence", "\\C");
    }
    if (code == RE2::ErrorPatternTooLarge) {
      return RegexpError(GoRegexpErrorCode(code), anchored);
    }
    return RegexpError(GoRegexpErrorCode(code), compiled->error_arg());
  }
  if (const size_t bad = FirstInvalidUtf8(anchored);
      bad != absl::string_view::npos) {
    // Encoded surrogates: RE2 takes them, Go does not.
    return RegexpError("invalid UTF-8",
                       absl::string_view(anchored).substr(bad));
  }
  if (any_byte) return RegexpError("invalid escape sequence", "\\C");
  RE2 bare(re2::StringPiece(value.data(), value.size()), options);
  if (!bare.ok() && bare.error_code() != RE2::ErrorPatternTooLarge) {
    return RegexpError(GoRegexpErrorCode(bare.error_code()), bare.error_arg());
  }
  return std::shared_ptr<const RE2>(std::move(compiled));
}

}  // namespace

absl::StatusOr<LabelMatcher> LabelMatcher::Create(MatchType type,
                                                  absl::string_view name,
                                                  absl::string_view value) {
  std::shared_ptr<const RE2> regex;
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    // Prometheus 2.42 anchors as ^(?:re)$; `.` does not match a newline.
    absl::StatusOr<std::shared_ptr<const RE2>> compiled =
        CompileAnchored(value);
    if (!compiled.ok()) return compiled.status();
    regex = *std::move(compiled);
  }
  return LabelMatcher(type, std::string(name), std::string(value),
                      std::move(regex));
}

bool LabelMatcher::Matches(absl::string_view value) const {
  switch (type_) {
    case MatchType::kEqual:
      return value == value_;
    case MatchType::kNotEqual:
      return value != value_;
    case MatchType::kRegexMatch:
      return RE2::FullMatch(re2::StringPiece(value.data(), value.size()),
                            *regex_);
    case MatchType::kRegexNoMatch:
      return !RE2::FullMatch(re2::StringPiece(value.data(), value.size()),
                             *regex_);
  }
  return false;
}

std::string LabelMatcher::ToString() const {
  absl::string_view op = "=";
  switch (type_) {
    case MatchType::kEqual:
      op = "=";
      break;
    case MatchType::kNotEqual:
      op = "!=";
      break;
    case MatchType::kRegexMatch:
      op = "=~";
      break;
    case MatchType::kRegexNoMatch:
      op = "!~";
      break;
  }
  return absl::StrCat(name_, op, "\"", value_, "\"");
}

bool SelectorMatches(const Selector& selector, const Labels& labels) {
  for (const LabelMatcher& matcher : selector) {
    if (!matcher.Matches(labels)) return false;
  }
  return true;
}

}  // namespace fedgate
