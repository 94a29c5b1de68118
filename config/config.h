// config/config.h
//
// The typed configuration: Prometheus-compatible `global` and
// `scrape_configs` (field names, defaults and validation of Prometheus 2.42),
// plus fedgate's own sections as later issues add them. Produced by
// config_loader.h from YAML; read by the scraper and the gateway.
//
// Thread-safety: value types. A loaded Config is immutable and shared as
// `std::shared_ptr<const Config>`.

#ifndef FEDGATE_CONFIG_CONFIG_H_
#define FEDGATE_CONFIG_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "config/relabel_config.h"

namespace fedgate {

struct GlobalConfig {
  absl::Duration scrape_interval = absl::Minutes(1);
  // Defaults to min(10s, scrape_interval).
  absl::Duration scrape_timeout = absl::Seconds(10);
  absl::Duration evaluation_interval = absl::Minutes(1);
  // Sorted by name; added to /federate output where a series lacks them.
  std::map<std::string, std::string> external_labels;
};

// `tls_config` (prometheus/common config.TLSConfig as in 2.42). Relative
// file paths are resolved against the config file's directory at load.
struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // Verified against the server's certificate and sent as SNI instead of
  // the target's host; the Host header keeps the target's address.
  std::string server_name;
  bool insecure_skip_verify = false;
  // Go's tls.VersionTLS1x numbers (0x0301 for TLS10 ... 0x0304 for TLS13);
  // 0 means unset (Go's default minimum, TLS 1.2; no maximum).
  uint16_t min_version = 0;
  uint16_t max_version = 0;

  bool empty() const { return *this == TlsConfig(); }
  friend bool operator==(const TlsConfig& a, const TlsConfig& b) {
    return std::tie(a.ca_file, a.cert_file, a.key_file, a.server_name,
                    a.insecure_skip_verify, a.min_version, a.max_version) ==
           std::tie(b.ca_file, b.cert_file, b.key_file, b.server_name,
                    b.insecure_skip_verify, b.min_version, b.max_version);
  }
};

// `authorization`; `bearer_token` and `bearer_token_file` load into it with
// type "Bearer", as Prometheus converts them. Sent as
// `Authorization: <type> <credentials>`; a credentials file is re-read for
// every scrape (so rotated tokens work), its content trimmed of spaces.
struct AuthorizationConfig {
  std::string type = "Bearer";
  std::string credentials;  // Secret: printed as <secret>, never logged.
  std::string credentials_file;

  friend bool operator==(const AuthorizationConfig& a,
                         const AuthorizationConfig& b) {
    return std::tie(a.type, a.credentials, a.credentials_file) ==
           std::tie(b.type, b.credentials, b.credentials_file);
  }
};

// `basic_auth`. The password file is re-read for every scrape.
struct BasicAuthConfig {
  std::string username;
  std::string password;  // Secret: printed as <secret>, never logged.
  std::string password_file;

  friend bool operator==(const BasicAuthConfig& a, const BasicAuthConfig& b) {
    return std::tie(a.username, a.password, a.password_file) ==
           std::tie(b.username, b.password, b.password_file);
  }
};

// The HTTP client settings of a scrape config (prometheus/common
// config.HTTPClientConfig, the fields fedgate implements).
struct HttpClientConfig {
  std::optional<BasicAuthConfig> basic_auth;
  std::optional<AuthorizationConfig> authorization;
  std::string proxy_url;  // "" means no proxy (none from the environment).
  TlsConfig tls_config;
  bool follow_redirects = true;
  // HTTP/2 where an https target offers it (ALPN); plain http stays on
  // HTTP/1.1, as Go's transport. false: HTTP/1.1 always.
  bool enable_http2 = true;

  friend bool operator==(const HttpClientConfig& a, const HttpClientConfig& b) {
    return std::tie(a.basic_auth, a.authorization, a.proxy_url, a.tls_config,
                    a.follow_redirects, a.enable_http2) ==
           std::tie(b.basic_auth, b.authorization, b.proxy_url, b.tls_config,
                    b.follow_redirects, b.enable_http2);
  }
  friend bool operator!=(const HttpClientConfig& a, const HttpClientConfig& b) {
    return !(a == b);
  }
};

