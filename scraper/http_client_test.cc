#include "scraper/http_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "scraper/test_bodies.h"
#include "scraper/test_certificates.h"

namespace fedgate {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);

// What a TestServer saw of a request it answered.
struct SeenRequest {
  std::string target;   // As the request line has it.
  std::string version;  // "HTTP/1.1".
  httplib::Headers headers;

  // The value of the header `name`, empty if there is none.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// An HTTP server on 127.0.0.1 (any free port), or an HTTPS one with the test
// PKI's server certificate, serving on its own thread until Stop(). Handlers
// are registered before Start().
class TestServer {
 public:
  TestServer() : server_(std::make_unique<httplib::Server>()) {}
  // HTTPS, optionally requiring a client certificate signed by the test CA.
  TestServer(const TestCertificates& certs, bool require_client_cert)
      : server_(std::make_unique<httplib::SSLServer>(
            certs.server_cert_file.c_str(), certs.server_key_file.c_str(),
            require_client_cert ? certs.ca_file.c_str() : nullptr)),
        scheme_("https") {}
  ~TestServer() { Stop(); }

  httplib::Server& server() { return *server_; }

  // Answers GET `path` (a pattern, as httplib takes it) with `body`, and
  // records each request it answers.
  void Serve(const std::string& path, std::string body,
             std::string content_type = "text/plain") {
    server_->Get(
        path,
        [this, body = std::move(body), content_type = std::move(content_type)](
            const httplib::Request& req, httplib::Response& res) {
          {
            absl::MutexLock lock(&mu_);
            seen_.push_back({req.target, req.version, req.headers});
          }
          res.set_content(body, content_type);
        });
  }

  // The requests that Serve()'s handlers answered, oldest first.
  std::vector<SeenRequest> seen() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

  void Start() {
    ASSERT_TRUE(server_->is_valid());
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // stop() is a no-op until the accept loop runs, so wait for it.
    const absl::Time deadline = absl::Now() + kWait;
    while (!server_->is_running() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_TRUE(server_->is_running());
  }

  void Stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
  }

  // The URL of `path` with `host` (a name the certificate may or may not
  // have) for 127.0.0.1.
  std::string Url(absl::string_view path,
                  absl::string_view host = "127.0.0.1") const {
    return absl::StrCat(scheme_, "://", host, ":", port_, path);
  }
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::string scheme_ = "http";
  std::thread thread_;
  int port_ = 0;
  mutable absl::Mutex mu_;
  std::vector<SeenRequest> seen_ ABSL_GUARDED_BY(mu_);
};

// Fetches `request` and waits (bounded) for the callback. The result is
// handed over under a Mutex and CondVar, not an absl::Notification or
// Mutex::Await: Debian's Abseil is not instrumented, and TSan sees only the
// Mutex/CondVar entry points that bazel/absl_tsan_annotations.cc annotates.
absl::StatusOr<HttpResponse> FetchAndWait(HttpClient& client,
                                          HttpRequest request) {
  absl::Mutex mu;
  absl::CondVar cv;
  bool done = false;
  absl::StatusOr<HttpResponse> result;
  client.Fetch(std::move(request), [&](absl::StatusOr<HttpResponse> response) {
    absl::MutexLock lock(&mu);
    result = std::move(response);
    done = true;
    cv.SignalAll();
  });
  absl::MutexLock lock(&mu);
  const absl::Time deadline = absl::Now() + kWait;
  while (!done && !cv.WaitWithDeadline(&mu, deadline)) {
  }
  if (!done) {
    return absl::InternalError("no callback within the test's deadline");
  }
  return result;
}

std::unique_ptr<HttpClient> NewClient(
    const HttpClient::Options& options = HttpClient::Options()) {
  absl::StatusOr<std::unique_ptr<HttpClient>> client =
      HttpClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// A GET of `url` with the default HTTP client settings.
HttpRequest GetRequest(std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  return request;
}

// A GET of `url` with the HTTP client settings `config`.
HttpRequest GetRequest(std::string url, HttpClientConfig config) {
  HttpRequest request = GetRequest(std::move(url));
  request.client_config =
      std::make_shared<const HttpClientConfig>(std::move(config));
  return request;
}

// A client with default options, and a plain HTTP server for it that a test
// gives its handlers and then starts. A test whose handlers wait for objects
// of its own declares its own server after them, so that the server stops
// (and its handlers end) before they go.
class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = NewClient();
    ASSERT_NE(client_, nullptr);
  }

