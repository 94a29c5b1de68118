#include "config/rule_file_loader.h"

#include <glob.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/file_contents.h"
#include "config/label_name.h"
#include "config/quote.h"
#include "config/yaml_reader.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// Returns whether a rule field holds nothing (null, "", a zero duration,
// an empty mapping), as rulefmt's zero values.
bool IsZero(const YamlEntry& field) {
  if (YamlReader::IsNullNode(field.value)) return true;
  if (field.value.IsMap() || field.value.IsSequence()) {
    return field.value.size() == 0;
  }
  return field.value.Scalar().empty() || field.value.Scalar() == "0s" ||
         field.value.Scalar() == "0";
}

absl::StatusOr<RecordingRuleConfig> ParseRule(YamlReader& reader,
                                              const YamlListItem& item,
                                              absl::string_view group,
                                              size_t index) {
  RecordingRuleConfig rule;
  rule.line = item.line;
  std::string alert;
  int record_line = item.line;
  bool has_annotations = false, has_for = false, has_keep_firing_for = false;
  const YamlEntry* labels = nullptr;
  for (const YamlEntry& field : item.entries) {
    absl::Status s;
    if (field.name == "record") {
      s = Store(reader.String(field), &rule.record);
      record_line = reader.ValueLine(field);
    } else if (field.name == "alert") {
      s = Store(reader.String(field), &alert);
    } else if (field.name == "expr") {
      s = Store(reader.String(field), &rule.expr);
      rule.expr_line = reader.ValueLine(field);
    } else if (field.name == "for" || field.name == "keep_firing_for") {
      absl::StatusOr<absl::Duration> d = reader.Duration(field);
      s = d.status();
      if (d.ok() && *d != absl::ZeroDuration()) {
        (field.name == "for" ? has_for : has_keep_firing_for) = true;
      }
    } else if (field.name == "labels") {
      labels = &field;
    } else if (field.name == "annotations") {
      has_annotations = !IsZero(field);
    } else {
      s = reader.UnknownOrUnsupported(field, "rule", /*unsupported=*/false);
    }
    if (!s.ok()) return s;
  }
  const std::string prefix =
      RuleErrorPrefix(group, index, alert.empty() ? rule.record : alert);
  if (!alert.empty()) {
    return reader.ErrorAt(
        item.line, absl::StrCat(prefix,
                                "alerting rules are not supported: fedgate "
                                "evaluates recording rules only"));
  }
  if (rule.record.empty()) {
    return reader.ErrorAt(
        record_line,
        absl::StrCat(prefix, "one of 'record' or 'alert' must be set"));
  }
  if (rule.expr.empty()) {
    return reader.ErrorAt(
        rule.expr_line > 0 ? rule.expr_line : item.line,
        absl::StrCat(prefix, "field 'expr' must be set in rule"));
  }
  if (has_annotations || has_for || has_keep_firing_for) {
    return reader.ErrorAt(record_line,
                          absl::StrCat(prefix, "invalid field '",
                                       has_annotations ? "annotations"
                                       : has_for       ? "for"
                                                       : "keep_firing_for",
                                       "' in recording rule"));
  }
  if (!IsValidMetricName(rule.record)) {
    return reader.ErrorAt(
        record_line,
        absl::StrCat(prefix, "invalid recording rule name: ", rule.record));
  }
  if (labels != nullptr) {
    if (YamlReader::IsNullNode(labels->value)) return rule;
    if (!labels->value.IsMap()) {
      return reader.UnmarshalError(*labels, "map[string]string");
    }
    absl::StatusOr<std::vector<YamlEntry>> entries =
        reader.Entries(labels->value, YamlMapKind::kLabels, "labels");
    if (!entries.ok()) return entries.status();
    for (const YamlEntry& label : *entries) {
      if (!IsValidLabelName(label.name) || label.name == "__name__") {
        return reader.ErrorAt(
            label.key_line,
            absl::StrCat(prefix, "invalid label name: ", label.name));
      }
      absl::StatusOr<std::string> value = reader.String(label);
      if (!value.ok()) return value.status();
      rule.labels.emplace(label.name, *std::move(value));
    }
  }
  return rule;
}

absl::StatusOr<RuleGroupConfig> ParseGroup(YamlReader& reader,
                                           const YamlListItem& item,
                                           absl::string_view filename) {
  RuleGroupConfig group;
  group.file = std::string(filename);
  group.line = item.line;
  const YamlEntry* rules = nullptr;
  for (const YamlEntry& field : item.entries) {
    absl::Status s;
    if (field.name == "name") {
      s = Store(reader.String(field), &group.name);
    } else if (field.name == "rules") {
      rules = &field;
    } else if (field.name == "interval" || field.name == "limit") {
      if (!IsZero(field)) {
        s = reader.ErrorAt(
            field.key_line,
            absl::StrCat("field ", field.name,
                         " in rule group is not supported: fedgate "
                         "evaluates aggregation rules on every scrape"));
      }
    } else {
      s = reader.UnknownOrUnsupported(field, "rule group",
                                      /*unsupported=*/false);
    }
    if (!s.ok()) return s;
  }
  if (group.name.empty()) {
    return reader.ErrorAt(item.line, "Groupname must not be empty");
  }
  if (rules == nullptr) return group;
  absl::StatusOr<std::vector<YamlListItem>> items =
      reader.StructListItems(*rules, "rule");
  if (!items.ok()) return items.status();
  for (size_t i = 0; i < items->size(); ++i) {
    absl::StatusOr<RecordingRuleConfig> rule =
        ParseRule(reader, (*items)[i], group.name, i + 1);
    if (!rule.ok()) return rule.status();
    group.rules.push_back(*std::move(rule));
  }
  return group;
}

