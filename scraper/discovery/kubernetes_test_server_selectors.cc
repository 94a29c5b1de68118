#include "scraper/discovery/kubernetes_test_server_selectors.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fedgate {
namespace {

// A lookup into `values` for the matchers of config/kubernetes_selector.h.
KubernetesValueLookup LookupIn(
    const std::map<std::string, std::string>& values) {
  return [&values](absl::string_view name) -> const std::string* {
    auto it = values.find(std::string(name));
    return it == values.end() ? nullptr : &it->second;
  };
}

}  // namespace

absl::StatusOr<std::vector<LabelRequirement>> ParseLabelSelector(
    absl::string_view selector) {
  return ParseKubernetesLabelSelector(selector);
}

bool LabelsMatch(const std::vector<LabelRequirement>& requirements,
                 const std::map<std::string, std::string>& labels) {
  return MatchesLabelSelector(requirements, LookupIn(labels));
}

absl::StatusOr<std::vector<FieldRequirement>> ParseFieldSelector(
    absl::string_view selector, absl::string_view kind) {
  absl::StatusOr<std::vector<FieldRequirement>> requirements =
      ParseKubernetesFieldSelector(selector);
  if (!requirements.ok()) return requirements.status();
  // The field label conversions of v1.26 (pkg/apis/core/v1/conversion.go);
  // kinds without one accept metadata.name and metadata.namespace.
  std::vector<std::string> supported;
  if (kind == "Pod") {
    supported = {
        "metadata.name",      "metadata.namespace", "spec.nodeName",
        "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "status.phase",       "status.podIP",       "status.nominatedNodeName"};
  } else if (kind == "Node") {
    supported = {"metadata.name", "spec.unschedulable"};
  }
  for (const FieldRequirement& r : *requirements) {
    if (supported.empty()) {
      if (r.field != "metadata.name" && r.field != "metadata.namespace") {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"", r.field,
            "\" is not a known field selector: only \"metadata.name\", "
            "\"metadata.namespace\""));
      }
    } else if (std::find(supported.begin(), supported.end(), r.field) ==
               supported.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field label not supported: ", r.field));
    }
  }
  return requirements;
}

bool FieldsMatch(const std::vector<FieldRequirement>& requirements,
                 const std::map<std::string, std::string>& fields) {
  return MatchesFieldSelector(requirements, LookupIn(fields));
}

}  // namespace fedgate
