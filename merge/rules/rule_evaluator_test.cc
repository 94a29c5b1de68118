#include "merge/rules/rule_evaluator.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "gtest/gtest.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "merge/rules/aggregation_rule.h"
#include "merge/series_store.h"

namespace fedgate {
namespace {

constexpr int64_t kMinuteMs = 60 * 1000;

// A rule file of one group, one rule per expression; record names r0, r1...
std::vector<AggregationRule> Rules(
    const std::vector<std::string>& exprs,
    std::map<std::string, std::string> labels = {}) {
  RuleGroupConfig group;
  group.name = "g";
  group.file = "rules.yml";
  for (size_t i = 0; i < exprs.size(); ++i) {
    RecordingRuleConfig rule;
    rule.record = "r" + std::to_string(i);
    rule.expr = exprs[i];
    rule.labels = labels;
    group.rules.push_back(rule);
  }
  absl::StatusOr<std::vector<AggregationRule>> rules =
      CompileAggregationRules({group});
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? *rules : std::vector<AggregationRule>();
}

// One scraped series: its pod and value.
struct Series {
  std::string pod;
  double value;
  std::string deployment = "web";
};

class RuleEvaluatorTest : public ::testing::Test {
 protected:
  RuleEvaluatorTest() : store_(StoreOptions()), evaluator_(Options()) {}

  SeriesStore::Options StoreOptions() {
    SeriesStore::Options options;
    options.now = [this] { return absl::FromUnixMillis(now_ms_); };
    return options;
  }

  RuleEvaluator::Options Options() {
    RuleEvaluator::Options options;
    options.store = &store_;
    options.now_ms = [this] { return now_ms_; };
    return options;
  }

  // Publishes a scrape of `target` at `now_ms_` with `series` of the metric
  // `name` typed `type`, then lets the evaluator see it; advances the clock
  // by 15 s.
  void Scrape(TargetId target, const std::vector<Series>& series,
              const std::string& name = "request_total",
              MetricType type = MetricType::kCounter, bool up = true) {
    auto batch = std::make_shared<ScrapeBatch>();
    batch->timestamp_ms = now_ms_;
    batch->up = up;
    batch->scrape_time = absl::FromUnixMillis(now_ms_);
    for (const Series& s : series) {
      batch->samples.push_back(
          Sample{InternedLabels::Intern(Labels{{"__name__", name},
                                               {"deployment", s.deployment},
                                               {"pod", s.pod}}),
                 s.value});
    }
    // A histogram's family is named without the `_bucket` suffix.
    const std::string family =
        type == MetricType::kHistogram ? name.substr(0, name.rfind('_')) : name;
    batch->metadata = FamilyMetadataList{FamilyMetadata{family, type, "", ""}};
    store_.Publish(target, batch);
    evaluator_.OnPublish(target, *batch);
    now_ms_ += 15 * 1000;
  }

  // Returns the output of rule `n` by its label string; -1 when absent.
  std::map<std::string, double> Output(size_t n = 0) {
    std::map<std::string, double> out;
    for (const auto& [id, batch] : store_.Snapshot()->batches) {
      if (id != kRuleTargetIdBase + n) continue;
      for (const Sample& s : batch->samples) {
        out[s.labels.ToString()] = s.value;
      }
    }
    return out;
  }
  double Value(const std::string& deployment = "web", size_t n = 0) {
    const std::map<std::string, double> out = Output(n);
    auto it = out.find("{__name__=\"r" + std::to_string(n) +
                       "\", deployment=\"" + deployment + "\"}");
    return it == out.end() ? -1 : it->second;
  }
  // Returns the values of `deployment` in the outputs of rules 0..n-1.
  std::vector<double> Values(size_t n, const std::string& deployment = "web") {
    std::vector<double> out;
    for (size_t i = 0; i < n; ++i) out.push_back(Value(deployment, i));
    return out;
  }
  // Returns the output series written into rule `n`'s batches so far.
  uint64_t Written(size_t n = 0) {
    return evaluator_.Stats()[n].output_samples_written;
  }
  const FamilyMetadata* Metadata(size_t n = 0) {
    for (const auto& [id, batch] : store_.Snapshot()->batches) {
      if (id == kRuleTargetIdBase + n && !batch->metadata.empty()) {
        return &batch->metadata[0];
      }
    }
    return nullptr;
  }

