// End-to-end: the real fedgate binary scrapes loopback targets that need
// TLS (a CA file, a client certificate), a bearer token read from a file
// (rotated between scrapes), basic auth with a password file and URL params,
// next to targets that misbehave: one hangs, one resets the connection, one
// answers 500, one answers garbage, one streams a 1 GiB body, one sends a
// gzip bomb, one breaks sample_limit, and a job over its target_limit.
// /federate must show `up` 1 for the good ones and 0 for the bad ones, with
// Prometheus's error texts in /api/v1/targets, while the good ones keep
// being scraped. Every server is in this process on 127.0.0.1; fedgate is
// stopped by its PID.

#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "scraper/test_bodies.h"
#include "scraper/test_certificates.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

constexpr absl::Duration kWait = absl::Seconds(60);

bool WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  return static_cast<bool>(out);
}

// An httplib server (plain or TLS) on 127.0.0.1 on its own thread.
template <typename Server>
class Serving {
 public:
  template <typename... Args>
  explicit Serving(Args&&... args) : server_(std::forward<Args>(args)...) {}
  ~Serving() {
    release_.Notify();
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }
  Server& server() { return server_; }
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    ASSERT_TRUE(WaitUntil([this] { return server_.is_running(); }, kWait));
  }
  std::string address(absl::string_view host = "127.0.0.1") const {
    return absl::StrCat(host, ":", port_);
  }
  // Lets handlers that hang return (at destruction at the latest).
  absl::Notification& release() { return release_; }

 private:
  Server server_;
  std::thread thread_;
  int port_ = 0;
  absl::Notification release_;
};

// Makes `server` answer GET `path` with `body` (text/plain) when `accept`
// takes the request, and with status `refusal` and no body otherwise.
void ServeIfAccepted(httplib::Server& server, const std::string& path,
                     std::function<bool(const httplib::Request&)> accept,
                     int refusal, std::string body) {
  server.Get(path,
             [accept = std::move(accept), refusal, body = std::move(body)](
                 const httplib::Request& req, httplib::Response& res) {
               if (!accept(req)) {
                 res.status = refusal;
                 return;
               }
               res.set_content(body, "text/plain");
             });
}

