#include "config/rule_options_config_loader.h"

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "config/label_name.h"
#include "config/quote.h"
#include "config/yaml_reader.h"

namespace fedgate {

absl::StatusOr<std::map<std::string, RuleOptionsConfig>> ParseRuleOptions(
    YamlReader& reader, const YamlEntry& entry) {
  std::map<std::string, RuleOptionsConfig> options;
  if (YamlReader::IsNullNode(entry.value)) return options;
  absl::StatusOr<std::vector<YamlEntry>> rules = reader.MappingEntries(
      entry.value, reader.ValueLine(entry), YamlMapKind::kLabels,
      "map[string]rule options", "rule_options");
  if (!rules.ok()) return rules.status();
  for (const YamlEntry& rule : *rules) {
    if (!IsValidMetricName(rule.name)) {
      return reader.ErrorAt(
          rule.key_line, absl::StrCat("rule_options: ", GoQuote(rule.name),
                                      " is not a valid recording rule name"));
    }
    RuleOptionsConfig config;
    config.line = rule.key_line;
    absl::StatusOr<std::vector<YamlEntry>> fields =
        reader.StructEntries(rule, "rule options");
    if (!fields.ok()) return fields.status();
    for (const YamlEntry& field : *fields) {
      absl::Status s;
      if (field.name == "keep_inputs") {
        if (YamlReader::IsNullNode(field.value)) continue;
        s = Store(reader.Bool(field), &config.keep_inputs);
      } else {
        s = reader.UnknownOrUnsupported(field, "rule options",
                                        /*unsupported=*/false);
      }
      if (!s.ok()) return s;
    }
    options.emplace(rule.name, config);
  }
  return options;
}

}  // namespace fedgate