// One `static_configs` entry: targets sharing a set of labels.
struct StaticConfig {
  std::vector<std::string> targets;
  std::map<std::string, std::string> labels;
  int line = 0;  // Where the entry starts in the config file (1-based).
};

// One `file_sd_configs` entry (Prometheus discovery/file): target groups read
// from JSON or YAML files, re-read on change and every refresh_interval.
struct FileSdConfig {
  // Paths; only the last element may contain `*`. Relative paths are
  // resolved against the config file's directory at load time.
  std::vector<std::string> files;
  absl::Duration refresh_interval = absl::Minutes(5);
  int line = 0;  // Where the entry starts in the config file (1-based).
};

// One `dns_sd_configs` entry (Prometheus discovery/dns): targets from DNS
// records, looked up every refresh_interval.
struct DnsSdConfig {
  std::vector<std::string> names;
  // `SRV`, `A` or `AAAA` (any case, as written in the file).
  std::string type = "SRV";
  int port = 0;  // Required unless the type is SRV.
  absl::Duration refresh_interval = absl::Seconds(30);
  int line = 0;  // Where the entry starts in the config file (1-based).
};

// One `selectors` entry of a kubernetes_sd_configs entry: the label and
// field selectors sent with the lists and watches of `role`'s resource.
struct KubernetesSelectorConfig {
  std::string role;
  std::string label;
  std::string field;

  friend bool operator==(const KubernetesSelectorConfig& a,
                         const KubernetesSelectorConfig& b) {
    return std::tie(a.role, a.label, a.field) ==
           std::tie(b.role, b.label, b.field);
  }
};

// One `kubernetes_sd_configs` entry (Prometheus 2.42 discovery/kubernetes):
// targets from the Kubernetes API's objects of `role`, listed and watched.
// Without api_server and kubeconfig_file, the in-cluster configuration
// (service account token, CA, KUBERNETES_SERVICE_HOST/PORT) is used.
struct KubernetesSdConfig {
  // `pod`, `service`, `endpoints`, `endpointslice`, `node` or `ingress`.
  std::string role;
  std::string api_server;  // A URL, or "" for in-cluster or kubeconfig.
  // A kubeconfig file (resolved against the config file's directory).
  std::string kubeconfig_file;
  // How the API server is reached when api_server is set.
  HttpClientConfig http_client;
  // `namespaces`: names to watch (all when empty and not own_namespace).
  std::vector<std::string> namespaces;
  bool own_namespace = false;
  std::vector<KubernetesSelectorConfig> selectors;
  // `attach_metadata: {node: true}`.
  bool attach_node_metadata = false;
  int line = 0;  // Where the entry starts in the config file (1-based).

  // Equal settings (the line aside) share one discoverer's watches.
  friend bool operator==(const KubernetesSdConfig& a,
                         const KubernetesSdConfig& b) {
    return std::tie(a.role, a.api_server, a.kubeconfig_file, a.http_client,
                    a.namespaces, a.own_namespace, a.selectors,
                    a.attach_node_metadata) ==
           std::tie(b.role, b.api_server, b.kubeconfig_file, b.http_client,
                    b.namespaces, b.own_namespace, b.selectors,
                    b.attach_node_metadata);
  }
  friend bool operator!=(const KubernetesSdConfig& a,
                         const KubernetesSdConfig& b) {
    return !(a == b);
  }
};

