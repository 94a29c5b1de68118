#include "gateway/api_handler.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/go_regexp.h"
#include "config/relabel_config.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "merge/series_store.h"
#include "scraper/scrape_manager.h"

namespace fedgate {
namespace {

constexpr int64_t kScrapeMs = 1795630035000;

// Appends a sample to `batch`, whose time is that of its first sample.
void AddSample(ScrapeBatch& batch, Labels labels, double value,
               int64_t ts = kScrapeMs) {
  if (batch.samples.empty()) batch.timestamp_ms = ts;
  batch.Add(InternedLabels::Intern(labels), value, ts);
}

class ApiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = std::make_shared<ScrapeBatch>();
    AddSample(
        *a, Labels{{"__name__", "test_gauge"}, {"a", "x<y>&z"}, {"job", "j1"}},
        1e21);
    AddSample(
        *a,
        Labels{{"__name__", "test_gauge"}, {"a", "ls\u2028x"}, {"job", "j1"}},
        -0.0);
    AddSample(*a, Labels{{"__name__", "up"}, {"job", "j1"}}, 1);
    AddSample(*a, Labels{{"A", "1"}, {"__name__", "a_first"}}, 1e-7);
    store_.Publish(1, a);
    auto b = std::make_shared<ScrapeBatch>();
    // The same label set as target 1's `up`: emitted once.
    AddSample(*b, Labels{{"__name__", "up"}, {"job", "j1"}}, 0);
    AddSample(*b, Labels{{"__name__", "up"}, {"job", "down"}}, 0,
              kScrapeMs - 3600000);
    store_.Publish(2, b);
  }

  ApiHandler Handler() {
    ApiOptions options;
    options.store = &store_;
    options.max_series = max_series_;
    options.match_limits.max_regex_program_size = max_regex_program_size_;
    options.hostname = "vm";
    options.now = [] { return absl::FromUnixMillis(kScrapeMs + 864); };
    options.build_info.version = "0.1.0";
    options.targets = [this] { return targets_; };
    options.dropped_targets = [this] { return dropped_; };
    options.config = [this] { return config_; };
    return ApiHandler(std::move(options));
  }

  ApiResponse Get(const std::string& path,
                  std::vector<std::pair<std::string, std::string>> form = {}) {
    ApiRequest request;
    request.method = "GET";
    request.path = path;
    request.form = form;
    request.query = std::move(form);
    ApiResponse res = Handler().Handle(request);
    if (res.body_chunks) {
      while (res.body_chunks(&res.body)) {
      }
      res.body_chunks = nullptr;
    }
    return res;
  }

  // A request form and the message of the 400 `bad_data` answer it gets.
  struct BadDataCase {
    const char* name;
    std::vector<std::pair<std::string, std::string>> form;
    const char* error;
  };

  // GETs `path` with each case's form and expects its 400 bad_data answer.
  void ExpectBadData(const std::string& path,
                     const std::vector<BadDataCase>& cases) {
    for (const BadDataCase& c : cases) {
      SCOPED_TRACE(c.name);
      ApiResponse res = Get(path, c.form);
      EXPECT_EQ(res.status, 400);
      EXPECT_EQ(
          res.body,
          std::string(R"({"status":"error","errorType":"bad_data","error":")") +
              c.error + "\"}");
    }
  }

  SeriesStore store_;
  size_t max_series_ = 0;
  int max_regex_program_size_ = 0;
  std::vector<TargetStatus> targets_;
  std::vector<DroppedTarget> dropped_;
  std::shared_ptr<const Config> config_;
};

TEST_F(ApiHandlerTest, SeriesAreDeduplicatedSortedAndHtmlEscaped) {
  ApiResponse res = Get("/series", {{"match[]", "test_gauge"},
                                    {"match[]", "{job=\"j1\"}"},
                                    {"match[]", "a_first"}});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(
      res.body,
      R"({"status":"success","data":[)"
      R"({"A":"1","__name__":"a_first"},)"
      R"({"__name__":"test_gauge","a":"ls\u2028x","job":"j1"},)"
      R"({"__name__":"test_gauge","a":"x\u003cy\u003e\u0026z","job":"j1"},)"
      R"({"__name__":"up","job":"j1"}]})");
}