  absl::StatusOr<HttpResponse> Fetch(HttpRequest request) {
    return FetchAndWait(*client_, std::move(request));
  }

  // Declared before the client, so that the client goes first.
  std::unique_ptr<TestServer> server_ = std::make_unique<TestServer>();
  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpClientTest, SendsPrometheusScrapeHeaders) {
  server_->Serve("/metrics", "m 1\n", "text/plain; version=0.0.4");
  server_->Start();

  struct Case {
    absl::Duration timeout;
    std::string want_header;
  };
  const std::vector<Case> cases = {
      {absl::Seconds(10), "10"},
      {absl::Milliseconds(500), "0.5"},
      {absl::Milliseconds(1250), "1.25"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want_header);
    HttpRequest request = GetRequest(server_->Url("/metrics"));
    request.timeout = c.timeout;
    absl::StatusOr<HttpResponse> response = Fetch(request);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status_code, 200);
    EXPECT_EQ(response->body, "m 1\n");
    EXPECT_EQ(response->content_type, "text/plain; version=0.0.4");
    const SeenRequest seen = server_->seen().back();
    EXPECT_EQ(seen.Header("Accept"),
              "application/openmetrics-text;version=1.0.0,application/"
              "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
              "q=0.5,*/*;q=0.1");
    EXPECT_EQ(seen.Header("Accept-Encoding"), "gzip");
    EXPECT_EQ(seen.Header("User-Agent"), "fedgate/0.1.0");
    EXPECT_EQ(seen.Header("X-Prometheus-Scrape-Timeout-Seconds"),
              c.want_header);
  }
}

TEST_F(HttpClientTest, DecodesGzipBodies) {
  const std::string body = "# TYPE m counter\nm_total{a=\"1\"} 42\n";
  server_->server().Get(
      "/metrics", [&](const httplib::Request&, httplib::Response& res) {
        // A type httplib does not compress itself, so the body is gzipped
        // once.
        res.set_header("Content-Encoding", "gzip");
        res.set_content(Gzip(body), "application/octet-stream");
      });
  server_->Start();

  absl::StatusOr<HttpResponse> response =
      Fetch(GetRequest(server_->Url("/metrics")));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, body);
}

TEST_F(HttpClientTest, ReportsErrorsInPrometheusWording) {
  server_->server().Get("/fail",
                        [](const httplib::Request&, httplib::Response& res) {
                          res.status = 500;
                          res.set_content("boom", "text/plain");
                        });
  server_->Start();
  // A port nobody listens on: bound once, then released.
  int closed_port;
  {
    TestServer closed;
    closed.Start();
    closed_port = closed.port();
  }

  struct Case {
    std::string name;
    std::string url;
    absl::StatusCode want_code;
    std::string want_message;
  };
  const std::string refused_url =
      absl::StrCat("http://127.0.0.1:", closed_port, "/metrics");
  const std::vector<Case> cases = {
      {"500", server_->Url("/fail"), absl::StatusCode::kUnavailable,
       "server returned HTTP status 500 Internal Server Error"},
      {"404", server_->Url("/nothing"), absl::StatusCode::kUnavailable,
       "server returned HTTP status 404 Not Found"},
      {"connection refused", refused_url, absl::StatusCode::kUnavailable,
       absl::StrCat("Get \"", refused_url, "\": dial tcp 127.0.0.1:",
                    closed_port, ": connect: connection refused")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<HttpResponse> response = Fetch(GetRequest(c.url));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.status().code(), c.want_code) << response.status();
    EXPECT_EQ(std::string(response.status().message()), c.want_message);
  }
}

