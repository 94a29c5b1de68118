#include "config/relabel_config.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/quote.h"
#include "re2/re2.h"

namespace fedgate {
namespace {

struct ActionName {
  RelabelAction action;
  absl::string_view name;
};

constexpr ActionName kActionNames[] = {
    {RelabelAction::kReplace, "replace"},
    {RelabelAction::kKeep, "keep"},
    {RelabelAction::kDrop, "drop"},
    {RelabelAction::kHashMod, "hashmod"},
    {RelabelAction::kLabelMap, "labelmap"},
    {RelabelAction::kLabelDrop, "labeldrop"},
    {RelabelAction::kLabelKeep, "labelkeep"},
    {RelabelAction::kKeepEqual, "keepequal"},
    {RelabelAction::kDropEqual, "dropequal"},
    {RelabelAction::kLowercase, "lowercase"},
    {RelabelAction::kUppercase, "uppercase"},
};

// Go's regexp/syntax error codes for RE2's (the parsers are siblings).
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
      return "expression too large";
    default:
      return "unexpected error";
  }
}

}  // namespace

absl::string_view RelabelActionName(RelabelAction action) {
  for (const ActionName& a : kActionNames) {
    if (a.action == action) return a.name;
  }
  return "unknown";
}

absl::StatusOr<RelabelAction> ParseRelabelAction(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (const ActionName& a : kActionNames) {
    if (a.name == lower) return a.action;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown relabel action ", GoQuote(name)));
}

std::string AnchoredRelabelRegex(absl::string_view regex) {
  return absl::StrCat("^(?:", regex, ")$");
}

absl::Status CheckRelabelRegex(absl::string_view regex) {
  // RE2 accepts `\C` (any byte); Go's regexp, and so Prometheus, does not.
  for (size_t i = 0; i + 1 < regex.size(); ++i) {
    if (regex[i] != '\\') continue;
    if (regex[i + 1] == 'C') {
      return absl::InvalidArgumentError(
          "error parsing regexp: invalid escape sequence: `\\C`");
    }
    ++i;  // Skip the escaped character.
  }
  const std::string anchored = AnchoredRelabelRegex(regex);
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 re(anchored, options);
  if (re.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("error parsing regexp: ", GoRegexpErrorCode(re.error_code()),
                   ": `", re.error_arg(), "`"));
}

bool IsValidRelabelTarget(absl::string_view target_label) {
  static const RE2* const kTarget =
      new RE2(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return RE2::FullMatch(
      re2::StringPiece(target_label.data(), target_label.size()), *kTarget);
}

}  // namespace fedgate