// Accepts connections and resets each one (SO_LINGER 0) after reading the
// request: fedgate sees `connection reset by peer`.
class ResetServer {
 public:
  ResetServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~ResetServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  void Run() {
    while (!stop_) {
      pollfd p = {fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      pollfd c = {conn, POLLIN, 0};
      if (poll(&c, 1, 1000) > 0) {
        char buffer[4096];
        (void)!read(conn, buffer, sizeof(buffer));
      }
      linger reset = {1, 0};
      setsockopt(conn, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
      close(conn);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Returns the value of `up{job="<job>"}` in /federate, or -1.
double UpOf(int port, absl::string_view job) {
  const std::string text =
      FederateText(port, absl::StrCat("up{job=\"", job, "\"}"));
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, "up{")) continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line.substr(line.find('}') + 1), ' ', absl::SkipEmpty());
    double value;
    if (!parts.empty() && absl::SimpleAtod(parts[0], &value)) return value;
  }
  return -1;
}

// Undoes the JSON escapes fedgate writes (`\"`, `\\`, `\uXXXX` for ASCII).
std::string JsonUnescape(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    if (c == 'u' && i + 4 < s.size()) {
      int code = 0;
      if (!absl::SimpleHexAtoi(s.substr(i + 1, 4), &code)) code = 0;
      out += static_cast<char>(code);
      i += 4;
    } else if (c == 'n') {
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

// Returns the lastError of every target in /api/v1/targets, by scrape pool
// (one target per pool here; the last one wins otherwise).
std::map<std::string, std::string> LastErrors(int port) {
  std::map<std::string, std::string> errors;
  httplib::Result res = HttpGet(port, "/api/v1/targets");
  if (!res || res->status != 200) return errors;
  static const RE2* const kPool =
      new RE2(R"re("scrapePool":"((?:[^"\\]|\\.)*)")re");
  static const RE2* const kError =
      new RE2(R"re("lastError":"((?:[^"\\]|\\.)*)")re");
  for (absl::string_view chunk :
       absl::StrSplit(res->body, "{\"discoveredLabels\":")) {
    std::string pool, error;
    const re2::StringPiece text(chunk.data(), chunk.size());
    if (RE2::PartialMatch(text, *kPool, &pool) &&
        RE2::PartialMatch(text, *kError, &error)) {
      errors[JsonUnescape(pool)] = JsonUnescape(error);
    }
  }
  return errors;
}

TEST(ScrapeFaultsTest, BadTargetsAreDownWithPrometheusErrorsGoodOnesStayUp) {
  const std::string dir = TestTempDir() + "/scrape_faults";
  absl::StatusOr<TestCertificates> certs =
      GenerateTestCertificates(dir + "/pki");
  ASSERT_TRUE(certs.ok()) << certs.status();

  // Good targets.
  LoopbackTarget good("good_metric 1\n");

  Serving<httplib::SSLServer> bearer_tls(certs->server_cert_file.c_str(),
                                         certs->server_key_file.c_str());
  absl::Mutex token_mu;
  std::string expected_token = "Bearer token-1";
  int token_scrapes_after_rotation = 0;
  bearer_tls.server().Get(
      "/metrics", [&](const httplib::Request& req, httplib::Response& res) {
        absl::MutexLock lock(&token_mu);
        if (req.get_header_value("Authorization") != expected_token) {
          res.status = 401;
          return;
        }
        if (expected_token == "Bearer token-2") ++token_scrapes_after_rotation;
        res.set_content("tls_metric 1\n", "text/plain");
      });
  bearer_tls.Start();

  Serving<httplib::SSLServer> mtls(certs->server_cert_file.c_str(),
                                   certs->server_key_file.c_str(),
                                   certs->ca_file.c_str());
  mtls.server().Get("/metrics",
                    [](const httplib::Request&, httplib::Response& res) {
                      res.set_content("mtls_metric 1\n", "text/plain");
                    });
  mtls.Start();

  Serving<httplib::Server> basic;
  ServeIfAccepted(
      basic.server(), "/metrics",
      [](const httplib::Request& req) {
        // base64("user:pw")
        return req.get_header_value("Authorization") == "Basic dXNlcjpwdw==";
      },
      401, "basic_metric 1\n");
  basic.Start();

  Serving<httplib::Server> params;
  ServeIfAccepted(
      params.server(), "/probe",
      [](const httplib::Request& req) {
        return req.get_param_value("module") == "snmp" &&
               req.get_param_value("module", 1) == "if_mib";
      },
      400, "probe_success 1\n");
  params.Start();

  // Bad targets.
  Serving<httplib::Server> hang;
  hang.server().Get("/metrics",
                    [&](const httplib::Request&, httplib::Response& res) {
                      hang.release().WaitForNotificationWithTimeout(kWait);
                      res.set_content("late 1\n", "text/plain");
                    });
  hang.Start();
  ResetServer reset;
  LoopbackTarget failing;
  failing.Serve(500, "boom");
  LoopbackTarget garbage("\x01\x02 not an exposition\n");
  Serving<httplib::Server> huge;
  std::atomic<size_t> huge_served{0};
  huge.server().Get(
      "/metrics", [&](const httplib::Request&, httplib::Response& res) {
        // 1 GiB, made as it goes.
        res.set_chunked_content_provider(
            "text/plain",
            RepeatedLineBody("huge_metric 1\n", size_t{1} << 30, &huge_served));
      });
  huge.Start();
  const std::string bomb = GzipBomb();
  ASSERT_LT(bomb.size(), size_t{4} << 20);
  Serving<httplib::Server> gzip_bomb;
  gzip_bomb.server().Get("/metrics",
                         [&](const httplib::Request&, httplib::Response& res) {
                           res.set_header("Content-Encoding", "gzip");
                           res.set_content(bomb, "application/octet-stream");
                         });
  gzip_bomb.Start();
  LoopbackTarget many_samples("a 1\nb 2\nc 3\n");
  LoopbackTarget limited_1("x 1\n");
  LoopbackTarget limited_2("x 1\n");

  // Relative paths resolve against the config file's directory.
  ASSERT_TRUE(WriteFile(dir + "/token", "token-1\n"));
  ASSERT_TRUE(WriteFile(dir + "/password", "pw\n"));
  const std::string job_prefix = "    static_configs:\n      - targets: ['";
  const auto job = [&](absl::string_view name, absl::string_view extra,
                       const std::string& address) {
    return absl::StrCat("  - job_name: ", name, "\n", extra, job_prefix,
                        address, "']\n");
  };
  const std::string config = absl::StrCat(
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 800ms\n",
      "scrape_configs:\n", job("good", "", good.address()),
      job("bearer_tls",
          absl::StrCat("    scheme: https\n    bearer_token_file: token\n",
                       "    tls_config:\n      ca_file: pki/ca.pem\n"),
          bearer_tls.address("localhost")),
      job("mtls",
          "    scheme: https\n    tls_config:\n      ca_file: pki/ca.pem\n"
          "      cert_file: pki/client.pem\n      key_file: pki/client.key\n"
          "      server_name: scrape.test\n",
          mtls.address()),
      job("basic",
          "    basic_auth:\n      username: user\n      password_file: "
          "password\n",
          basic.address()),
      job("params",
          "    metrics_path: /probe\n    params:\n      module: [x, if_mib]\n"
          "    relabel_configs:\n      - target_label: __param_module\n"
          "        replacement: snmp\n",
          params.address()),
      job("hang", "", hang.address()), job("reset", "", reset.address()),
      job("failing", "", failing.address()),
      job("garbage", "", garbage.address()),
      job("huge", "    body_size_limit: 1MB\n", huge.address()),
      job("gzip_bomb", "    body_size_limit: 10MB\n", gzip_bomb.address()),
      job("many_samples", "    sample_limit: 2\n", many_samples.address()),
      "  - job_name: limited\n    target_limit: 1\n", job_prefix,
      limited_1.address(), "', '", limited_2.address(), "']\n");
  const std::string config_path = dir + "/fedgate.yml";
  ASSERT_TRUE(WriteFile(config_path, config));

  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  const int port = fedgate->web_port;

  const std::map<std::string, double> want_up = {
      {"good", 1},    {"bearer_tls", 1}, {"mtls", 1},      {"basic", 1},
      {"params", 1},  {"hang", 0},       {"reset", 0},     {"failing", 0},
      {"garbage", 0}, {"huge", 0},       {"gzip_bomb", 0}, {"many_samples", 0},
      {"limited", 0},
  };
  std::map<std::string, double> got_up;
  ASSERT_TRUE(WaitUntil(
      [&] {
        got_up.clear();
        for (const auto& [name, up] : want_up) got_up[name] = UpOf(port, name);
        return got_up == want_up;
      },
      kWait))
      << "fedgate stderr: " << fedgate->process->Stderr();

  std::map<std::string, std::string> errors;
  const std::map<std::string, std::string> want_errors = {
      {"good", ""},
      {"bearer_tls", ""},
      {"mtls", ""},
      {"basic", ""},
      {"params", ""},
      {"hang", absl::StrCat("Get \"http://", hang.address(),
                            "/metrics\": context deadline exceeded")},
      {"failing", "server returned HTTP status 500 Internal Server Error"},
      {"huge", "body size limit exceeded"},
      {"gzip_bomb", "body size limit exceeded"},
      {"many_samples", "sample limit exceeded"},
      {"limited", "target_limit exceeded (number of targets: 2, limit: 1)"},
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        errors = LastErrors(port);
        for (const auto& [pool, error] : want_errors) {
          auto it = errors.find(pool);
          if (it == errors.end() || it->second != error) return false;
        }
        return true;
      },
      kWait))
      << [&] {
           std::string all;
           for (const auto& [pool, error] : errors) {
             absl::StrAppend(&all, pool, ": ", error, "\n");
           }
           return all;
         }();
  EXPECT_TRUE(absl::StartsWith(
      errors["reset"], absl::StrCat("Get \"http://", reset.address(), "/")))
      << errors["reset"];
  EXPECT_FALSE(errors["garbage"].empty());
  // The 1 GiB body was cut off early (socket buffers aside).
  EXPECT_LT(huge_served.load(), size_t{64} << 20);
  // The good targets' series are federated; the bad ones' are not.
  EXPECT_TRUE(
      absl::StrContains(FederateText(port, "good_metric"), "good_metric{"));
  EXPECT_TRUE(
      absl::StrContains(FederateText(port, "probe_success"), "probe_success{"));
  EXPECT_EQ(FederateText(port, "{__name__=~\"a|b|c|x|huge_metric\"}"), "");

  // Rotate the token: the next scrapes send the new one, no reload needed.
  {
    absl::MutexLock lock(&token_mu);
    expected_token = "Bearer token-2";
  }
  ASSERT_TRUE(WriteFile(dir + "/token", "token-2\n"));
  EXPECT_TRUE(WaitUntil(
      [&] {
        absl::MutexLock lock(&token_mu);
        return token_scrapes_after_rotation >= 2;
      },
      kWait));
  EXPECT_EQ(UpOf(port, "bearer_tls"), 1);
  EXPECT_EQ(UpOf(port, "good"), 1);

  // Secrets never reach the configuration API.
  httplib::Result status = HttpGet(port, "/api/v1/status/config");
  ASSERT_TRUE(status);
  const std::string config_yaml = JsonUnescape(status->body);
  EXPECT_FALSE(absl::StrContains(config_yaml, "token-"));
  EXPECT_TRUE(
      absl::StrContains(config_yaml, "credentials_file: " + dir + "/token"))
      << config_yaml;
}

}  // namespace
}  // namespace fedgate