TEST_F(ApiHandlerTest, SeriesWithoutMatchesIsEmptyArray) {
  EXPECT_EQ(Get("/series", {{"match[]", "nope"}}).body,
            R"({"status":"success","data":[]})");
}

TEST_F(ApiHandlerTest, SeriesHonoursTheTimeWindow) {
  EXPECT_EQ(Get("/series", {{"match[]", "up"},
                            {"start", "2026-11-25T17:00:00Z"},
                            {"end", "1795627000"}})
                .body,
            R"({"status":"success","data":[{"__name__":"up","job":"down"}]})");
}

TEST_F(ApiHandlerTest, SeriesErrorsAreThoseOfPrometheus) {
  ExpectBadData(
      "/series",
      {
          {"no match", {}, "no match[] parameter provided"},
          {"bad start",
           {{"match[]", "up"}, {"start", "abc"}},
           R"(invalid parameter \"start\": Invalid time value for 'start': )"
           R"(cannot parse \"abc\" to a valid timestamp)"},
          {"bad end",
           {{"match[]", "up"}, {"end", "1x"}},
           R"(invalid parameter \"end\": Invalid time value for 'end': )"
           R"(cannot parse \"1x\" to a valid timestamp)"},
          {"parse error",
           {{"match[]", "-"}},
           R"(invalid parameter \"match[]\": 1:1: parse error: unexpected \u003cop:-\u003e)"},
          {"empty matchers",
           {{"match[]", "{a=\"\"}"}},
           R"(invalid parameter \"match[]\": match[] must contain at least one )"
           R"(non-empty matcher)"},
          {"parse error wins over empty matchers",
           {{"match[]", "{a=\"\"}"}, {"match[]", "up{"}},
           R"(invalid parameter \"match[]\": 1:4: parse error: unexpected end )"
           R"(of input inside braces)"},
      });
}

TEST_F(ApiHandlerTest, LabelsAreSortedNames) {
  EXPECT_EQ(Get("/labels").body,
            R"({"status":"success","data":["A","__name__","a","job"]})");
  EXPECT_EQ(Get("/labels", {{"match[]", "up"}}).body,
            R"({"status":"success","data":["__name__","job"]})");
  EXPECT_EQ(Get("/labels", {{"match[]", "nope"}}).body,
            R"({"status":"success","data":[]})");
}

TEST_F(ApiHandlerTest, LabelsSelectorErrorsHaveNoParameterPrefix) {
  ApiResponse res = Get("/labels", {{"match[]", "{a=~\".*\"}"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body,
            R"({"status":"error","errorType":"bad_data","error":)"
            R"("match[] must contain at least one non-empty matcher"})");
}

TEST_F(ApiHandlerTest, LabelValuesAreSortedBytewise) {
  EXPECT_EQ(Get("/label/job/values").body,
            R"({"status":"success","data":["down","j1"]})");
  EXPECT_EQ(
      Get("/label/a/values").body,
      R"({"status":"success","data":["ls\u2028x","x\u003cy\u003e\u0026z"]})");
  EXPECT_EQ(Get("/label/nope/values").body,
            R"({"status":"success","data":[]})");
  EXPECT_EQ(Get("/label/job/values", {{"match[]", "{job=\"down\"}"}}).body,
            R"({"status":"success","data":["down"]})");
}

TEST_F(ApiHandlerTest, LabelValuesRejectsInvalidName) {
  ApiResponse res = Get("/label/bad-name/values");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body, R"({"status":"error","errorType":"bad_data","error":)"
                      R"("invalid label name: \"bad-name\""})");
}

TEST_F(ApiHandlerTest, QueryAnswersSelectorsAsVector) {
  EXPECT_EQ(
      Get("/query", {{"query", "test_gauge"}}).body,
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"__name__":"test_gauge","a":"ls\u2028x","job":"j1"},)"
      R"("value":[1795630035.864,"-0"]},)"
      R"({"metric":{"__name__":"test_gauge","a":"x\u003cy\u003e\u0026z","job":"j1"},)"
      R"("value":[1795630035.864,"1e+21"]}]}})");
  // Older than the 5m lookback: not in an instant query.
  EXPECT_EQ(
      Get("/query", {{"query", "up"}, {"time", "1795630040.5"}}).body,
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"__name__":"up","job":"j1"},"value":[1795630040.500,"1"]}]}})");
  EXPECT_EQ(Get("/query", {{"query", "a_first"}}).body,
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"A":"1","__name__":"a_first"},)"
            R"("value":[1795630035.864,"1e-07"]}]}})");
}