struct ScrapeConfig {
  std::string job_name;
  absl::Duration scrape_interval;  // Filled from global when unset.
  absl::Duration scrape_timeout;   // Filled: min(global timeout, interval).
  // As in Prometheus, an explicit null leaves "" here (yaml.v2 zero value).
  std::string metrics_path = "/metrics";
  std::string scheme = "http";  // "http" or "https" once loaded.
  bool honor_labels = false;
  bool honor_timestamps = true;
  // Query parameters of the scrape URL; each name's first value is also the
  // target label `__param_<name>`, which relabeling may change.
  std::map<std::string, std::vector<std::string>> params;
  // Limits; 0 means none. A scrape that breaks one fails whole (`up` 0).
  int64_t body_size_limit = 0;  // Bytes after decompression; <= 0: none.
  uint64_t sample_limit = 0;    // Samples after metric relabeling.
  uint64_t target_limit = 0;    // Targets of the pool after relabeling.
  uint64_t label_limit = 0;     // Labels per series (incl. __name__).
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  HttpClientConfig http_client;
  std::vector<StaticConfig> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<DnsSdConfig> dns_sd_configs;
  std::vector<KubernetesSdConfig> kubernetes_sd_configs;
  // Applied in order to each target's labels before it is scraped.
  std::vector<RelabelConfig> relabel_configs;
  // Applied in order to each scraped series (not to `up` and `scrape_*`).
  std::vector<RelabelConfig> metric_relabel_configs;
  int line = 0;  // Where the scrape config starts in the config file (1-based).
};

// fedgate's own `dedup_groups` section (docs/configuration.md): targets of
// `job_names` whose group key is equal form one dedup group. The key is
// computed from the target's labels after relabel_configs (including
// `__address__`) as a relabel `replace` rule computes its value: the values
// of `source_labels` joined by `separator`, matched by the fully anchored
// `regex`, expanded into `replacement`. No match or an empty key: the
// target is in no group.
struct DedupGroupConfig {
  std::string name;
  std::vector<std::string> job_names;
  std::vector<std::string> source_labels = {"job"};
  std::string separator = ";";
  std::string regex = "(.*)";
  std::string replacement = "$1";
  // Ignored when comparing the members' series and dropped from the
  // deduplicated output (not from `up` and `scrape_*`).
  std::vector<std::string> replica_labels = {"instance"};
  // The label that carries the group key on the deduplicated output (set
  // after the replica labels are dropped), so that the series of two groups
  // stay distinct and `by (instance)` still tells the groups apart; "": none.
  std::string group_label = "instance";
  // How long the leader may go without a successful scrape before another
  // member takes over; zero: twice the leader's scrape_interval.
  absl::Duration leader_timeout = absl::ZeroDuration();
  int line = 0;

  friend bool operator==(const DedupGroupConfig& a, const DedupGroupConfig& b) {
    return a.name == b.name && a.job_names == b.job_names &&
           a.source_labels == b.source_labels && a.separator == b.separator &&
           a.regex == b.regex && a.replacement == b.replacement &&
           a.replica_labels == b.replica_labels &&
           a.group_label == b.group_label &&
           a.leader_timeout == b.leader_timeout;
  }
  friend bool operator!=(const DedupGroupConfig& a, const DedupGroupConfig& b) {
    return !(a == b);
  }
};

// One recording rule of a rule file (`rule_files`), as written: the
// expression is compiled by merge/rules/aggregation_rule.h.
struct RecordingRuleConfig {
  std::string record;
  std::string expr;
  std::map<std::string, std::string> labels;
  int line = 0;       // The rule's first line in its file.
  int expr_line = 0;  // The line of `expr`.
};

// One group of a rule file: the rules in file order.
struct RuleGroupConfig {
  std::string name;
  std::string file;  // The rule file, as its `rule_files` pattern resolved.
  int line = 0;
  std::vector<RecordingRuleConfig> rules;
};

// fedgate's own options of one aggregation rule (`rule_options`, keyed by
// the rule's record name), kept out of the rule file so that Prometheus and
// promtool still load it.
struct RuleOptionsConfig {
  // false: the rule's inputs are not served (/federate, /api/v1, gRPC).
  bool keep_inputs = true;
  int line = 0;
};

struct Config {
  GlobalConfig global;
  std::vector<ScrapeConfig> scrape_configs;
  std::vector<DedupGroupConfig> dedup_groups;
  // The `rule_files` patterns, resolved against the config file's
  // directory, and the groups of the files they matched (patterns in
  // order, each pattern's files in lexical order).
  std::vector<std::string> rule_files;
  std::vector<RuleGroupConfig> rule_groups;
  std::map<std::string, RuleOptionsConfig> rule_options;  // By record name.
  std::string source_path;  // The file it was loaded from ("" if embedded).
};

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_CONFIG_H_
