#include "merge/rules/aggregation_rule.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "config/rule_file_loader.h"
#include "merge/promql/expr_parser.h"

namespace fedgate {
namespace {

bool IsArithmetic(BinaryOp op) {
  return op == BinaryOp::kAdd || op == BinaryOp::kSub || op == BinaryOp::kMul ||
         op == BinaryOp::kDiv;
}

// Returns `lhs op rhs` for an op IsArithmetic accepts.
double Arithmetic(BinaryOp op, double lhs, double rhs) {
  switch (op) {
    case BinaryOp::kAdd:
      return lhs + rhs;
    case BinaryOp::kSub:
      return lhs - rhs;
    case BinaryOp::kMul:
      return lhs * rhs;
    default:
      return lhs / rhs;
  }
}

// Evaluates a subtree made of number literals, parentheses, unary minus and
// `+ - * /`; false when it holds anything else.
bool ConstantValue(const PromqlExpr& expr, double* value) {
  switch (expr.kind) {
    case PromqlExpr::Kind::kNumber:
      *value = expr.number;
      return true;
    case PromqlExpr::Kind::kParen:
      return ConstantValue(*expr.args[0], value);
    case PromqlExpr::Kind::kUnary:
      if (!ConstantValue(*expr.args[0], value)) return false;
      *value = -*value;
      return true;
    case PromqlExpr::Kind::kBinary: {
      double lhs, rhs;
      if (!ConstantValue(*expr.args[0], &lhs) ||
          !ConstantValue(*expr.args[1], &rhs)) {
        return false;
      }
      if (!IsArithmetic(expr.binary_op)) return false;
      *value = Arithmetic(expr.binary_op, lhs, rhs);
      return true;
    }
    default:
      return false;
  }
}

constexpr absl::string_view kSubset =
    "fedgate computes aggregation rules from each scrape: sum, count, min, "
    "max or avg over one selector, optionally with arithmetic (+ - * /) and "
    "numbers";

// Walks the arithmetic down to the aggregation, recording the steps
// outermost first, and fills the rule from the aggregation. Returns the
// reason for a refusal.
absl::Status Analyze(const PromqlExpr& expr, AggregationRule* rule) {
  switch (expr.kind) {
    case PromqlExpr::Kind::kParen:
      return Analyze(*expr.args[0], rule);
    case PromqlExpr::Kind::kUnary:
      rule->arithmetic.push_back({BinaryOp::kSub, 0, true});
      return Analyze(*expr.args[0], rule);
    case PromqlExpr::Kind::kBinary: {
      if (!IsArithmetic(expr.binary_op)) {
        return absl::InvalidArgumentError(
            absl::StrCat("operator ", BinaryOpName(expr.binary_op),
                         " is not supported; ", kSubset));
      }
      double number;
      if (ConstantValue(*expr.args[1], &number)) {
        rule->arithmetic.push_back({expr.binary_op, number, false});
        return Analyze(*expr.args[0], rule);
      }
      if (ConstantValue(*expr.args[0], &number)) {
        rule->arithmetic.push_back({expr.binary_op, number, true});
        return Analyze(*expr.args[1], rule);
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "an operator between two vectors is not supported; ", kSubset));
    }
    case PromqlExpr::Kind::kAggregate:
      break;
    case PromqlExpr::Kind::kCall:
      return absl::InvalidArgumentError(absl::StrCat(
          "function ", expr.function->name, " is not supported; ", kSubset));
    case PromqlExpr::Kind::kSelector:
      return absl::InvalidArgumentError(absl::StrCat(
          "a selector without an aggregation is not supported; ", kSubset));
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("the expression has no aggregation; ", kSubset));
  }
  switch (expr.aggregate_op) {
    case AggregateOp::kSum:
    case AggregateOp::kCount:
    case AggregateOp::kMin:
    case AggregateOp::kMax:
    case AggregateOp::kAvg:
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("this aggregation is not supported; ", kSubset));
  }
  const PromqlExpr* arg = expr.args.back().get();
  while (arg->kind == PromqlExpr::Kind::kParen) arg = arg->args[0].get();
  if (arg->kind != PromqlExpr::Kind::kSelector) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the aggregation's argument must be a selector; ", kSubset));
  }
  rule->op = expr.aggregate_op;
  rule->grouping = expr.grouping;
  std::sort(rule->grouping.begin(), rule->grouping.end());
  rule->grouping.erase(
      std::unique(rule->grouping.begin(), rule->grouping.end()),
      rule->grouping.end());
  rule->without = expr.without;
  rule->selector = arg->selector;
  for (const LabelMatcher& m : rule->selector) {
    if (m.name() == kMetricNameLabel && m.type() == MatchType::kEqual) {
      rule->metric_name = m.value();
    }
  }
  if (rule->metric_name.empty()) {
    return absl::InvalidArgumentError(
        "the selector must name its metric (`request_total{...}`): fedgate "
        "reads the metric's TYPE to keep counters monotonic");
  }
  // Steps were pushed outermost first; evaluation goes innermost first.
  std::reverse(rule->arithmetic.begin(), rule->arithmetic.end());
  return absl::OkStatus();
}

}  // namespace

