#include "config/config_loader.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/dedup_group_config_loader.h"
#include "config/file_contents.h"
#include "config/quote.h"
#include "config/rule_file_loader.h"
#include "config/rule_options_config_loader.h"
#include "config/scrape_config_loader.h"
#include "config/variable_expansion.h"
#include "config/yaml_reader.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// Defaults of Prometheus 2.42 (config.DefaultGlobalConfig).
constexpr absl::Duration kDefaultScrapeInterval = absl::Minutes(1);
constexpr absl::Duration kDefaultScrapeTimeout = absl::Seconds(10);
constexpr absl::Duration kDefaultEvaluationInterval = absl::Minutes(1);

// Prometheus fields that fedgate does not implement yet. They are accepted
// only when empty (null, "", [] or {}), so that no setting is ever ignored.
constexpr absl::string_view kUnsupportedTopLevelFields[] = {
    "alerting", "remote_write", "remote_read", "storage",
    "tracing",  "runtime",      "otlp",        "scrape_config_files",
};
constexpr absl::string_view kUnsupportedGlobalFields[] = {
    "query_log_file",
    "body_size_limit",
    "sample_limit",
    "target_limit",
    "label_limit",
    "label_name_length_limit",
    "label_value_length_limit",
    "keep_dropped_targets",
    "scrape_protocols",
    "rule_query_offset",
    "metric_name_validation_scheme",
    "metric_name_escaping_scheme",
};

// Loads the `global` section; unset intervals and timeouts get Prometheus's
// defaults.
absl::Status ParseGlobal(YamlReader& reader, const YamlEntry& entry,
                         GlobalConfig* global) {
  *global = GlobalConfig();
  if (YamlReader::IsNullNode(entry.value)) return absl::OkStatus();
  absl::StatusOr<std::vector<YamlEntry>> entries = reader.StructMappingEntries(
      entry.value, reader.ValueLine(entry), "global config");
  if (!entries.ok()) return entries.status();
  absl::Duration interval, timeout, evaluation;
  int timeout_line = 0;
  for (const YamlEntry& field : *entries) {
    absl::Status s;
    if (field.name == "scrape_interval") {
      absl::StatusOr<absl::Duration> d = reader.Duration(field);
      s = d.status();
      if (d.ok()) interval = *d;
    } else if (field.name == "scrape_timeout") {
      absl::StatusOr<absl::Duration> d = reader.Duration(field);
      s = d.status();
      if (d.ok()) timeout = *d;
      timeout_line = field.key_line;
    } else if (field.name == "evaluation_interval") {
      absl::StatusOr<absl::Duration> d = reader.Duration(field);
      s = d.status();
      if (d.ok()) evaluation = *d;
    } else if (field.name == "external_labels") {
      absl::StatusOr<std::map<std::string, std::string>> labels =
          reader.LabelSet(field);
      s = labels.status();
      if (labels.ok()) global->external_labels = *std::move(labels);
    } else {
      s = reader.UnknownOrUnsupported(
          field, "global config",
          absl::c_linear_search(kUnsupportedGlobalFields, field.name));
    }
    if (!s.ok()) return s;
  }
  // As GlobalConfig.UnmarshalYAML: zero means unset; the interval is settled
  // first, then the timeout (explicit or inferred) is checked against it.
  global->scrape_interval =
      interval == absl::ZeroDuration() ? kDefaultScrapeInterval : interval;
  if (timeout > global->scrape_interval) {
    return reader.ErrorAt(timeout_line,
                          "global scrape timeout greater than scrape interval");
  }
  if (timeout == absl::ZeroDuration()) {
    timeout = std::min(kDefaultScrapeTimeout, global->scrape_interval);
  }
  global->scrape_timeout = timeout;
  global->evaluation_interval = evaluation == absl::ZeroDuration()
                                    ? kDefaultEvaluationInterval
                                    : evaluation;
  return absl::OkStatus();
}

