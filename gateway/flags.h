// gateway/flags.h
//
// The fedgate command line, in Prometheus's style: `--config.file=FILE` or
// `--config.file FILE`, dotted names, `--help`. Abseil's flags library cannot
// declare dotted names, so this small parser exists; it knows only the flags
// below and rejects anything else.
//
// Thread-safety: value types and a pure function.

#ifndef FEDGATE_GATEWAY_FLAGS_H_
#define FEDGATE_GATEWAY_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace fedgate {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Returns the name `--log.level` takes and log lines show (`debug`, `info`,
// `warn`, `error`).
absl::string_view LogLevelName(LogLevel level);
// Sets `*level` from its name; returns false for any other word.
bool ParseLogLevel(absl::string_view name, LogLevel* level);

// The --enable-feature name of Prometheus 2.42's feature that fedgate has:
// `$VAR` in external label values (config/config_loader.h).
inline constexpr absl::string_view kFeatureExpandExternalLabels =
    "expand-external-labels";

// The shape of log lines (`--log.format`), as Prometheus's promlog.
enum class LogFormat { kLogfmt, kJson };

struct FedgateFlags {
  // Empty: run the embedded demo (demo targets on 127.0.0.1 and a config
  // scraping them).
  std::string config_file;
  // How often the configuration file and the rule files it names are
  // checked for a change, which reloads them (Prometheus 3's
  // --config.auto-reload-interval); zero: never (SIGHUP, /-/reload and the
  // gRPC Reload still reload). At least 1s when set.
  absl::Duration config_auto_reload_interval = absl::ZeroDuration();
  std::string web_listen_address = "0.0.0.0:9099";
  // Empty: no gRPC server.
  std::string grpc_listen_address = "0.0.0.0:9098";
  // HTTP connections open at once; more wait to be accepted (Prometheus's
  // flag and default).
  int web_max_connections = 512;
  // A connection that sends and receives nothing this long is closed.
  absl::Duration web_read_timeout = absl::Seconds(30);
  // /federate and /api/v1 requests (and gRPC calls) in progress at once;
  // more are refused with 503 (RESOURCE_EXHAUSTED). 0: no limit.
  int64_t web_max_concurrent_requests = 64;
  // How long a /federate or /api/v1 request may take, from its headers to
  // its answer's last byte (Prometheus's --query.timeout default).
  absl::Duration web_request_timeout = absl::Minutes(2);
  // The most series one answer may hold; 0: no limit.
  int64_t query_max_series = 1000000;
  // `match[]` values per request, bytes per value and RE2 program size per
  // regex (merge/query/match_params.h); 0: no limit.
  int64_t query_max_match_params = 10000;
  int64_t query_max_selector_length = 64 << 10;
  int64_t query_max_regex_program_size = 100000;
  // Sharding (docs/sharding.md): this replica scrapes only the targets of
  // shard `shard_index` of `shard_count` (1: no sharding). -1: not set; with
  // more than one shard, the ordinal of the StatefulSet pod name then.
  int64_t shard_count = 1;
  int64_t shard_index = -1;
  // The web config file (exporter-toolkit's format, docs/security.md): TLS
  // and credentials for HTTP and gRPC. Empty: plain, without credentials.
  std::string web_config_file;
  // zlib level of compressed /federate answers, 1 (fastest) to 9 (smallest);
  // 6 is Go's default, as Prometheus compresses.
  int web_compression_level = 6;
  // Whether POST/PUT /-/reload and /-/quit and the gRPC Reload act; off,
  // they are refused (Prometheus's flag and default). SIGHUP always reloads.
  bool web_enable_lifecycle = false;
  // The origins whose browser scripts may read /api/v1 answers: a regex,
  // fully anchored, as Prometheus's --web.cors.origin.
  std::string web_cors_origin = ".*";
  // How long a stop (SIGTERM, SIGINT, /-/quit) lets answers and gRPC calls
  // in progress finish before it cuts them: 25s ends before Kubernetes'
  // default grace period of 30s sends SIGKILL.
  absl::Duration web_shutdown_timeout = absl::Seconds(25);
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kLogfmt;
  // Whether /debug/ serves the threads, store statistics and scrape
  // schedule (docs/api.md); off, it is 404 like any unknown path.
  bool web_enable_debug = false;
  // Where kubernetes_sd_configs without api_server read the in-cluster
  // service account (token, ca.crt, namespace).
  std::string kubernetes_service_account_dir =
      "/var/run/secrets/kubernetes.io/serviceaccount";
  // --enable-feature, as Prometheus: comma-separated names, the flag
  // repeatable; every name in order (empty ones dropped), known or not: an
  // unknown name is only logged, as Prometheus warns and goes on.
  std::vector<std::string> enable_feature;
  // kFeatureExpandExternalLabels is in enable_feature.
  bool expand_external_labels = false;
  bool help = false;
  bool version = false;  // --version: print the build and exit.
};

// Parses argv (without argv[0]). Fails with InvalidArgument naming the flag
// for an unknown flag, a missing value or a bad value.
absl::StatusOr<FedgateFlags> ParseFlags(const std::vector<std::string>& args);

// Returns the `--help` text.
std::string FlagsUsage();

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_FLAGS_H_
