#include "config/dedup_group_config_loader.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/label_name.h"
#include "config/quote.h"
#include "config/relabel_config.h"
#include "config/yaml_reader.h"

namespace fedgate {

absl::StatusOr<std::vector<DedupGroupConfig>> ParseDedupGroups(
    YamlReader& reader, const YamlEntry& entry) {
  absl::StatusOr<std::vector<YamlListItem>> items =
      reader.StructListItems(entry, "dedup group");
  if (!items.ok()) return items.status();
  std::vector<DedupGroupConfig> groups;
  for (const auto& [line, fields] : *items) {
    DedupGroupConfig group;
    group.line = line;
    auto label_names = [&reader](const YamlEntry& field)
        -> absl::StatusOr<std::vector<std::string>> {
      absl::StatusOr<std::vector<std::string>> names = reader.Strings(field);
      if (!names.ok()) return names.status();
      for (const std::string& name : *names) {
        if (!IsValidLabelName(name)) {
          return reader.ErrorAt(
              reader.ValueLine(field),
              absl::StrCat(GoQuote(name), " is not a valid label name"));
        }
      }
      return names;
    };
    for (const YamlEntry& field : fields) {
      if (field.name == "name") {
        if (absl::Status s = Store(reader.String(field), &group.name); !s.ok())
          return s;
      } else if (field.name == "job_names") {
        if (absl::Status s = Store(reader.Strings(field), &group.job_names);
            !s.ok())
          return s;
      } else if (field.name == "source_labels") {
        if (absl::Status s = Store(label_names(field), &group.source_labels);
            !s.ok())
          return s;
      } else if (field.name == "separator") {
        if (absl::Status s =
                StoreUnlessNull(field, reader.String(field), &group.separator);
            !s.ok())
          return s;
      } else if (field.name == "regex") {
        if (absl::Status s =
                StoreUnlessNull(field, reader.String(field), &group.regex);
            !s.ok())
          return s;
        if (absl::Status c = CheckRelabelRegex(group.regex); !c.ok()) {
          return reader.ErrorAt(reader.ValueLine(field), c.message());
        }
      } else if (field.name == "replacement") {
        if (absl::Status s = StoreUnlessNull(field, reader.String(field),
                                             &group.replacement);
            !s.ok())
          return s;
      } else if (field.name == "replica_labels") {
        if (absl::Status s = Store(label_names(field), &group.replica_labels);
            !s.ok())
          return s;
        for (const std::string& name : group.replica_labels) {
          if (name == "__name__") {
            return reader.ErrorAt(reader.ValueLine(field),
                                  "__name__ cannot be a replica label");
          }
        }
      } else if (field.name == "group_label") {
        if (absl::Status s = StoreUnlessNull(field, reader.String(field),
                                             &group.group_label);
            !s.ok())
          return s;
        if (!group.group_label.empty() &&
            !IsValidLabelName(group.group_label)) {
          return reader.ErrorAt(reader.ValueLine(field),
                                absl::StrCat(GoQuote(group.group_label),
                                             " is not a valid label name"));
        }
        if (group.group_label == "__name__") {
          return reader.ErrorAt(reader.ValueLine(field),
                                "__name__ cannot be a group label");
        }
      } else if (field.name == "leader_timeout") {
        if (absl::Status s =
                Store(reader.Duration(field), &group.leader_timeout);
            !s.ok())
          return s;
        if (group.leader_timeout < absl::ZeroDuration()) {
          return reader.ErrorAt(reader.ValueLine(field),
                                "leader_timeout must not be negative");
        }
      } else {
        return reader.UnknownOrUnsupported(field, "dedup group",
                                           /*unsupported=*/false);
      }
    }
    if (group.name.empty()) {
      return reader.ErrorAt(line, "dedup group without a name");
    }
    if (group.job_names.empty()) {
      return reader.ErrorAt(line,
                            absl::StrCat("dedup group ", GoQuote(group.name),
                                         " must name at least one job in "
                                         "job_names"));
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace fedgate
