// bench/rule_evaluator_bench.cc
//
// The cost the aggregation rules (merge/rules/rule_evaluator.h) add to each
// scrape: RuleEvaluator::OnPublish of Linkerd-proxy-like scrapes (200
// series each: request_total and response_total by direction and status,
// a 12-bucket latency histogram per direction, gauges), one target after
// the other over 100 targets, counters growing, so that every rule updates
// state and publishes its output on every scrape:
//   BM_RulesNone   no rules: the price of asking (a shared_ptr copy)
//   BM_RulesTen    10 rules: sums by deployment and direction over the
//                  counters, the histogram's buckets, _sum and _count, a
//                  count, a max and an avg over gauges
// items_per_second = scraped samples per second (all of each scrape's
// samples, matched by a rule or not).
//
// Run: bazel run -c opt //bench:rule_evaluator_bench

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "config/config.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "merge/rules/aggregation_rule.h"
#include "merge/rules/rule_evaluator.h"
#include "merge/series_store.h"

namespace fedgate {
namespace {

constexpr int kTargets = 100;

std::vector<AggregationRule> TenRules() {
  RuleGroupConfig group;
  group.name = "mesh";
  group.file = "bench.yml";
  const char* const exprs[] = {
      "sum by (deployment, direction) (request_total)",
      "sum by (deployment, direction, status_code) (response_total)",
      "sum by (deployment, direction, le) (response_latency_ms_bucket)",
      "sum by (deployment, direction) (response_latency_ms_sum)",
      "sum by (deployment, direction) (response_latency_ms_count)",
      "sum without (pod, instance) (tcp_open_total)",
      "sum by (deployment) (tcp_open_connections)",
      "count by (deployment) (tcp_open_connections)",
      "max by (deployment) (process_resident_memory_bytes)",
      "avg by (deployment) (process_resident_memory_bytes) / 1048576",
  };
  for (size_t i = 0; i < 10; ++i) {
    RecordingRuleConfig rule;
    rule.record = absl::StrCat("bench:rule", i);
    rule.expr = exprs[i];
    group.rules.push_back(rule);
  }
  absl::StatusOr<std::vector<AggregationRule>> rules =
      CompileAggregationRules({group});
  return rules.ok() ? *rules : std::vector<AggregationRule>();
}

// One proxy's scrape: 200 series, values grown by `round`.
std::shared_ptr<ScrapeBatch> Scrape(int target, int round) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->timestamp_ms = 1'700'000'000'000 + round * 15'000;
  const std::string deployment = absl::StrCat("deploy-", target % 10);
  const std::string pod = absl::StrCat(deployment, "-", target);
  auto add = [&](Labels labels, double value) {
    labels.Set("deployment", deployment);
    labels.Set("pod", pod);
    labels.Set("instance", absl::StrCat("10.0.0.", target, ":4191"));
    labels.Set("job", "linkerd-proxy");
    batch->samples.push_back(Sample{InternedLabels::Intern(labels), value});
  };
  const double grow = 10.0 * round;
  for (const char* direction : {"inbound", "outbound"}) {
    for (int dst = 0; dst < 20; ++dst) {
      add({{"__name__", "request_total"},
           {"direction", direction},
           {"dst", absl::StrCat("svc-", dst)}},
          grow + dst);
      for (const char* code : {"200", "500"}) {
        add({{"__name__", "response_total"},
             {"direction", direction},
             {"dst", absl::StrCat("svc-", dst)},
             {"status_code", code}},
            grow + dst);
      }
    }
    for (const char* le : {"1", "2", "3", "4", "5", "10", "20", "30", "40",
                           "50", "100", "+Inf"}) {
      add({{"__name__", "response_latency_ms_bucket"},
           {"direction", direction},
           {"le", le}},
          grow);
    }
    add({{"__name__", "response_latency_ms_sum"}, {"direction", direction}},
        grow * 5);
    add({{"__name__", "response_latency_ms_count"}, {"direction", direction}},
        grow);
    for (int peer = 0; peer < 5; ++peer) {
      add({{"__name__", "tcp_open_total"},
           {"direction", direction},
           {"peer", absl::StrCat("p", peer)}},
          grow);
      add({{"__name__", "tcp_open_connections"},
           {"direction", direction},
           {"peer", absl::StrCat("p", peer)}},
          peer);
    }
  }
  add({{"__name__", "process_resident_memory_bytes"}}, 5e7 + round);
  while (batch->samples.size() < 200) {
    add({{"__name__", "go_goroutines"},
         {"n", absl::StrCat(batch->samples.size())}},
        1);
  }
  batch->metadata = FamilyMetadataList{
      {"request_total", MetricType::kCounter, "", ""},
      {"response_total", MetricType::kCounter, "", ""},
      {"response_latency_ms", MetricType::kHistogram, "", ""},
      {"tcp_open_total", MetricType::kCounter, "", ""},
      {"tcp_open_connections", MetricType::kGauge, "", ""},
      {"process_resident_memory_bytes", MetricType::kGauge, "", ""}};
  return batch;
}

void Run(benchmark::State& state, std::vector<AggregationRule> rules) {
  // As fedgate's main: no lock-order graph behind every lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  SeriesStore store;
  RuleEvaluator::Options options;
  options.store = &store;
  RuleEvaluator evaluator(options);
  evaluator.SetRules(std::move(rules));
  // Two rounds of scrapes prepared: the steady state alternates them.
  std::vector<std::shared_ptr<ScrapeBatch>> scrapes;
  for (int round = 1; round <= 2; ++round) {
    for (int t = 0; t < kTargets; ++t) scrapes.push_back(Scrape(t, round));
  }
  for (int t = 0; t < kTargets; ++t) evaluator.OnPublish(t + 1, *scrapes[t]);
  size_t i = 0;
  int64_t samples = 0;
  for (auto _ : state) {
    const ScrapeBatch& batch = *scrapes[i];
    evaluator.OnPublish(static_cast<TargetId>(i % kTargets) + 1, batch);
    samples += static_cast<int64_t>(batch.samples.size());
    i = (i + 1) % scrapes.size();
  }
  state.SetItemsProcessed(samples);
}

void BM_RulesNone(benchmark::State& state) { Run(state, {}); }
BENCHMARK(BM_RulesNone);

void BM_RulesTen(benchmark::State& state) { Run(state, TenRules()); }
BENCHMARK(BM_RulesTen);

}  // namespace
}  // namespace fedgate
