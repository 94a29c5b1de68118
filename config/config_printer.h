// config/config_printer.h
//
// Prints a loaded Config back as YAML, the way Prometheus 2.42 answers
// /api/v1/status/config: every field with its default filled in
// (`honor_timestamps: true`, `metrics_path: /metrics`, the scrape timeout
// inherited from global, ...), in Prometheus's field order, with yaml.v2's
// layout and quoting (plain where plain is unambiguous, `"..."` for strings
// that would read as another type, `'...'` for strings that plain style
// cannot carry). Secrets (bearer tokens, `authorization` credentials,
// `basic_auth` passwords) are printed as `<secret>` (Prometheus's
// config.Secret) and a proxy URL's password as `xxxxx`.
// Called by the /api/v1/status/config handler; not on a hot path.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_CONFIG_CONFIG_PRINTER_H_
#define FEDGATE_CONFIG_CONFIG_PRINTER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "config/config.h"

namespace fedgate {

// Returns `config` as Prometheus 2.42 prints its loaded configuration.
std::string PrintConfigYaml(const Config& config);

// Returns `s` as yaml.v2 writes a string scalar in block context: plain,
// single-quoted or double-quoted (see the banner).
std::string YamlScalar(absl::string_view s);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_CONFIG_PRINTER_H_
