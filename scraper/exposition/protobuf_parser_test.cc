#include "scraper/exposition/protobuf_parser.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "proto/metrics.pb.h"
#include "scraper/exposition/test_values.h"
#include "scraper/test_bodies.h"

namespace fedgate {
namespace {

namespace dto = ::io::prometheus::client;

// Renders entries like `series a_bucket{x="1",le="0.5"} 3 @7`, with the
// series text's 0xFF separators shown as `|`.
absl::StatusOr<std::vector<std::string>> ParseAll(absl::string_view body,
                                                  int* natives = nullptr) {
  ProtobufParser parser(body);
  std::vector<std::string> out;
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok()) return entry.status();
    switch (*entry) {
      case ParseEntry::kEof:
        if (natives != nullptr) *natives = parser.native_histograms();
        return out;
      case ParseEntry::kHelp: {
        std::string storage;
        EXPECT_EQ(parser.help_text(&storage), parser.help());
        out.push_back(
            absl::StrCat("help ", parser.family_name(), " ", parser.help()));
        break;
      }
      case ParseEntry::kType:
        out.push_back(absl::StrCat("type ", parser.family_name(), " ",
                                   TextTypeName(parser.type())));
        break;
      case ParseEntry::kUnit:
        out.push_back(
            absl::StrCat("unit ", parser.family_name(), " ", parser.unit()));
        break;
      case ParseEntry::kComment:
        out.push_back("comment");
        break;
      case ParseEntry::kSeries: {
        std::vector<Label> labels;
        parser.GetLabels(&labels);
        std::vector<std::string> parts;
        for (size_t k = 1; k < labels.size(); ++k) {
          parts.push_back(
              absl::StrCat(labels[k].name, "=\"", labels[k].value, "\""));
        }
        EXPECT_EQ(labels[0].value, parser.metric_name());
        std::string line = absl::StrCat("series ", labels[0].value);
        if (!parts.empty())
          absl::StrAppend(&line, "{", absl::StrJoin(parts, ","), "}");
        absl::StrAppend(&line, " ", FormatTestValue(parser.value()));
        if (parser.timestamp_ms().has_value()) {
          absl::StrAppend(&line, " @", *parser.timestamp_ms());
        }
        absl::StrAppend(
            &line, " [",
            absl::StrReplaceAll(parser.series_text(), {{"\xff", "|"}}), "]");
        out.push_back(line);
        break;
      }
    }
  }
}

dto::MetricFamily Family(absl::string_view name, dto::MetricType type) {
  dto::MetricFamily family;
  family.set_name(std::string(name));
  family.set_type(type);
  return family;
}

void AddLabel(dto::Metric* metric, absl::string_view name,
              absl::string_view value) {
  dto::LabelPair* pair = metric->add_label();
  pair->set_name(std::string(name));
  pair->set_value(std::string(value));
}

TEST(ProtobufParserTest, FlattensCountersGaugesAndUntyped) {
  dto::MetricFamily counter = Family("requests_total", dto::COUNTER);
  counter.set_help("Requests.");
  dto::Metric* m = counter.add_metric();
  AddLabel(m, "code", "200");
  AddLabel(m, "path", "/a");
  m->mutable_counter()->set_value(17);
  m = counter.add_metric();
  AddLabel(m, "code", "500");
  m->mutable_counter()->set_value(2);
  m->set_timestamp_ms(1600000000123);
  dto::MetricFamily gauge = Family("temp_celsius", dto::GAUGE);
  gauge.set_unit("celsius");
  gauge.add_metric()->mutable_gauge()->set_value(-1.5);
  dto::MetricFamily empty = Family("empty", dto::GAUGE);  // Skipped.
  dto::MetricFamily untyped = Family("u", dto::UNTYPED);
  untyped.add_metric()->mutable_untyped()->set_value(1e6);

  absl::StatusOr<std::vector<std::string>> entries =
      ParseAll(DelimitedProtobuf({counter, gauge, empty, untyped}));
  ASSERT_TRUE(entries.ok()) << entries.status();
  const std::vector<std::string> want = {
      "help requests_total Requests.",
      "type requests_total counter",
      "series requests_total{code=\"200\",path=\"/a\"} 17 "
      "[requests_total|code|200|path|/a]",
      "series requests_total{code=\"500\"} 2 @1600000000123 "
      "[requests_total|code|500]",
      "help temp_celsius ",
      "type temp_celsius gauge",
      "unit temp_celsius celsius",
      "series temp_celsius -1.5 [temp_celsius]",
      "help u ",
      "type u untyped",
      "series u 1e+06 [u]",
  };
  EXPECT_EQ(*entries, want);
}

