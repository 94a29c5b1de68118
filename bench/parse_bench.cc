// bench/parse_bench.cc
//
// Parse throughput of the exposition parsers (scraper/) on realistic scrape
// bodies, next to a memchr line count over the same bytes in the same run:
//   * k3s: a Kubernetes component's registry (Go runtime, process, apiserver
//     request histograms, etcd, rest client, workqueue);
//   * proxy: Linkerd proxies (request_total, response_total,
//     response_latency_ms histograms with many labels).
// By default the bodies are fedgate's demo targets
// (gateway/demo/demo_targets.h: one k3s registry, 100 proxies concatenated);
// --k3s_body=FILE and
// --proxy_body=FILE take bodies written by shared/bench/gen_targets.py
// instead (see docs/performance.md). OpenMetrics and protobuf bodies are
// converted from the same text bodies, so the three formats carry the same
// samples.
//
// Benchmarks (MB/s: bytes_per_second; ns per sample: time/sample, e.g.
// `25.1n`):
//   BM_MemchrLineCount     the baseline: memchr for '\n' over the body
//   BM_TextParse           TextParser::Next() + the sample's series text,
//                          value and timestamp (what a cached series costs)
//   BM_TextParseLabels     ... + GetLabels() for every sample (all series
//                          new: the first scrape of a target)
//   BM_TextScrapeCacheHit  ... + a hash lookup of series_text() in a map of
//                          the previous scrape's series, as the scrape loop's
//                          cache does (scraper/scrape_cache.h)
//   BM_OpenMetricsParse    OpenMetricsParser, as BM_TextParse
//   BM_ProtobufParse       ProtobufParser, as BM_TextParse
//
// Run: bazel run -c opt //bench:parse_bench -- [--k3s_body=F --proxy_body=F]
//        [--text_parser_simd=baseline|avx2]   (default: the CPU's widest)

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "gateway/demo/demo_targets.h"
#include "merge/float_format.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "proto/metrics.pb.h"
#include "scraper/exposition/openmetrics_parser.h"
#include "scraper/exposition/protobuf_parser.h"
#include "scraper/exposition/text_parser.h"
#include "scraper/test_bodies.h"

namespace fedgate {
namespace {

namespace dto = ::io::prometheus::client;

struct Body {
  std::string text;
  std::string openmetrics;
  std::string protobuf;
  int64_t samples = 0;
};

// The two bodies, indexed by the benchmarks' argument.
Body* g_bodies[2] = {nullptr, nullptr};
const char* const kBodyNames[2] = {"k3s", "proxy"};

// Returns the type of each family declared in `text`.
std::map<std::string, MetricType> FamilyTypes(absl::string_view text) {
  std::map<std::string, MetricType> types;
  TextParser parser(text);
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok() || *entry == ParseEntry::kEof) return types;
    if (*entry == ParseEntry::kType) {
      types[std::string(parser.family_name())] = parser.type();
    }
  }
}

