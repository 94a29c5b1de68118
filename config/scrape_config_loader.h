// config/scrape_config_loader.h
//
// Internal to config/: loads the `scrape_configs` list, one ScrapeConfig per
// item, with the fields, defaults and checks of Prometheus 2.42's
// ScrapeConfig.UnmarshalYAML in its order. It reads the scrape fields itself
// and hands the rest to the section loaders: HTTP client fields
// (http_client_config_loader.h), static_configs and *_sd_configs
// (discovery_config_loader.h), relabel_configs and metric_relabel_configs
// (relabel_config_loader.h). Checks against the global section and the
// other scrape configs (inherited intervals, duplicate job names) need the
// whole document and run last, in config_loader.cc, with the lines kept in
// ParsedScrapeConfig. Called at config load only; not on a hot path.
//
// Thread-safety: pure function over the caller's reader; thread-compatible.

#ifndef FEDGATE_CONFIG_SCRAPE_CONFIG_LOADER_H_
#define FEDGATE_CONFIG_SCRAPE_CONFIG_LOADER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "config/yaml_reader.h"

namespace fedgate {

// A scrape config with the positions of the fields that the whole-document
// checks point at.
struct ParsedScrapeConfig {
  ScrapeConfig config;
  int job_name_line = 0;
  int timeout_line = 0;
};

// Loads the list of scrape configs `entry` holds (none for null). Intervals
// and timeouts are as written (zero: unset), to be settled against the
// global ones.
absl::StatusOr<std::vector<ParsedScrapeConfig>> ParseScrapeConfigs(
    YamlReader& reader, const YamlEntry& entry);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_SCRAPE_CONFIG_LOADER_H_
