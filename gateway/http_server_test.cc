#include "gateway/http_server.h"

#include <httplib.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto batch = std::make_shared<ScrapeBatch>();
    Sample up;
    up.labels = LabelSet::Intern(
        Labels{{"__name__", "up"}, {"instance", "t:1"}, {"job", "j"}});
    up.value = 1;
    batch->timestamp_ms = 1700000000000;
    batch->samples.push_back(up);
    store_.Publish(1, batch);

    HttpServer::Options options;
    options.listen_address = "127.0.0.1:0";
    options.store = &store_;
    options.registry = &registry_;
    options.external_labels = {{"cluster", "c1"}};
    options.ready = [this] { return ready_; };
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  SeriesStore store_;
  prometheus::Registry registry_;
  bool ready_ = true;
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

TEST_F(HttpServerTest, FederateRejectsBadAndMissingSelectors) {
  httplib::Result bad = client_->Get("/federate?match[]=up%7Bjob%3D%22a");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body, "1:8: parse error: unterminated quoted string\n");
  EXPECT_EQ(bad->get_header_value("Content-Type"), "text/plain; charset=utf-8");

  httplib::Result none = client_->Get("/federate");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400);
  EXPECT_EQ(none->body, "no match[] parameter provided\n");

  httplib::Result post = client_->Post("/federate", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, OPTIONS");
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

TEST(HttpServerStartTest, BusyPortIsUnavailable) {
  SeriesStore store;
  HttpServer::Options options;
  options.listen_address = "127.0.0.1:0";
  options.store = &store;
  absl::StatusOr<std::unique_ptr<HttpServer>> first =
      HttpServer::Start(options);
  ASSERT_TRUE(first.ok()) << first.status();
  options.listen_address = "127.0.0.1:" + std::to_string((*first)->port());
  absl::StatusOr<std::unique_ptr<HttpServer>> second =
      HttpServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace fedgate