void AppendEscaped(absl::string_view s, bool quotes, std::string* out) {
  for (const char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && quotes) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// Returns `text` as OpenMetrics: counters get their `_total` family naming,
// untyped becomes unknown, timestamps become seconds, `# EOF` ends it.
std::string ToOpenMetrics(absl::string_view text) {
  const std::map<std::string, MetricType> types = FamilyTypes(text);
  auto om_family = [&](absl::string_view name) {
    auto it = types.find(std::string(name));
    if (it != types.end() && it->second == MetricType::kCounter &&
        absl::EndsWith(name, "_total")) {
      name.remove_suffix(6);
    }
    return std::string(name);
  };
  std::string out;
  TextParser parser(text);
  std::vector<Label> labels;
  std::string current_counter;  // The counter family being written, if any.
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok() || *entry == ParseEntry::kEof) break;
    switch (*entry) {
      case ParseEntry::kHelp:
        absl::StrAppend(&out, "# HELP ", om_family(parser.family_name()), " ");
        AppendEscaped(parser.help(), true, &out);
        out.push_back('\n');
        break;
      case ParseEntry::kType: {
        absl::string_view type = TextTypeName(parser.type());
        if (parser.type() == MetricType::kUntyped) type = "unknown";
        absl::StrAppend(&out, "# TYPE ", om_family(parser.family_name()), " ",
                        type, "\n");
        current_counter = parser.type() == MetricType::kCounter
                              ? std::string(parser.family_name())
                              : std::string();
        break;
      }
      case ParseEntry::kSeries: {
        parser.GetLabels(&labels);
        out.append(labels[0].value);
        if (!current_counter.empty() &&
            !absl::EndsWith(labels[0].value, "_total")) {
          out.append("_total");
        }
        if (labels.size() > 1) {
          out.push_back('{');
          for (size_t k = 1; k < labels.size(); ++k) {
            if (k > 1) out.push_back(',');
            absl::StrAppend(&out, labels[k].name, "=\"");
            AppendEscaped(labels[k].value, true, &out);
            out.push_back('"');
          }
          out.push_back('}');
        }
        out.push_back(' ');
        AppendGoFloat(parser.value(), &out);
        if (parser.timestamp_ms().has_value()) {
          absl::StrAppend(
              &out, " ", *parser.timestamp_ms() / 1000, ".",
              absl::Dec(*parser.timestamp_ms() % 1000, absl::kZeroPad3));
        }
        out.push_back('\n');
        break;
      }
      default:
        break;
    }
  }
  out.append("# EOF\n");
  return out;
}

// The protobuf type of a text format 0.0.4 TYPE.
dto::MetricType ProtoType(MetricType type) {
  static constexpr std::pair<MetricType, dto::MetricType> kTypes[] = {
      {MetricType::kCounter, dto::COUNTER},
      {MetricType::kGauge, dto::GAUGE},
      {MetricType::kHistogram, dto::HISTOGRAM},
      {MetricType::kSummary, dto::SUMMARY},
  };
  for (const auto& [text_type, proto_type] : kTypes) {
    if (text_type == type) return proto_type;
  }
  return dto::UNTYPED;
}

