#include "config/discovery_config_loader.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/http_client_config_loader.h"
#include "config/kubernetes_selector.h"
#include "config/quote.h"
#include "config/redacted_url.h"
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

// The check of an SD config's refresh_interval (at `line`), after
// Prometheus's own checks: Prometheus 2.42 would panic on a zero ticker;
// fedgate refuses it.
absl::Status CheckRefreshInterval(const YamlReader& reader,
                                  absl::Duration interval, int line) {
  if (interval > absl::ZeroDuration()) return absl::OkStatus();
  return reader.ErrorAt(line, "refresh_interval must be greater than 0");
}

// Reads one `static_configs` entry.
absl::Status ReadStaticConfig(YamlReader& reader,
                              const std::vector<YamlEntry>& fields,
                              StaticConfig* group,
                              UrlLikeStaticTarget* url_target) {
  for (const YamlEntry& field : fields) {
    if (field.name == "targets") {
      if (YamlReader::IsNullNode(field.value)) continue;
      if (!field.value.IsSequence()) {
        return reader.UnmarshalError(field, "[]string");
      }
      for (const YAML::Node& target : field.value) {
        const YamlEntry target_entry("targets", field.key_line, target);
        absl::StatusOr<std::string> address = reader.String(target_entry);
        if (!address.ok()) return address.status();
        // Prometheus checks for URLs at load time (checkStaticTargets, when
        // there are no relabel_configs) and for empty addresses when it
        // builds the target ("no address").
        if (address->empty()) {
          return reader.ErrorAt(reader.ValueLine(target_entry),
                                "target has no address");
        }
        if (address->find('/') != std::string::npos && url_target->line == 0) {
          url_target->address = *address;
          url_target->line = reader.ValueLine(target_entry);
        }
        group->targets.push_back(*std::move(address));
      }
    } else if (field.name == "labels") {
      if (absl::Status s = Store(reader.LabelSet(field), &group->labels);
          !s.ok())
        return s;
    } else {
      return reader.UnknownOrUnsupported(field, "static config",
                                         /*unsupported=*/false);
    }
  }
  return absl::OkStatus();
}

// Reads one `file_sd_configs` entry.
absl::Status ReadFileSdConfig(YamlReader& reader,
                              const std::vector<YamlEntry>& fields,
                              FileSdConfig* config) {
  int refresh_line = config->line;
  for (const YamlEntry& field : fields) {
    absl::Status s;
    if (field.name == "files") {
      s = Store(reader.Strings(field), &config->files);
    } else if (field.name == "refresh_interval") {
      s = StoreUnlessNull(field, reader.Duration(field),
                          &config->refresh_interval);
      refresh_line = field.key_line;
    } else {
      s = reader.UnknownOrUnsupported(field, "file_sd config",
                                      /*unsupported=*/false);
    }
    if (!s.ok()) return s;
  }
  if (config->files.empty()) {
    return reader.ErrorAt(
        config->line,
        "file service discovery config must contain at least one path name");
  }
  for (std::string& path : config->files) {
    if (!IsValidFileSdPath(path)) {
      return reader.ErrorAt(config->line,
                            absl::StrCat("path name ", GoQuote(path),
                                         " is not valid for file discovery"));
    }
    // Relative paths are relative to the config file (Prometheus's
    // SetDirectory); a config file name without a directory leaves them.
    path = reader.ResolvePath(path);
  }
  return CheckRefreshInterval(reader, config->refresh_interval, refresh_line);
}

// Reads one `dns_sd_configs` entry.
absl::Status ReadDnsSdConfig(YamlReader& reader,
                             const std::vector<YamlEntry>& fields,
                             DnsSdConfig* config) {
  int refresh_line = config->line;
  int type_line = config->line;
  for (const YamlEntry& field : fields) {
    absl::Status s;
    if (field.name == "names") {
      s = Store(reader.Strings(field), &config->names);
    } else if (field.name == "type") {
      s = Store(reader.String(field), &config->type);
      type_line = field.key_line;
    } else if (field.name == "port") {
      s = Store(reader.Int(field), &config->port);
    } else if (field.name == "refresh_interval") {
      s = StoreUnlessNull(field, reader.Duration(field),
                          &config->refresh_interval);
      refresh_line = field.key_line;
    } else {
      s = reader.UnknownOrUnsupported(field, "dns_sd config",
                                      /*unsupported=*/false);
    }
    if (!s.ok()) return s;
  }
  // The checks of dns.SDConfig.UnmarshalYAML, in its order.
  if (config->names.empty()) {
    return reader.ErrorAt(
        config->line,
        "DNS-SD config must contain at least one SRV record name");
  }
  const std::string type = absl::AsciiStrToUpper(config->type);
  if (type == "A" || type == "AAAA") {
    if (config->port == 0) {
      return reader.ErrorAt(config->line,
                            "a port is required in DNS-SD configs for all "
                            "record types except SRV");
    }
  } else if (type != "SRV") {
    return reader.ErrorAt(
        type_line, absl::StrCat("invalid DNS-SD records type ", config->type));
  }
  return CheckRefreshInterval(reader, config->refresh_interval, refresh_line);
}

}  // namespace