// Loads `rule_files`: each pattern checked as Config.UnmarshalYAML does,
// then resolved against the config file's directory.
absl::Status ParseRuleFilePatterns(YamlReader& reader, const YamlEntry& entry,
                                   std::vector<std::string>* patterns) {
  absl::StatusOr<std::vector<std::string>> list = ReadCheckedStrings(
      reader, entry, IsValidRuleFilePattern, [](absl::string_view pattern) {
        return absl::StrCat("invalid rule file path ", GoQuote(pattern));
      });
  if (!list.ok()) return list.status();
  for (const std::string& pattern : *list) {
    patterns->push_back(reader.ResolvePath(pattern));
  }
  return absl::OkStatus();
}

// The checks below need the whole document, so they run once every section
// is read.

// Settles each scrape config's interval and timeout against the global ones
// and rejects repeated job names.
absl::Status FinishScrapeConfigs(const YamlReader& reader,
                                 const GlobalConfig& global,
                                 std::vector<ParsedScrapeConfig>* parsed) {
  // As Config.UnmarshalYAML: intervals and timeouts against the global ones,
  // then duplicate job names.
  absl::flat_hash_set<std::string> job_names;
  for (ParsedScrapeConfig& p : *parsed) {
    ScrapeConfig& c = p.config;
    if (c.scrape_interval == absl::ZeroDuration()) {
      c.scrape_interval = global.scrape_interval;
    }
    if (c.scrape_timeout > c.scrape_interval) {
      return reader.ErrorAt(
          p.timeout_line,
          absl::StrCat("scrape timeout greater than scrape interval for scrape "
                       "config with job name ",
                       GoQuote(c.job_name)));
    }
    if (c.scrape_timeout == absl::ZeroDuration()) {
      c.scrape_timeout = std::min(global.scrape_timeout, c.scrape_interval);
    }
    if (!job_names.insert(c.job_name).second) {
      return reader.ErrorAt(
          p.job_name_line,
          absl::StrCat("found multiple scrape configs with job name ",
                       GoQuote(c.job_name)));
    }
  }
  return absl::OkStatus();
}

// Checks the dedup groups against each other and the scrape configs: unique
// names, known jobs, each job in at most one group.
absl::Status CheckDedupGroups(const YamlReader& reader, const Config& config) {
  absl::flat_hash_map<std::string, const DedupGroupConfig*> names;
  absl::flat_hash_map<std::string, const DedupGroupConfig*> jobs;
  for (const DedupGroupConfig& group : config.dedup_groups) {
    if (!names.try_emplace(group.name, &group).second) {
      return reader.ErrorAt(group.line,
                            absl::StrCat("found multiple dedup groups "
                                         "with name ",
                                         GoQuote(group.name)));
    }
    for (const std::string& job : group.job_names) {
      const bool known = std::any_of(
          config.scrape_configs.begin(), config.scrape_configs.end(),
          [&job](const ScrapeConfig& c) { return c.job_name == job; });
      if (!known) {
        return reader.ErrorAt(
            group.line,
            absl::StrCat("dedup group ", GoQuote(group.name),
                         ": no scrape config with job name ", GoQuote(job)));
      }
      auto [it, added] = jobs.try_emplace(job, &group);
      if (!added) {
        return reader.ErrorAt(
            group.line,
            absl::StrCat("dedup group ", GoQuote(group.name), ": job ",
                         GoQuote(job), " is already in dedup group ",
                         GoQuote(it->second->name)));
      }
    }
  }
  return absl::OkStatus();
}

// Checks that each `rule_options` key names a rule of the rule files, so
// that a misspelt name is not silently ignored.
absl::Status CheckRuleOptions(const YamlReader& reader, const Config& config) {
  for (const auto& [record, options] : config.rule_options) {
    bool found = false;
    for (const RuleGroupConfig& group : config.rule_groups) {
      for (const RecordingRuleConfig& rule : group.rules) {
        found = found || rule.record == record;
      }
    }
    if (!found) {
      return reader.ErrorAt(
          options.line, absl::StrCat("rule_options: no recording rule named ",
                                     GoQuote(record), " in rule_files"));
    }
  }
  return absl::OkStatus();
}

