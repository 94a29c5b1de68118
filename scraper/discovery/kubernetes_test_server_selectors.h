// scraper/discovery/kubernetes_test_server_selectors.h
//
// Label and field selectors as KubernetesTestServer applies them to its
// lists and watches: the grammar and matching of config/kubernetes_selector.h
// (the one parser fedgate has for them), plus what only the API server
// checks, the field labels each kind supports in v1.26 (for Pod and Node
// "field label not supported: X"; for the others, which only know
// metadata.name and metadata.namespace, `"X" is not a known field selector:
// only "metadata.name", "metadata.namespace"`). Test code only.
//
// Thread-safety: pure functions over values.

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_SELECTORS_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_SELECTORS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/kubernetes_selector.h"

namespace fedgate {

using LabelRequirement = KubernetesLabelRequirement;
using FieldRequirement = KubernetesFieldRequirement;

// Parses a labelSelector query parameter; "" selects everything.
absl::StatusOr<std::vector<LabelRequirement>> ParseLabelSelector(
    absl::string_view selector);

// Returns whether `labels` satisfy every requirement.
bool LabelsMatch(const std::vector<LabelRequirement>& requirements,
                 const std::map<std::string, std::string>& labels);

// Parses a fieldSelector query parameter for objects of `kind` ("Pod",
// "Node", ...) and checks its field labels as v1.26 does.
absl::StatusOr<std::vector<FieldRequirement>> ParseFieldSelector(
    absl::string_view selector, absl::string_view kind);

// Returns whether `fields` (field label → value) satisfy every requirement.
bool FieldsMatch(const std::vector<FieldRequirement>& requirements,
                 const std::map<std::string, std::string>& fields);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_SELECTORS_H_
