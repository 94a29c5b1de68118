// config/discovery_config_loader.h
//
// Internal to config/: loads a scrape config's target discovery sections,
// with Prometheus 2.42's fields, defaults and checks: `static_configs`,
// `file_sd_configs` (discovery/file), `dns_sd_configs` (discovery/dns) and
// `kubernetes_sd_configs` (discovery/kubernetes). The scrape config loader
// calls these with the entry of the section; a new `*_sd_configs` section
// goes here, reading its list with ReadStructList (yaml_reader.h) and any
// HTTP client fields with HttpClientConfigLoader. Called at config load only;
// not on a hot path.
//
// Thread-safety: pure functions over the caller's reader; thread-compatible.

#ifndef FEDGATE_CONFIG_DISCOVERY_CONFIG_LOADER_H_
#define FEDGATE_CONFIG_DISCOVERY_CONFIG_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "config/yaml_reader.h"

namespace fedgate {

// A static target that looks like a URL (contains `/`), and its line. It is
// an error only for a scrape config without relabel_configs, which could
// rewrite `__address__` (Prometheus's checkStaticTargets), so the scrape
// config loader decides once it has read all fields.
struct UrlLikeStaticTarget {
  std::string address;
  int line = 0;  // 0: none seen.
};

// Loads `static_configs`: targets and labels. Empty addresses are errors.
// Records the first URL-like target in `*url_target` unless one is there.
absl::StatusOr<std::vector<StaticConfig>> ParseStaticConfigs(
    YamlReader& reader, const YamlEntry& entry,
    UrlLikeStaticTarget* url_target);

// Loads `file_sd_configs`: at least one path, each with a known extension
// and `*` only in its last element, resolved against the config file's
// directory; refresh_interval greater than 0.
absl::StatusOr<std::vector<FileSdConfig>> ParseFileSdConfigs(
    YamlReader& reader, const YamlEntry& entry);

// Loads `dns_sd_configs`: at least one name; type SRV, A or AAAA (any case),
// a port for A and AAAA; refresh_interval greater than 0.
absl::StatusOr<std::vector<DnsSdConfig>> ParseDnsSdConfigs(
    YamlReader& reader, const YamlEntry& entry);

// Loads `kubernetes_sd_configs`: a known role; the HTTP client fields
// (HttpClientConfigLoader), allowed only with api_server; api_server,
// kubeconfig_file and namespaces.own_namespace exclusive as 2.42 has them;
// selectors one per role, of the roles the SD role watches, each label and
// field selector valid (kubernetes_selector.h). Checks in 2.42's order.
absl::StatusOr<std::vector<KubernetesSdConfig>> ParseKubernetesSdConfigs(
    YamlReader& reader, const YamlEntry& entry);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_DISCOVERY_CONFIG_LOADER_H_
