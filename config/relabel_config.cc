#include "config/relabel_config.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/go_regexp.h"
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

RelabelConfig MakeRelabelConfig(RelabelAction action,
                                std::vector<std::string> source_labels,
                                std::string regex, std::string target_label,
                                std::string replacement, std::string separator,
                                uint64_t modulus) {
  RelabelConfig config;
  config.action = action;
  config.source_labels = std::move(source_labels);
  config.regex = std::move(regex);
  config.target_label = std::move(target_label);
  config.replacement = std::move(replacement);
  config.separator = std::move(separator);
  config.modulus = modulus;
  return config;
}

std::string AnchoredRelabelRegex(absl::string_view regex) {
  return absl::StrCat("^(?:", regex, ")$");
}

absl::Status CheckRelabelRegex(absl::string_view regex) {
  return CompileGoRegexp(AnchoredRelabelRegex(regex)).status();
}

bool IsValidRelabelTarget(absl::string_view target_label) {
  static const RE2* const kTarget =
      new RE2(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return RE2::FullMatch(
      re2::StringPiece(target_label.data(), target_label.size()), *kTarget);
}

}  // namespace fedgate
