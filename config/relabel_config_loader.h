// config/relabel_config_loader.h
//
// Internal to config/: loads `relabel_configs` and `metric_relabel_configs`
// of a scrape config into RelabelConfig rules (relabel_config.h), with the
// checks of Prometheus 2.42's relabel.Config.UnmarshalYAML in its order and
// wording. The scrape config loader calls it; merge/relabel_test.cc and
// tests/fuzz/relabel_fuzzer.cc load relabel rules alone with it. Called at
// config load only; not on a hot path.
//
// Thread-safety: pure function over the caller's reader; thread-compatible.

#ifndef FEDGATE_CONFIG_RELABEL_CONFIG_LOADER_H_
#define FEDGATE_CONFIG_RELABEL_CONFIG_LOADER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "config/relabel_config.h"
#include "config/yaml_reader.h"

namespace fedgate {

// Which relabel list a rule is in; only the null-rule error differs.
enum class RelabelListKind { kTarget, kMetric };

// Loads the list of relabel rules `entry` holds (none for null); each
// rule's regex is checked with RE2, its error carrying the rule's line.
absl::StatusOr<std::vector<RelabelConfig>> ParseRelabelConfigs(
    YamlReader& reader, const YamlEntry& entry, RelabelListKind kind);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_RELABEL_CONFIG_LOADER_H_
