// scraper/discovery/kubernetes_test_server_selectors.h
//
// Label and field selectors as the Kubernetes API server (v1.26) parses and
// matches them, for KubernetesTestServer's lists and watches: the label
// selector grammar of k8s.io/apimachinery/pkg/labels (`a=b`, `a==b`,
// `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by
// commas) and the field selector grammar of pkg/fields (`f=v`, `f==v`,
// `f!=v`, commas, `\` escapes), with the field labels each kind supports.
// Test code only.
//
// Thread-safety: thread-compatible values; the functions are pure.

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_SELECTORS_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_SELECTORS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fedgate {

struct LabelRequirement {
  enum class Op {
    kIn,
    kNotIn,
    kExists,
    kDoesNotExist,
    kGreaterThan,
    kLessThan
  };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;  // `=`, `==` are kIn; `!=` is kNotIn.
};

// Parses a labelSelector query parameter; "" selects everything.
// InvalidArgument with the API server's wording
// ("unable to parse requirement: found '(', expected: identifier").
absl::StatusOr<std::vector<LabelRequirement>> ParseLabelSelector(
    absl::string_view selector);

// Returns whether `labels` satisfy every requirement.
bool LabelsMatch(const std::vector<LabelRequirement>& requirements,
                 const std::map<std::string, std::string>& labels);

struct FieldRequirement {
  std::string field;
  bool equals = true;  // false for `!=`.
  std::string value;
};

// Parses a fieldSelector query parameter for objects of `kind` ("Pod",
// "Node", ...): the field labels are those v1.26 converts for the kind (for
// Pod and Node "field label not supported: X"; for the others, which only
// know metadata.name and metadata.namespace, `"X" is not a known field
// selector: only "metadata.name", "metadata.namespace"`).
absl::StatusOr<std::vector<FieldRequirement>> ParseFieldSelector(
    absl::string_view selector, absl::string_view kind);

// Returns whether `fields` (field label → value) satisfy every requirement.
bool FieldsMatch(const std::vector<FieldRequirement>& requirements,
                 const std::map<std::string, std::string>& fields);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_SELECTORS_H_
