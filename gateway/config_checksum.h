// gateway/config_checksum.h
//
// The checksum that --config.auto-reload-interval compares (Prometheus 3's
// config.GenerateChecksum): SHA-256 over the configuration file's bytes and
// over each rule file its `rule_files` match, name and bytes, in the order
// the loader reads them. A change of any of them, a rule file added or
// removed by a glob included, changes it; an edit that leaves every byte
// the same (a touch, or a Kubernetes ConfigMap update that rewrites equal
// files) does not.
//
// Called by Gateway's config watcher once per interval and by Reload().
//
// Thread-safety: a pure function of the files; safe to call concurrently.

#ifndef FEDGATE_GATEWAY_CONFIG_CHECKSUM_H_
#define FEDGATE_GATEWAY_CONFIG_CHECKSUM_H_

#include <string>

#include "absl/status/statusor.h"

namespace fedgate {

// Returns the checksum (32 bytes) of the configuration file at
// `config_file` and of its rule files. Fails when the file cannot be read
// or parsed (its rule files are then unknown), or a rule file cannot be
// read.
absl::StatusOr<std::string> ConfigChecksum(const std::string& config_file);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_CONFIG_CHECKSUM_H_
