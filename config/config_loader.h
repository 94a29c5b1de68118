// config/config_loader.h
//
// Loads fedgate's YAML configuration into a validated `Config`, with the
// field names, defaults, validation and error messages of Prometheus 2.42 for
// the parts fedgate supports (see docs/configuration.md):
//   - `global`: scrape_interval, scrape_timeout, evaluation_interval,
//     external_labels (with `$VAR` expanded under
//     --enable-feature=expand-external-labels, ConfigLoadOptions);
//   - `scrape_configs`: job_name, scrape_interval, scrape_timeout,
//     metrics_path, scheme, honor_labels, honor_timestamps, params, the
//     limits (sample_limit, target_limit, label_limit,
//     label_name_length_limit, label_value_length_limit, body_size_limit),
//     the HTTP client (tls_config, authorization, bearer_token(_file),
//     basic_auth, proxy_url, follow_redirects, enable_http2; relative file
//     paths resolved against the file's directory), static_configs,
//     file_sd_configs, dns_sd_configs, relabel_configs,
//     metric_relabel_configs (relabel_config.h);
//   - `dedup_groups`, fedgate's own: name, job_names, source_labels,
//     separator, regex, replacement, replica_labels, group_label,
//     leader_timeout.
// As in Prometheus, unknown fields are errors. Other Prometheus fields are
// rejected as "not supported yet" unless empty, so that no setting is ever
// silently ignored. Called at startup and on reload; not on a hot path.
// This file holds the top level, `global` and the whole-document checks;
// each other section has its own internal loader (config/README.md).
//
// Every error is InvalidArgument (except file I/O errors) and names its
// location: `<file>:<line>: <reason>`, e.g.
//   fedgate.yml:7: scrape timeout greater than scrape interval for scrape
//   config with job name "node"
//
// Thread-safety: pure functions; thread-safe. yaml-cpp exceptions never
// escape.

#ifndef FEDGATE_CONFIG_CONFIG_LOADER_H_
#define FEDGATE_CONFIG_CONFIG_LOADER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/config.h"

namespace fedgate {

// How a config file is loaded, from fedgate's flags.
struct ConfigLoadOptions {
  // `--enable-feature=expand-external-labels`, as Prometheus 2.42: once the
  // document has loaded and passed its checks, `$VAR` and `${VAR}` in each
  // `global.external_labels` value are replaced by the environment
  // variable's value, "" when it is unset or empty (the rules of Go's
  // os.Expand, variable_expansion.h; `$$` is a `$`). The expanded values are
  // not checked again, and a label whose value expands to "" stays, with an
  // empty value, as in Prometheus.
  bool expand_external_labels = false;
  // Reads an environment variable ("" when unset); unset: the process's
  // environment (GetEnvironmentVariable). Tests give their own.
  std::function<std::string(absl::string_view name)> getenv;
  // Told of each variable that expanded to "" (Prometheus warns "Empty
  // environment variable", name=...), in order; may be unset.
  std::function<void(absl::string_view name)> on_empty_variable;
  // Told of each label whose value the expansion changed (Prometheus logs
  // "External label replaced" at debug level); may be unset.
  std::function<void(absl::string_view label, absl::string_view input,
                     absl::string_view output)>
      on_label_expanded;
};

// Parses and validates the YAML text `yaml`, fills in defaults, and sets
// `source_path` to `filename`. `filename` is used only in error locations
// (`<filename>:<line>: <reason>`); when it is empty, errors start with
// `line <line>: `. Only the first YAML document is read. An empty document is
// a valid configuration with global defaults and no scrape configs. Returns
// the first error in document order; checks that need the whole document
// (timeouts against inherited intervals, duplicate job names) come last.
// `options` as above.
absl::StatusOr<Config> ParseConfig(absl::string_view yaml,
                                   absl::string_view filename,
                                   const ConfigLoadOptions& options = {});

// Reads the file at `path` and parses it with
// ParseConfig(contents, path, options).
// A file that cannot be read gives the errno-derived code (NotFound,
// PermissionDenied, ...) with the message `reading config file <path>: ...`.
absl::StatusOr<Config> LoadConfigFile(const std::string& path,
                                      const ConfigLoadOptions& options = {});

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_CONFIG_LOADER_H_
