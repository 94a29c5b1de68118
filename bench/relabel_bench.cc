// bench/relabel_bench.cc
//
// Series relabeled per second (merge/relabel.h) with a realistic 10-rule
// metric_relabel_configs chain over Linkerd-proxy-like series (target labels
// attached, 9-11 labels each), in the three shapes the scrape loop sees:
//   BM_RelabelBaselineCopy  copying each label set (what building a series'
//                           labels costs anyway; the baseline of the run)
//   BM_RelabelChainCold     copy + RelabelChain::Apply: a series new to the
//                           scrape cache (first scrape, or after a reload)
//   BM_RelabelChainWarm     a scrape-cache hit: one hash lookup of the raw
//                           series text, as scraper/scrape_cache.h does;
//                           no regex work at all
// items_per_second = series per second.
//
// Run: bazel run -c opt //bench:relabel_bench

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "config/relabel_config.h"
#include "merge/labels.h"
#include "merge/relabel.h"

namespace fedgate {
namespace {

constexpr int kSeries = 2000;

// A chain of the kind users copy from Prometheus configs: drop noisy
// families, strip high-cardinality labels, derive labels with groups,
// shard, normalise case.
std::vector<RelabelConfig> TenRules() {
  using A = RelabelAction;
  return {
      MakeRelabelConfig(A::kDrop, {"__name__"}, "go_gc_.*|process_.*"),
      MakeRelabelConfig(A::kLabelDrop, {},
                        "pod_template_hash|controller_revision_hash"),
      MakeRelabelConfig(A::kReplace, {"status_code"}, "(\\d)\\d\\d",
                        "status_class", "${1}xx"),
      MakeRelabelConfig(A::kReplace, {"authority"}, "([^.]+)\\.([^.]+)\\.svc.*",
                        "dst", "$2/$1"),
      MakeRelabelConfig(A::kLabelMap, {}, "label_(.+)", "", "k8s_$1"),
      MakeRelabelConfig(A::kHashMod, {"pod"}, "(.*)", "shard", "$1", ";", 4),
      MakeRelabelConfig(A::kLowercase, {"direction"}, "(.*)", "direction"),
      MakeRelabelConfig(A::kReplace, {"namespace", "pod"}, "(.*);(.*)",
                        "workload", "$1/$2"),
      MakeRelabelConfig(A::kDrop, {"le"}, "0\\.001|0\\.002"),
      MakeRelabelConfig(
          A::kKeep, {"__name__"},
          "request_total|response_total|response_latency_ms_.*|tcp_.*"),
  };
}

struct Input {
  std::vector<Labels> series;
  std::vector<std::string> texts;  // The raw series text, the cache key.
};

const Input& Series() {
  static const Input* const input = [] {
    auto* in = new Input;
    const char* names[] = {"request_total", "response_total",
                           "response_latency_ms_bucket", "tcp_open_total",
                           "process_cpu_seconds_total"};
    for (int i = 0; i < kSeries; ++i) {
      const std::string pod = absl::StrCat("web-", i % 50, "-7d9f8c");
      const std::string code = absl::StrCat(200 + (i % 4) * 100);
      const std::string authority =
          absl::StrCat("svc", i % 17, ".ns", i % 5, ".svc.cluster.local:8080");
      Labels l({{"__name__", names[i % 5]},
                {"authority", authority},
                {"direction", i % 2 ? "INBOUND" : "outbound"},
                {"instance", absl::StrCat("10.0.", i % 50, ".7:4191")},
                {"job", "linkerd-proxy"},
                {"label_app", "web"},
                {"namespace", absl::StrCat("ns", i % 5)},
                {"pod", pod},
                {"pod_template_hash", "7d9f8c"},
                {"status_code", code},
                {"le", i % 5 == 2 ? absl::StrCat(i % 7) : ""}});
      in->texts.push_back(absl::StrCat(names[i % 5], "{authority=\"", authority,
                                       "\",status_code=\"", code, "\",i=\"", i,
                                       "\"}"));
      in->series.push_back(std::move(l));
    }
    return in;
  }();
  return *input;
}

void BM_RelabelBaselineCopy(benchmark::State& state) {
  const Input& in = Series();
  size_t i = 0;
  for (auto _ : state) {
    Labels copy = in.series[i];
    benchmark::DoNotOptimize(copy);
    if (++i == in.series.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RelabelBaselineCopy);

void BM_RelabelChainCold(benchmark::State& state) {
  const Input& in = Series();
  const std::vector<RelabelConfig> rules = TenRules();
  absl::StatusOr<RelabelChain> chain = RelabelChain::Compile(rules);
  if (!chain.ok()) {
    state.SkipWithError("compile failed");
    return;
  }
  size_t i = 0;
  int64_t kept = 0;
  for (auto _ : state) {
    Labels copy = in.series[i];
    kept += chain->Apply(&copy);
    benchmark::DoNotOptimize(copy);
    if (++i == in.series.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["kept_ratio"] =
      static_cast<double>(kept) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RelabelChainCold);

void BM_RelabelChainWarm(benchmark::State& state) {
  const Input& in = Series();
  absl::StatusOr<RelabelChain> chain = RelabelChain::Compile(TenRules());
  if (!chain.ok()) {
    state.SkipWithError("compile failed");
    return;
  }
  // The scrape cache: series text -> relabeled labels (null: dropped).
  std::vector<Labels> results(in.series.size());
  absl::flat_hash_map<std::string, const Labels*> cache;
  for (size_t k = 0; k < in.series.size(); ++k) {
    results[k] = in.series[k];
    cache[in.texts[k]] = chain->Apply(&results[k]) ? &results[k] : nullptr;
  }
  size_t i = 0;
  for (auto _ : state) {
    auto it = cache.find(in.texts[i]);
    benchmark::DoNotOptimize(it->second);
    if (++i == in.texts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RelabelChainWarm);

}  // namespace
}  // namespace fedgate
