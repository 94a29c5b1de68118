#include "gateway/rule_metrics.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace fedgate {
namespace {

RuleStats Stats(const std::string& record, uint64_t evaluations,
                uint64_t resets) {
  RuleStats stats;
  stats.record = record;
  stats.input_series = 50;
  stats.output_series = 3;
  stats.evaluations = evaluations;
  stats.evaluation_time = absl::Milliseconds(evaluations);
  stats.counter_resets = resets;
  return stats;
}

std::string Text(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST(RuleMetricsTest, FollowsTheRulesStatistics) {
  prometheus::Registry registry;
  RuleMetrics metrics(registry);
  metrics.Update({Stats("a:x:sum", 10, 1), Stats("b:y:sum", 4, 0)});
  metrics.Update({Stats("a:x:sum", 12, 2), Stats("b:y:sum", 5, 0)});
  std::string text = Text(registry);
  EXPECT_NE(text.find("fedgate_rules 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("fedgate_rule_evaluations_total{rule=\"a:x:sum\"} 12\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("fedgate_rule_counter_resets_total{rule=\"a:x:sum\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("fedgate_rule_evaluation_seconds_total{rule=\"a:x:sum\"} "
                      "0.012\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("fedgate_rule_input_series{rule=\"b:y:sum\"} 50\n"),
            std::string::npos)
      << text;
  // b is gone; a was changed by a reload and starts over.
  metrics.Update({Stats("a:x:sum", 1, 0)});
  text = Text(registry);
  EXPECT_NE(text.find("fedgate_rules 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("b:y:sum"), std::string::npos) << text;
  EXPECT_NE(text.find("fedgate_rule_evaluations_total{rule=\"a:x:sum\"} 1\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace fedgate