// A scrape stamped after the reader's clock (an early tick's ideal time, or
// a reader that lost the CPU between its clock and its snapshot) is seen by
// a query without a time, evaluated at that scrape's time; a query at an
// explicit earlier time leaves it out.
TEST_F(ApiHandlerTest, QueryWithoutTimeSeesAScrapeStampedAfterItsClock) {
  auto late = std::make_shared<ScrapeBatch>();
  AddSample(*late, Labels{{"__name__", "late_gauge"}, {"job", "j3"}}, 7,
            kScrapeMs + 870);
  store_.Publish(3, late);
  EXPECT_EQ(Get("/query", {{"query", "late_gauge"}}).body,
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"late_gauge","job":"j3"},)"
            R"("value":[1795630035.870,"7"]}]}})");
  EXPECT_EQ(
      Get("/query", {{"query", "late_gauge"}, {"time", "1795630035.864"}}).body,
      R"({"status":"success","data":{"resultType":"vector","result":[]}})");
}

TEST_F(ApiHandlerTest, QueryErrors) {
  ExpectBadData(
      "/query",
      {
          {"no query",
           {},
           R"(invalid parameter \"query\": 1:1: parse error: no expression found in input)"},
          {"empty matchers",
           {{"query", "{job=~\".*\"}"}},
           R"(invalid parameter \"query\": 1:1: parse error: vector selector must )"
           R"(contain at least one non-empty matcher)"},
          {"bad time",
           {{"query", "up"}, {"time", "abc"}},
           R"(invalid parameter \"time\": Invalid time value for 'time': cannot )"
           R"(parse \"abc\" to a valid timestamp)"},
          {"syntax error",
           {{"query", "sum(up"}},
           R"(invalid parameter \"query\": 1:7: parse error: unclosed left )"
           R"(parenthesis)"},
          {"range selector",
           {{"query", "rate(up[5m])"}},
           R"(invalid parameter \"query\": 1:1: the function rate() reads a )"
           R"(range of past samples; fedgate evaluates instant queries over )"
           R"(the latest sample of each series, so it cannot answer this )"
           R"(query (docs/api.md))"},
      });
}

TEST_F(ApiHandlerTest, QueryEvaluatesExpressions) {
  EXPECT_EQ(Get("/query", {{"query", "1+1"}, {"time", "1795630040.5"}}).body,
            R"({"status":"success","data":{"resultType":"scalar",)"
            R"("result":[1795630040.5,"2"]}})");
  EXPECT_EQ(Get("/query", {{"query", "1e21 + 1e-7 * 0"}, {"time", "10"}}).body,
            R"({"status":"success","data":{"resultType":"scalar",)"
            R"("result":[10,"1000000000000000000000"]}})");
  EXPECT_EQ(Get("/query", {{"query", "-1/0"}, {"time", "10.25"}}).body,
            R"({"status":"success","data":{"resultType":"scalar",)"
            R"("result":[10.25,"-Inf"]}})");
  EXPECT_EQ(Get("/query", {{"query", "\"a\\\"b\""}, {"time", "10"}}).body,
            R"({"status":"success","data":{"resultType":"string",)"
            R"("result":[10,"a\"b"]}})");
  EXPECT_EQ(Get("/query", {{"query", "count by (job) (test_gauge) * 2"}}).body,
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"job":"j1"},"value":[1795630035.864,"4"]}]}})");
}

