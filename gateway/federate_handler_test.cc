#include "gateway/federate_handler.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/metrics.pb.h"

namespace fedgate {
namespace {

Sample MakeSample(Labels labels, double value) {
  return Sample{InternedLabels::Intern(labels), value};
}

// A sample of target a:1 of job j: metric `name`, then `labels`, then
// `instance` and `job`.
Sample TargetSample(const std::string& name, std::vector<Label> labels,
                    double value) {
  labels.insert(labels.begin(), {"__name__", name});
  labels.push_back({"instance", "a:1"});
  labels.push_back({"job", "j"});
  return MakeSample(Labels(std::move(labels)), value);
}

// Two targets: the first has typed families, the second repeats one of the
// first's series (a conflict) and adds a series without `instance`.
StoreSnapshot TwoTargets() {
  auto first = std::make_shared<ScrapeBatch>();
  first->timestamp_ms = 1000;
  first->metadata = {
      {"http_requests_total", MetricType::kCounter, "Total requests.", ""},
      {"latency_seconds", MetricType::kHistogram, "Latency.\nIn seconds.", ""},
  };
  first->samples = {
      TargetSample("http_requests_total", {{"code", "500"}}, 1),
      TargetSample("http_requests_total", {{"code", "200"}}, 5),
      TargetSample("latency_seconds_bucket", {{"le", "0.5"}}, 2),
      TargetSample("latency_seconds_bucket", {{"le", "+Inf"}}, 3),
      TargetSample("latency_seconds_sum", {}, 1.5),
      TargetSample("latency_seconds_count", {}, 3),
      TargetSample("up", {}, 1),
  };
  auto second = std::make_shared<ScrapeBatch>();
  second->timestamp_ms = 2000;
  second->metadata = {
      {"http_requests_total", MetricType::kGauge, "Conflicting help.", ""},
  };
  second->samples = {
      TargetSample("http_requests_total", {{"code", "200"}}, 7),
      MakeSample({{"__name__", "no_instance"}, {"job", "j"}}, 1e6),
  };
  StoreSnapshot snapshot;
  snapshot.batches = {{1, first}, {2, second}};
  snapshot.series_count = 9;
  return snapshot;
}

std::string Federate(const StoreSnapshot& snapshot,
                     const std::vector<std::string>& matches,
                     const std::map<std::string, std::string>& external,
                     SampleWindow window = SampleWindow()) {
  absl::StatusOr<FederateParams> params = ParseFederateParams(matches);
  EXPECT_TRUE(params.ok()) << params.status();
  if (!params.ok()) return "";
  params->window = window;
  std::string out;
  EXPECT_TRUE(WriteFederation(snapshot, *params, external,
                              [&out](absl::string_view chunk) {
                                out.append(chunk.data(), chunk.size());
                                return true;
                              }));
  return out;
}

TEST(FederateHandlerTest, WritesOnlySamplesOfTheParamsWindow) {
  // The first target's samples are at 1000 ms, the second's at 2000 ms.
  const std::vector<std::string> match = {"{__name__=~\"no_instance|up\"}"};
  EXPECT_EQ(Federate(TwoTargets(), match, {},
                     LookbackWindow(1000 + kLookbackDeltaMs)),
            "# TYPE no_instance untyped\n"
            "no_instance{job=\"j\",instance=\"\"} 1e+06 2000\n"
            "# TYPE up untyped\n"
            "up{instance=\"a:1\",job=\"j\"} 1 1000\n");
  EXPECT_EQ(Federate(TwoTargets(), match, {},
                     LookbackWindow(1001 + kLookbackDeltaMs)),
            "# TYPE no_instance untyped\n"
            "no_instance{job=\"j\",instance=\"\"} 1e+06 2000\n");
}

TEST(FederateHandlerTest, WritesFamiliesWithMetadataAndExternalLabels) {
  EXPECT_EQ(
      Federate(TwoTargets(), {"{job=\"j\"}"}, {{"zone", "eu"}}),
      "# HELP http_requests_total Total requests.\n"
      "# TYPE http_requests_total counter\n"
      // Inside a metric name, store order (Prometheus sorts by name only).
      "http_requests_total{code=\"500\",instance=\"a:1\",job=\"j\",zone=\"eu\"}"
      " 1 1000\n"
      "http_requests_total{code=\"200\",instance=\"a:1\",job=\"j\",zone=\"eu\"}"
      " 5 1000\n"
      "# HELP latency_seconds Latency.\\nIn seconds.\n"
      "# TYPE latency_seconds histogram\n"
      "latency_seconds_bucket{instance=\"a:1\",job=\"j\",le=\"0.5\","
      "zone=\"eu\"} 2 1000\n"
      "latency_seconds_bucket{instance=\"a:1\",job=\"j\",le=\"+Inf\","
      "zone=\"eu\"} 3 1000\n"
      "latency_seconds_count{instance=\"a:1\",job=\"j\",zone=\"eu\"} 3 1000\n"
      "latency_seconds_sum{instance=\"a:1\",job=\"j\",zone=\"eu\"} 1.5 1000\n"
      "# TYPE no_instance untyped\n"
      "no_instance{job=\"j\",instance=\"\",zone=\"eu\"} 1e+06 2000\n"
      "# TYPE up untyped\n"
      "up{instance=\"a:1\",job=\"j\",zone=\"eu\"} 1 1000\n");
}

TEST(FederateHandlerTest, OverlappingSelectorsEmitEachSeriesOnce) {
  EXPECT_EQ(
      Federate(TwoTargets(),
               {"up", "{__name__=~\"u.*\"}", "{job=\"j\",__name__=\"up\"}"},
               {}),
      "# TYPE up untyped\n"
      "up{instance=\"a:1\",job=\"j\"} 1 1000\n");
}

TEST(FederateHandlerTest, ExternalInstanceLabelFillsMissingInstance) {
  EXPECT_EQ(Federate(TwoTargets(), {"no_instance"}, {{"instance", "gw"}}),
            "# TYPE no_instance untyped\n"
            "no_instance{job=\"j\",instance=\"gw\"} 1e+06 2000\n");
}

TEST(FederateHandlerTest, NoMatchingSeriesIsAnEmptyAnswer) {
  EXPECT_EQ(Federate(TwoTargets(), {"{job=\"other\"}"}, {}), "");
}

// Prometheus's index selects no series for a selector without matchers.
TEST(FederateHandlerTest, SelectorWithoutMatchersSelectsNothing) {
  EXPECT_EQ(Federate(TwoTargets(), {"{}"}, {}), "");
  EXPECT_EQ(Federate(TwoTargets(), {"{}", "up"}, {}),
            "# TYPE up untyped\n"
            "up{instance=\"a:1\",job=\"j\"} 1 1000\n");
}

TEST(FederateHandlerTest, StopsWhenTheClientGoesAway) {
  absl::StatusOr<FederateParams> params = ParseFederateParams({"{job=\"j\"}"});
  ASSERT_TRUE(params.ok()) << params.status();
  int calls = 0;
  EXPECT_FALSE(
      WriteFederation(TwoTargets(), *params, {}, [&calls](absl::string_view) {
        ++calls;
        return false;
      }));
  EXPECT_EQ(calls, 1);
}

TEST(FederateHandlerTest,
     FederationBodyReportsSeriesAndBytesOfACompleteAnswer) {
  absl::StatusOr<FederateParams> params =
      ParseFederateParams({"{__name__=\"http_requests_total\"}"});
  ASSERT_TRUE(params.ok()) << params.status();
  size_t reported_series = 0;
  uint64_t reported_bytes = 0;
  int reports = 0;
  absl::StatusOr<BodyChunks> body = FederationBody(
      std::make_shared<const StoreSnapshot>(TwoTargets()), *params, {},
      ExpositionFormat::kText, [&](size_t series, uint64_t bytes) {
        reported_series = series;
        reported_bytes = bytes;
        ++reports;
      });
  ASSERT_TRUE(body.ok()) << body.status();
  std::string out;
  while ((*body)(&out)) {
    EXPECT_EQ(reports, 0);  // Not before the last piece.
  }
  EXPECT_EQ(reports, 1);
  EXPECT_EQ(reported_bytes, out.size());
  // Both series of the first target; the second's copy of one loses.
  EXPECT_EQ(reported_series, 2u) << out;
}

std::string FederateIn(ExpositionFormat format, const std::string& match) {
  absl::StatusOr<FederateParams> params = ParseFederateParams({match});
  EXPECT_TRUE(params.ok()) << params.status();
  if (!params.ok()) return "";
  std::string out;
  EXPECT_TRUE(WriteFederation(TwoTargets(), *params, {}, format,
                              [&out](absl::string_view chunk) {
                                out.append(chunk.data(), chunk.size());
                                return true;
                              }));
  return out;
}

TEST(FederateHandlerTest, WritesEveryNegotiatedFormat) {
  EXPECT_EQ(FederateIn(ExpositionFormat::kOpenMetrics100, "{job=\"j\"}"),
            "# HELP http_requests Total requests.\n"
            "# TYPE http_requests counter\n"
            "http_requests_total{code=\"500\",instance=\"a:1\",job=\"j\"} "
            "1.0 1.0\n"
            "http_requests_total{code=\"200\",instance=\"a:1\",job=\"j\"} "
            "5.0 1.0\n"
            "# HELP latency_seconds Latency.\\nIn seconds.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{instance=\"a:1\",job=\"j\",le=\"0.5\"} 2 "
            "1.0\n"
            "latency_seconds_bucket{instance=\"a:1\",job=\"j\",le=\"+Inf\"} 3 "
            "1.0\n"
            "latency_seconds_sum{instance=\"a:1\",job=\"j\"} 1.5 1.0\n"
            "latency_seconds_count{instance=\"a:1\",job=\"j\"} 3 1.0\n"
            "# TYPE no_instance unknown\n"
            "no_instance{job=\"j\",instance=\"\"} 1e+06 2.0\n"
            "# TYPE up unknown\n"
            "up{instance=\"a:1\",job=\"j\"} 1.0 1.0\n"
            "# EOF\n");
  EXPECT_EQ(FederateIn(ExpositionFormat::kOpenMetrics100, "{job=\"none\"}"),
            "# EOF\n");
  EXPECT_EQ(FederateIn(ExpositionFormat::kProtoCompactText, "up"),
            "name:\"up\" type:UNTYPED metric:<label:<name:\"instance\" "
            "value:\"a:1\" > label:<name:\"job\" value:\"j\" > "
            "untyped:<value:1 > timestamp_ms:1000 > \n");

  // Delimited: one message per family; histogram series one per name.
  const std::string bytes =
      FederateIn(ExpositionFormat::kProtoDelimited, "{job=\"j\"}");
  google::protobuf::io::ArrayInputStream array(bytes.data(),
                                               static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&array);
  std::vector<std::string> names;
  uint32_t size = 0;
  while (in.ReadVarint32(&size)) {
    const auto limit = in.PushLimit(static_cast<int>(size));
    io::prometheus::client::MetricFamily family;
    ASSERT_TRUE(family.ParseFromCodedStream(&in));
    in.PopLimit(limit);
    names.push_back(absl::StrCat(family.name(), ":", family.metric_size()));
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "http_requests_total:2", "latency_seconds_bucket:2",
                       "latency_seconds_count:1", "latency_seconds_sum:1",
                       "no_instance:1", "up:1"}));
}

TEST(FederateHandlerTest, RejectsMissingAndBadSelectors) {
  absl::StatusOr<FederateParams> none = ParseFederateParams({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(none.status().message(), "no match[] parameter provided");

  absl::StatusOr<FederateParams> bad =
      ParseFederateParams({"up", "not-a-valid-metric-name"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "1:4: parse error: unexpected <op:->");
}

}  // namespace
}  // namespace fedgate

namespace fedgate {
namespace {

TEST(ParseFederateParamsTest, AppliesTheMatchLimits) {
  MatchLimits limits;
  limits.max_params = 1;
  absl::Status s = ParseFederateParams({"up", "down"}, limits).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(),
            "too many match[] parameters: 2 (limit 1, "
            "--query.max-match-params)");
  s = ParseFederateParams({R"({job=~"\\pL{100}"})"}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(),
            R"(invalid regular expression "\pL{100}": too complex )"
            "(RE2 program size 119302, limit 100000, "
            "--query.max-regex-program-size)");
}

}  // namespace
}  // namespace fedgate
