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

#include <map>
#include <string>
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

struct ScrapeConfig {
  std::string job_name;
  absl::Duration scrape_interval;  // Filled from global when unset.
  absl::Duration scrape_timeout;   // Filled: min(global timeout, interval).
  // As in Prometheus, an explicit null leaves "" here (yaml.v2 zero value).
  std::string metrics_path = "/metrics";
  std::string scheme = "http";  // "http" or "https" once loaded.
  bool honor_labels = false;
  bool honor_timestamps = true;
  std::vector<StaticConfig> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<DnsSdConfig> dns_sd_configs;
  // Applied in order to each target's labels before it is scraped.
  std::vector<RelabelConfig> relabel_configs;
  // Applied in order to each scraped series (not to `up` and `scrape_*`).
  std::vector<RelabelConfig> metric_relabel_configs;
  int line = 0;  // Where the scrape config starts in the config file (1-based).
};

struct Config {
  GlobalConfig global;
  std::vector<ScrapeConfig> scrape_configs;
  std::string source_path;  // The file it was loaded from ("" if embedded).
};

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_CONFIG_H_
