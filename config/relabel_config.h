// config/relabel_config.h
//
// One relabel rule as written in `relabel_configs` and
// `metric_relabel_configs`, with the defaults of Prometheus 2.42
// (model/relabel DefaultRelabelConfig), plus the checks the YAML layer needs
// to report Prometheus's load-time errors: action names, the regex syntax
// (Go's `error parsing regexp: ...` wording for RE2's errors) and the
// target-label template rule. The engine that applies rules is
// merge/relabel.h; it compiles the regex this file checks. Called at config
// load only; not on a hot path.
//
// Thread-safety: value types and pure functions; thread-safe.

#ifndef FEDGATE_CONFIG_RELABEL_CONFIG_H_
#define FEDGATE_CONFIG_RELABEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fedgate {

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kKeepEqual,
  kDropEqual,
  kLowercase,
  kUppercase,
};

// Returns the action's name as Prometheus spells it (`replace`, `hashmod`,
// `labelmap`, `keepequal`, ...).
absl::string_view RelabelActionName(RelabelAction action);

// Parses an action name case-insensitively, as Prometheus does (`Replace`
// is `replace`). InvalidArgument `unknown relabel action "foo"` otherwise
// (also for "").
absl::StatusOr<RelabelAction> ParseRelabelAction(absl::string_view name);

struct RelabelConfig {
  // Values are joined with `separator` in this order; a missing label is "".
  std::vector<std::string> source_labels;
  std::string separator = ";";
  // Unanchored, as written; the engine matches the whole value
  // (AnchoredRelabelRegex()).
  std::string regex = "(.*)";
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
  int line = 0;  // Where the rule starts in the config file (1-based).

  // Compares what the rule does (not where it is written).
  friend bool operator==(const RelabelConfig& a, const RelabelConfig& b) {
    return a.source_labels == b.source_labels && a.separator == b.separator &&
           a.regex == b.regex && a.modulus == b.modulus &&
           a.target_label == b.target_label && a.replacement == b.replacement &&
           a.action == b.action;
  }
  friend bool operator!=(const RelabelConfig& a, const RelabelConfig& b) {
    return !(a == b);
  }
};

// Returns the pattern Prometheus 2.42 compiles for `regex`: `^(?:regex)$`.
// Builds a rule in code the way a config file writes one: the fields a rule
// sets, every other one at its default. For tests, benchmarks and the demo.
RelabelConfig MakeRelabelConfig(RelabelAction action,
                                std::vector<std::string> source_labels,
                                std::string regex = "(.*)",
                                std::string target_label = "",
                                std::string replacement = "$1",
                                std::string separator = ";",
                                uint64_t modulus = 0);

std::string AnchoredRelabelRegex(absl::string_view regex);

// Returns OK if AnchoredRelabelRegex(regex) compiles, else InvalidArgument
// with Go's message, e.g. "error parsing regexp: missing closing ):
// `^(?:()$`".
absl::Status CheckRelabelRegex(absl::string_view regex);

// Returns whether `target_label` is accepted for replace, lowercase,
// uppercase, keepequal and dropequal: a label name in which `$1`, `${1}`,
// `$name` and `${name}` may stand for letters (Prometheus's
// `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`). Also the rule for a
// labelmap `replacement`.
bool IsValidRelabelTarget(absl::string_view target_label);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_RELABEL_CONFIG_H_
