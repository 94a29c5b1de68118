#include "config/relabel_config_loader.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/label_name.h"
#include "config/quote.h"
#include "config/relabel_config.h"
#include "config/yaml_reader.h"

namespace fedgate {
namespace {

absl::StatusOr<RelabelConfig> ParseRelabelConfig(YamlReader& reader,
                                                 const YAML::Node& node,
                                                 RelabelListKind kind) {
  if (YamlReader::IsNullNode(node)) {
    return reader.ErrorAt(reader.NodeLine(node),
                          kind == RelabelListKind::kTarget
                              ? "empty or null target relabeling "
                                "rule in scrape config"
                              : "empty or null metric relabeling "
                                "rule in scrape config");
  }
  absl::StatusOr<std::vector<YamlEntry>> entries = reader.StructMappingEntries(
      node, YamlReader::LineOf(node), "relabel config");
  if (!entries.ok()) return entries.status();
  RelabelConfig rule;
  rule.line = YamlReader::LineOf(node);
  // What Prometheus 2.42's checks compare by identity rather than value: an
  // explicit regex (even `(.*)`) and explicit source_labels (even `[]`).
  bool regex_set = false;
  bool source_labels_set = false;
  bool action_empty = false;
  for (const YamlEntry& field : *entries) {
    if (field.name == "source_labels") {
      rule.source_labels.clear();
      source_labels_set = false;
      if (YamlReader::IsNullNode(field.value)) continue;
      if (!field.value.IsSequence()) {
        return reader.UnmarshalError(field, "a list");
      }
      source_labels_set = true;
      for (const YAML::Node& name_node : field.value) {
        const YamlEntry name_entry("source_labels", field.key_line, name_node);
        absl::StatusOr<std::string> name = reader.String(name_entry);
        if (!name.ok()) return name.status();
        // A null item is "" in Prometheus and passes; any other must be a
        // label name.
        if (!YamlReader::IsNullNode(name_node) && !IsValidLabelName(*name)) {
          return reader.ErrorAt(
              reader.ValueLine(name_entry),
              absl::StrCat(GoQuote(*name), " is not a valid label name"));
        }
        rule.source_labels.push_back(*std::move(name));
      }
      continue;
    }
    if (field.name == "modulus") {
      if (absl::Status s = Store(reader.Uint64(field), &rule.modulus); !s.ok())
        return s;
      continue;
    }
    if (field.name != "separator" && field.name != "regex" &&
        field.name != "target_label" && field.name != "replacement" &&
        field.name != "action") {
      return reader.UnknownOrUnsupported(field, "relabel config",
                                         /*unsupported=*/false);
    }
    absl::StatusOr<std::string> v = reader.String(field);
    if (!v.ok()) return v.status();
    if (field.name == "separator") {
      rule.separator = *std::move(v);
    } else if (field.name == "regex") {
      // Null is the empty regex, which matches only "".
      if (absl::Status s = CheckRelabelRegex(*v); !s.ok()) {
        return reader.ErrorAt(reader.ValueLine(field), s.message());
      }
      rule.regex = *std::move(v);
      regex_set = true;
    } else if (field.name == "target_label") {
      rule.target_label = *std::move(v);
    } else if (field.name == "replacement") {
      rule.replacement = *std::move(v);
    } else {  // action
      action_empty = YamlReader::IsNullNode(field.value);
      if (!action_empty) {
        absl::StatusOr<RelabelAction> action = ParseRelabelAction(*v);
        if (!action.ok()) {
          return reader.ErrorAt(reader.ValueLine(field),
                                action.status().message());
        }
        rule.action = *action;
      }
    }
  }

  // The checks of relabel.Config.UnmarshalYAML (2.42), in its order.
  const RelabelAction a = rule.action;
  const std::string name(RelabelActionName(a));
  const RelabelConfig defaults;
  const auto error = [&](absl::string_view reason) {
    return reader.ErrorAt(rule.line, reason);
  };
  if (action_empty) return error("relabel action cannot be empty");
  if (rule.modulus == 0 && a == RelabelAction::kHashMod) {
    return error("relabel configuration for hashmod requires non-zero modulus");
  }
  const bool needs_target =
      a == RelabelAction::kReplace || a == RelabelAction::kHashMod ||
      a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
      a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
  const bool templated_target = needs_target && a != RelabelAction::kHashMod;
  const bool no_replacement =
      a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
      a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
  if (needs_target && rule.target_label.empty()) {
    return error(absl::StrCat("relabel configuration for ", name,
                              " action requires 'target_label' value"));
  }
  if (templated_target && !IsValidRelabelTarget(rule.target_label)) {
    return error(absl::StrCat(GoQuote(rule.target_label),
                              " is invalid 'target_label' for ", name,
                              " action"));
  }
  if (no_replacement && rule.replacement != defaults.replacement) {
    return error(
        absl::StrCat("'replacement' can not be set for ", name, " action"));
  }
  if (a == RelabelAction::kLabelMap &&
      !IsValidRelabelTarget(rule.replacement)) {
    return error(absl::StrCat(GoQuote(rule.replacement),
                              " is invalid 'replacement' for ", name,
                              " action"));
  }
  if (a == RelabelAction::kHashMod && !IsValidLabelName(rule.target_label)) {
    return error(absl::StrCat(GoQuote(rule.target_label),
                              " is invalid 'target_label' for ", name,
                              " action"));
  }
  if ((a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual) &&
      (regex_set || rule.modulus != defaults.modulus ||
       rule.separator != defaults.separator ||
       rule.replacement != defaults.replacement)) {
    return error(absl::StrCat(name,
                              " action requires only 'source_labels' and "
                              "`target_label`, and no other fields"));
  }
  if ((a == RelabelAction::kLabelDrop || a == RelabelAction::kLabelKeep) &&
      (source_labels_set || rule.target_label != defaults.target_label ||
       rule.modulus != defaults.modulus ||
       rule.separator != defaults.separator ||
       rule.replacement != defaults.replacement)) {
    return error(absl::StrCat(
        name, " action requires only 'regex', and no other fields"));
  }
  return rule;
}

}  // namespace

absl::StatusOr<std::vector<RelabelConfig>> ParseRelabelConfigs(
    YamlReader& reader, const YamlEntry& entry, RelabelListKind kind) {
  std::vector<RelabelConfig> rules;
  if (YamlReader::IsNullNode(entry.value)) return rules;
  if (!entry.value.IsSequence()) {
    return reader.UnmarshalError(entry, "a list");
  }
  for (const YAML::Node& item : entry.value) {
    absl::StatusOr<RelabelConfig> rule = ParseRelabelConfig(reader, item, kind);
    if (!rule.ok()) return rule.status();
    rules.push_back(*std::move(rule));
  }
  return rules;
}

}  // namespace fedgate
