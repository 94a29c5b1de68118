// config/dedup_group_config_loader.h
//
// Internal to config/: loads fedgate's own top-level `dedup_groups` section
// (config.h's DedupGroupConfig; docs/configuration.md) with the checks that
// need only the group itself: a name, at least one job, valid label names,
// a regex RE2 compiles, a non-negative leader_timeout. The checks against
// the scrape configs (known jobs, one group per job, unique names) need the
// whole document and run last, in config_loader.cc. Called at config load
// only; not on a hot path.
//
// Thread-safety: pure function over the caller's reader; thread-compatible.

#ifndef FEDGATE_CONFIG_DEDUP_GROUP_CONFIG_LOADER_H_
#define FEDGATE_CONFIG_DEDUP_GROUP_CONFIG_LOADER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "config/yaml_reader.h"

namespace fedgate {

// Loads the list of dedup groups `entry` holds (none for null), defaults
// filled in.
absl::StatusOr<std::vector<DedupGroupConfig>> ParseDedupGroups(
    YamlReader& reader, const YamlEntry& entry);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_DEDUP_GROUP_CONFIG_LOADER_H_