// Returns `text` as a delimited protobuf stream: one MetricFamily per TYPE
// (or per untyped name), histograms and summaries regrouped from their
// `_bucket`/`_sum`/`_count`/quantile lines.
std::string ToProtobuf(absl::string_view text) {
  std::vector<dto::MetricFamily> families;
  std::map<std::string, dto::Metric*> metrics;  // By family + labels.
  dto::MetricFamily* family = nullptr;
  MetricType type = MetricType::kUntyped;
  std::string help;
  TextParser parser(text);
  std::vector<Label> labels;
  families.reserve(4096);
  auto start_family = [&](absl::string_view name, MetricType t) {
    families.emplace_back();
    family = &families.back();
    family->set_name(std::string(name));
    type = t;
    family->set_type(ProtoType(t));
    if (!help.empty()) family->set_help(help);
    help.clear();
  };
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok() || *entry == ParseEntry::kEof) break;
    if (*entry == ParseEntry::kHelp) help = parser.help();
    if (*entry == ParseEntry::kType) {
      start_family(parser.family_name(), parser.type());
    }
    if (*entry != ParseEntry::kSeries) continue;
    parser.GetLabels(&labels);
    const std::string& name = labels[0].value;
    if (family == nullptr || !absl::StartsWith(name, family->name())) {
      start_family(name, MetricType::kUntyped);
    }
    const absl::string_view suffix =
        absl::string_view(name).substr(family->name().size());
    std::string key = family->name();
    std::string le;
    std::string quantile;
    for (size_t k = 1; k < labels.size(); ++k) {
      if (type == MetricType::kHistogram && labels[k].name == "le") {
        le = labels[k].value;
        continue;
      }
      if (type == MetricType::kSummary && labels[k].name == "quantile") {
        quantile = labels[k].value;
        continue;
      }
      absl::StrAppend(&key, "\xff", labels[k].name, "\xff", labels[k].value);
    }
    dto::Metric*& metric = metrics[key];
    if (metric == nullptr) {
      metric = family->add_metric();
      for (size_t k = 1; k < labels.size(); ++k) {
        if ((type == MetricType::kHistogram && labels[k].name == "le") ||
            (type == MetricType::kSummary && labels[k].name == "quantile")) {
          continue;
        }
        dto::LabelPair* pair = metric->add_label();
        pair->set_name(labels[k].name);
        pair->set_value(labels[k].value);
      }
      if (parser.timestamp_ms().has_value()) {
        metric->set_timestamp_ms(*parser.timestamp_ms());
      }
    }
    const double v = parser.value();
    switch (type) {
      case MetricType::kCounter:
        metric->mutable_counter()->set_value(v);
        break;
      case MetricType::kGauge:
        metric->mutable_gauge()->set_value(v);
        break;
      case MetricType::kHistogram: {
        dto::Histogram* h = metric->mutable_histogram();
        if (suffix == "_bucket") {
          double bound = 0;
          (void)absl::SimpleAtod(le, &bound);
          if (le == "+Inf") break;  // Implied by the count.
          dto::Bucket* b = h->add_bucket();
          b->set_upper_bound(bound);
          b->set_cumulative_count(static_cast<uint64_t>(v));
        } else if (suffix == "_sum") {
          h->set_sample_sum(v);
        } else if (suffix == "_count") {
          h->set_sample_count(static_cast<uint64_t>(v));
        }
        break;
      }
      case MetricType::kSummary: {
        dto::Summary* s = metric->mutable_summary();
        if (suffix == "_sum") {
          s->set_sample_sum(v);
        } else if (suffix == "_count") {
          s->set_sample_count(static_cast<uint64_t>(v));
        } else {
          double q = 0;
          (void)absl::SimpleAtod(quantile, &q);
          dto::Quantile* quant = s->add_quantile();
          quant->set_quantile(q);
          quant->set_value(v);
        }
        break;
      }
      default:
        metric->mutable_untyped()->set_value(v);
    }
  }
  return DelimitedProtobuf(families);
}

// Calls `on_series()` at each series of `parser`'s body, in order. Returns
// the first parse error, or OK at the end of the body.
template <typename Parser, typename OnSeries>
absl::Status ForEachSeries(Parser& parser, OnSeries on_series) {
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok()) return entry.status();
    if (*entry == ParseEntry::kEof) return absl::OkStatus();
    if (*entry == ParseEntry::kSeries) on_series();
  }
}

int64_t CountSamples(ExpositionParser& parser) {
  int64_t samples = 0;
  const absl::Status parsed = ForEachSeries(parser, [&] { ++samples; });
  if (!parsed.ok()) {
    std::fprintf(stderr, "parse error: %s\n",
                 std::string(parsed.message()).c_str());
    std::abort();
  }
  return samples;
}

std::unique_ptr<Body> MakeBody(std::string text) {
  auto body = std::make_unique<Body>();
  body->text = std::move(text);
  body->openmetrics = ToOpenMetrics(body->text);
  body->protobuf = ToProtobuf(body->text);
  TextParser parser(body->text);
  body->samples = CountSamples(parser);
  return body;
}

void SetCounters(benchmark::State& state, const std::string& bytes,
                 int64_t samples) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(bytes.size()));
  // Seconds per sample, printed with an SI prefix (`150n` = 150 ns).
  state.counters["time/sample"] =
      benchmark::Counter(static_cast<double>(samples),
                         benchmark::Counter::kIsIterationInvariantRate |
                             benchmark::Counter::kInvert);
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["body_KiB"] = static_cast<double>(bytes.size()) / 1024;
}

