#include "config/discovery_config_loader.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/quote.h"
#include "config/yaml_reader.h"

namespace fedgate {
namespace {

// Prometheus's patFileSDName,
// `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`: a glob only in the last
// path element, and a known extension.
bool IsValidFileSdPath(absl::string_view path) {
  const size_t star = path.find('*');
  if (star != absl::string_view::npos &&
      path.find('/', star) != absl::string_view::npos) {
    return false;
  }
  for (absl::string_view ext :
       {".json", ".yml", ".yaml", ".JSON", ".YML", ".YAML"}) {
    if (absl::EndsWith(path, ext)) {
      // The `.` of the extension must not be the star's own text.
      return star == absl::string_view::npos || star < path.size() - ext.size();
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<StaticConfig>> ParseStaticConfigs(
    YamlReader& reader, const YamlEntry& entry,
    UrlLikeStaticTarget* url_target) {
  std::vector<StaticConfig> groups;
  if (YamlReader::IsNullNode(entry.value)) return groups;
  if (!entry.value.IsSequence()) {
    return reader.ErrorAt(
        reader.ValueLine(entry),
        absl::StrCat("field static_configs: cannot unmarshal ",
                     YamlReader::KindOf(entry.value), " into a list"));
  }
  for (const YAML::Node& item : entry.value) {
    if (YamlReader::IsNullNode(item)) {
      return reader.ErrorAt(reader.NodeLine(item),
                            "empty or null section in static_configs");
    }
    if (!item.IsMap()) {
      return reader.ErrorAt(
          YamlReader::LineOf(item),
          absl::StrCat("cannot unmarshal ", YamlReader::KindOf(item),
                       " into static config"));
    }
    StaticConfig group;
    group.line = YamlReader::LineOf(item);
    absl::StatusOr<std::vector<YamlEntry>> entries =
        reader.Entries(item, YamlMapKind::kStruct, "static config");
    if (!entries.ok()) return entries.status();
    for (const YamlEntry& field : *entries) {
      if (field.name == "targets") {
        if (YamlReader::IsNullNode(field.value)) continue;
        if (!field.value.IsSequence()) {
          return reader.ErrorAt(
              reader.ValueLine(field),
              absl::StrCat("field targets: cannot unmarshal ",
                           YamlReader::KindOf(field.value), " into []string"));
        }
        for (const YAML::Node& target : field.value) {
          const YamlEntry target_entry("targets", field.key_line, target);
          absl::StatusOr<std::string> address = reader.String(target_entry);
          if (!address.ok()) return address.status();
          // Prometheus checks for URLs at load time (checkStaticTargets,
          // when there are no relabel_configs) and for empty addresses when
          // it builds the target ("no address").
          if (address->empty()) {
            return reader.ErrorAt(reader.ValueLine(target_entry),
                                  "target has no address");
          }
          if (address->find('/') != std::string::npos &&
              url_target->line == 0) {
            url_target->address = *address;
            url_target->line = reader.ValueLine(target_entry);
          }
          group.targets.push_back(*std::move(address));
        }
      } else if (field.name == "labels") {
        if (absl::Status s = Store(reader.LabelSet(field), &group.labels);
            !s.ok())
          return s;
      } else {
        return reader.UnknownOrUnsupported(field, "static config",
                                           /*unsupported=*/false);
      }
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

absl::StatusOr<std::vector<FileSdConfig>> ParseFileSdConfigs(
    YamlReader& reader, const YamlEntry& entry) {
  absl::StatusOr<std::vector<YamlListItem>> items =
      reader.StructListItems(entry, "file_sd config");
  if (!items.ok()) return items.status();
  std::vector<FileSdConfig> configs;
  for (const auto& [line, fields] : *items) {
    FileSdConfig config;
    config.line = line;
    int refresh_line = line;
    for (const YamlEntry& field : fields) {
      if (field.name == "files") {
        if (absl::Status s = Store(reader.Strings(field), &config.files);
            !s.ok())
          return s;
      } else if (field.name == "refresh_interval") {
        absl::StatusOr<absl::Duration> d = reader.Duration(field);
        if (!d.ok()) return d.status();
        // Null keeps the default, as yaml.v2 leaves the field alone.
        if (!YamlReader::IsNullNode(field.value)) config.refresh_interval = *d;
        refresh_line = field.key_line;
      } else {
        return reader.UnknownOrUnsupported(field, "file_sd config",
                                           /*unsupported=*/false);
      }
    }
    if (config.files.empty()) {
      return reader.ErrorAt(
          line,
          "file service discovery config must contain at least one path name");
    }
    for (std::string& path : config.files) {
      if (!IsValidFileSdPath(path)) {
        return reader.ErrorAt(line,
                              absl::StrCat("path name ", GoQuote(path),
                                           " is not valid for file discovery"));
      }
      // Relative paths are relative to the config file (Prometheus's
      // SetDirectory); a config file name without a directory leaves them.
      path = reader.ResolvePath(path);
    }
    // Prometheus 2.42 would panic on a zero ticker; fedgate refuses it.
    if (config.refresh_interval <= absl::ZeroDuration()) {
      return reader.ErrorAt(refresh_line,
                            "refresh_interval must be greater than 0");
    }
    configs.push_back(std::move(config));
  }
  return configs;
}

absl::StatusOr<std::vector<DnsSdConfig>> ParseDnsSdConfigs(
    YamlReader& reader, const YamlEntry& entry) {
  absl::StatusOr<std::vector<YamlListItem>> items =
      reader.StructListItems(entry, "dns_sd config");
  if (!items.ok()) return items.status();
  std::vector<DnsSdConfig> configs;
  for (const auto& [line, fields] : *items) {
    DnsSdConfig config;
    config.line = line;
    int refresh_line = line;
    int type_line = line;
    for (const YamlEntry& field : fields) {
      if (field.name == "names") {
        if (absl::Status s = Store(reader.Strings(field), &config.names);
            !s.ok())
          return s;
      } else if (field.name == "type") {
        if (absl::Status s = Store(reader.String(field), &config.type); !s.ok())
          return s;
        type_line = field.key_line;
      } else if (field.name == "port") {
        if (absl::Status s = Store(reader.Int(field), &config.port); !s.ok())
          return s;
      } else if (field.name == "refresh_interval") {
        if (absl::Status s = StoreUnlessNull(field, reader.Duration(field),
                                             &config.refresh_interval);
            !s.ok())
          return s;
        refresh_line = field.key_line;
      } else {
        return reader.UnknownOrUnsupported(field, "dns_sd config",
                                           /*unsupported=*/false);
      }
    }
    // The checks of dns.SDConfig.UnmarshalYAML, in its order.
    if (config.names.empty()) {
      return reader.ErrorAt(
          line, "DNS-SD config must contain at least one SRV record name");
    }
    const std::string type = absl::AsciiStrToUpper(config.type);
    if (type == "A" || type == "AAAA") {
      if (config.port == 0) {
        return reader.ErrorAt(
            line,
            "a port is required in DNS-SD configs for all record "
            "types except SRV");
      }
    } else if (type != "SRV") {
      return reader.ErrorAt(
          type_line, absl::StrCat("invalid DNS-SD records type ", config.type));
    }
    if (config.refresh_interval <= absl::ZeroDuration()) {
      return reader.ErrorAt(refresh_line,
                            "refresh_interval must be greater than 0");
    }
    configs.push_back(std::move(config));
  }
  return configs;
}

}  // namespace fedgate