absl::StatusOr<std::vector<StaticConfig>> ParseStaticConfigs(
    YamlReader& reader, const YamlEntry& entry,
    UrlLikeStaticTarget* url_target) {
  return ReadStructList<StaticConfig>(
      reader, entry, "static config",
      [url_target](YamlReader& reader, const std::vector<YamlEntry>& fields,
                   StaticConfig* group) {
        return ReadStaticConfig(reader, fields, group, url_target);
      });
}

absl::StatusOr<std::vector<FileSdConfig>> ParseFileSdConfigs(
    YamlReader& reader, const YamlEntry& entry) {
  return ReadStructList<FileSdConfig>(reader, entry, "file_sd config",
                                      ReadFileSdConfig);
}

absl::StatusOr<std::vector<DnsSdConfig>> ParseDnsSdConfigs(
    YamlReader& reader, const YamlEntry& entry) {
  return ReadStructList<DnsSdConfig>(reader, entry, "dns_sd config",
                                     ReadDnsSdConfig);
}

namespace {

// The roles whose selectors each SD role accepts (2.42's allowedSelectors),
// in its order for the error message.
std::vector<absl::string_view> AllowedSelectorRoles(absl::string_view role) {
  if (role == "endpoints") return {"pod", "service", "endpoints"};
  if (role == "endpointslice") return {"pod", "service", "endpointslice"};
  return {role};
}

bool IsKubernetesRole(absl::string_view role) {
  for (absl::string_view r :
       {"pod", "service", "endpoints", "endpointslice", "node", "ingress"}) {
    if (role == r) return true;
  }
  return false;
}

// Reads a Kubernetes SD role (`role` of the entry or of a selector).
absl::Status ReadKubernetesRole(YamlReader& reader, const YamlEntry& field,
                                std::string* role) {
  if (absl::Status s = Store(reader.String(field), role); !s.ok()) return s;
  if (!IsKubernetesRole(*role)) {
    return reader.ErrorAt(
        reader.ValueLine(field),
        absl::StrCat("unknown Kubernetes SD role ", GoQuote(*role)));
  }
  return absl::OkStatus();
}

absl::Status ParseNamespaces(YamlReader& reader, const YamlEntry& entry,
                             KubernetesSdConfig* config) {
  absl::StatusOr<std::vector<YamlEntry>> fields =
      reader.StructEntries(entry, "namespaces");
  if (!fields.ok()) return fields.status();
  // yaml.v2 resets the struct for each mapping it reads.
  config->namespaces.clear();
  config->own_namespace = false;
  for (const YamlEntry& field : *fields) {
    absl::Status s;
    if (field.name == "names") {
      s = Store(reader.Strings(field), &config->namespaces);
    } else if (field.name == "own_namespace") {
      s = Store(reader.Bool(field), &config->own_namespace);
    } else {
      s = reader.UnknownOrUnsupported(field, "namespaces",
                                      /*unsupported=*/false);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ParseSelectors(YamlReader& reader, const YamlEntry& entry,
                            KubernetesSdConfig* config, int* line) {
  absl::StatusOr<std::vector<YamlListItem>> items =
      reader.StructListItems(entry, "selector");
  if (!items.ok()) return items.status();
  config->selectors.clear();
  *line = entry.key_line;
  for (const auto& [item_line, fields] : *items) {
    KubernetesSelectorConfig selector;
    for (const YamlEntry& field : fields) {
      absl::Status s;
      if (field.name == "role") {
        s = ReadKubernetesRole(reader, field, &selector.role);
      } else if (field.name == "label") {
        s = Store(reader.String(field), &selector.label);
      } else if (field.name == "field") {
        s = Store(reader.String(field), &selector.field);
      } else {
        s = reader.UnknownOrUnsupported(field, "selector",
                                        /*unsupported=*/false);
      }
      if (!s.ok()) return s;
    }
    config->selectors.push_back(std::move(selector));
  }
  return absl::OkStatus();
}

// The checks of 2.42's SDConfig.UnmarshalYAML after the fields are read, in
// its order; errors at the entry's line, or at `selectors_line`.
absl::Status CheckKubernetesSdConfig(YamlReader& reader,
                                     const KubernetesSdConfig& config,
                                     int selectors_line) {
  const int line = config.line;
  if (config.role.empty()) {
    return reader.ErrorAt(line,
                          "role missing (one of: pod, service, endpoints, "
                          "endpointslice, node, ingress)");
  }
  const bool custom_http = config.http_client != HttpClientConfig();
  const bool api_server = !config.api_server.empty();
  const bool kubeconfig = !config.kubeconfig_file.empty();
  if (api_server && kubeconfig) {
    return reader.ErrorAt(
        line, "cannot use 'kubeconfig_file' and 'api_server' simultaneously");
  }
  if (kubeconfig && custom_http) {
    return reader.ErrorAt(line,
                          "cannot use a custom HTTP client configuration "
                          "together with 'kubeconfig_file'");
  }
  if (!api_server && custom_http) {
    return reader.ErrorAt(line,
                          "to use custom HTTP client configuration please "
                          "provide the 'api_server' URL explicitly");
  }
  if (api_server && config.own_namespace) {
    return reader.ErrorAt(line,
                          "cannot use 'api_server' and "
                          "'namespaces.own_namespace' simultaneously");
  }
  if (kubeconfig && config.own_namespace) {
    return reader.ErrorAt(line,
                          "cannot use 'kubeconfig_file' and "
                          "'namespaces.own_namespace' simultaneously");
  }
  std::vector<std::string> seen;
  for (const KubernetesSelectorConfig& selector : config.selectors) {
    if (absl::c_linear_search(seen, selector.role)) {
      return reader.ErrorAt(
          selectors_line,
          absl::StrCat("duplicated selector role: ", selector.role));
    }
    seen.push_back(selector.role);
    const std::vector<absl::string_view> allowed =
        AllowedSelectorRoles(config.role);
    if (!absl::c_linear_search(allowed, selector.role)) {
      return reader.ErrorAt(
          selectors_line,
          absl::StrCat(config.role, " role supports only ",
                       absl::StrJoin(allowed, ", "), " selectors"));
    }
    if (absl::Status s = ParseKubernetesFieldSelector(selector.field).status();
        !s.ok()) {
      return reader.ErrorAt(selectors_line, s.message());
    }
    if (absl::Status s = ParseKubernetesLabelSelector(selector.label).status();
        !s.ok()) {
      return reader.ErrorAt(selectors_line, s.message());
    }
  }
  return absl::OkStatus();
}

// An api_server URL fedgate can reach: http or https with a host.
bool IsApiServerUrl(absl::string_view url) {
  for (absl::string_view scheme : {"http://", "https://"}) {
    if (absl::StartsWithIgnoreCase(url, scheme)) {
      const absl::string_view rest = url.substr(scheme.size());
      return !rest.empty() && rest[0] != '/' && rest[0] != '?';
    }
  }
  return false;
}

// Reads one `kubernetes_sd_configs` entry.
absl::Status ReadKubernetesSdConfig(YamlReader& reader,
                                    const std::vector<YamlEntry>& fields,
                                    KubernetesSdConfig* config) {
  int selectors_line = config->line;
  HttpClientConfigLoader http(reader);
  for (const YamlEntry& field : fields) {
    absl::Status s;
    if (field.name == "role") {
      s = ReadKubernetesRole(reader, field, &config->role);
    } else if (field.name == "api_server") {
      s = Store(reader.String(field), &config->api_server);
      if (s.ok() && !config->api_server.empty() &&
          !IsApiServerUrl(config->api_server)) {
        s = reader.ErrorAt(
            reader.ValueLine(field),
            absl::StrCat("api_server ",
                         GoQuote(RedactedUrl(config->api_server)),
                         " is not an http or https URL with a host"));
      }
    } else if (field.name == "kubeconfig_file") {
      s = Store(reader.String(field), &config->kubeconfig_file);
      if (s.ok() && !config->kubeconfig_file.empty()) {
        config->kubeconfig_file = reader.ResolvePath(config->kubeconfig_file);
      }
    } else if (field.name == "namespaces") {
      s = ParseNamespaces(reader, field, config);
    } else if (field.name == "selectors") {
      s = ParseSelectors(reader, field, config, &selectors_line);
    } else if (field.name == "attach_metadata") {
      absl::StatusOr<std::vector<YamlEntry>> attach =
          reader.StructEntries(field, "attach_metadata");
      s = attach.status();
      config->attach_node_metadata = false;
      for (size_t i = 0; s.ok() && i < attach->size(); ++i) {
        const YamlEntry& f = (*attach)[i];
        s = f.name == "node"
                ? Store(reader.Bool(f), &config->attach_node_metadata)
                : reader.UnknownOrUnsupported(f, "attach_metadata",
                                              /*unsupported=*/false);
      }
    } else {
      absl::StatusOr<bool> read = http.ReadField(field);
      s = read.status();
      if (read.ok() && !*read) {
        s = reader.UnknownOrUnsupported(
            field, "kubernetes_sd config",
            IsUnsupportedHttpClientField(field.name));
      }
    }
    if (!s.ok()) return s;
  }
  if (config->role.empty()) {
    // 2.42 checks the role before the HTTP client.
    if (absl::Status s = CheckKubernetesSdConfig(reader, *config, config->line);
        !s.ok())
      return s;
  }
  if (absl::Status s = Store(std::move(http).Finish(), &config->http_client);
      !s.ok())
    return s;
  return CheckKubernetesSdConfig(reader, *config, selectors_line);
}

}  // namespace

absl::StatusOr<std::vector<KubernetesSdConfig>> ParseKubernetesSdConfigs(
    YamlReader& reader, const YamlEntry& entry) {
  return ReadStructList<KubernetesSdConfig>(
      reader, entry, "kubernetes_sd config", ReadKubernetesSdConfig);
}

}  // namespace fedgate