  int64_t now_ms_ = 1'700'000'000'000;
  SeriesStore store_;
  RuleEvaluator evaluator_;
};

TEST_F(RuleEvaluatorTest, CounterSumSurvivesResetsChurnAndLargeNewInputs) {
  evaluator_.SetRules(Rules({"sum by (deployment) (request_total)"}));
  Scrape(1, {{"a", 100}});
  Scrape(2, {{"b", 50}});
  EXPECT_EQ(Value(), 0);  // First samples are baselines.
  ASSERT_NE(Metadata(), nullptr);
  EXPECT_EQ(Metadata()->type, MetricType::kCounter);
  EXPECT_EQ(Metadata()->help,
            "Aggregation rule r0: sum by (deployment) (request_total)");
  Scrape(1, {{"a", 110}});
  Scrape(2, {{"b", 55}});
  EXPECT_EQ(Value(), 15);
  // Pod a restarted: its counter counted 3 since.
  Scrape(1, {{"a", 3}});
  EXPECT_EQ(Value(), 18);
  // Pod a is gone; a new pod c arrives with a large value.
  Scrape(1, {{"c", 1e6}});
  EXPECT_EQ(Value(), 18);
  Scrape(1, {{"c", 1e6 + 2}});
  EXPECT_EQ(Value(), 20);
  // Pod a is back within the lookback: its increase counts (3 -> 5).
  Scrape(1, {{"a", 5}, {"c", 1e6 + 2}});
  EXPECT_EQ(Value(), 22);
  // And a reset while it was away counts as a reset (5 -> 1).
  Scrape(1, {{"c", 1e6 + 2}});
  Scrape(1, {{"a", 1}, {"c", 1e6 + 2}});
  EXPECT_EQ(Value(), 23);
  // A target that fails scrapes: its inputs leave, nothing goes down.
  Scrape(2, {}, "request_total", MetricType::kCounter, /*up=*/false);
  EXPECT_EQ(Value(), 23);
  EXPECT_EQ(evaluator_.Stats()[0].counter_resets, 2);
  EXPECT_EQ(evaluator_.Stats()[0].input_series, 3);
}

TEST_F(RuleEvaluatorTest, DepartedCounterIsFoldedAfterTheLookback) {
  evaluator_.SetRules(Rules({"sum by (deployment) (request_total)"}));
  Scrape(1, {{"a", 10}, {"b", 1}});
  Scrape(1, {{"a", 20}, {"b", 2}});
  EXPECT_EQ(Value(), 11);
  Scrape(1, {{"b", 2}});  // a leaves at this scrape's time.
  const int64_t left_ms = now_ms_ - 15 * 1000;
  EXPECT_EQ(evaluator_.Stats()[0].input_series, 2);
  now_ms_ = left_ms + 5 * kMinuteMs;
  Scrape(1, {{"b", 3}});  // Five minutes later: a is folded for good.
  EXPECT_EQ(Value(), 12);
  EXPECT_EQ(evaluator_.Stats()[0].input_series, 1);
  // Its return is a new input: 5 is a baseline, not a reset.
  Scrape(1, {{"a", 5}, {"b", 3}});
  EXPECT_EQ(Value(), 12);
  Scrape(1, {{"a", 7}, {"b", 3}});
  EXPECT_EQ(Value(), 14);
  EXPECT_EQ(evaluator_.Stats()[0].counter_resets, 0);
}

TEST_F(RuleEvaluatorTest, GroupGoesWhenItsLastInputIsFolded) {
  evaluator_.SetRules(Rules({"sum by (deployment) (request_total)"}));
  Scrape(1, {{"a", 1, "api"}, {"b", 1, "web"}});
  Scrape(1, {{"a", 4, "api"}, {"b", 2, "web"}});
  Scrape(1, {{"b", 2, "web"}});
  EXPECT_EQ(Value("api"), 3);  // Kept while it may come back.
  now_ms_ += 5 * kMinuteMs;
  Scrape(1, {{"b", 2, "web"}});
  EXPECT_EQ(Value("api"), -1);
  EXPECT_EQ(Value("web"), 1);
}

TEST_F(RuleEvaluatorTest, RemovedTargetsInputsLeave) {
  evaluator_.SetRules(Rules({"sum by (deployment) (request_total)",
                             "count by (deployment) (request_total)"}));
  Scrape(1, {{"a", 1}});
  Scrape(2, {{"b", 1}});
  Scrape(1, {{"a", 2}});
  EXPECT_EQ(Value("web", 1), 2);
  store_.Remove(2);
  evaluator_.OnRemove(2);
  EXPECT_EQ(Value("web", 0), 1);
  EXPECT_EQ(Value("web", 1), 1);
  // count is a gauge over the inputs present.
  ASSERT_NE(Metadata(1), nullptr);
  EXPECT_EQ(Metadata(1)->type, MetricType::kGauge);
}

TEST_F(RuleEvaluatorTest, GaugesAggregateTheCurrentValues) {
  evaluator_.SetRules(Rules({
      "sum by (deployment) (inflight)",
      "count by (deployment) (inflight)",
      "min by (deployment) (inflight)",
      "max by (deployment) (inflight)",
      "avg by (deployment) (inflight)",
      "sum by (deployment) (inflight) * 2",
  }));
  Scrape(1, {{"a", 4}, {"b", 10}}, "inflight", MetricType::kGauge);
  Scrape(2, {{"c", 1}}, "inflight", MetricType::kGauge);
  // sum, count, min, max, avg, sum * 2.
  EXPECT_EQ(Values(6), (std::vector<double>{15, 3, 1, 10, 5, 30}));
  // Values go down as gauges do; b leaves at once.
  Scrape(1, {{"a", 2}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Values(6), (std::vector<double>{3, 2, 1, 2, 1.5, 6}));
  // The group goes with its last input.
  Scrape(1, {}, "inflight", MetricType::kGauge);
  Scrape(2, {}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Value("web", 0), -1);
  EXPECT_TRUE(Output(0).empty());
  ASSERT_NE(Metadata(0), nullptr);
  EXPECT_EQ(Metadata(0)->type, MetricType::kGauge);
}

TEST_F(RuleEvaluatorTest, NaNInAGaugeSumDoesNotStick) {
  evaluator_.SetRules(Rules({"sum by (deployment) (inflight)"}));
  Scrape(1, {{"a", 1}, {"b", std::nan("")}}, "inflight", MetricType::kGauge);
  EXPECT_TRUE(std::isnan(Value()));
  Scrape(1, {{"a", 1}, {"b", 2}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Value(), 3);
}

TEST_F(RuleEvaluatorTest, SelectorMatchersAndRuleLabels) {
  evaluator_.SetRules(
      Rules({"sum without (pod) (request_total{deployment=\"web\"})"},
            {{"tier", "edge"}}));
  Scrape(1, {{"a", 1}, {"b", 1, "api"}});
  Scrape(1, {{"a", 4}, {"b", 9, "api"}});
  EXPECT_EQ(
      Output(),
      (std::map<std::string, double>{{"{__name__=\"r0\", deployment=\"web\", "
                                      "tier=\"edge\"}",
                                      3}}));
}

TEST_F(RuleEvaluatorTest, DedupGroupCountsOnceAndFailsOverWithoutAJump) {
  evaluator_.SetRules(Rules({"sum by (deployment) (request_total)"}));
  store_.Join(1, DedupMembership{"ha/a"});
  store_.Join(2, DedupMembership{"ha/a"});
  // Two replicas of one agent expose the same series with their own values.
  Scrape(1, {{"x", 100}});
  Scrape(2, {{"x", 500}});
  ASSERT_TRUE(store_.Group(1).leader);
  Scrape(1, {{"x", 110}});
  Scrape(2, {{"x", 600}});  // Not the leader's: ignored.
  EXPECT_EQ(Value(), 10);
  // The leader fails; replica 2 takes over from its own value.
  Scrape(1, {}, "request_total", MetricType::kCounter, /*up=*/false);
  Scrape(2, {{"x", 610}});
  ASSERT_TRUE(store_.Group(2).leader);
  EXPECT_EQ(Value(), 10);
  Scrape(2, {{"x", 615}});
  EXPECT_EQ(Value(), 15);
  // Replica 1 is back but not the leader: still counted once.
  Scrape(1, {{"x", 120}});
  Scrape(2, {{"x", 616}});
  EXPECT_EQ(Value(), 16);
  EXPECT_EQ(evaluator_.Stats()[0].counter_resets, 0);
}

// A target's list of the inputs it supplied may still hold an input that
// another target took over and then let go of (a gauge: forgotten at once).
// When the first target supplies the series again, it is a new input.
TEST_F(RuleEvaluatorTest, AnInputForgottenWhileAnotherTargetListsItStartsAnew) {
  evaluator_.SetRules(Rules({"sum by (deployment) (open_connections)"}));
  store_.Join(1, DedupMembership{"ha/a"});
  store_.Join(2, DedupMembership{"ha/a"});
  Scrape(1, {{"x", 5}}, "open_connections", MetricType::kGauge);
  ASSERT_TRUE(store_.Group(1).leader);
  // Replica 1 is not scraped for longer than the leader timeout: replica 2
  // leads and takes the series over, while replica 1's list still holds it.
  now_ms_ += 10 * kMinuteMs;
  Scrape(2, {{"x", 7}}, "open_connections", MetricType::kGauge);
  ASSERT_TRUE(store_.Group(2).leader);
  EXPECT_EQ(Value(), 7);
  Scrape(2, {}, "open_connections", MetricType::kGauge);
  EXPECT_EQ(Value(), -1);
  Scrape(1, {{"x", 9}}, "open_connections", MetricType::kGauge);
  EXPECT_EQ(Value(), 9);
  Scrape(1, {{"x", 11}}, "open_connections", MetricType::kGauge);
  EXPECT_EQ(Value(), 11);
  EXPECT_EQ(evaluator_.Stats()[0].input_series, 1u);
}

TEST_F(RuleEvaluatorTest, ReloadKeepsTheStateOfUnchangedRules) {
  evaluator_.SetRules(Rules({"sum by (deployment) (request_total)",
                             "count by (deployment) (request_total)"}));
  Scrape(1, {{"a", 1}});
  Scrape(1, {{"a", 5}});
  EXPECT_EQ(Value("web", 0), 4);
  // r0 unchanged, r1 changed.
  evaluator_.SetRules(Rules({"sum by (deployment) (request_total)",
                             "max by (deployment) (request_total)"}));
  EXPECT_EQ(Value("web", 0), 4);
  Scrape(1, {{"a", 6}});
  EXPECT_EQ(Value("web", 0), 5);
  // The changed rule starts afresh under a new output id; the old is gone.
  EXPECT_EQ(Value("web", 1), -1);
  bool found_new = false;
  for (const auto& [id, batch] : store_.Snapshot()->batches) {
    if (id == kRuleTargetIdBase + 2) {
      ASSERT_EQ(batch->samples.size(), 1);
      EXPECT_EQ(batch->samples[0].value, 6);
      found_new = true;
    }
  }
  EXPECT_TRUE(found_new);
  evaluator_.SetRules({});
  EXPECT_EQ(store_.Snapshot()->batches.size(), 1);  // Target 1 only.
}

TEST_F(RuleEvaluatorTest, InputsOfRulesWithoutKeepInputsAreHidden) {
  std::vector<AggregationRule> rules =
      Rules({"sum by (deployment) (request_total{deployment=\"web\"})",
             "sum by (deployment) (inflight)"});
  rules[0].keep_inputs = false;
  evaluator_.SetRules(rules);
  const std::shared_ptr<const HiddenSeries> hidden = store_.Snapshot()->hidden;
  ASSERT_NE(hidden, nullptr);
  auto series = [](const std::string& name, const std::string& deployment) {
    return InternedLabels::Intern(
        Labels{{"__name__", name}, {"deployment", deployment}, {"pod", "a"}});
  };
  EXPECT_TRUE(hidden->Hides(series("request_total", "web")));
  EXPECT_FALSE(hidden->Hides(series("request_total", "api")));
  EXPECT_FALSE(hidden->Hides(series("inflight", "web")));
  EXPECT_FALSE(hidden->Hides(series("r0", "web")));
  // The rule still computes from them.
  Scrape(1, {{"a", 1}});
  Scrape(1, {{"a", 3}});
  EXPECT_EQ(Value(), 2);
  // Back to keeping them: nothing hidden, and the state is kept.
  rules[0].keep_inputs = true;
  evaluator_.SetRules(rules);
  EXPECT_EQ(store_.Snapshot()->hidden, nullptr);
  Scrape(1, {{"a", 4}});
  EXPECT_EQ(Value(), 3);
}

TEST_F(RuleEvaluatorTest, UntypedOrHistogramInputs) {
  evaluator_.SetRules(Rules({"sum by (deployment) (latency_bucket)",
                             "sum by (deployment) (plain_total)"}));
  Scrape(1, {{"a", 1}}, "latency_bucket", MetricType::kHistogram);
  Scrape(1, {{"a", 3}}, "latency_bucket", MetricType::kHistogram);
  EXPECT_EQ(Value("web", 0), 2);
  EXPECT_EQ(Metadata(0)->type, MetricType::kCounter);
  // Without a counter TYPE, a sum is a gauge of the current values.
  Scrape(2, {{"b", 7}}, "plain_total", MetricType::kUntyped);
  EXPECT_EQ(Value("web", 1), 7);
  EXPECT_EQ(Metadata(1)->type, MetricType::kGauge);
}

TEST_F(RuleEvaluatorTest, MinAndMaxFollowEveryChangeOfTheirInputs) {
  evaluator_.SetRules(Rules(
      {"min by (deployment) (inflight)", "max by (deployment) (inflight)"}));
  Scrape(1, {{"a", 4}, {"b", 10}}, "inflight", MetricType::kGauge);
  Scrape(2, {{"c", 1}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Values(2), (std::vector<double>{1, 10}));
  Scrape(2, {{"c", 7}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Values(2), (std::vector<double>{4, 10}));
  // The maximum leaves; the minimum rises above the old maximum.
  Scrape(1, {{"a", 12}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Values(2), (std::vector<double>{7, 12}));
  // A NaN gives way to any number, as in Prometheus...
  Scrape(1, {{"a", std::nan("")}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Values(2), (std::vector<double>{7, 7}));
  // ... and is the answer when every input is NaN.
  Scrape(2, {{"c", std::nan("")}}, "inflight", MetricType::kGauge);
  EXPECT_TRUE(std::isnan(Value("web", 0)));
  EXPECT_TRUE(std::isnan(Value("web", 1)));
  // Equal values: one of them leaving keeps the other.
  Scrape(1, {{"a", 3}}, "inflight", MetricType::kGauge);
  Scrape(2, {{"c", 3}, {"d", 5}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Values(2), (std::vector<double>{3, 5}));
  Scrape(2, {{"d", 5}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Values(2), (std::vector<double>{3, 5}));
  Scrape(1, {}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Values(2), (std::vector<double>{5, 5}));
}

TEST_F(RuleEvaluatorTest, AScrapeWritesOnlyTheOutputSeriesThatChanged) {
  evaluator_.SetRules(Rules({"sum by (deployment) (inflight)"}));
  // Target 1 feeds 100 output series, one per deployment.
  std::vector<Series> hundred;
  for (int i = 0; i < 100; ++i) {
    hundred.push_back({"p" + std::to_string(i), 1, "d" + std::to_string(i)});
  }
  Scrape(1, hundred, "inflight", MetricType::kGauge);
  EXPECT_EQ(Written(), 100);  // The first output: every series.
  Scrape(2, {{"x", 1, "d5"}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Written(), 200);  // A copy of the first, one series changed.
  EXPECT_EQ(Value("d5"), 2);
  // From now on the output published two scrapes ago is patched: the
  // series that changed since it, and the series that changed now.
  Scrape(2, {{"x", 2, "d5"}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Written(), 202);
  EXPECT_EQ(Value("d5"), 3);
  Scrape(2, {{"x", 5, "d7"}}, "inflight", MetricType::kGauge);
  // d5 (changed since the patched batch), and d5 (back to 1) and d7 now.
  EXPECT_EQ(Written(), 205);
  EXPECT_EQ(Value("d5"), 1);
  EXPECT_EQ(Value("d7"), 6);
  EXPECT_EQ(Output().size(), 100);
  // A scrape that changes no value writes only what the patched batch
  // lacks (d5 and d7), then nothing; the output's timestamp is refreshed.
  Scrape(2, {{"x", 5, "d7"}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Written(), 207);
  Scrape(2, {{"x", 5, "d7"}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Written(), 207);
  EXPECT_EQ(Value("d7"), 6);
}

TEST_F(RuleEvaluatorTest, AReadersSnapshotNeverChanges) {
  evaluator_.SetRules(Rules({"sum by (deployment) (inflight)"}));
  Scrape(1, {{"a", 1}, {"b", 1, "api"}}, "inflight", MetricType::kGauge);
  Scrape(1, {{"a", 2}, {"b", 1, "api"}}, "inflight", MetricType::kGauge);
  Scrape(1, {{"a", 3}, {"b", 1, "api"}}, "inflight", MetricType::kGauge);
  const uint64_t written = Written();
  // A reader holds the output of value 3 while scrapes go on.
  const std::shared_ptr<const StoreSnapshot> held = store_.Snapshot();
  Scrape(1, {{"a", 4}, {"b", 1, "api"}}, "inflight", MetricType::kGauge);
  // The held batch cannot be patched: the next output is a copy.
  Scrape(1, {{"a", 5}, {"b", 1, "api"}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Written(), written + 2 + 2);
  Scrape(1, {{"a", 6}, {"b", 1, "api"}}, "inflight", MetricType::kGauge);
  EXPECT_EQ(Value("web"), 6);
  EXPECT_EQ(Value("api"), 1);
  for (const auto& [id, batch] : held->batches) {
    if (id != kRuleTargetIdBase) continue;
    std::map<std::string, double> values;
    for (const Sample& s : batch->samples)
      values[s.labels.ToString()] = s.value;
    EXPECT_EQ(values, (std::map<std::string, double>{
                          {"{__name__=\"r0\", deployment=\"api\"}", 1},
                          {"{__name__=\"r0\", deployment=\"web\"}", 3}}));
  }
}

TEST_F(RuleEvaluatorTest, ReadersOnOtherThreadsSeeWholeOutputs) {
  evaluator_.SetRules(Rules({"sum by (deployment) (inflight)"}));
  // Every scrape sets all 50 outputs to the scrape's number, so a batch
  // patched while a reader holds it would show two numbers at once.
  auto scrape = [this](double round) {
    std::vector<Series> series;
    for (int i = 0; i < 50; ++i) {
      series.push_back({"p" + std::to_string(i), round, std::to_string(i)});
    }
    Scrape(1, series, "inflight", MetricType::kGauge);
  };
  scrape(0);
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  auto read = [&] {
    while (!done.load()) {
      const std::shared_ptr<const StoreSnapshot> snapshot = store_.Snapshot();
      for (const auto& [id, batch] : snapshot->batches) {
        if (id != kRuleTargetIdBase) continue;
        for (const Sample& s : batch->samples) {
          if (s.value != batch->samples[0].value) ++torn;
        }
        ++reads;
      }
    }
  };
  std::thread reader_a(read);
  std::thread reader_b(read);
  // Both readers are reading before the scrapes start (10 s at most).
  for (int i = 0; i < 10000 && reads.load() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  for (int round = 1; round <= 300; ++round) scrape(round);
  done.store(true);
  reader_a.join();
  reader_b.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(Value("7"), 300);
  EXPECT_EQ(Output().size(), 50);
}

TEST_F(RuleEvaluatorTest, OutputSeriesComeAndGoInAnyOrder) {
  evaluator_.SetRules(Rules({"sum by (deployment) (inflight)"}));
  auto scrape = [this](const std::vector<std::pair<std::string, double>>& by) {
    std::vector<Series> series;
    for (const auto& [deployment, value] : by) {
      series.push_back({"p-" + deployment, value, deployment});
    }
    Scrape(1, series, "inflight", MetricType::kGauge);
    std::map<std::string, double> out;
    for (const auto& [labels, value] : Output()) {
      out[labels.substr(labels.find("deployment=") + 12,
                        labels.size() - labels.find("deployment=") - 14)] =
          value;
    }
    return out;
  };
  using Want = std::map<std::string, double>;
  EXPECT_EQ(scrape({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}),
            (Want{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}));
  EXPECT_EQ(scrape({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 5}}),
            (Want{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 5}}));
  // b goes (d takes its place in the output), e comes.
  EXPECT_EQ(scrape({{"a", 1}, {"c", 3}, {"d", 6}, {"e", 7}}),
            (Want{{"a", 1}, {"c", 3}, {"d", 6}, {"e", 7}}));
  EXPECT_EQ(scrape({{"c", 8}, {"d", 6}, {"e", 7}}),
            (Want{{"c", 8}, {"d", 6}, {"e", 7}}));
  EXPECT_EQ(scrape({{"b", 9}, {"e", 7}}), (Want{{"b", 9}, {"e", 7}}));
  EXPECT_EQ(scrape({{"a", 1}, {"b", 9}, {"c", 2}, {"e", 7}}),
            (Want{{"a", 1}, {"b", 9}, {"c", 2}, {"e", 7}}));
  EXPECT_EQ(scrape({{"a", 1}}), (Want{{"a", 1}}));
  EXPECT_EQ(scrape({{"f", 4}}), (Want{{"f", 4}}));
  EXPECT_EQ(scrape({{"f", 4}, {"g", 5}}), (Want{{"f", 4}, {"g", 5}}));
}

}  // namespace
}  // namespace fedgate
