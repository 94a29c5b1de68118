// merge/rules/aggregation_rule.h
//
// A recording rule (config/rule_file_loader.h) compiled to what fedgate
// computes from each scrape as it lands: `sum`, `count`, `min`, `max` or
// `avg`, with or without `by (...)`/`without (...)`, over one selector that
// names its metric, optionally inside arithmetic (`+ - * /`) with number
// literals: `sum by (deployment) (request_total{direction="inbound"}) * 8`.
// Everything else is refused at load with the rule's `<file>:<line>` and the
// reason: it needs samples other than the latest one of each series (ranges,
// `rate`, `offset`, subqueries: merge/promql/expr_parser.h's refusals), or
// more than one aggregation over one selector (functions, vector-vector
// operators, `topk`, ...). Evaluated by merge/rules/rule_evaluator.h.
//
// Called at config load and reload; not on a hot path (one PromQL parse per
// rule).
//
// Thread-safety: an AggregationRule is immutable after Compile; share it
// freely.

#ifndef FEDGATE_MERGE_RULES_AGGREGATION_RULE_H_
#define FEDGATE_MERGE_RULES_AGGREGATION_RULE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "merge/labels.h"
#include "merge/promql/expr.h"
#include "merge/query/label_matcher.h"

namespace fedgate {

// One step of the arithmetic around the aggregation, innermost first:
// `value = value <op> number`, or `number <op> value` when `number_first`.
struct RuleArithmetic {
  BinaryOp op = BinaryOp::kAdd;  // kAdd, kSub, kMul or kDiv.
  double number = 0;
  bool number_first = false;
};

struct AggregationRule {
  std::string record;
  std::string expr;  // As written in the rule file.
  std::map<std::string, std::string> labels;
  std::string group;
  std::string file;
  int line = 0;

  AggregateOp op = AggregateOp::kSum;  // kSum, kCount, kMin, kMax or kAvg.
  std::vector<std::string> grouping;   // Sorted; `by` unless `without`.
  bool without = false;
  Selector selector;        // All matchers, the metric name's included.
  std::string metric_name;  // The selector's `__name__="..."`.
  std::vector<RuleArithmetic> arithmetic;
  // `rule_options`: false hides the series the selector selects from reads.
  bool keep_inputs = true;

  // Returns whether the rule can keep a counter a counter: a `sum` whose
  // arithmetic only scales it by positive numbers (`* 8`, `/ 1000`).
  bool KeepsCounters() const;
  // Returns the value of the output for an aggregated `value`.
  double ApplyArithmetic(double value) const;
  // Returns the output series' labels for an input series: the grouping
  // applied, the rule's labels set, `__name__` the record.
  Labels OutputLabels(const Labels& input) const;
  // Returns what identifies the rule across reloads: a rule with the same
  // key keeps its state (options such as keep_inputs are not part of it).
  std::string Key() const;
};

// Compiles `rule` of `group`. Errors are InvalidArgument
// `<file>:<line>: group "g", rule 1, "record": <reason>`.
absl::StatusOr<AggregationRule> CompileAggregationRule(
    const RuleGroupConfig& group, size_t index);

// Compiles every rule of `groups`, in order, with its `options` (by record
// name); the first error fails all.
absl::StatusOr<std::vector<AggregationRule>> CompileAggregationRules(
    const std::vector<RuleGroupConfig>& groups,
    const std::map<std::string, RuleOptionsConfig>& options = {});

}  // namespace fedgate

#endif  // FEDGATE_MERGE_RULES_AGGREGATION_RULE_H_