TEST(ProtobufParserTest, FlattensSummariesAsPrometheusDoes) {
  dto::MetricFamily family = Family("rpc_seconds", dto::SUMMARY);
  dto::Metric* m = family.add_metric();
  AddLabel(m, "svc", "a");
  dto::Summary* s = m->mutable_summary();
  s->set_sample_count(10);
  s->set_sample_sum(2.5);
  dto::Quantile* q = s->add_quantile();
  q->set_quantile(0.5);
  q->set_value(0.2);
  q = s->add_quantile();
  q->set_quantile(0.99);
  q->set_value(0.9);
  q = s->add_quantile();
  q->set_quantile(1);
  q->set_value(1.5);
  dto::Metric* no_quantiles = family.add_metric();
  no_quantiles->mutable_summary()->set_sample_count(1);
  no_quantiles->mutable_summary()->set_sample_sum(1);

  absl::StatusOr<std::vector<std::string>> entries =
      ParseAll(DelimitedProtobuf({family}));
  ASSERT_TRUE(entries.ok()) << entries.status();
  const std::vector<std::string> want = {
      "help rpc_seconds ",
      "type rpc_seconds summary",
      "series rpc_seconds_count{svc=\"a\"} 10 [rpc_seconds_count|svc|a]",
      "series rpc_seconds_sum{svc=\"a\"} 2.5 [rpc_seconds_sum|svc|a]",
      "series rpc_seconds{svc=\"a\",quantile=\"0.5\"} 0.2 "
      "[rpc_seconds|svc|a|quantile|0.5]",
      "series rpc_seconds{svc=\"a\",quantile=\"0.99\"} 0.9 "
      "[rpc_seconds|svc|a|quantile|0.99]",
      "series rpc_seconds{svc=\"a\",quantile=\"1.0\"} 1.5 "
      "[rpc_seconds|svc|a|quantile|1.0]",
      "series rpc_seconds_count 1 [rpc_seconds_count]",
      "series rpc_seconds_sum 1 [rpc_seconds_sum]",
  };
  EXPECT_EQ(*entries, want);
}

TEST(ProtobufParserTest, FlattensClassicHistogramsAddingInfBucket) {
  dto::MetricFamily family = Family("latency_ms", dto::HISTOGRAM);
  dto::Metric* m = family.add_metric();
  dto::Histogram* h = m->mutable_histogram();
  h->set_sample_count(5);
  h->set_sample_sum(1234.5);
  dto::Bucket* b = h->add_bucket();
  b->set_upper_bound(10);
  b->set_cumulative_count(1);
  b = h->add_bucket();
  b->set_upper_bound(1e6);
  b->set_cumulative_count(4);
  // A second histogram with its own +Inf bucket and float counts.
  m = family.add_metric();
  AddLabel(m, "x", "y");
  h = m->mutable_histogram();
  h->set_sample_count_float(2.5);
  h->set_sample_sum(3);
  b = h->add_bucket();
  b->set_upper_bound(0.00001);
  b->set_cumulative_count_float(1.5);
  b = h->add_bucket();
  b->set_upper_bound(std::numeric_limits<double>::infinity());
  b->set_cumulative_count_float(2.5);
  // No buckets at all: only +Inf.
  m = family.add_metric();
  AddLabel(m, "x", "z");
  m->mutable_histogram()->set_sample_count(0);

  absl::StatusOr<std::vector<std::string>> entries =
      ParseAll(DelimitedProtobuf({family}));
  ASSERT_TRUE(entries.ok()) << entries.status();
  const std::vector<std::string> want = {
      "help latency_ms ",
      "type latency_ms histogram",
      "series latency_ms_count 5 [latency_ms_count]",
      "series latency_ms_sum 1234.5 [latency_ms_sum]",
      "series latency_ms_bucket{le=\"10.0\"} 1 [latency_ms_bucket|le|10.0]",
      "series latency_ms_bucket{le=\"1e+06\"} 4 [latency_ms_bucket|le|1e+06]",
      "series latency_ms_bucket{le=\"+Inf\"} 5 [latency_ms_bucket|le|+Inf]",
      "series latency_ms_count{x=\"y\"} 2.5 [latency_ms_count|x|y]",
      "series latency_ms_sum{x=\"y\"} 3 [latency_ms_sum|x|y]",
      "series latency_ms_bucket{x=\"y\",le=\"1e-05\"} 1.5 "
      "[latency_ms_bucket|x|y|le|1e-05]",
      "series latency_ms_bucket{x=\"y\",le=\"+Inf\"} 2.5 "
      "[latency_ms_bucket|x|y|le|+Inf]",
      "series latency_ms_count{x=\"z\"} 0 [latency_ms_count|x|z]",
      "series latency_ms_sum{x=\"z\"} 0 [latency_ms_sum|x|z]",
      "series latency_ms_bucket{x=\"z\",le=\"+Inf\"} 0 "
      "[latency_ms_bucket|x|z|le|+Inf]",
  };
  EXPECT_EQ(*entries, want);
}

