#include "gateway/http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gateway/test_http_server.h"
#include "gateway/test_raw_connection.h"
#include "gtest/gtest.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(HttpLimits()); }

  void StartServer(const HttpLimits& limits) {
    client_ = nullptr;
    server_ = nullptr;
    store_ = std::make_unique<SeriesStore>();
    registry_ = std::make_unique<prometheus::Registry>();
    PublishTestUp(*store_);

    HttpServer::Options options =
        TestHttpServerOptions(store_.get(), registry_.get());
    options.limits = limits;
    options.external_labels = {{"cluster", "c1"}};
    options.ready = [this] { return ready_.load(); };
    options.enable_lifecycle = enable_lifecycle_;
    options.reload = [this] {
      ++reloads_;
      return absl::OkStatus();
    };
    options.quit = [this] { ++quits_; };
    options.api.targets = targets_;
    options.api.match_limits = match_limits_;
    options.api.max_series = max_series_;
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  // Publishes 50,000 series `big{i="<n>",instance="t:2",pad="x..."}`:
  // about 10 MB of /federate text, more than twice what the socket buffers
  // (up to 4 MiB sent, and RawConnection's 64 KiB) take while the client
  // does not read.
  void PublishBigTarget() {
    auto batch = std::make_shared<ScrapeBatch>();
    batch->timestamp_ms = 1700000000000;
    const std::string pad(150, 'x');
    for (int i = 0; i < 50000; ++i) {
      Sample sample;
      sample.labels = InternedLabels::Intern(Labels{{"__name__", "big"},
                                                    {"i", absl::StrCat(i)},
                                                    {"instance", "t:2"},
                                                    {"pad", pad}});
      sample.value = i;
      batch->samples.push_back(sample);
    }
    store_->Publish(2, batch);
  }

  // Expects an answer with `status` and `body`.
  static void ExpectAnswer(const httplib::Result& res, int status,
                           const std::string& body) {
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, status);
    EXPECT_EQ(res->body, body);
  }

  // Expects an /api/v1 error answer with `status`: `error_type` and `error`
  // in Prometheus's envelope.
  static void ExpectApiError(const httplib::Result& res, int status,
                             absl::string_view error_type,
                             absl::string_view error) {
    ExpectAnswer(res, status,
                 absl::StrCat(R"({"status":"error","errorType":")", error_type,
                              R"(","error":")", error, R"("})"));
  }

  // Expects an answer with `status`.
  static void ExpectStatus(const httplib::Result& res, int status) {
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, status);
  }

  // Expects a 405 answer whose Allow header is `allow`.
  static void ExpectMethodNotAllowed(const httplib::Result& res,
                                     const std::string& allow) {
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 405);
    EXPECT_EQ(res->get_header_value("Allow"), allow);
  }

  std::unique_ptr<SeriesStore> store_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::atomic<bool> ready_{true};
  std::atomic<int> reloads_{0};
  bool enable_lifecycle_ = true;  // Read by StartServer().
  // /api/v1/targets' source and the query limits, read by StartServer().
  std::function<std::vector<TargetStatus>()> targets_;
  MatchLimits match_limits_;
  size_t max_series_ = 1000000;
  std::atomic<int> quits_{0};
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, FederateAnswersMatchingSeries) {
  httplib::Result res =
      client_->Get("/federate?match%5B%5D=%7Bjob%3D%22j%22%7D");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body,
            "# TYPE up untyped\n"
            "up{instance=\"t:1\",job=\"j\",cluster=\"c1\"} 1 1700000000000\n");
}

// A scrape published with a timestamp after the server's clock reads (an
// early tick's ideal time, or a request that read its clock and lost the CPU
// before its snapshot) is in the answer: the store holds no earlier sample
// of its series to serve instead.
TEST_F(HttpServerTest, FederateServesAScrapeStampedAfterItsClock) {
  auto batch = std::make_shared<ScrapeBatch>();
  Sample up;
  up.labels = InternedLabels::Intern(
      Labels{{"__name__", "up"}, {"instance", "t:2"}, {"job", "j"}});
  up.value = 1;
  batch->timestamp_ms = kTestScrapeMs + 3;
  batch->samples.push_back(up);
  store_->Publish(2, batch);
  httplib::Result res = client_->Get("/federate?match[]=up");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body,
            "# TYPE up untyped\n"
            "up{instance=\"t:1\",job=\"j\",cluster=\"c1\"} 1 1700000000000\n"
            "up{instance=\"t:2\",job=\"j\",cluster=\"c1\"} 1 1700000000003\n");
}