TEST_F(HttpClientTest, TimeoutCoversTheWholeTransfer) {
  absl::Notification release;
  TestServer server;
  server.server().Get("/hang",
                      [&](const httplib::Request&, httplib::Response& res) {
                        release.WaitForNotificationWithTimeout(kWait);
                        res.set_content("late 1\n", "text/plain");
                      });
  server.Start();

  HttpRequest request = GetRequest(server.Url("/hang"));
  request.timeout = absl::Milliseconds(200);
  absl::StatusOr<HttpResponse> response = Fetch(request);
  release.Notify();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(std::string(response.status().message()),
            absl::StrCat("Get \"", server.Url("/hang"),
                         "\": context deadline exceeded"));
}

TEST_F(HttpClientTest, FollowsRedirects) {
  server_->server().Get("/old",
                        [](const httplib::Request&, httplib::Response& res) {
                          res.set_redirect("/metrics");
                        });
  server_->Serve("/metrics", "m 1\n");
  server_->Start();

  absl::StatusOr<HttpResponse> response =
      Fetch(GetRequest(server_->Url("/old")));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "m 1\n");
}

TEST_F(HttpClientTest, DoesNotFollowRedirectsWhenDisabled) {
  server_->server().Get("/old",
                        [](const httplib::Request&, httplib::Response& res) {
                          res.set_redirect("/metrics");
                        });
  server_->Start();
  HttpClientConfig config;
  config.follow_redirects = false;
  absl::StatusOr<HttpResponse> response =
      Fetch(GetRequest(server_->Url("/old"), config));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(),
            "server returned HTTP status 302 Found");
}

TEST_F(HttpClientTest, ReusesConnections) {
  server_->Serve("/metrics", "m 1\n");
  server_->Start();

  const HttpRequest request = GetRequest(server_->Url("/metrics"));
  absl::StatusOr<HttpResponse> first = Fetch(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->new_connections, 1);
  absl::StatusOr<HttpResponse> second = Fetch(request);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->new_connections, 0);
}

// Timers that run at the times they are given (sorted) and record when.
class RecordingTimers : public HttpClient::Timers {
 public:
  void Schedule(std::vector<absl::Time> due) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    due_ = std::move(due);
  }
  // Runs on the I/O thread at each due time.
  void OnRun(std::function<void()> run) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    run_ = std::move(run);
  }
  absl::Duration RunDue() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    const absl::Time now = absl::Now();
    while (!due_.empty() && due_.front() <= now) {
      ran_.emplace_back(due_.front(), absl::Now());
      due_.erase(due_.begin());
      if (run_) run_();
    }
    return due_.empty() ? absl::InfiniteDuration() : due_.front() - absl::Now();
  }
  // (due, ran) pairs.
  std::vector<std::pair<absl::Time, absl::Time>> ran() const
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return ran_;
  }
  int calls() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<absl::Time> due_ ABSL_GUARDED_BY(mu_);
  std::function<void()> run_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<absl::Time, absl::Time>> ran_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// The I/O thread runs the timers at their times (never early), requests
