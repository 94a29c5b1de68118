// config/kubernetes_selector.h
//
// Kubernetes label and field selectors, the strings of a
// `kubernetes_sd_configs` entry's `selectors` (`label: app=web,tier!=db`,
// `field: spec.nodeName=n1`), parsed with the Kubernetes API's grammar
// (apimachinery labels.Parse and fields.ParseSelector) and matched the way
// the API server filters lists and watches. The config loader rejects a
// selector that does not parse, as Prometheus 2.42 does at load; the
// discovery client sends the text unchanged; the test API server filters
// with the same parsed form, so tests see the API's behaviour.
//
// Not a hot path: parsed at config load, matched per object in tests.
//
// Thread-safety: pure functions and values; thread-safe.

#ifndef FEDGATE_CONFIG_KUBERNETES_SELECTOR_H_
#define FEDGATE_CONFIG_KUBERNETES_SELECTOR_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fedgate {

// One requirement of a label selector.
struct KubernetesLabelRequirement {
  enum class Op {
    kEquals,        // `k=v`, `k==v`
    kNotEquals,     // `k!=v`: also true when `k` is absent
    kIn,            // `k in (a,b)`
    kNotIn,         // `k notin (a,b)`: also true when `k` is absent
    kExists,        // `k`
    kDoesNotExist,  // `!k`
    kGreaterThan,   // `k>5`: `k` present and an integer greater than 5
    kLessThan,      // `k<5`
  };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;
};

// One requirement of a field selector: `field=value` (also `==`) or
// `field!=value`.
struct KubernetesFieldRequirement {
  std::string field;
  bool equals = true;
  std::string value;  // Unescaped (`\,`, `\=` and `\\` in the text).
};

// Parses a label selector; "" selects everything. InvalidArgument naming
// the problem (`invalid label selector "a in b": values of 'in' must be in
// parentheses`) for text the API server would refuse: keys must be
// qualified names (an optional DNS subdomain prefix and `/`, then at most
// 63 characters of [A-Za-z0-9._-] starting and ending alphanumeric), values
// valid label values (at most 63 such characters, or empty), `in`/`notin`
// sets non-empty, `>`/`<` values integers.
absl::StatusOr<std::vector<KubernetesLabelRequirement>>
ParseKubernetesLabelSelector(absl::string_view text);

// Parses a field selector; "" selects everything. InvalidArgument for a
// term without an operator or with a bad escape.
absl::StatusOr<std::vector<KubernetesFieldRequirement>>
ParseKubernetesFieldSelector(absl::string_view text);

// Looks a label or field up: its value, or null when absent.
using KubernetesValueLookup =
    std::function<const std::string*(absl::string_view name)>;

// Returns whether the object whose labels `lookup` reads satisfies every
// requirement.
bool MatchesLabelSelector(
    const std::vector<KubernetesLabelRequirement>& requirements,
    const KubernetesValueLookup& lookup);

// Returns whether the object whose fields `lookup` reads satisfies every
// requirement (an absent field reads as "").
bool MatchesFieldSelector(
    const std::vector<KubernetesFieldRequirement>& requirements,
    const KubernetesValueLookup& lookup);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_KUBERNETES_SELECTOR_H_