TEST(ProtobufParserTest, NativeHistogramsAreCountedNotFailed) {
  dto::MetricFamily family = Family("native_seconds", dto::HISTOGRAM);
  dto::Histogram* h = family.add_metric()->mutable_histogram();
  h->set_sample_count(3);
  h->set_sample_sum(0.5);
  h->set_schema(3);
  h->set_zero_threshold(1e-128);
  dto::BucketSpan* span = h->add_positive_span();
  span->set_offset(0);
  span->set_length(2);
  h->add_positive_delta(1);
  h->add_positive_delta(1);
  int natives = 0;
  absl::StatusOr<std::vector<std::string>> entries =
      ParseAll(DelimitedProtobuf({family}), &natives);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(natives, 1);
  const std::vector<std::string> want = {
      "help native_seconds ",
      "type native_seconds histogram",
      "series native_seconds_count 3 [native_seconds_count]",
      "series native_seconds_sum 0.5 [native_seconds_sum]",
      "series native_seconds_bucket{le=\"+Inf\"} 3 "
      "[native_seconds_bucket|le|+Inf]",
  };
  EXPECT_EQ(*entries, want);
}

TEST(ProtobufParserTest, EmptyBodyIsEmpty) {
  absl::StatusOr<std::vector<std::string>> entries = ParseAll("");
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_TRUE(entries->empty());
}

struct InvalidCase {
  std::string name;
  std::string body;
  std::string message;
};

TEST(ProtobufParserTest, RejectsWhatPrometheusRejects) {
  dto::MetricFamily good = Family("g", dto::GAUGE);
  good.add_metric()->mutable_gauge()->set_value(1);
  const std::string good_bytes = DelimitedProtobuf({good});

  dto::MetricFamily bad_name = Family("1g", dto::GAUGE);
  bad_name.add_metric();
  dto::MetricFamily bad_label = Family("g", dto::GAUGE);
  AddLabel(bad_label.add_metric(), "a-b", "x");
  dto::MetricFamily bad_value = Family("g", dto::GAUGE);
  AddLabel(bad_value.add_metric(), "a", "\xff");
  dto::MetricFamily bad_help = Family("g", dto::GAUGE);
  bad_help.set_help("\xff");
  bad_help.add_metric();
  dto::MetricFamily dup = Family("g", dto::GAUGE);
  dto::Metric* m = dup.add_metric();
  AddLabel(m, "a", "1");
  AddLabel(m, "a", "2");
  dto::MetricFamily name_label = Family("g", dto::GAUGE);
  AddLabel(name_label.add_metric(), "__name__", "x");
  dto::MetricFamily le_label = Family("h", dto::HISTOGRAM);
  AddLabel(le_label.add_metric(), "le", "1");
  // type = 9: a value MetricType does not know.
  std::string unknown_type = good.SerializeAsString() + "\x18\x09";
  unknown_type.insert(0, 1, static_cast<char>(unknown_type.size()));

  const std::vector<InvalidCase> cases = {
      {"TruncatedMessage", good_bytes.substr(0, good_bytes.size() - 1),
       "metric family 1 (byte 0): protobufparse: insufficient length of "
       "buffer, expected at least"},
      {"TruncatedSecondMessage",
       good_bytes + good_bytes.substr(0, good_bytes.size() - 2),
       absl::StrCat("metric family 2 (byte ", good_bytes.size(),
                    "): protobufparse: insufficient length of buffer")},
      {"LengthTooLong", "\xff\xff\xff\xff\x0f",
       "expected at least 4294967300 bytes, got 5 bytes"},
      {"VarintLongerThan32Bits", "\x80\x80\x80\x80\x80\x01",
       "protobufparse: invalid varint encountered"},
      {"TruncatedVarint", "\x80", "protobufparse: invalid varint encountered"},
      {"Garbage", "\x03\xff\xff\xff",
       "cannot decode io.prometheus.client.MetricFamily"},
      {"InvalidMetricName", DelimitedProtobuf({bad_name}),
       "invalid metric name: 1g"},
      {"InvalidLabelName", DelimitedProtobuf({bad_label}),
       "invalid label name: a-b"},
      {"InvalidLabelValue", DelimitedProtobuf({bad_value}),
       "invalid label value \"\\xff\""},
      {"InvalidHelp", DelimitedProtobuf({bad_help}),
       "invalid help for metric \"g\""},
      {"DuplicateLabel", DelimitedProtobuf({dup}),
       "label name \"a\" is not unique: invalid sample"},
      {"NameLabel", DelimitedProtobuf({name_label}),
       "label name \"__name__\" is not unique: invalid sample"},
      {"LeLabelOnBucket", DelimitedProtobuf({le_label}),
       "label name \"le\" is not unique: invalid sample"},
      {"UnknownType", unknown_type, "unknown metric type for metric \"g\": 9"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<std::string>> entries = ParseAll(c.body);
    ASSERT_FALSE(entries.ok()) << absl::StrJoin(*entries, "\n");
    EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(entries.status().message(), c.message))
        << entries.status();
  }
}

}  // namespace
}  // namespace fedgate