absl::StatusOr<std::vector<RuleGroupConfig>> ParseRuleFileDocument(
    absl::string_view yaml, absl::string_view filename) {
  YamlReader reader(yaml, filename);
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  if (!root.ok()) return root.status();
  std::vector<RuleGroupConfig> groups;
  if (YamlReader::IsNullNode(*root)) return groups;
  absl::StatusOr<std::vector<YamlEntry>> entries = reader.StructMappingEntries(
      *root, YamlReader::LineOf(*root), "rule groups");
  if (!entries.ok()) return entries.status();
  absl::flat_hash_set<std::string> names;
  for (const YamlEntry& field : *entries) {
    if (field.name != "groups") {
      return reader.UnknownOrUnsupported(field, "rule groups",
                                         /*unsupported=*/false);
    }
    absl::StatusOr<std::vector<YamlListItem>> items =
        reader.StructListItems(field, "rule group");
    if (!items.ok()) return items.status();
    for (const YamlListItem& item : *items) {
      absl::StatusOr<RuleGroupConfig> group =
          ParseGroup(reader, item, filename);
      if (!group.ok()) return group.status();
      if (!names.insert(group->name).second) {
        return reader.ErrorAt(item.line,
                              absl::StrCat("groupname: \"", group->name,
                                           "\" is repeated in the same file"));
      }
      groups.push_back(*std::move(group));
    }
  }
  return groups;
}

}  // namespace

std::string RuleErrorPrefix(absl::string_view group, size_t number,
                            absl::string_view name) {
  return absl::StrCat("group ", GoQuote(group), ", rule ", number, ", ",
                      GoQuote(name), ": ");
}

bool IsValidRuleFilePattern(absl::string_view pattern) {
  const size_t star = pattern.find('*');
  if (star == absl::string_view::npos) return true;
  return pattern.find('/', star) == absl::string_view::npos;
}

absl::StatusOr<std::vector<RuleGroupConfig>> ParseRuleFile(
    absl::string_view yaml, absl::string_view filename) {
  return GuardYamlLoad(filename, "rules",
                       [&] { return ParseRuleFileDocument(yaml, filename); });
}

absl::StatusOr<std::vector<std::string>> ExpandRuleFilePatterns(
    const std::vector<std::string>& patterns) {
  std::vector<std::string> files;
  for (const std::string& pattern : patterns) {
    glob_t matched;
    // glob(3) sorts its matches, as filepath.Glob lists each directory.
    const int rc = glob(pattern.c_str(), 0, nullptr, &matched);
    if (rc == 0) {
      files.insert(files.end(), matched.gl_pathv,
                   matched.gl_pathv + matched.gl_pathc);
    }
    globfree(&matched);
    if (rc != 0 && rc != GLOB_NOMATCH) {
      return absl::InvalidArgumentError(
          absl::StrCat("error retrieving rule files for ", pattern));
    }
  }
  return files;
}

absl::StatusOr<std::vector<RuleGroupConfig>> LoadRuleFiles(
    const std::vector<std::string>& patterns) {
  std::vector<RuleGroupConfig> groups;
  // Record name -> where it is defined.
  absl::flat_hash_map<std::string, std::string> records;
  absl::StatusOr<std::vector<std::string>> files =
      ExpandRuleFilePatterns(patterns);
  if (!files.ok()) return files.status();
  for (const std::string& file : *files) {
    absl::StatusOr<std::string> contents =
        ReadFileContents(file, [&file](absl::string_view, int error_number) {
          return absl::ErrnoToStatus(error_number,
                                     absl::StrCat("reading rule file ", file));
        });
    if (!contents.ok()) return contents.status();
    absl::StatusOr<std::vector<RuleGroupConfig>> parsed =
        ParseRuleFile(*contents, file);
    if (!parsed.ok()) return parsed.status();
    for (RuleGroupConfig& group : *parsed) {
      for (const RecordingRuleConfig& rule : group.rules) {
        const std::string here = absl::StrCat(file, ":", rule.line);
        auto [it, added] = records.try_emplace(rule.record, here);
        if (!added) {
          return absl::InvalidArgumentError(absl::StrCat(
              here, ": recording rule ", GoQuote(rule.record),
              " is already defined at ", it->second,
              "; fedgate keys a rule's output and options by its name"));
        }
      }
      groups.push_back(std::move(group));
    }
  }
  return groups;
}

}  // namespace fedgate