void BM_MemchrLineCount(benchmark::State& state) {
  const Body& body = *g_bodies[state.range(0)];
  state.SetLabel(kBodyNames[state.range(0)]);
  const std::string& text = body.text;
  for (auto _ : state) {
    int64_t lines = 0;
    const char* p = text.data();
    const char* const end = p + text.size();
    while (const void* nl = std::memchr(p, '\n', end - p)) {
      ++lines;
      p = static_cast<const char*>(nl) + 1;
    }
    benchmark::DoNotOptimize(lines);
  }
  SetCounters(state, text, body.samples);
}

// The per-sample work of a scrape whose series are all cached: the series
// text (cache key), the value and the timestamp.
template <typename Parser>
void ParseAll(benchmark::State& state, const std::string& bytes) {
  int64_t samples = 0;
  for (auto _ : state) {
    Parser parser(bytes);
    samples = 0;
    double sum = 0;
    size_t key_bytes = 0;
    const absl::Status parsed = ForEachSeries(parser, [&] {
      ++samples;
      key_bytes += parser.series_text().size();
      sum += parser.value();
      if (parser.timestamp_ms().has_value()) sum += 1;
    });
    if (!parsed.ok()) {
      state.SkipWithError("parse error");
      return;
    }
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(key_bytes);
  }
  SetCounters(state, bytes, samples);
}

void BM_TextParse(benchmark::State& state) {
  state.SetLabel(kBodyNames[state.range(0)]);
  ParseAll<TextParser>(state, g_bodies[state.range(0)]->text);
}

void BM_OpenMetricsParse(benchmark::State& state) {
  state.SetLabel(kBodyNames[state.range(0)]);
  ParseAll<OpenMetricsParser>(state, g_bodies[state.range(0)]->openmetrics);
}

void BM_ProtobufParse(benchmark::State& state) {
  state.SetLabel(kBodyNames[state.range(0)]);
  ParseAll<ProtobufParser>(state, g_bodies[state.range(0)]->protobuf);
}

void BM_TextParseLabels(benchmark::State& state) {
  state.SetLabel(kBodyNames[state.range(0)]);
  const std::string& bytes = g_bodies[state.range(0)]->text;
  std::vector<Label> labels;
  int64_t samples = 0;
  for (auto _ : state) {
    TextParser parser(bytes);
    samples = 0;
    size_t label_bytes = 0;
    // The bodies parse: MakeBody() counted their samples.
    ForEachSeries(parser, [&] {
      ++samples;
      parser.GetLabels(&labels);
      label_bytes += labels.size();
    }).IgnoreError();
    benchmark::DoNotOptimize(label_bytes);
  }
  SetCounters(state, bytes, samples);
}

void BM_TextScrapeCacheHit(benchmark::State& state) {
  state.SetLabel(kBodyNames[state.range(0)]);
  const std::string& bytes = g_bodies[state.range(0)]->text;
  // The previous scrape's cache, keyed as the scrape loop keys it: raw
  // series text (its 128-bit hash) -> series index. The parser recognises
  // known lines through it (SetSeriesTextCache), as in the scrape loop.
  using Map = absl::flat_hash_map<SeriesTextKey, int64_t, SeriesTextKeyHash>;
  Map cache;
  {
    TextParser parser(bytes);
    ForEachSeries(parser, [&] {
      cache.try_emplace(SeriesTextKeyOf(parser.series_text()),
                        static_cast<int64_t>(cache.size()));
    }).IgnoreError();
  }
  class View final : public SeriesTextCache {
   public:
    explicit View(Map* map) : map_(map) {}
    void* Find(absl::string_view text) const override {
      auto it = map_->find(SeriesTextKeyOf(text));
      return it == map_->end() ? nullptr : &it->second;
    }

   private:
    Map* const map_;
  } view(&cache);
  int64_t samples = 0;
  for (auto _ : state) {
    TextParser parser(bytes);
    parser.SetSeriesTextCache(&view);
    samples = 0;
    int64_t refs = 0;
    double sum = 0;
    ForEachSeries(parser, [&] {
      ++samples;
      const int64_t* ref = static_cast<const int64_t*>(parser.cached_series());
      if (ref == nullptr) {
        auto it = cache.find(SeriesTextKeyOf(parser.series_text()));
        if (it != cache.end()) ref = &it->second;
      }
      if (ref != nullptr) refs += *ref;
      sum += parser.value();
    }).IgnoreError();
    benchmark::DoNotOptimize(refs);
    benchmark::DoNotOptimize(sum);
  }
  SetCounters(state, bytes, samples);
}