TEST_F(HttpServerTest, FederateRejectsBadAndMissingSelectors) {
  httplib::Result bad = client_->Get("/federate?match[]=up%7Bjob%3D%22a");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body, "1:8: parse error: unterminated quoted string\n");
  EXPECT_EQ(bad->get_header_value("Content-Type"), "text/plain; charset=utf-8");

  ExpectAnswer(client_->Get("/federate"), 400,
               "no match[] parameter provided\n");
  ExpectMethodNotAllowed(client_->Post("/federate", "", "text/plain"),
                         "GET, OPTIONS");
}

TEST_F(HttpServerTest, FederateCompressesWhenAsked) {
  httplib::Headers headers = {{"Accept-Encoding", "gzip"}};
  client_->set_decompress(false);
  httplib::Result res = client_->Get("/federate?match[]=up", headers);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
}

TEST_F(HttpServerTest, HealthAndReadiness) {
  httplib::Result healthy = client_->Get("/-/healthy");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
  EXPECT_EQ(healthy->body, "fedgate is Healthy.\n");
  httplib::Result ready = client_->Get("/-/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  ready_ = false;
  httplib::Result not_ready = client_->Get("/-/ready");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(not_ready->body, "Service Unavailable");
  // As Prometheus's testReady: /federate and the routed API wait for
  // readiness; /metrics, /-/healthy and the router's 404 do not.
  ExpectAnswer(client_->Get("/federate?match[]=up"), 503,
               "Service Unavailable");
  ExpectAnswer(client_->Get("/api/v1/labels"), 503, "Service Unavailable");
  ExpectAnswer(client_->Get("/api/v1/nope"), 404, "404 page not found\n");
  ExpectStatus(client_->Get("/metrics"), 200);
  ExpectAnswer(client_->Get("/-/healthy"), 200, "fedgate is Healthy.\n");
}

TEST_F(HttpServerTest, LifecycleApiIsRefusedUnlessEnabled) {
  enable_lifecycle_ = false;
  StartServer(HttpLimits());
  for (const char* path : {"/-/reload", "/-/quit"}) {
    SCOPED_TRACE(path);
    ExpectAnswer(client_->Post(path, "", "text/plain"), 403,
                 "Lifecycle API is not enabled.");
    ExpectAnswer(client_->Put(path, "", "text/plain"), 403,
                 "Lifecycle API is not enabled.");
    ExpectAnswer(client_->Get(path), 405, "Only POST or PUT requests allowed");
  }
  EXPECT_EQ(reloads_.load(), 0);
  EXPECT_EQ(quits_.load(), 0);
}

TEST_F(HttpServerTest, QuitAsksOnceAndSaysGoodbye) {
  ExpectAnswer(client_->Get("/-/quit"), 405,
               "Only POST or PUT requests allowed");
  EXPECT_EQ(quits_.load(), 0);
  ExpectAnswer(client_->Post("/-/quit", "", "text/plain"), 200,
               "Requesting termination... Goodbye!");
  EXPECT_EQ(quits_.load(), 1);
  ExpectAnswer(client_->Put("/-/quit", "", "text/plain"), 200,
               "Termination already in progress.");
  EXPECT_EQ(quits_.load(), 1);
}

TEST_F(HttpServerTest, ShutdownRefusesConnectionsAndFinishesAnswers) {
  PublishBigTarget();

  RawConnection idle(server_->port());
  ASSERT_TRUE(idle.ok());
  ASSERT_TRUE(idle.Send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(
      absl::StartsWith(idle.ReadUntil("Healthy.\n", 10000), "HTTP/1.1 200"));
  RawConnection reader(server_->port());
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(
      reader.Send("GET /federate?match[]=big HTTP/1.1\r\nHost: x\r\n\r\n"));
  // The answer has started: its headers are in.
  const std::string head = reader.ReadUntil("\r\n\r\n", 10000);
  ASSERT_TRUE(absl::StartsWith(head, "HTTP/1.1 200")) << head;

  server_->BeginShutdown();
  EXPECT_FALSE(RawConnection(server_->port()).ok());
  EXPECT_FALSE(
      server_->AwaitRequestsDone(absl::Now() + absl::Milliseconds(50)));
  // A kept-alive connection is still answered, then closed.
  ASSERT_TRUE(idle.Send("GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  const std::string ready = idle.ReadUntilClosed(10000, &closed);
  EXPECT_TRUE(absl::StrContains(ready, "Connection: close")) << ready;
  EXPECT_TRUE(closed);

  // The answer in progress ends whole: every series, then the last chunk.
  const std::string body = reader.ReadUntil("\r\n0\r\n\r\n", 10000);
  EXPECT_TRUE(absl::EndsWith(body, "\r\n0\r\n\r\n"));
  EXPECT_TRUE(absl::StrContains(body, "big{i=\"49999\",instance=\"t:2\""));
  EXPECT_TRUE(server_->AwaitRequestsDone(absl::Now() + absl::Seconds(10)));
  server_->Stop();
}

TEST_F(HttpServerTest, StopCutsAnswersStillBeingSentAtTheDeadline) {
  PublishBigTarget();
  RawConnection reader(server_->port());
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(
      reader.Send("GET /federate?match[]=big HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(
      absl::StartsWith(reader.ReadUntil("\r\n\r\n", 10000), "HTTP/1.1 200"));
  server_->BeginShutdown();
  // The client never reads: the deadline passes with the answer unsent.
  EXPECT_FALSE(
      server_->AwaitRequestsDone(absl::Now() + absl::Milliseconds(200)));
  server_->Stop();
  bool closed = false;
  const std::string rest = reader.ReadUntilClosed(10000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_FALSE(absl::EndsWith(rest, "\r\n0\r\n\r\n"));
}

TEST_F(HttpServerTest, SelfMetricsCountSeriesAndRequests) {
  ASSERT_TRUE(client_->Get("/federate?match[]=up"));
  ASSERT_TRUE(client_->Get("/federate?match[]=-"));
  httplib::Result res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("fedgate_series 1\n"), std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("fedgate_federate_requests_total{result=\"ok\"} 1"),
            std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find(
                "fedgate_federate_requests_total{result=\"bad_request\"} 1"),
            std::string::npos)
      << res->body;
}

// The value of the sample `series` (as written: labels sorted) in the
// exposition `text`, or -1.
double SampleValue(const std::string& text, const std::string& series) {
  const std::string prefix = absl::StrCat("\n", series, " ");
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::atof(text.c_str() + at + prefix.size());
}

TEST_F(HttpServerTest, HttpMetricsCountEveryAnswerByRouteAndCode) {
  PublishBigTarget();
  ExpectAnswer(client_->Get("/federate"), 400,
               "no match[] parameter provided\n");
  httplib::Result big = client_->Get("/federate?match[]=big");
  ASSERT_TRUE(big);
  ASSERT_EQ(big->status, 200);
  ASSERT_GT(big->body.size(), 5u << 20);
  ASSERT_TRUE(client_->Get("/api/v1/label/job/values"));
  ASSERT_TRUE(client_->Get("/no/such/page"));
  ready_ = false;  // Refused before the route computes anything.
  ASSERT_TRUE(client_->Get("/federate?match[]=up"));
  // Each answer is counted once its last byte was handed over, which may
  // come just after the client has read it, on a connection of its own:
  // poll until every count has arrived.
  const std::vector<std::pair<std::string, double>> counts = {
      {R"(fedgate_http_requests_total{code="200",handler="/federate"})", 1},
      {R"(fedgate_http_requests_total{code="400",handler="/federate"})", 1},
      {R"(fedgate_http_requests_total{code="503",handler="/federate"})", 1},
      {R"(fedgate_http_requests_total{code="200",handler="/api/v1/label/:name/values"})",
       1},
      {R"(fedgate_http_requests_total{code="404",handler="other"})", 1},
      {R"(fedgate_http_request_duration_seconds_count{handler="/federate"})",
       3},
  };
  std::string text;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (bool all_counted = false; !all_counted && absl::Now() < deadline;) {
    httplib::Result res = client_->Get("/metrics");
    ASSERT_TRUE(res);
    text = res->body;
    all_counted = true;
    for (const auto& [series, want] : counts) {
      if (SampleValue(text, series) != want) all_counted = false;
    }
    if (!all_counted) absl::SleepFor(absl::Milliseconds(20));
  }
  for (const auto& [series, want] : counts) {
    EXPECT_EQ(SampleValue(text, series), want) << series << "\n" << text;
  }
  // The streamed answer's every byte, and the small ones'.
  const double small = std::strlen("no match[] parameter provided\n") +
                       std::strlen("Service Unavailable");
  EXPECT_EQ(
      SampleValue(
          text, R"(fedgate_http_response_size_bytes_sum{handler="/federate"})"),
      static_cast<double>(big->body.size()) + small);
  // One complete /federate answer of 50,000 series.
  EXPECT_EQ(SampleValue(text, "fedgate_federate_series_per_response_sum"),
            50000);
  EXPECT_EQ(SampleValue(text, "fedgate_federate_response_size_bytes_sum"),
            static_cast<double>(big->body.size()));
  // Routes never requested are there with zeros.
  EXPECT_EQ(
      SampleValue(
          text,
          R"(fedgate_http_request_duration_seconds_count{handler="/-/reload"})"),
      0);
}

TEST_F(HttpServerTest, ServesApiFormPosts) {
  // Body and URL values are both used, as Go's r.Form.
  httplib::Result res =
      client_->Post("/api/v1/series?match%5B%5D=up", "match%5B%5D=up",
                    "application/x-www-form-urlencoded");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(
      res->body,
      R"({"status":"success","data":[{"__name__":"up","instance":"t:1","job":"j"}]})");

  httplib::Result options_res = client_->Options("/api/v1/anything");
  ASSERT_TRUE(options_res);
  EXPECT_EQ(options_res->status, 204);
  ExpectAnswer(client_->Get("/api/v1/nope"), 404, "404 page not found\n");
  ExpectMethodNotAllowed(client_->Put("/api/v1/labels", "", "text/plain"),
                         "GET, OPTIONS, POST");
}

TEST_F(HttpServerTest, UnknownPathsAnswerWithABody) {
  ExpectAnswer(client_->Get("/nope"), 404, "404 page not found\n");
}

// The targets page (gateway/web/targets_page.h) and `/`, which leads to it.
TEST_F(HttpServerTest, ServesTheTargetsPageAndRedirectsTheRootToIt) {
  ready_ = false;  // The page shows what is not scraped yet, before ready.
  httplib::Result page = client_->Get("/targets");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_TRUE(absl::StartsWith(
      page->get_header_value("Content-Security-Policy"), "default-src 'none'"));
  EXPECT_TRUE(absl::StartsWith(page->body, "<!DOCTYPE html>"));
  httplib::Result head = client_->Head("/targets");
  ASSERT_TRUE(head) << httplib::to_string(head.error());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  ExpectMethodNotAllowed(client_->Post("/targets", "", "text/plain"),
                         "GET, HEAD");
  httplib::Result root = client_->Get("/");
  ASSERT_TRUE(root) << httplib::to_string(root.error());
  EXPECT_EQ(root->status, 302);
  EXPECT_EQ(root->get_header_value("Location"), "/targets");
  ExpectMethodNotAllowed(client_->Delete("/"), "GET, HEAD");
}

// What `curl -X POST` sends: no body and no Content-Length.
TEST_F(HttpServerTest, ReloadAcceptsAPostWithoutContentLength) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.Send(
      "POST /-/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  const std::string answer = c.ReadUntilClosed(10000, &closed);
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 200")) << answer;
  EXPECT_EQ(reloads_.load(), 1);

  RawConnection query(server_->port());
  ASSERT_TRUE(query.Send(
      "POST /api/v1/query?query=up HTTP/1.1\r\nHost: x\r\nConnection: "
      "close\r\n\r\n"));
  const std::string query_answer = query.ReadUntilClosed(10000, &closed);
  EXPECT_TRUE(absl::StartsWith(query_answer, "HTTP/1.1 200")) << query_answer;
  EXPECT_TRUE(absl::StrContains(query_answer, "\"resultType\":\"vector\""))
      << query_answer;
}

TEST_F(HttpServerTest, DeclaredBodyOverTheLimitIsRefusedBeforeItIsRead) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.ok());
  // 4 GiB declared, none of it sent: the answer comes at once.
  ASSERT_TRUE(
      c.Send("POST /-/healthy HTTP/1.1\r\nHost: x\r\nContent-Length: "
             "4294967296\r\n\r\n"));
  bool closed = false;
  const std::string answer = c.ReadUntilClosed(10000, &closed);
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 413")) << answer;
  EXPECT_TRUE(absl::StrContains(answer, "request body larger than 10485760"))
      << answer;
  EXPECT_TRUE(closed);
  httplib::Result metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_TRUE(absl::StrContains(
      metrics->body,
      "fedgate_http_requests_refused_total{reason=\"body_too_large\"} 1"))
      << metrics->body;
}

TEST_F(HttpServerTest, ChunkedBodyIsCutAtTheLimit) {
  HttpLimits limits;
  limits.max_body_bytes = 4096;
  StartServer(limits);
  RawConnection c(server_->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(
      c.Send("POST /api/v1/series HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/x-www-form-urlencoded\r\nTransfer-Encoding: "
             "chunked\r\n\r\n"));
  const std::string chunk =
      absl::StrCat("400\r\n", std::string(1024, 'a'), "\r\n");
  // The server closes the connection past 4 KiB: sends start failing well
  // before 64 MiB are out.
  int sent = 0;
  while (sent < 65536 && c.Send(chunk)) ++sent;
  EXPECT_LT(sent, 65536);
  ExpectStatus(client_->Get("/-/healthy"), 200);
}

TEST_F(HttpServerTest, BodiesHeldInMemoryAreBounded) {
  HttpLimits limits;
  limits.max_body_bytes = 1 << 20;
  limits.max_buffered_body_bytes = 1 << 20;
  StartServer(limits);
  // Two requests each sending most of their allowed body, neither finished:
  // whichever passes the budget is refused and its connection closed.
  // (When their last pieces arrive at once, both may be refused: the budget
  // holds either way.)
  const std::string head =
      "POST /api/v1/series HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\r\n";
  RawConnection first(server_->port());
  ASSERT_TRUE(first.Send(head));
  first.Send(std::string(700000, 'a'));
  RawConnection second(server_->port());
  ASSERT_TRUE(second.Send(head));
  second.Send(std::string(700000, 'b'));
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {  // The server reads async.
    httplib::Result metrics = client_->Get("/metrics");
    ASSERT_TRUE(metrics);
    // 1, or 2 when both were refused; never 0.
    refused = absl::StrContains(
                  metrics->body,
                  "fedgate_http_requests_refused_total{reason=\"bodies_in_"
                  "memory\"} 1\n") ||
              absl::StrContains(metrics->body,
                                "fedgate_http_requests_refused_total{reason="
                                "\"bodies_in_memory\"} 2\n");
    if (!refused) usleep(50000);
  }
  EXPECT_TRUE(refused);
  bool first_closed = false;
  bool second_closed = false;
  first.ReadUntilClosed(100, &first_closed);
  second.ReadUntilClosed(100, &second_closed);
  EXPECT_TRUE(first_closed || second_closed);
}

TEST_F(HttpServerTest, LongMatchListsFitInTheUrl) {
  std::string target = "/federate?match%5B%5D=up";
  while (target.size() < 60000) {
    absl::StrAppend(&target, "&match%5B%5D=up%7Bjob%3D%22j", target.size(),
                    "%22%7D");
  }
  httplib::Result res = client_->Get(target);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(absl::StrContains(res->body, "up{instance=\"t:1\""));
  // Past the limit: 414 with a body that says why, and the server goes on.
  RawConnection c(server_->port());
  c.Send(absl::StrCat("GET ", target, "&x=", std::string(300000, 'a'),
                      " HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  const std::string answer = c.ReadUntilClosed(10000, &closed);
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 414")) << answer;
  EXPECT_TRUE(absl::StrContains(answer, "too big")) << answer;
  ExpectStatus(client_->Get("/-/healthy"), 200);
}

// The probes stay answered whatever the other clients do: hundreds of idle
// connections, clients that send half a request, and large answers nobody
// reads (each would hold a thread of a thread-per-connection server).
TEST_F(HttpServerTest, ProbesAnswerWhileOtherClientsHoldConnections) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->timestamp_ms = 1700000000000;
  for (int i = 0; i < 20000; ++i) {
    Sample s;
    s.labels = InternedLabels::Intern(Labels{{"__name__", "many_series"},
                                             {"i", absl::StrCat(i)},
                                             {"pad", std::string(100, 'p')}});
    s.value = i;
    batch->samples.push_back(s);
  }
  store_->Publish(2, batch);

  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 400; ++i) {  // Idle.
    held.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(held.back()->ok());
  }
  for (int i = 0; i < 50; ++i) {  // Half a request.
    held.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(held.back()->Send("GET /federate?match[]=up HTTP/1.1\r\n"));
  }
  for (int i = 0; i < 50; ++i) {  // A 2.5 MB answer, never read.
    held.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(held.back()->Send(
        "GET /federate?match[]=many_series HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  httplib::Client probe("127.0.0.1", server_->port());
  // The held answers are never read, so a server they starve would keep the
  // probe waiting for good; 30 s leaves room for a loaded sanitizer build.
  probe.set_connection_timeout(30);
  probe.set_read_timeout(30);
  for (int i = 0; i < 10; ++i) {
    httplib::Result healthy = probe.Get("/-/healthy");
    ASSERT_TRUE(healthy) << httplib::to_string(healthy.error());
    EXPECT_EQ(healthy->status, 200);
    httplib::Result small = probe.Get("/federate?match[]=up");
    ASSERT_TRUE(small) << httplib::to_string(small.error());
    EXPECT_EQ(small->status, 200);
  }
}

// As Prometheus's --web.max-connections: past the limit, new connections
// wait to be accepted until a slot frees.
TEST_F(HttpServerTest, ConnectionsPastTheLimitWaitForAFreeSlot) {
  HttpLimits limits;
  limits.max_connections = 8;
  limits.event_threads = 1;
  StartServer(limits);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(
        held.back()->Send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  bool closed = false;
  for (auto& c : held) {  // All eight are served (and kept alive).
    EXPECT_TRUE(
        absl::StartsWith(c->ReadUntilClosed(200, &closed), "HTTP/1.1 200"));
  }
  RawConnection extra(server_->port());
  ASSERT_TRUE(extra.Send(
      "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(extra.ReadUntilClosed(300, &closed), "");
  EXPECT_FALSE(closed);
  held.clear();
  const std::string answer = extra.ReadUntilClosed(10000, &closed);
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 200")) << answer;
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAfterTheReadTimeout) {
  HttpLimits limits;
  limits.read_timeout = absl::Seconds(1);
  StartServer(limits);
  RawConnection idle(server_->port());
  ASSERT_TRUE(idle.Send("GET /-/healthy HTTP/1.1\r\n"));  // Then nothing.
  bool closed = false;
  idle.ReadUntilClosed(30000, &closed);
  EXPECT_TRUE(closed);
}

// Returns the value of `fedgate_http_requests_refused_total{reason}` in the
// /metrics answer `metrics`, or -1 when absent.
int RefusedCount(const std::string& metrics, absl::string_view reason) {
  const std::string prefix = absl::StrCat(
      "fedgate_http_requests_refused_total{reason=\"", reason, "\"} ");
  const size_t at = metrics.find(prefix);
  if (at == std::string::npos) return -1;
  return std::atoi(metrics.c_str() + at + prefix.size());
}

TEST_F(HttpServerTest, RequestsPastTheConcurrencyLimitAre503) {
  // One place; /api/v1/targets holds it until `release`.
  absl::Notification entered;
  absl::Notification release;
  targets_ = [&] {
    entered.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(30));
    return std::vector<TargetStatus>();
  };
  HttpLimits limits;
  limits.max_concurrent_requests = 1;
  StartServer(limits);
  int held_status = 0;
  std::thread holder([&] {
    httplib::Client client("127.0.0.1", server_->port());
    httplib::Result res = client.Get("/api/v1/targets");
    held_status = res ? res->status : -1;
  });
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(absl::Seconds(30)));

  httplib::Result federate = client_->Get("/federate?match[]=up");
  ASSERT_TRUE(federate) << httplib::to_string(federate.error());
  EXPECT_EQ(federate->status, 503);
  EXPECT_EQ(federate->get_header_value("Retry-After"), "1");
  EXPECT_EQ(
      federate->body,
      "too many concurrent requests (1, --web.max-concurrent-requests)\n");
  httplib::Result api = client_->Get("/api/v1/series?match[]=up");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 503);
  EXPECT_EQ(api->get_header_value("Retry-After"), "1");
  EXPECT_EQ(
      api->body,
      R"j({"status":"error","errorType":"unavailable","error":"too many )j"
      R"j(concurrent requests (1, --web.max-concurrent-requests)"})j");
  // The probes and the self-metrics are never refused.
  ExpectAnswer(client_->Get("/-/healthy"), 200, "fedgate is Healthy.\n");
  httplib::Result metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(RefusedCount(metrics->body, "too_many_requests"), 2)
      << metrics->body;

  release.Notify();
  holder.join();
  EXPECT_EQ(held_status, 200);
  // The place is free again.
  ExpectStatus(client_->Get("/federate?match[]=up"), 200);
}

TEST_F(HttpServerTest, RequestsPastTheirDeadlineAre503) {
  HttpLimits limits;
  limits.request_timeout = absl::Nanoseconds(1);
  StartServer(limits);
  httplib::Result res = client_->Get("/federate?match[]=up");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body,
            "request timed out after 1ns waiting to be computed "
            "(--web.request-timeout)\n");
  httplib::Result api = client_->Get("/api/v1/series?match[]=up");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 503);
  EXPECT_EQ(api->body,
            R"j({"status":"error","errorType":"timeout","error":"request )j"
            R"j(timed out after 1ns waiting to be computed )j"
            R"j((--web.request-timeout)"})j");
  ExpectAnswer(client_->Get("/-/healthy"), 200, "fedgate is Healthy.\n");
  httplib::Result metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(RefusedCount(metrics->body, "timeout"), 2) << metrics->body;
}

TEST_F(HttpServerTest, SlowReaderIsCutAtTheDeadline) {
  HttpLimits limits;
  limits.request_timeout = absl::Seconds(1);
  StartServer(limits);
  PublishBigTarget();
  RawConnection slow(server_->port());
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(
      slow.Send("GET /federate?match[]=big HTTP/1.1\r\n"
                "Host: x\r\n\r\n"));
  const std::string head = slow.ReadUntil("\r\n\r\n", 10000);
  ASSERT_TRUE(absl::StartsWith(head, "HTTP/1.1 200")) << head;
  // The answer (10 MB) waits in the socket buffers past its deadline.
  absl::SleepFor(absl::Milliseconds(1500));
  bool closed = false;
  const std::string rest = slow.ReadUntilClosed(10000, &closed);
  EXPECT_TRUE(closed);
  // Cut: never the final chunk of a complete answer.
  EXPECT_FALSE(absl::EndsWith(rest, "\r\n0\r\n\r\n"));
  EXPECT_LT(head.size() + rest.size(), size_t{10} << 20);
  // Other clients are served meanwhile and after.
  ExpectStatus(client_->Get("/federate?match[]=up"), 200);
}

TEST_F(HttpServerTest, AnswersPastTheSeriesLimitAre422) {
  max_series_ = 1;
  StartServer(HttpLimits());
  auto batch = std::make_shared<ScrapeBatch>();
  batch->timestamp_ms = 1700000000000;
  for (const char* name : {"a", "b"}) {
    Sample sample;
    sample.labels = InternedLabels::Intern(
        Labels{{"__name__", name}, {"instance", "t:2"}, {"job", "j"}});
    batch->samples.push_back(sample);
  }
  store_->Publish(2, batch);

  ExpectAnswer(client_->Get("/federate?match[]=%7Bjob%3D%22j%22%7D"), 422,
               "the answer would hold 3 series, more than the limit of 1 "
               "(--query.max-series)\n");
  ExpectApiError(client_->Get("/api/v1/series?match[]=%7Bjob%3D%22j%22%7D"),
                 422, "execution",
                 "the answer would hold 3 series, more than the limit of 1 "
                 "(--query.max-series)");
  ExpectApiError(client_->Get("/api/v1/query?query=%7Bjob%3D%22j%22%7D"), 422,
                 "execution",
                 "query processing would load too many samples into memory in "
                 "query execution");
  // A request within the limit is answered.
  ExpectStatus(client_->Get("/federate?match[]=up"), 200);
  httplib::Result metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(RefusedCount(metrics->body, "too_many_series"), 3) << metrics->body;
}

TEST_F(HttpServerTest, SelectorsPastTheMatchLimitsAre400) {
  match_limits_.max_params = 1;
  StartServer(HttpLimits());
  ExpectAnswer(client_->Get("/federate?match[]=up&match[]=b"), 400,
               "too many match[] parameters: 2 (limit 1, "
               "--query.max-match-params)\n");
  ExpectApiError(client_->Get("/api/v1/series?match[]=up&match[]=b"), 400,
                 "bad_data",
                 R"(invalid parameter \"match[]\": too many match[] )"
                 R"(parameters: 2 (limit 1, --query.max-match-params))");
  ExpectAnswer(
      client_->Get("/federate?match[]=%7Bjob%3D~%22%5C%5CpL%7B100%7D%22%7D"),
      400,
      "invalid regular expression \"\\pL{100}\": too complex (RE2 "
      "program size 119302, limit 100000, "
      "--query.max-regex-program-size)\n");
  ExpectApiError(
      client_->Get("/api/v1/query?query=%7Bjob%3D~%22%5C%5CpL%7B100%7D%22%7D"),
      400, "bad_data",
      R"(invalid parameter \"query\": invalid regular expression )"
      R"(\"\\pL{100}\": too complex (RE2 program size 119302, limit 100000, )"
      R"(--query.max-regex-program-size))");
  ExpectStatus(client_->Get("/federate?match[]=up"), 200);
  httplib::Result metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(RefusedCount(metrics->body, "too_many_match_params"), 2)
      << metrics->body;
  EXPECT_EQ(RefusedCount(metrics->body, "regex_too_complex"), 2)
      << metrics->body;
}

TEST(SplitListenAddressTest, AcceptsPrometheusForms) {
  struct Case {
    std::string address;
    std::string host;
    int port;
  };
  const Case cases[] = {{":9099", "0.0.0.0", 9099},
                        {"127.0.0.1:0", "127.0.0.1", 0},
                        {"[::1]:80", "::1", 80}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.address);
    std::string host;
    int port = -1;
    ASSERT_TRUE(SplitListenAddress(c.address, &host, &port).ok());
    EXPECT_EQ(host, c.host);
    EXPECT_EQ(port, c.port);
  }
  std::string host;
  int port;
  EXPECT_FALSE(SplitListenAddress("9099", &host, &port).ok());
  EXPECT_FALSE(SplitListenAddress("a:99999", &host, &port).ok());
}