bool AggregationRule::KeepsCounters() const {
  if (op != AggregateOp::kSum) return false;
  for (const RuleArithmetic& step : arithmetic) {
    const bool scales = step.op == BinaryOp::kMul ||
                        (step.op == BinaryOp::kDiv && !step.number_first);
    if (!scales || !(step.number > 0)) return false;
  }
  return true;
}

double AggregationRule::ApplyArithmetic(double value) const {
  for (const RuleArithmetic& step : arithmetic) {
    const double lhs = step.number_first ? step.number : value;
    const double rhs = step.number_first ? value : step.number;
    value = Arithmetic(step.op, lhs, rhs);
  }
  return value;
}

Labels AggregationRule::OutputLabels(const Labels& input) const {
  Labels out;
  if (without) {
    out = input;
    out.Remove(kMetricNameLabel);
    for (const std::string& name : grouping) out.Remove(name);
  } else {
    for (const std::string& name : grouping) {
      if (name != kMetricNameLabel) out.Set(name, input.Get(name));
    }
  }
  for (const auto& [name, value] : labels) out.Set(name, value);
  out.Set(kMetricNameLabel, record);
  return out;
}

std::string AggregationRule::Key() const {
  std::string key = absl::StrCat(record, "\n", expr);
  for (const auto& [name, value] : labels) {
    absl::StrAppend(&key, "\n", name, "=", value);
  }
  return key;
}

absl::StatusOr<AggregationRule> CompileAggregationRule(
    const RuleGroupConfig& group, size_t index) {
  const RecordingRuleConfig& config = group.rules[index];
  AggregationRule rule;
  rule.record = config.record;
  rule.expr = config.expr;
  rule.labels = config.labels;
  rule.group = group.name;
  rule.file = group.file;
  rule.line = config.line;
  auto error = [&](absl::string_view reason) {
    return absl::InvalidArgumentError(absl::StrCat(
        group.file, ":", config.expr_line > 0 ? config.expr_line : config.line,
        ": ", RuleErrorPrefix(group.name, index + 1, config.record), reason));
  };
  absl::StatusOr<std::unique_ptr<PromqlExpr>> expr =
      ParsePromqlExpr(config.expr);
  if (!expr.ok()) {
    return error(
        absl::StrCat("could not parse expression: ", expr.status().message()));
  }
  if (absl::Status s = Analyze(**expr, &rule); !s.ok()) {
    return error(s.message());
  }
  return rule;
}

absl::StatusOr<std::vector<AggregationRule>> CompileAggregationRules(
    const std::vector<RuleGroupConfig>& groups,
    const std::map<std::string, RuleOptionsConfig>& options) {
  std::vector<AggregationRule> rules;
  for (const RuleGroupConfig& group : groups) {
    for (size_t i = 0; i < group.rules.size(); ++i) {
      absl::StatusOr<AggregationRule> rule = CompileAggregationRule(group, i);
      if (!rule.ok()) return rule.status();
      if (auto it = options.find(rule->record); it != options.end()) {
        rule->keep_inputs = it->second.keep_inputs;
      }
      rules.push_back(*std::move(rule));
    }
  }
  return rules;
}

}  // namespace fedgate
