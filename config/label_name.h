// config/label_name.h
//
// Internal to config/: the label-name rule the config sections check
// (external_labels, relabel source_labels and hashmod targets, dedup group
// labels). merge/labels.h has the same rule for series; config cannot use
// it, because config must not depend on merge. Called at config load only;
// not on a hot path.
//
// Thread-safety: pure function; thread-safe.

#ifndef FEDGATE_CONFIG_LABEL_NAME_H_
#define FEDGATE_CONFIG_LABEL_NAME_H_

#include "absl/strings/string_view.h"

namespace fedgate {

// Returns whether `name` follows Prometheus's legacy label-name rule,
// `^[a-zA-Z_][a-zA-Z0-9_]*$`.
bool IsValidLegacyLabelName(absl::string_view name);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_LABEL_NAME_H_
