// /federate serving time with 1M series stored, per format, next to a
// baseline in the same run: memcpy of the full text answer's bytes (what any
// server must at least do to hand the bytes to the kernel).
//
// The store holds 1,000 targets of about 1,000 series each in the shapes of
// /work/shared/bench/gen_targets.py: 70% Linkerd proxies (request_total /
// response_total with authority, direction, dst_*, tls, status_code...;
// response_latency_ms histograms with 26 buckets) and 30% k3s components
// (go_*, process_*, apiserver_request_duration_seconds histograms with 9
// labels, apiserver_request_total, workqueue_*), each target with `instance`
// and `job`, plus the 5 synthetic series per target.
//
// Selectors: `{__name__=~".+"}` (all, 1,005,000 series), one target
// (`{instance="..."}`, 1,005 series: "one job of 1,000 series") and the load
// harness's narrow selector (`{job="linkerd-proxy",__name__="request_total"}`).
// The per-batch index that narrow selectors use is built by the first read of
// each batch (here the first iteration of BM_FederateOneTargetText; full
// dumps never build it); BM_BatchIndexBuildAllTargets measures
// that one-time cost per scrape round.
//
//   bazel --output_base=... run -c opt //bench:federate_bench
//       -- --benchmark_counters_tabular=true
//
// Figures: docs/performance.md.

#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/federate_handler.h"
#include "gateway/writers/content_negotiation.h"
#include "gateway/writers/response_compression.h"
#include "merge/series_store.h"

namespace fedgate {
namespace {

constexpr int kTargets = 1000;
constexpr int kSeriesPerTarget = 1000;
constexpr int64_t kTimestamp = 1795630023016;

const char* const kLatencyBuckets[] = {
    "1",    "2",    "3",     "4",     "5",     "10",    "20",    "30",   "40",
    "50",   "100",  "200",   "300",   "400",   "500",   "1000",  "2000", "3000",
    "4000", "5000", "10000", "20000", "30000", "40000", "50000", "+Inf"};
const char* const kApiBuckets[] = {
    "0.005", "0.025", "0.05", "0.1", "0.2", "0.4", "0.6", "0.8", "1",
    "1.25",  "1.5",   "2",    "4",   "5",   "6",   "8",   "10",  "+Inf"};

Sample MakeSample(std::vector<Label> labels, double value) {
  Sample s;
  s.labels = InternedLabels::Intern(Labels(std::move(labels)));
  s.value = value;
  return s;
}

std::shared_ptr<const ScrapeBatch> ProxyBatch(int target) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->timestamp_ms = kTimestamp;
  batch->metadata = {
      {"request_total", MetricType::kCounter, "Total count of HTTP requests.",
       ""},
      {"response_total", MetricType::kCounter, "Total count of HTTP responses.",
       ""},
      {"response_latency_ms", MetricType::kHistogram,
       "Elapsed times between a request's headers being received and its "
       "response stream completing",
       ""},
  };
  const std::string instance =
      absl::StrCat("10.42.", target / 250, ".", target % 250, ":4191");
  const std::string pod = absl::StrCat("web-", target, "-7d9f8b6c5d-x2k4q");
  std::vector<Sample>& samples = batch->samples;
  double v = target * 7 + 1;
  for (int dst = 0; samples.size() < kSeriesPerTarget - 5; ++dst) {
    const std::string authority =
        absl::StrCat("svc-", dst, ".ns-", dst % 7, ".svc.cluster.local:8080");
    auto base = [&](absl::string_view name) {
      return std::vector<Label>{
          {"__name__", std::string(name)},
          {"authority", authority},
          {"direction", dst % 2 ? "inbound" : "outbound"},
          {"dst_deployment", absl::StrCat("svc-", dst)},
          {"dst_namespace", absl::StrCat("ns-", dst % 7)},
          {"dst_pod", absl::StrCat("svc-", dst, "-5b7c9d8f6-abcde")},
          {"instance", instance},
          {"job", "linkerd-proxy"},
          {"namespace", "default"},
          {"pod", pod},
          {"target_addr", absl::StrCat("10.43.", dst, ".", dst % 200, ":8080")},
          {"tls", dst % 5 ? "true" : "no_identity"}};
    };
    samples.push_back(MakeSample(base("request_total"), v += 3));
    std::vector<Label> response = base("response_total");
    response.push_back({"classification", "success"});
    response.push_back({"status_code", "200"});
    samples.push_back(MakeSample(response, v += 3));
    double count = 0;
    for (const char* le : kLatencyBuckets) {
      std::vector<Label> bucket = base("response_latency_ms_bucket");
      bucket.push_back({"le", le});
      samples.push_back(MakeSample(bucket, count += 17));
    }
    samples.push_back(MakeSample(base("response_latency_ms_sum"), v * 3.25));
    samples.push_back(MakeSample(base("response_latency_ms_count"), count));
  }
  return batch;
}

std::shared_ptr<const ScrapeBatch> K3sBatch(int target) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->timestamp_ms = kTimestamp;
  batch->metadata = {
      {"apiserver_request_duration_seconds", MetricType::kHistogram,
       "Response latency distribution in seconds for each verb, dry run "
       "value, group, version, resource, subresource, scope and component.",
       ""},
      {"apiserver_request_total", MetricType::kCounter,
       "Counter of apiserver requests broken out for each verb, dry run "
       "value, group, version, resource, scope, component, and HTTP response "
       "code.",
       ""},
      {"go_goroutines", MetricType::kGauge,
       "Number of goroutines that currently exist.", ""},
      {"workqueue_depth", MetricType::kGauge, "Current depth of workqueue", ""},
  };
  const std::string instance =
      absl::StrCat("10.0.", target / 250, ".", target % 250, ":6443");
  std::vector<Sample>& samples = batch->samples;
  samples.push_back(MakeSample(
      {{"__name__", "go_goroutines"}, {"instance", instance}, {"job", "k3s"}},
      1234));
  const char* const kVerbs[] = {"GET", "LIST", "WATCH", "POST", "PATCH"};
  double v = target + 0.5;
  for (int i = 0; samples.size() < kSeriesPerTarget - 5 - 20; ++i) {
    auto base = [&](absl::string_view name) {
      return std::vector<Label>{{"__name__", std::string(name)},
                                {"component", "apiserver"},
                                {"dry_run", ""},
                                {"group", i % 3 ? "apps" : ""},
                                {"instance", instance},
                                {"job", "k3s"},
                                {"resource", absl::StrCat("resource", i)},
                                {"scope", i % 2 ? "cluster" : "namespace"},
                                {"subresource", ""},
                                {"verb", kVerbs[i % 5]},
                                {"version", "v1"}};
    };
    double count = 0;
    for (const char* le : kApiBuckets) {
      std::vector<Label> bucket =
          base("apiserver_request_duration_seconds_bucket");
      bucket.push_back({"le", le});
      samples.push_back(MakeSample(bucket, count += 3));
    }
    samples.push_back(
        MakeSample(base("apiserver_request_duration_seconds_sum"), v * 0.37));
    samples.push_back(
        MakeSample(base("apiserver_request_duration_seconds_count"), count));
    std::vector<Label> total = base("apiserver_request_total");
    total.push_back({"code", "200"});
    samples.push_back(MakeSample(total, v += 11));
  }
  for (int q = 0; samples.size() < kSeriesPerTarget - 5; ++q) {
    samples.push_back(MakeSample({{"__name__", "workqueue_depth"},
                                  {"instance", instance},
                                  {"job", "k3s"},
                                  {"name", absl::StrCat("queue", q)}},
                                 q));
  }
  return batch;
}