TEST_F(ApiHandlerTest, QueryLimitsApplyToSelectorsInExpressions) {
  max_series_ = 3;
  EXPECT_EQ(Get("/query", {{"query", "sum(test_gauge) + count(up)"}}).status,
            200);
  const ApiResponse res =
      Get("/query", {{"query", "sum(test_gauge) + count(up) + a_first"}});
  EXPECT_EQ(res.status, 422);
  EXPECT_EQ(res.refused_reason, "too_many_series");
  EXPECT_EQ(res.body,
            R"({"status":"error","errorType":"execution","error":"query )"
            R"(processing would load too many samples into memory in query )"
            R"(execution"})");
  max_series_ = 0;
  max_regex_program_size_ = 100;
  const ApiResponse regex =
      Get("/query", {{"query", "sum(up{job=~\"\\\\pL{100}\"})"}});
  EXPECT_EQ(regex.status, 400);
  EXPECT_EQ(regex.refused_reason, "regex_too_complex") << regex.body;
}

TEST_F(ApiHandlerTest, QueryEvaluationErrorsAreExecutionErrors) {
  const ApiResponse res =
      Get("/query", {{"query",
                      "label_replace(test_gauge, \"a\", \"\", "
                      "\"a\", \".*\")"}});
  EXPECT_EQ(res.status, 422);
  EXPECT_EQ(res.body,
            R"({"status":"error","errorType":"execution","error":)"
            R"("vector cannot contain metrics with the same labelset"})");
}

TEST_F(ApiHandlerTest, TargetsShowActiveTargetsByPool) {
  TargetStatus up;
  up.scrape_pool = "j1";
  up.scrape_url = "http://127.0.0.1:19411/metrics";
  up.labels = Labels{{"instance", "127.0.0.1:19411"}, {"job", "j1"}};
  up.discovered_labels = InternedLabels::Intern(
      Labels{{"__address__", "127.0.0.1:19411"}, {"job", "j1"}});
  up.health = TargetHealth::kUp;
  up.last_scrape = absl::FromUnixNanos(1795630028540652083);
  up.last_scrape_duration = absl::Nanoseconds(1643227);
  up.scrape_interval = absl::Seconds(2);
  up.scrape_timeout = absl::Seconds(2);
  TargetStatus down;
  down.scrape_pool = "down";
  down.scrape_url = "http://10.0.0.1:1/metrics";
  down.labels = Labels{{"instance", "10.0.0.1:1"}, {"job", "down"}};
  down.discovered_labels =
      InternedLabels::Intern(Labels{{"__address__", "10.0.0.1:1"}});
  down.last_error = "connection refused";
  down.scrape_interval = absl::Minutes(1);
  down.scrape_timeout = absl::Seconds(10);
  targets_ = {up, down};

  EXPECT_EQ(
      Get("/targets").body,
      R"({"status":"success","data":{"activeTargets":[)"
      R"({"discoveredLabels":{"__address__":"10.0.0.1:1"},)"
      R"("labels":{"instance":"10.0.0.1:1","job":"down"},"scrapePool":"down",)"
      R"("scrapeUrl":"http://10.0.0.1:1/metrics","globalUrl":"http://10.0.0.1:1/metrics",)"
      R"("lastError":"connection refused","lastScrape":"0001-01-01T00:00:00Z",)"
      R"("lastScrapeDuration":0,"health":"unknown","scrapeInterval":"1m",)"
      R"("scrapeTimeout":"10s","dedupGroup":"","dedupLeader":false,)"
      R"("deduplicatedSeries":0,"conflictingSeries":0},)"
      R"({"discoveredLabels":{"__address__":"127.0.0.1:19411","job":"j1"},)"
      R"("labels":{"instance":"127.0.0.1:19411","job":"j1"},"scrapePool":"j1",)"
      R"("scrapeUrl":"http://127.0.0.1:19411/metrics","globalUrl":"http://vm:19411/metrics",)"
      R"("lastError":"","lastScrape":"2026-11-25T18:07:08.540652083Z",)"
      R"("lastScrapeDuration":0.001643227,"health":"up","scrapeInterval":"2s",)"
      R"("scrapeTimeout":"2s","dedupGroup":"","dedupLeader":false,)"
      R"("deduplicatedSeries":0,"conflictingSeries":0}],)"
      R"("droppedTargets":[]}})");
  const std::string empty =
      R"({"status":"success","data":{"activeTargets":[],"droppedTargets":[]}})";
  EXPECT_EQ(Get("/targets", {{"state", "DROPPED"}}).body, empty);
  EXPECT_EQ(Get("/targets", {{"state", "bogus"}}).body, empty);
  EXPECT_EQ(Get("/targets", {{"state", "Active"}, {"scrapePool", "nope"}}).body,
            empty);
  dropped_ = {DroppedTarget{"j1", InternedLabels::Intern(
                                      Labels{{"__address__", "drop:1"}})},
              DroppedTarget{
                  "a", InternedLabels::Intern(Labels{{"__address__", "a:1"}})}};
  EXPECT_EQ(Get("/targets", {{"state", "dropped"}}).body,
            R"({"status":"success","data":{"activeTargets":[],)"
            R"("droppedTargets":[{"discoveredLabels":{"__address__":"a:1"}},)"
            R"({"discoveredLabels":{"__address__":"drop:1"}}]}})");
  EXPECT_EQ(
      Get("/targets", {{"state", "dropped"}, {"scrapePool", "j1"}}).body,
      R"({"status":"success","data":{"activeTargets":[],)"
      R"("droppedTargets":[{"discoveredLabels":{"__address__":"drop:1"}}]}})");
  const std::string only_j1 = Get("/targets", {{"scrapePool", "j1"}}).body;
  EXPECT_EQ(only_j1.find("\"down\""), std::string::npos) << only_j1;
  EXPECT_NE(only_j1.find("\"j1\""), std::string::npos) << only_j1;
}

