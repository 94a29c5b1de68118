// config/rule_options_config_loader.h
//
// Loads fedgate's own `rule_options` section: per aggregation rule, keyed by
// its record name, the options that a Prometheus rule file has no field for
// (`keep_inputs`). config_loader.cc checks afterwards that every key names a
// rule of `rule_files`.
//
// Internal to config/ (called by config_loader.cc at load and reload).
//
// Thread-safety: thread-compatible; one call per load.

#ifndef FEDGATE_CONFIG_RULE_OPTIONS_CONFIG_LOADER_H_
#define FEDGATE_CONFIG_RULE_OPTIONS_CONFIG_LOADER_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "config/yaml_reader.h"

namespace fedgate {

// Parses the mapping `entry` holds: record name -> options.
absl::StatusOr<std::map<std::string, RuleOptionsConfig>> ParseRuleOptions(
    YamlReader& reader, const YamlEntry& entry);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_RULE_OPTIONS_CONFIG_LOADER_H_