// fetched from a timer go out without a wake-up, and once SetTimers()
// replaced them they are not called again.
TEST_F(HttpClientTest, RunsTimersOnTheIoThread) {
  server_->Serve("/metrics", "m 1\n");
  server_->Start();
  RecordingTimers timers;
  client_->SetTimers(&timers);

  absl::Mutex mu;
  absl::CondVar cv;
  std::vector<int> statuses;  // Of the requests fetched from the timers.
  timers.OnRun([&] {
    client_->Fetch(
        GetRequest(server_->Url("/metrics")),
        [&](absl::StatusOr<HttpResponse> response) {
          absl::MutexLock lock(&mu);
          statuses.push_back(response.ok() ? response->status_code : -1);
          cv.SignalAll();
        });
  });
  // Scheduled after the timers said "nothing": Wake() makes the I/O thread
  // ask again.
  const absl::Time start = absl::Now();
  std::vector<absl::Time> due;
  for (int i = 1; i <= 3; ++i) {
    due.push_back(start + absl::Milliseconds(30 * i));
  }
  timers.Schedule(due);
  client_->Wake();
  {
    absl::MutexLock lock(&mu);
    const absl::Time deadline = absl::Now() + kWait;
    while (statuses.size() < 3 && !cv.WaitWithDeadline(&mu, deadline)) {
    }
    EXPECT_EQ(statuses, std::vector<int>({200, 200, 200}));
  }
  const std::vector<std::pair<absl::Time, absl::Time>> ran = timers.ran();
  ASSERT_EQ(ran.size(), 3u);
  for (const auto& [when, at] : ran) EXPECT_GE(at, when);

  client_->SetTimers(nullptr);
  const int calls = timers.calls();
  timers.Schedule({absl::Now()});
  client_->Wake();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(timers.calls(), calls);
  EXPECT_EQ(timers.ran().size(), 3u);
}

TEST_F(HttpClientTest, RunsManyRequestsAtOnce) {
  // Each request waits until all of them have arrived, which only works if
  // they are in flight together (and the server has a thread for each).
  constexpr int kRequests = 6;
  absl::Mutex mu;
  absl::CondVar cv;
  int arrived = 0;
  TestServer server;
  server.server().Get(
      "/metrics", [&](const httplib::Request& req, httplib::Response& res) {
        absl::MutexLock lock(&mu);
        ++arrived;
        cv.SignalAll();
        const absl::Time deadline = absl::Now() + kWait;
        while (arrived < kRequests && !cv.WaitWithDeadline(&mu, deadline)) {
        }
        res.set_content(req.get_param_value("i"), "text/plain");
      });
  server.Start();

  absl::Mutex results_mu;
  std::vector<std::string> bodies;
  absl::Notification all_done;
  for (int i = 0; i < kRequests; ++i) {
    client_->Fetch(
        GetRequest(server.Url(absl::StrCat("/metrics?i=", i))),
        [&](absl::StatusOr<HttpResponse> response) {
          absl::MutexLock lock(&results_mu);
          bodies.push_back(response.ok()
                               ? response->body
                               : std::string(response.status().message()));
          if (bodies.size() == kRequests) all_done.Notify();
        });
  }
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(kWait));
  absl::MutexLock lock(&results_mu);
  EXPECT_THAT(bodies,
              ::testing::UnorderedElementsAre("0", "1", "2", "3", "4", "5"));
  EXPECT_EQ(client_->InFlight(), 0);
}

// Writes `contents` to `path` (replacing it).
void WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::trunc);
  out << contents;
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// The client and server of HttpClientTest, the server on HTTPS with the test
// PKI's server certificate.
class HttpClientTlsTest : public HttpClientTest {
 protected:
  void SetUp() override {
    HttpClientTest::SetUp();
    absl::StatusOr<TestCertificates> certs =
        GenerateTestCertificates(TempDir() + "/http_client_tls");
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
  }

  // Starts the HTTPS server, answering /metrics with `m 1`, optionally
  // requiring a client certificate signed by the test CA.
  void StartServer(bool require_client_cert) {
    server_ = std::make_unique<TestServer>(certs_, require_client_cert);
    server_->Serve("/metrics", "m 1\n");
    server_->Start();
  }

  // HTTP client settings that trust the test CA.
  HttpClientConfig TrustingTheCa() const {
    HttpClientConfig config;
    config.tls_config.ca_file = certs_.ca_file;
    return config;
  }

  TestCertificates certs_;
};