TEST_F(ApiHandlerTest, GlobalUrlReplacesLoopbackHosts) {
  TargetStatus self;
  self.scrape_pool = "self";
  self.scrape_url = "https://localhost:9099/metrics?x=1";
  TargetStatus v6;
  v6.scrape_pool = "v6";
  v6.scrape_url = "http://[::1]:8080/m";
  TargetStatus remote;
  remote.scrape_pool = "x";
  remote.scrape_url = "http://node:9100/metrics";
  targets_ = {self, v6, remote};
  ApiOptions options;
  options.store = &store_;
  options.hostname = "vm";
  options.web_port = [] { return 9099; };
  options.targets = [this] { return targets_; };
  ApiRequest request;
  request.method = "GET";
  request.path = "/targets";
  const std::string body = ApiHandler(std::move(options)).Handle(request).body;
  EXPECT_NE(body.find(R"("globalUrl":"http://vm:9099/metrics?x=1")"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("globalUrl":"http://vm:8080/m")"), std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("globalUrl":"http://node:9100/metrics")"),
            std::string::npos)
      << body;
}

TEST_F(ApiHandlerTest, StatusConfigPrintsTheLoadedConfig) {
  Config config;
  config.global.external_labels = {{"zone", "<ie>"}};
  config_ = std::make_shared<const Config>(config);
  EXPECT_EQ(Get("/status/config").body,
            R"({"status":"success","data":{"yaml":"global:\n)"
            R"(  scrape_interval: 1m\n  scrape_timeout: 10s\n)"
            R"(  evaluation_interval: 1m\n  external_labels:\n)"
            R"(    zone: \u003cie\u003e\n"}})");
}

TEST_F(ApiHandlerTest, BuildInfoHasPrometheusFields) {
  EXPECT_EQ(Get("/status/buildinfo").body,
            R"({"status":"success","data":{"version":"0.1.0","revision":"",)"
            R"("branch":"","buildUser":"","buildDate":"","goVersion":""}})");
}