// ParseConfig without the exception guard: the top-level sections in
// document order, then the whole-document checks.
absl::StatusOr<Config> ParseConfigDocument(absl::string_view yaml,
                                           absl::string_view filename) {
  YamlReader reader(yaml, filename);
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  if (!root.ok()) return root.status();

  Config config;
  config.source_path = std::string(filename);
  // An empty file: all defaults.
  if (YamlReader::IsNullNode(*root)) return config;
  absl::StatusOr<std::vector<YamlEntry>> entries =
      reader.StructMappingEntries(*root, YamlReader::LineOf(*root), "config");
  if (!entries.ok()) return entries.status();
  std::vector<ParsedScrapeConfig> scrape_configs;
  for (const YamlEntry& field : *entries) {
    absl::Status s;
    if (field.name == "global") {
      s = ParseGlobal(reader, field, &config.global);
    } else if (field.name == "scrape_configs") {
      if (absl::Status s =
              Store(ParseScrapeConfigs(reader, field), &scrape_configs);
          !s.ok())
        return s;
    } else if (field.name == "rule_files") {
      s = ParseRuleFilePatterns(reader, field, &config.rule_files);
    } else if (field.name == "rule_options") {
      if (absl::Status s =
              Store(ParseRuleOptions(reader, field), &config.rule_options);
          !s.ok())
        return s;
    } else if (field.name == "dedup_groups") {
      if (absl::Status s =
              Store(ParseDedupGroups(reader, field), &config.dedup_groups);
          !s.ok())
        return s;
    } else {
      s = reader.UnknownOrUnsupported(
          field, "config",
          absl::c_linear_search(kUnsupportedTopLevelFields, field.name));
    }
    if (!s.ok()) return s;
  }
  if (absl::Status s =
          FinishScrapeConfigs(reader, config.global, &scrape_configs);
      !s.ok()) {
    return s;
  }
  config.scrape_configs.reserve(scrape_configs.size());
  for (ParsedScrapeConfig& p : scrape_configs) {
    config.scrape_configs.push_back(std::move(p.config));
  }
  if (absl::Status s = CheckDedupGroups(reader, config); !s.ok()) return s;
  if (absl::Status s =
          Store(LoadRuleFiles(config.rule_files), &config.rule_groups);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRuleOptions(reader, config); !s.ok()) return s;
  return config;
}

// Expands the environment variables in the values of `labels`, as
// Prometheus's config.Load under expand-external-labels: every variable that
// is unset or empty gives "" (and is reported), `$$` gives `$`.
void ExpandExternalLabels(const ConfigLoadOptions& options,
                          std::map<std::string, std::string>* labels) {
  for (auto& [name, value] : *labels) {
    std::string expanded =
        ExpandVariables(value, [&options](absl::string_view variable) {
          // Prometheus's mapping answers `$$` itself, never from the
          // environment.
          if (variable == "$") return std::string("$");
          std::string v = options.getenv ? options.getenv(variable)
                                         : GetEnvironmentVariable(variable);
          if (v.empty() && options.on_empty_variable) {
            options.on_empty_variable(variable);
          }
          return v;
        });
    if (expanded == value) continue;
    if (options.on_label_expanded) {
      options.on_label_expanded(name, value, expanded);
    }
    value = std::move(expanded);
  }
}

}  // namespace

absl::StatusOr<Config> ParseConfig(absl::string_view yaml,
                                   absl::string_view filename,
                                   const ConfigLoadOptions& options) {
  absl::StatusOr<Config> config = GuardYamlLoad(filename, "the config", [&] {
    return ParseConfigDocument(yaml, filename);
  });
  if (config.ok() && options.expand_external_labels) {
    ExpandExternalLabels(options, &config->global.external_labels);
  }
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path,
                                      const ConfigLoadOptions& options) {
  absl::StatusOr<std::string> contents =
      ReadFileContents(path, [&path](absl::string_view, int error_number) {
        return absl::ErrnoToStatus(error_number,
                                   absl::StrCat("reading config file ", path));
      });
  if (!contents.ok()) return contents.status();
  return ParseConfig(*contents, path, options);
}

}  // namespace fedgate
