#include "merge/rules/aggregation_rule.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/config.h"
#include "gtest/gtest.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

RuleGroupConfig Group(const std::string& expr,
                      std::map<std::string, std::string> labels = {}) {
  RuleGroupConfig group;
  group.name = "mesh";
  group.file = "rules.yml";
  RecordingRuleConfig rule;
  rule.record = "deployment:request_total:sum";
  rule.expr = expr;
  rule.labels = std::move(labels);
  rule.line = 4;
  rule.expr_line = 5;
  group.rules.push_back(rule);
  return group;
}

absl::StatusOr<AggregationRule> Compile(const std::string& expr) {
  return CompileAggregationRule(Group(expr), 0);
}

TEST(AggregationRuleTest, CompilesAnAggregationOverASelector) {
  absl::StatusOr<AggregationRule> rule = Compile(
      "sum by (direction, deployment) (request_total{direction=\"inbound\"})");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->op, AggregateOp::kSum);
  EXPECT_EQ(rule->grouping,
            (std::vector<std::string>{"deployment", "direction"}));
  EXPECT_FALSE(rule->without);
  EXPECT_EQ(rule->metric_name, "request_total");
  EXPECT_EQ(rule->selector.size(), 2);
  EXPECT_TRUE(rule->arithmetic.empty());
  EXPECT_TRUE(rule->KeepsCounters());
  EXPECT_EQ(rule->file, "rules.yml");
  EXPECT_EQ(rule->group, "mesh");
}

TEST(AggregationRuleTest, OutputLabelsByAndWithout) {
  absl::StatusOr<AggregationRule> by = CompileAggregationRule(
      Group("sum by (deployment) (request_total)", {{"tier", "edge"}}), 0);
  ASSERT_TRUE(by.ok()) << by.status();
  const Labels input{
      {"__name__", "request_total"}, {"deployment", "web"}, {"pod", "web-1"}};
  EXPECT_EQ(by->OutputLabels(input).ToString(),
            "{__name__=\"deployment:request_total:sum\", "
            "deployment=\"web\", tier=\"edge\"}");
  absl::StatusOr<AggregationRule> without =
      Compile("max without (pod) (request_total)");
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ(without->OutputLabels(input).ToString(),
            "{__name__=\"deployment:request_total:sum\", "
            "deployment=\"web\"}");
  EXPECT_FALSE(without->KeepsCounters());
  // A grouping label the input lacks is absent from the output.
  EXPECT_EQ(by->OutputLabels(Labels{{"__name__", "request_total"}}).ToString(),
            "{__name__=\"deployment:request_total:sum\", tier=\"edge\"}");
}

TEST(AggregationRuleTest, ArithmeticWithNumbers) {
  struct Case {
    const char* expr;
    double in;
    double out;
    bool keeps_counters;
  } kCases[] = {
      {"sum(x) * 8", 2, 16, true},       {"sum(x) / 1000", 500, 0.5, true},
      {"8 * sum(x)", 2, 16, true},       {"(sum(x) + 1) * 2", 3, 8, false},
      {"100 - sum(x)", 30, 70, false},   {"-sum(x)", 3, -3, false},
      {"sum(x) * (2 + 2)", 3, 12, true}, {"sum(x) * -1", 3, -3, false},
      {"1 / sum(x)", 4, 0.25, false},    {"avg(x) * 2", 3, 6, false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.expr);
    absl::StatusOr<AggregationRule> rule = Compile(c.expr);
    ASSERT_TRUE(rule.ok()) << rule.status();
    EXPECT_EQ(rule->ApplyArithmetic(c.in), c.out);
    EXPECT_EQ(rule->KeepsCounters(), c.keeps_counters);
  }
}

TEST(AggregationRuleTest, RefusesWithFileLineAndReason) {
  const std::string prefix =
      "rules.yml:5: group \"mesh\", rule 1, "
      "\"deployment:request_total:sum\": ";
  const std::string subset =
      "fedgate computes aggregation rules from each scrape: sum, count, min, "
      "max or avg over one selector, optionally with arithmetic (+ - * /) "
      "and numbers";
  struct Case {
    const char* expr;
    std::string reason;
  } kCases[] = {
      {"sum(",
       "could not parse expression: 1:5: parse error: unclosed left "
       "parenthesis"},
      {"request_total",
       "a selector without an aggregation is not "
       "supported; " +
           subset},
      {"topk(3, request_total)",
       "this aggregation is not supported; " + subset},
      {"sum(abs(request_total))",
       "the aggregation's argument must be a selector; " + subset},
      {"abs(sum(request_total))", "function abs is not supported; " + subset},
      {"sum(a) + sum(b)",
       "an operator between two vectors is not supported; " + subset},
      {"sum(a) > 3", "operator > is not supported; " + subset},
      {"1 + 1", "the expression has no aggregation; " + subset},
      {"sum({job=\"a\"})",
       "the selector must name its metric (`request_total{...}`): fedgate "
       "reads the metric's TYPE to keep counters monotonic"},
      {"sum({__name__=~\"a.*\"})",
       "the selector must name its metric (`request_total{...}`): fedgate "
       "reads the metric's TYPE to keep counters monotonic"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.expr);
    absl::StatusOr<AggregationRule> rule = Compile(c.expr);
    ASSERT_FALSE(rule.ok());
    EXPECT_EQ(rule.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(rule.status().message(), prefix + c.reason);
  }
}

TEST(AggregationRuleTest, RefusesWhatNeedsOlderSamples) {
  for (const char* expr :
       {"sum(rate(request_total[5m]))", "sum(request_total offset 5m)",
        "sum(request_total[5m:1m])"}) {
    SCOPED_TRACE(expr);
    absl::StatusOr<AggregationRule> rule = Compile(expr);
    ASSERT_FALSE(rule.ok());
    EXPECT_NE(rule.status().message().find(
                  "rules.yml:5: group \"mesh\", rule 1, "
                  "\"deployment:request_total:sum\": could not parse "
                  "expression: "),
              std::string::npos)
        << rule.status();
    EXPECT_NE(rule.status().message().find("fedgate evaluates instant "
                                           "queries over the latest sample"),
              std::string::npos)
        << rule.status();
  }
}

TEST(AggregationRuleTest, KeyChangesWithRecordExprOrLabels) {
  absl::StatusOr<AggregationRule> a = Compile("sum(x)");
  absl::StatusOr<AggregationRule> b = Compile("sum(x)");
  absl::StatusOr<AggregationRule> c = Compile("sum(y)");
  absl::StatusOr<AggregationRule> d =
      CompileAggregationRule(Group("sum(x)", {{"a", "b"}}), 0);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_EQ(a->Key(), b->Key());
  EXPECT_NE(a->Key(), c->Key());
  EXPECT_NE(a->Key(), d->Key());
}

}  // namespace
}  // namespace fedgate