TEST_F(HttpClientTlsTest, VerifiesTheTargetWithTheCaFile) {
  StartServer(/*require_client_cert=*/false);
  const std::string url = server_->Url("/metrics", "localhost");
  absl::StatusOr<HttpResponse> response =
      Fetch(GetRequest(url, TrustingTheCa()));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "m 1\n");

  // Without the CA the certificate is not trusted.
  response = Fetch(GetRequest(url, HttpClientConfig()));
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(absl::StartsWith(response.status().message(),
                               absl::StrCat("Get \"", url, "\": ")))
      << response.status();

  // insecure_skip_verify accepts it anyway, whatever the name.
  HttpClientConfig insecure;
  insecure.tls_config.insecure_skip_verify = true;
  response = Fetch(GetRequest(server_->Url("/metrics"), insecure));
  ASSERT_TRUE(response.ok()) << response.status();

  // min_version above what is possible fails; TLS13 works.
  HttpClientConfig tls13 = TrustingTheCa();
  tls13.tls_config.min_version = 0x0304;
  response = Fetch(GetRequest(url, tls13));
  ASSERT_TRUE(response.ok()) << response.status();
}

TEST_F(HttpClientTlsTest, ServerNameIsVerifiedAndSentAsSni) {
  StartServer(/*require_client_cert=*/false);

  // The certificate is for scrape.test, not for 127.0.0.1.
  HttpClientConfig config = TrustingTheCa();
  EXPECT_FALSE(Fetch(GetRequest(server_->Url("/metrics"), config)).ok());

  config.tls_config.server_name = "scrape.test";
  absl::StatusOr<HttpResponse> response =
      Fetch(GetRequest(server_->Url("/metrics"), config));
  ASSERT_TRUE(response.ok()) << response.status();
  // As Go: the Host header is the URL's host, not the server name.
  EXPECT_EQ(server_->seen().back().Header("Host"),
            absl::StrCat("127.0.0.1:", server_->port()));
}

TEST_F(HttpClientTlsTest, SendsTheClientCertificateForMutualTls) {
  StartServer(/*require_client_cert=*/true);
  const std::string url = server_->Url("/metrics", "localhost");
  HttpClientConfig config = TrustingTheCa();
  EXPECT_FALSE(Fetch(GetRequest(url, config)).ok());

  config.tls_config.cert_file = certs_.client_cert_file;
  config.tls_config.key_file = certs_.client_key_file;
  absl::StatusOr<HttpResponse> response = Fetch(GetRequest(url, config));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "m 1\n");
}

// The Authorization headers that `server` saw, oldest first.
std::vector<std::string> AuthorizationHeaders(const TestServer& server) {
  std::vector<std::string> headers;
  for (const SeenRequest& request : server.seen()) {
    headers.push_back(request.Header("Authorization"));
  }
  return headers;
}

TEST_F(HttpClientTest, RereadsTheCredentialsFileForEveryRequest) {
  server_->Serve("/metrics", "m 1\n");
  server_->Start();
  const std::string token_file = TempDir() + "/token";
  WriteFile(token_file, "first-token\n");
  HttpClientConfig config;
  config.authorization.emplace();
  config.authorization->credentials_file = token_file;
  const std::string url = server_->Url("/metrics");
  ASSERT_TRUE(Fetch(GetRequest(url, config)).ok());
  WriteFile(token_file, "rotated-token");
  ASSERT_TRUE(Fetch(GetRequest(url, config)).ok());

  // Inline credentials with a custom type.
  config.authorization->credentials_file.clear();
  config.authorization->type = "Token";
  config.authorization->credentials = "abc";
  ASSERT_TRUE(Fetch(GetRequest(url, config)).ok());
  EXPECT_THAT(AuthorizationHeaders(*server_),
              ::testing::ElementsAre("Bearer first-token",
                                     "Bearer rotated-token", "Token abc"));

  // A missing file fails the request, naming the file (not its content).
  config.authorization->credentials.clear();
  config.authorization->credentials_file = TempDir() + "/missing-token";
  absl::StatusOr<HttpResponse> response = Fetch(GetRequest(url, config));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(),
            absl::StrCat("Get \"", url,
                         "\": unable to read authorization credentials file ",
                         TempDir(), "/missing-token: open ", TempDir(),
                         "/missing-token: no such file or directory"));
}

