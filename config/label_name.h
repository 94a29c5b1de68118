// config/label_name.h
//
// Prometheus 2.42's name rules, the one copy of the project: label names
// (model.LabelName.IsValid) and metric names (model.IsValidMetricName). Used
// by the config sections (external_labels, relabel source_labels and target
// labels, dedup group labels), by relabeling, by the exposition parsers and
// the scrape loop for every series new to a scrape, and by the HTTP and gRPC
// APIs. On the scrape path only for new series; a name costs one pass over
// its bytes.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_CONFIG_LABEL_NAME_H_
#define FEDGATE_CONFIG_LABEL_NAME_H_

#include "absl/strings/string_view.h"

namespace fedgate {

// Returns whether `name` is a valid label name, `^[a-zA-Z_][a-zA-Z0-9_]*$`.
bool IsValidLabelName(absl::string_view name);

// Returns whether `name` is a valid metric name, `^[a-zA-Z_:][a-zA-Z0-9_:]*$`.
bool IsValidMetricName(absl::string_view name);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_LABEL_NAME_H_