BENCHMARK(BM_MemchrLineCount)->Arg(0)->Arg(1);
BENCHMARK(BM_TextParse)->Arg(0)->Arg(1);
BENCHMARK(BM_TextParseLabels)->Arg(0)->Arg(1);
BENCHMARK(BM_TextScrapeCacheHit)->Arg(0)->Arg(1);
BENCHMARK(BM_OpenMetricsParse)->Arg(0)->Arg(1);
BENCHMARK(BM_ProtobufParse)->Arg(0)->Arg(1);

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

}  // namespace
}  // namespace fedgate

int main(int argc, char** argv) {
  std::string k3s_path;
  std::string proxy_path;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (absl::StartsWith(arg, "--k3s_body=")) {
      k3s_path = std::string(arg.substr(11));
    } else if (absl::StartsWith(arg, "--proxy_body=")) {
      proxy_path = std::string(arg.substr(13));
    } else if (absl::StartsWith(arg, "--text_parser_simd=")) {
      const absl::string_view level = arg.substr(19);
      std::optional<fedgate::TextParserSimd> simd;
      for (const fedgate::TextParserSimd s :
           {fedgate::TextParserSimd::kBaseline,
            fedgate::TextParserSimd::kAvx2}) {
        if (fedgate::TextParserSimdName(s) == level) simd = s;
      }
      if (!simd.has_value()) {
        std::fprintf(stderr, "--text_parser_simd: baseline or avx2\n");
        return 2;
      }
      if (!fedgate::text_parser_internal::SetActiveSimd(*simd)) {
        std::fprintf(stderr, "--text_parser_simd: this CPU lacks %s\n",
                     std::string(level).c_str());
        return 2;
      }
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;

  std::string k3s;
  std::string proxy;
  if (!k3s_path.empty() || !proxy_path.empty()) {
    std::optional<std::string> a = fedgate::ReadFile(k3s_path);
    std::optional<std::string> b = fedgate::ReadFile(proxy_path);
    if (!a.has_value() || !b.has_value()) {
      std::fprintf(stderr, "cannot read --k3s_body or --proxy_body\n");
      return 2;
    }
    k3s = std::move(*a);
    proxy = std::move(*b);
  } else {
    absl::StatusOr<std::unique_ptr<fedgate::DemoTargets>> demo =
        fedgate::DemoTargets::Start(100);
    if (!demo.ok()) {
      std::fprintf(stderr, "demo targets: %s\n",
                   std::string(demo.status().message()).c_str());
      return 1;
    }
    const absl::Time now = absl::Now() + absl::Hours(1);
    k3s = (*demo)->K3sBody(now);
    for (int i = 0; i < 100; ++i) proxy += (*demo)->ProxyBody(i, now);
  }
  std::unique_ptr<fedgate::Body> k3s_body = fedgate::MakeBody(std::move(k3s));
  std::unique_ptr<fedgate::Body> proxy_body =
      fedgate::MakeBody(std::move(proxy));
  fedgate::g_bodies[0] = k3s_body.get();
  fedgate::g_bodies[1] = proxy_body.get();
  std::fprintf(
      stderr,
      "bodies: k3s %zu bytes text / %zu OM / %zu protobuf, %lld "
      "samples; proxy %zu bytes text / %zu OM / %zu protobuf, %lld "
      "samples\n",
      k3s_body->text.size(), k3s_body->openmetrics.size(),
      k3s_body->protobuf.size(), static_cast<long long>(k3s_body->samples),
      proxy_body->text.size(), proxy_body->openmetrics.size(),
      proxy_body->protobuf.size(), static_cast<long long>(proxy_body->samples));

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