TEST_F(HttpClientTest, SendsBasicAuthWithThePasswordFile) {
  server_->Serve("/metrics", "m 1\n");
  server_->Start();
  const std::string password_file = TempDir() + "/password";
  WriteFile(password_file, "pw1\n");
  HttpClientConfig config;
  config.basic_auth.emplace();
  config.basic_auth->username = "user";
  config.basic_auth->password_file = password_file;
  const HttpRequest request = GetRequest(server_->Url("/metrics"), config);
  ASSERT_TRUE(Fetch(request).ok());
  WriteFile(password_file, "pw2");
  ASSERT_TRUE(Fetch(request).ok());
  // base64("user:pw1"), base64("user:pw2").
  EXPECT_THAT(
      AuthorizationHeaders(*server_),
      ::testing::ElementsAre("Basic dXNlcjpwdzE=", "Basic dXNlcjpwdzI="));
}

// enable_http2 as Go's transport: HTTP/2 only when TLS negotiates it, never
// an `Upgrade: h2c` on plain http; false keeps every request on HTTP/1.1.
TEST_F(HttpClientTest, PlainHttpStaysOnHttp11WithOrWithoutHttp2) {
  server_->Serve("/metrics", "up 1\n");
  server_->Start();
  for (bool enable_http2 : {true, false}) {
    HttpClientConfig config;
    config.enable_http2 = enable_http2;
    absl::StatusOr<HttpResponse> response =
        Fetch(GetRequest(server_->Url("/metrics"), config));
    ASSERT_TRUE(response.ok()) << response.status();
  }
  std::vector<std::string> seen;
  for (const SeenRequest& request : server_->seen()) {
    seen.push_back(request.version + " upgrade=" + request.Header("Upgrade"));
  }
  EXPECT_THAT(seen,
              ::testing::ElementsAre("HTTP/1.1 upgrade=", "HTTP/1.1 upgrade="));
}

TEST_F(HttpClientTest, SendsRequestsThroughTheProxy) {
  server_->Serve(".*", "via_proxy 1\n");
  server_->Start();
  HttpClientConfig config;
  config.proxy_url = server_->Url("");
  const std::string url = "http://unreachable.test:9100/metrics";
  absl::StatusOr<HttpResponse> response = Fetch(GetRequest(url, config));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "via_proxy 1\n");
  // The absolute form, as proxies get it.
  EXPECT_EQ(server_->seen().back().target, url);
}

