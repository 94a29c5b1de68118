#include "config/dedup_group_config_loader.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
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

namespace {

// Reads a list of label names (`source_labels`, `replica_labels`).
absl::StatusOr<std::vector<std::string>> LabelNames(YamlReader& reader,
                                                    const YamlEntry& field) {
  return ReadCheckedStrings(
      reader, field, IsValidLabelName, [](absl::string_view name) {
        return absl::StrCat(GoQuote(name), " is not a valid label name");
      });
}

// Reads one `dedup_groups` entry; each field is checked as it is read.
absl::Status ReadDedupGroup(YamlReader& reader,
                            const std::vector<YamlEntry>& fields,
                            DedupGroupConfig* group) {
  for (const YamlEntry& field : fields) {
    absl::Status s;
    if (field.name == "name") {
      s = Store(reader.String(field), &group->name);
    } else if (field.name == "job_names") {
      s = Store(reader.Strings(field), &group->job_names);
    } else if (field.name == "source_labels") {
      s = Store(LabelNames(reader, field), &group->source_labels);
    } else if (field.name == "separator") {
      s = StoreUnlessNull(field, reader.String(field), &group->separator);
    } else if (field.name == "regex") {
      s = StoreUnlessNull(field, reader.String(field), &group->regex);
      if (s.ok()) {
        if (absl::Status c = CheckRelabelRegex(group->regex); !c.ok()) {
          s = reader.ErrorAt(reader.ValueLine(field), c.message());
        }
      }
    } else if (field.name == "replacement") {
      s = StoreUnlessNull(field, reader.String(field), &group->replacement);
    } else if (field.name == "replica_labels") {
      s = Store(LabelNames(reader, field), &group->replica_labels);
      if (s.ok() && absl::c_linear_search(group->replica_labels, "__name__")) {
        s = reader.ErrorAt(reader.ValueLine(field),
                           "__name__ cannot be a replica label");
      }
    } else if (field.name == "group_label") {
      s = StoreUnlessNull(field, reader.String(field), &group->group_label);
      if (s.ok() && !group->group_label.empty() &&
          !IsValidLabelName(group->group_label)) {
        s = reader.ErrorAt(reader.ValueLine(field),
                           absl::StrCat(GoQuote(group->group_label),
                                        " is not a valid label name"));
      } else if (s.ok() && group->group_label == "__name__") {
        s = reader.ErrorAt(reader.ValueLine(field),
                           "__name__ cannot be a group label");
      }
    } else if (field.name == "leader_timeout") {
      s = Store(reader.Duration(field), &group->leader_timeout);
      if (s.ok() && group->leader_timeout < absl::ZeroDuration()) {
        s = reader.ErrorAt(reader.ValueLine(field),
                           "leader_timeout must not be negative");
      }
    } else {
      s = reader.UnknownOrUnsupported(field, "dedup group",
                                      /*unsupported=*/false);
    }
    if (!s.ok()) return s;
  }
  if (group->name.empty()) {
    return reader.ErrorAt(group->line, "dedup group without a name");
  }
  if (group->job_names.empty()) {
    return reader.ErrorAt(group->line,
                          absl::StrCat("dedup group ", GoQuote(group->name),
                                       " must name at least one job in "
                                       "job_names"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<DedupGroupConfig>> ParseDedupGroups(
    YamlReader& reader, const YamlEntry& entry) {
  return ReadStructList<DedupGroupConfig>(reader, entry, "dedup group",
                                          ReadDedupGroup);
}

}  // namespace fedgate