TEST_F(ApiHandlerTest, RoutingAnswersOptionsUnknownPathsAndWrongMethods) {
  ApiHandler handler = Handler();
  struct Case {
    const char* method;
    const char* path;
    int status;
    const char* allow;
    const char* body;
  };
  const Case cases[] = {
      {"OPTIONS", "/series", 204, "", ""},
      {"OPTIONS", "/nope", 204, "", ""},
      {"GET", "/nope", 404, "", "404 page not found\n"},
      {"GET", "/label//values", 404, "", "404 page not found\n"},
      {"PUT", "/series", 405, "DELETE, GET, OPTIONS, POST",
       "Method Not Allowed\n"},
      {"HEAD", "/series", 405, "DELETE, GET, OPTIONS, POST",
       "Method Not Allowed\n"},
      {"POST", "/targets", 405, "GET, OPTIONS", "Method Not Allowed\n"},
      {"POST", "/label/job/values", 405, "GET, OPTIONS",
       "Method Not Allowed\n"},
      {"DELETE", "/series", 500, "",
       R"({"status":"error","errorType":"internal","error":"not implemented"})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path);
    ApiRequest request;
    request.method = c.method;
    request.path = c.path;
    ApiResponse res = handler.Handle(request);
    EXPECT_EQ(res.status, c.status);
    EXPECT_EQ(res.allow, c.allow);
    EXPECT_EQ(res.body, c.body);
  }
}

TEST_F(ApiHandlerTest, CorsHeadersWhenOriginIsSent) {
  ApiHandler handler = Handler();
  ApiRequest request;
  request.method = "GET";
  request.path = "/labels";
  EXPECT_TRUE(handler.Handle(request).headers.empty());
  request.origin = "http://grafana.example";
  const std::vector<std::pair<std::string, std::string>> cors = {
      {"Access-Control-Allow-Headers",
       "Accept, Authorization, Content-Type, Origin"},
      {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
      {"Access-Control-Expose-Headers", "Date"},
      {"Vary", "Origin"},
      {"Access-Control-Allow-Origin", "*"},
  };
  EXPECT_EQ(handler.Handle(request).headers, cors);
  request.method = "OPTIONS";
  EXPECT_EQ(handler.Handle(request).headers, cors);
  request.path = "/series";  // An error answer is still routed.
  request.method = "GET";
  EXPECT_EQ(handler.Handle(request).headers, cors);
  request.path = "/nope";  // The router's 404 and 405 have none.
  EXPECT_TRUE(handler.Handle(request).headers.empty());
  request.path = "/labels";
  request.method = "PUT";
  EXPECT_TRUE(handler.Handle(request).headers.empty());
}

TEST_F(ApiHandlerTest, CorsAllowsOnlyOriginsTheRegexMatchesWhole) {
  // --web.cors.origin='https?://grafana\.example', compiled as Prometheus
  // anchors it.
  absl::StatusOr<std::shared_ptr<const RE2>> regex =
      CompileGoRegexp(AnchoredRelabelRegex(R"(https?://grafana\.example)"));
  ASSERT_TRUE(regex.ok()) << regex.status();
  ApiOptions options;
  options.store = &store_;
  options.hostname = "vm";
  options.cors_origin = *regex;
  ApiHandler handler(std::move(options));
  const std::vector<std::pair<std::string, std::string>> cors = {
      {"Access-Control-Allow-Headers",
       "Accept, Authorization, Content-Type, Origin"},
      {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
      {"Access-Control-Expose-Headers", "Date"},
      {"Vary", "Origin"},
  };
  struct Case {
    const char* origin;
    bool allowed;
  };
  const Case cases[] = {
      {"https://grafana.example", true},
      {"http://grafana.example", true},
      // Anchored at both ends: a prefix or a suffix match is no match.
      {"https://grafana.example.evil", false},
      {"https://evil/https://grafana.example", false},
      {"https://grafanaxexample", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.origin);
    ApiRequest request;
    request.method = "GET";
    request.path = "/labels";
    request.origin = c.origin;
    std::vector<std::pair<std::string, std::string>> want = cors;
    // Prometheus sets the other CORS headers for any origin, and echoes the
    // origin only when it matches.
    if (c.allowed) want.emplace_back("Access-Control-Allow-Origin", c.origin);
    EXPECT_EQ(handler.Handle(request).headers, want);
    request.method = "OPTIONS";
    EXPECT_EQ(handler.Handle(request).headers, want);
  }
}

TEST_F(ApiHandlerTest, NotReadyAnswers503ToRoutedRequestsOnly) {
  bool ready = false;
  ApiOptions options;
  options.store = &store_;
  options.hostname = "vm";
  options.ready = [&ready] { return ready; };
  ApiHandler handler(std::move(options));
  struct Case {
    const char* method;
    const char* path;
    int status;
    std::string body;
  };
  // As Prometheus's testReady, which wraps every route but not the router's
  // own 404 and 405.
  const Case cases[] = {
      {"GET", "/labels", 503, "Service Unavailable"},
      {"POST", "/series", 503, "Service Unavailable"},
      {"GET", "/status/buildinfo", 503, "Service Unavailable"},
      {"OPTIONS", "/anything", 503, "Service Unavailable"},
      {"GET", "/nope", 404, "404 page not found\n"},
      {"PUT", "/labels", 405, "Method Not Allowed\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.method, " ", c.path));
    ApiRequest request;
    request.method = c.method;
    request.path = c.path;
    request.origin = "http://grafana.example";
    ApiResponse res = handler.Handle(request);
    EXPECT_EQ(res.status, c.status);
    EXPECT_EQ(res.body, c.body);
    EXPECT_EQ(res.content_type, "text/plain; charset=utf-8");
    EXPECT_TRUE(res.headers.empty());  // No CORS headers on these.
  }
  ready = true;
  ApiRequest request;
  request.method = "GET";
  request.path = "/labels";
  EXPECT_EQ(handler.Handle(request).status, 200);
}

TEST(ApiStreamTest, LargeAnswersAreWrittenInPieces) {
  SeriesStore store;
  auto batch = std::make_shared<ScrapeBatch>();
  for (int i = 0; i < 5000; ++i) {
    AddSample(*batch,
              Labels{{"__name__", "many"}, {"i", absl::StrCat(100000 + i)}}, i);
  }
  store.Publish(1, batch);
  ApiOptions options;
  options.store = &store;
  ApiHandler handler(std::move(options));
  ApiRequest request;
  request.method = "GET";
  request.path = "/series";
  request.form = {{"match[]", "many"}};
  ApiResponse res = handler.Handle(request);
  ASSERT_TRUE(res.body_chunks);
  EXPECT_TRUE(res.body.empty());
  std::string body;
  int pieces = 1;
  std::string piece;
  while (res.body_chunks(&piece)) {
    EXPECT_LE(piece.size(), 65 * 1024u);
    body += piece;
    piece.clear();
    ++pieces;
  }
  body += piece;
  EXPECT_GT(pieces, 1);
  EXPECT_TRUE(absl::StartsWith(
      body,
      R"({"status":"success","data":[{"__name__":"many","i":"100000"},)"));
  EXPECT_TRUE(absl::EndsWith(body, R"({"__name__":"many","i":"104999"}]})"));
}

TEST(ApiTimeTest, ParsesFloatSecondsAndRfc3339) {
  struct Case {
    const char* in;
    int64_t want;
  };
  const Case cases[] = {
      {"1795630035", 1795630035000},
      {"1795630035.5", 1795630035500},
      {"1795630035.0004", 1795630035000},
      {"-1.5", -1500},
      {"2026-11-25T18:07:08Z", 1795630028000},
      {"2026-11-25T18:07:08.540652083Z", 1795630028540},
      {"2026-11-25T19:07:08+01:00", 1795630028000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    absl::StatusOr<int64_t> t = ParseApiTime(c.in);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(*t, c.want);
  }
  for (const char* bad : {"abc", "", " 1", "2026-11-25", "1x"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<int64_t> t = ParseApiTime(bad);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ParseApiTime("abc").status().message(),
            "cannot parse \"abc\" to a valid timestamp");
}

TEST(ApiRoutePatternTest, NamesRoutesAsPrometheusRouterDoes) {
  EXPECT_EQ(ApiRoutePattern("/series"), "/series");
  EXPECT_EQ(ApiRoutePattern("/query"), "/query");
  EXPECT_EQ(ApiRoutePattern("/labels"), "/labels");
  EXPECT_EQ(ApiRoutePattern("/label/job/values"), "/label/:name/values");
  EXPECT_EQ(ApiRoutePattern("/targets"), "/targets");
  EXPECT_EQ(ApiRoutePattern("/status/config"), "/status/config");
  EXPECT_EQ(ApiRoutePattern("/status/buildinfo"), "/status/buildinfo");
  EXPECT_EQ(ApiRoutePattern("/label/a/b/values"), "");
  EXPECT_EQ(ApiRoutePattern("/query_range"), "");
  EXPECT_EQ(ApiRoutePattern(""), "");
}

}  // namespace
}  // namespace fedgate