TEST_F(HttpClientTest, BodySizeLimitStopsAHugeStreamedBodyEarly) {
  constexpr size_t kHuge = size_t{1} << 30;  // 1 GiB, never held anywhere.
  std::atomic<size_t> served{0};
  TestServer server;
  server.server().Get(
      "/metrics", [&](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider(
            "text/plain", RepeatedLineBody("m 1\n", kHuge, &served));
      });
  server.Start();
  HttpRequest request = GetRequest(server.Url("/metrics"));
  request.body_size_limit = 1 << 20;
  absl::StatusOr<HttpResponse> response = Fetch(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(response.status().message(), "body size limit exceeded");
  server.Stop();
  // The transfer stopped long before the end (socket buffers aside).
  EXPECT_LT(served.load(), size_t{64} << 20);
}

TEST_F(HttpClientTest, BodySizeLimitAppliesToTheDecompressedGzipBomb) {
  // ~1 MiB of gzip that inflates to 1 GiB of zeros.
  const std::string bomb = GzipBomb();
  ASSERT_LT(bomb.size(), size_t{4} << 20);
  server_->server().Get("/metrics",
                        [&](const httplib::Request&, httplib::Response& res) {
                          res.set_header("Content-Encoding", "gzip");
                          res.set_content(bomb, "application/octet-stream");
                        });
  server_->Start();
  HttpRequest request = GetRequest(server_->Url("/metrics"));
  request.body_size_limit = 10 << 20;
  absl::StatusOr<HttpResponse> response = Fetch(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(response.status().message(), "body size limit exceeded");
}

TEST_F(HttpClientTest, ABodyOfExactlyTheLimitFails) {
  server_->Serve("/metrics", "m 1\n");  // 4 bytes.
  server_->Start();
  HttpRequest request = GetRequest(server_->Url("/metrics"));
  request.body_size_limit = 4;
  EXPECT_EQ(Fetch(request).status().code(),
            absl::StatusCode::kResourceExhausted);
  request.body_size_limit = 5;
  absl::StatusOr<HttpResponse> response = Fetch(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "m 1\n");
}

// A keep-alive HTTP/1.1 server on `ports` ports of 127.0.0.1, one thread
// polling them all, that answers every request with `m 1\n` and counts the
// connections it accepted and those still open.
class KeepAliveServer {
 public:
  explicit KeepAliveServer(int ports) {
    for (int i = 0; i < ports; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in address = {};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t length = sizeof(address);
      if (fd < 0 ||
          bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
          listen(fd, 128) != 0 ||
          getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) !=
              0) {
        ADD_FAILURE() << "cannot listen: " << std::strerror(errno);
        if (fd >= 0) close(fd);
        continue;
      }
      listeners_.push_back(fd);
      ports_.push_back(ntohs(address.sin_port));
    }
    if (pipe2(stop_, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2 failed";
    thread_ = std::thread([this] { Run(); });
  }
  ~KeepAliveServer() {
    const char byte = 0;
    [[maybe_unused]] ssize_t n = write(stop_[1], &byte, 1);
    thread_.join();
    for (int fd : listeners_) close(fd);
    close(stop_[0]);
    close(stop_[1]);
  }

  int ports() const { return static_cast<int>(ports_.size()); }
  std::string Url(int i) const {
    return absl::StrCat("http://127.0.0.1:", ports_[i], "/metrics");
  }
  int Accepted() const {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }
  int Open() const {
    absl::MutexLock lock(&mu_);
    return open_;
  }

 private:
  void Run() {
    std::map<int, std::string> connections;  // fd -> unanswered input
    while (true) {
      std::vector<pollfd> fds;
      fds.push_back({stop_[0], POLLIN, 0});
      for (int fd : listeners_) fds.push_back({fd, POLLIN, 0});
      for (const auto& [fd, input] : connections)
        fds.push_back({fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), -1) < 0) continue;
      if (fds[0].revents != 0) break;
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const int fd = fds[i].fd;
        if (i <= listeners_.size()) {
          const int connection = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
          if (connection < 0) continue;
          connections[connection];
          absl::MutexLock lock(&mu_);
          ++accepted_;
          ++open_;
          continue;
        }
        char buffer[4096];
        const ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n <= 0) {
          close(fd);
          connections.erase(fd);
          absl::MutexLock lock(&mu_);
          --open_;
          continue;
        }
        std::string& input = connections[fd];
        input.append(buffer, static_cast<size_t>(n));
        for (size_t end; (end = input.find("\r\n\r\n")) != std::string::npos;) {
          input.erase(0, end + 4);
          constexpr absl::string_view kResponse =
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
              "Content-Length: 4\r\n\r\nm 1\n";
          [[maybe_unused]] ssize_t w =
              write(fd, kResponse.data(), kResponse.size());
        }
      }
    }
    for (const auto& [fd, input] : connections) close(fd);
  }

  std::vector<int> listeners_;
  std::vector<int> ports_;
  int stop_[2] = {-1, -1};
  std::thread thread_;
  mutable absl::Mutex mu_;
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

// Fetches every target of `server` once, the requests spread over
// `threads` calling threads, and expects each to answer `m 1`.
void FetchAllFromThreads(HttpClient& client, const KeepAliveServer& server,
                         int threads) {
  absl::Mutex mu;
  absl::CondVar cv;
  std::vector<std::string> results(server.ports());
  int done = 0;
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = t; i < server.ports(); i += threads) {
        HttpRequest request;
        request.url = server.Url(i);
        client.Fetch(request, [&, i](absl::StatusOr<HttpResponse> response) {
          absl::MutexLock lock(&mu);
          results[i] = response.ok() ? response->body
                                     : std::string(response.status().message());
          ++done;
          cv.SignalAll();
        });
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  absl::MutexLock lock(&mu);
  const absl::Time deadline = absl::Now() + kWait;
  while (done < server.ports() && !cv.WaitWithDeadline(&mu, deadline)) {
  }
  EXPECT_EQ(done, server.ports()) << "requests ended";
  for (int i = 0; i < server.ports(); ++i) {
    ASSERT_EQ(results[i], "m 1\n") << "target " << i;
  }
}

TEST_F(HttpClientTest, KeepsOneConnectionPerTargetAcrossPools) {
  // More targets than pools, so pools hold several connections each.
  constexpr int kTargets = 200;
  KeepAliveServer server(kTargets);
  ASSERT_EQ(server.ports(), kTargets);
  HttpClient::Options options;
  options.connection_pools = 16;
  std::unique_ptr<HttpClient> client = NewClient(options);
  ASSERT_NE(client, nullptr);

  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    FetchAllFromThreads(*client, server, /*threads=*/4);
  }
  // Every scrape after the first of each target reused its connection.
  EXPECT_EQ(server.Accepted(), kTargets);
  EXPECT_EQ(client->InFlight(), 0);
}