void AddSynthetic(int target, ScrapeBatch* batch) {
  const std::string instance(batch->samples[0].labels.Get("instance"));
  const std::string job(batch->samples[0].labels.Get("job"));
  for (const char* name :
       {"up", "scrape_duration_seconds", "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling", "scrape_series_added"}) {
    batch->samples.push_back(MakeSample(
        {{"__name__", name}, {"instance", instance}, {"job", job}}, 1));
  }
}

const StoreSnapshot& Snapshot() {
  static const StoreSnapshot* snapshot = [] {
    auto* s = new StoreSnapshot;
    for (int t = 0; t < kTargets; ++t) {
      std::shared_ptr<const ScrapeBatch> batch =
          t % 10 < 3 ? K3sBatch(t) : ProxyBatch(t);
      AddSynthetic(t, const_cast<ScrapeBatch*>(batch.get()));
      s->series_count += batch->samples.size();
      s->batches.emplace_back(t, batch);
    }
    return s;
  }();
  return *snapshot;
}

FederateParams Params(const std::string& match) {
  absl::StatusOr<FederateParams> params = ParseFederateParams({match});
  if (!params.ok()) abort();
  return *std::move(params);
}

const std::map<std::string, std::string>& External() {
  static const auto* external =
      new std::map<std::string, std::string>{{"cluster", "east"}};
  return *external;
}