// Options for a server of `store` on 127.0.0.1:`port` (0: any free port).
HttpServer::Options LoopbackOptions(SeriesStore* store, int port = 0) {
  HttpServer::Options options;
  options.listen_address = absl::StrCat("127.0.0.1:", port);
  options.store = store;
  return options;
}

TEST(HttpServerStartTest, BusyPortIsUnavailable) {
  SeriesStore store;
  absl::StatusOr<std::unique_ptr<HttpServer>> first =
      HttpServer::Start(LoopbackOptions(&store));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<HttpServer>> second =
      HttpServer::Start(LoopbackOptions(&store, (*first)->port()));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

// A restarted fedgate binds its port again at once, although the
// connections the previous one closed are still in TIME_WAIT.
TEST(HttpServerStartTest, RestartBindsDespiteClosedConnections) {
  SeriesStore store;
  absl::StatusOr<std::unique_ptr<HttpServer>> first =
      HttpServer::Start(LoopbackOptions(&store));
  ASSERT_TRUE(first.ok()) << first.status();
  const int port = (*first)->port();
  for (int i = 0; i < 3; ++i) {  // The server closes: TIME_WAIT on its side.
    RawConnection c(port);
    ASSERT_TRUE(c.Send(
        "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    bool closed = false;
    EXPECT_TRUE(
        absl::StartsWith(c.ReadUntilClosed(10000, &closed), "HTTP/1.1 200"));
  }
  (*first)->Stop();
  absl::StatusOr<std::unique_ptr<HttpServer>> second =
      HttpServer::Start(LoopbackOptions(&store, port));
  EXPECT_TRUE(second.ok()) << second.status();
}

}  // namespace
}  // namespace fedgate