TEST_F(HttpClientTest, ClosesConnectionsBeyondTheIdleLimit) {
  constexpr int kTargets = 60;
  KeepAliveServer server(kTargets);
  ASSERT_EQ(server.ports(), kTargets);
  HttpClient::Options options;
  // One pool (4 / 4), keeping at most 3 x 4 + 8 = 20 idle connections.
  options.max_idle_connections = 4;
  std::unique_ptr<HttpClient> client = NewClient(options);
  ASSERT_NE(client, nullptr);

  FetchAllFromThreads(*client, server, /*threads=*/1);
  EXPECT_EQ(server.Accepted(), kTargets);
  const absl::Time deadline = absl::Now() + kWait;
  while (server.Open() > 20 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_LE(server.Open(), 20);
  EXPECT_GT(server.Open(), 0);
}

TEST_F(HttpClientTest, ShutdownCancelsRequestsInFlight) {
  absl::Notification arrived;
  absl::Notification release;
  TestServer server;
  server.server().Get("/hang",
                      [&](const httplib::Request&, httplib::Response& res) {
                        arrived.Notify();
                        release.WaitForNotificationWithTimeout(kWait);
                        res.set_content("late 1\n", "text/plain");
                      });
  server.Start();

  absl::Notification done;
  absl::Status status;
  HttpRequest request = GetRequest(server.Url("/hang"));
  request.timeout = absl::Seconds(60);
  client_->Fetch(request, [&](absl::StatusOr<HttpResponse> response) {
    status = response.status();
    done.Notify();
  });
  ASSERT_TRUE(arrived.WaitForNotificationWithTimeout(kWait));
  client_->Shutdown();
  EXPECT_TRUE(done.HasBeenNotified());
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;

  // After shutdown, requests fail at once.
  absl::Status late;
  client_->Fetch(request, [&](absl::StatusOr<HttpResponse> response) {
    late = response.status();
  });
  EXPECT_EQ(late.code(), absl::StatusCode::kCancelled) << late;
  release.Notify();
}

}  // namespace
}  // namespace fedgate