// The sink copies every chunk once (as a socket write would) into a reused
// buffer, so the bytes are touched.
void RunFederate(benchmark::State& state, const std::string& match,
                 ExpositionFormat format, ContentEncoding encoding,
                 int level = kDefaultCompressionLevel) {
  const StoreSnapshot& snapshot = Snapshot();
  const FederateParams params = Params(match);
  std::vector<char> socket(1 << 20);
  size_t bytes = 0, wire_bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    wire_bytes = 0;
    auto write = [&](absl::string_view chunk) {
      std::memcpy(socket.data(), chunk.data(),
                  std::min(chunk.size(), socket.size()));
      benchmark::DoNotOptimize(socket.data());
      wire_bytes += chunk.size();
      return true;
    };
    if (encoding == ContentEncoding::kIdentity) {
      WriteFederation(snapshot, params, External(), format,
                      [&](absl::string_view chunk) {
                        bytes += chunk.size();
                        return write(chunk);
                      });
    } else {
      absl::StatusOr<std::unique_ptr<ResponseCompressor>> compressor =
          ResponseCompressor::Create(encoding, level);
      std::string compressed;
      WriteFederation(snapshot, params, External(), format,
                      [&](absl::string_view chunk) {
                        bytes += chunk.size();
                        compressed.clear();
                        (*compressor)->Compress(chunk, &compressed);
                        return write(compressed);
                      });
      compressed.clear();
      (*compressor)->Finish(&compressed);
      write(compressed);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["answer_MB"] = bytes / 1e6;
  state.counters["wire_MB"] = wire_bytes / 1e6;
}

const char kAll[] = "{__name__=~\".+\"}";
const char kOneTarget[] = "{instance=\"10.42.0.17:4191\"}";
const char kHarnessNarrow[] =
    "{job=\"linkerd-proxy\",__name__=\"request_total\"}";

void BM_BaselineMemcpyOfFullTextAnswer(benchmark::State& state) {
  static const std::string* answer = [] {
    auto* text = new std::string;
    WriteFederation(Snapshot(), Params(kAll), External(),
                    ExpositionFormat::kText, [&](absl::string_view chunk) {
                      text->append(chunk.data(), chunk.size());
                      return true;
                    });
    return text;
  }();
  std::vector<char> socket(1 << 20);
  for (auto _ : state) {
    for (size_t at = 0; at < answer->size(); at += socket.size()) {
      std::memcpy(socket.data(), answer->data() + at,
                  std::min(socket.size(), answer->size() - at));
      benchmark::DoNotOptimize(socket.data());
    }
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * answer->size()));
  state.counters["answer_MB"] = answer->size() / 1e6;
}
BENCHMARK(BM_BaselineMemcpyOfFullTextAnswer)->Unit(benchmark::kMillisecond);

// The /federate answers measured, in the order they run (after the two
// BENCHMARKs of this file).
struct FederateCase {
  const char* name;
  const char* match;
  ExpositionFormat format;
  ContentEncoding encoding;
  // Also at zlib levels 1 (fastest), 6 (the default, Go's, which Prometheus
  // uses) and 9: the level's cost (--web.compression-level) in CPU per
  // answer and bytes on the wire.
  bool zlib_levels = false;
};

void RegisterFederateBenchmarks() {
  using F = ExpositionFormat;
  using E = ContentEncoding;
  static const FederateCase kCases[] = {
      {"BM_FederateAllText", kAll, F::kText, E::kIdentity},
      {"BM_FederateAllOpenMetrics", kAll, F::kOpenMetrics100, E::kIdentity},
      {"BM_FederateAllProtoDelimited", kAll, F::kProtoDelimited, E::kIdentity},
      {"BM_FederateAllProtoCompactText", kAll, F::kProtoCompactText,
       E::kIdentity},
      {"BM_FederateAllTextGzip", kAll, F::kText, E::kGzip},
      {"BM_FederateAllTextGzipLevel", kAll, F::kText, E::kGzip, true},
      {"BM_FederateOneTargetTextGzipLevel", kOneTarget, F::kText, E::kGzip,
       true},
      {"BM_FederateAllOpenMetricsGzip", kAll, F::kOpenMetrics100, E::kGzip},
      {"BM_FederateOneTargetText", kOneTarget, F::kText, E::kIdentity},
      {"BM_FederateOneTargetOpenMetrics", kOneTarget, F::kOpenMetrics100,
       E::kIdentity},
      {"BM_FederateOneTargetProtoDelimited", kOneTarget, F::kProtoDelimited,
       E::kIdentity},
      {"BM_FederateHarnessNarrowText", kHarnessNarrow, F::kText, E::kIdentity},
  };
  for (const FederateCase& c : kCases) {
    benchmark::internal::Benchmark* b =
        benchmark::RegisterBenchmark(c.name, [c](benchmark::State& state) {
          RunFederate(state, c.match, c.format, c.encoding,
                      c.zlib_levels ? static_cast<int>(state.range(0))
                                    : kDefaultCompressionLevel);
        });
    if (c.zlib_levels) b->Arg(1)->Arg(6)->Arg(9);
    b->Unit(benchmark::kMillisecond);
    // A full dump (kAll) takes seconds: three iterations.
    if (c.match == kAll) b->Iterations(3);
  }
}

// What the first read after a scrape pays per batch (the index is built
// lazily, once per batch): building the BatchIndex of all 1,000 batches.
void BM_BatchIndexBuildAllTargets(benchmark::State& state) {
  const StoreSnapshot& snapshot = Snapshot();
  for (auto _ : state) {
    for (const auto& [id, batch] : snapshot.batches) {
      std::unique_ptr<const BatchIndex> index = BuildBatchIndex(batch->samples);
      benchmark::DoNotOptimize(index.get());
    }
  }
  state.counters["series"] = static_cast<double>(snapshot.series_count);
}
BENCHMARK(BM_BatchIndexBuildAllTargets)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fedgate

int main(int argc, char** argv) {
  fedgate::RegisterFederateBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
