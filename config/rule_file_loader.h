// config/rule_file_loader.h
//
// Reads the recording-rule files named by `rule_files`: the patterns are
// checked and resolved as Prometheus 2.42 does (relative to the config
// file; only the last path element may hold a `*`), expanded like Go's
// filepath.Glob (no match is no file), and each file is read strictly in
// rulefmt's layout, `groups` → `name`, `rules` → `record`, `expr`,
// `labels`, with rulefmt's checks and `<file>:<line>: group "g", rule 1,
// "name": <reason>` errors. Alerting rules are refused: fedgate evaluates
// aggregation rules only. The expressions are compiled later, by
// merge/rules/aggregation_rule.h (config/ depends on no other stage).
//
// Called by config_loader.cc at every load and reload; not on a hot path.
//
// Thread-safety: pure functions; safe to call concurrently.

#ifndef FEDGATE_CONFIG_RULE_FILE_LOADER_H_
#define FEDGATE_CONFIG_RULE_FILE_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/config.h"

namespace fedgate {

// Returns the start of an error about the rule `number` (1-based) of
// `group`, named `name`, in rulefmt.Error's shape: `group "g", rule 1,
// "name": `.
std::string RuleErrorPrefix(absl::string_view group, size_t number,
                            absl::string_view name);

// Returns whether `pattern` is a valid `rule_files` entry: a `*` only in the
// last path element (Prometheus's patRulePath).
bool IsValidRuleFilePattern(absl::string_view pattern);

// Parses the rule file `yaml`; `filename` is used in errors and recorded in
// each group.
absl::StatusOr<std::vector<RuleGroupConfig>> ParseRuleFile(
    absl::string_view yaml, absl::string_view filename);

// Returns the files `patterns` (already resolved) match, patterns in order
// and each pattern's files in lexical order, as Go's filepath.Glob lists
// them (a pattern that matches nothing adds nothing).
absl::StatusOr<std::vector<std::string>> ExpandRuleFilePatterns(
    const std::vector<std::string>& patterns);

// Expands `patterns` (already resolved) and parses every file they match,
// patterns in order and each pattern's files in lexical order. Rejects a
// record name defined twice, as fedgate's per-rule options and outputs are
// keyed by it.
absl::StatusOr<std::vector<RuleGroupConfig>> LoadRuleFiles(
    const std::vector<std::string>& patterns);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_RULE_FILE_LOADER_H_
