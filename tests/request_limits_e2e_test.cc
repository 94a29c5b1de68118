// tests/request_limits_e2e_test.cc
//
// End-to-end: the request limits of docs/reliability.md against the real
// fedgate binary over loopback. Each limit is hit once with its documented
// status and text (concurrent requests: 503 with Retry-After; series per
// answer: 422; match[] count, selector length and regex program size: 400),
// and counted in fedgate_http_requests_refused_total{reason}, while a normal
// client keeps being answered and the target keeps being scraped.

#include <httplib.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// 20,000 series: selecting them keeps a worker busy for some milliseconds,
// long enough for simultaneous requests to find the one place taken.
std::string ManySeriesBody() {
  std::string body = "# TYPE many gauge\n";
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&body, "many{i=\"", i, "\"} ", i, "\n");
  }
  return body;
}

// Returns the timestamp of the `up` sample /federate serves, 0 without one.
int64_t UpTimestamp(int port) {
  const std::string text = FederateText(port, "up");
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, "up{")) continue;
    const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    int64_t t = 0;
    if (absl::SimpleAtoi(fields.back(), &t)) return t;
  }
  return 0;
}

// Returns fedgate_http_requests_refused_total{reason} from /metrics, -1 when
// absent.
int Refused(int port, absl::string_view reason) {
  httplib::Result res = HttpGet(port, "/metrics");
  if (!res || res->status != 200) return -1;
  const std::string prefix = absl::StrCat(
      "fedgate_http_requests_refused_total{reason=\"", reason, "\"} ");
  const size_t at = res->body.find(prefix);
  if (at == std::string::npos) return -1;
  return std::atoi(res->body.c_str() + at + prefix.size());
}

// Expects GET `path` to answer `status` with `body`.
void ExpectAnswer(int port, const std::string& path, int status,
                  const std::string& body) {
  SCOPED_TRACE(path);
  httplib::Result res = HttpGet(port, path);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, status);
  EXPECT_EQ(res->body, body);
}

TEST(RequestLimitsE2eTest, EachLimitAnswersClearlyWhileOthersAreServed) {
  LoopbackTarget target(ManySeriesBody());
  const std::string config_path =
      absl::StrCat(TestTempDir(), "/request_limits.yml");
  ASSERT_TRUE(WriteFile(
      config_path, absl::StrCat("global:\n"
                                "  scrape_interval: 1s\n"
                                "  scrape_timeout: 1s\n"
                                "scrape_configs:\n",
                                StaticScrapeJob("many", target.address()))));
  absl::StatusOr<FedgateProcess> fedgate = StartFedgate(
      config_path, absl::StrCat(TestTempDir(), "/request_limits"),
      FedgateGrpc::kOff,
      {"--web.max-concurrent-requests=1", "--query.max-series=10",
       "--query.max-match-params=2", "--query.max-selector-length=100"});
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  const int port = fedgate->web_port;
  // The first scrape is in.
  int64_t first_scrape = 0;
  for (int i = 0; i < 150 && first_scrape == 0; ++i) {
    first_scrape = UpTimestamp(port);
    if (first_scrape == 0) absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_GT(first_scrape, 0);

  // Series per answer: refused before a byte of it is sent.
  ExpectAnswer(port, "/federate?match%5B%5D=many", 422,
               "the answer would hold 20000 series, more than the limit of 10 "
               "(--query.max-series)\n");
  ExpectAnswer(port, "/api/v1/series?match%5B%5D=many", 422,
               "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":"
               "\"the answer would hold 20000 series, more than the limit of "
               "10 (--query.max-series)\"}");
  // match[] count, selector length, regex complexity.
  ExpectAnswer(port, "/federate?match%5B%5D=up&match%5B%5D=a&match%5B%5D=b",
               400,
               "too many match[] parameters: 3 (limit 2, "
               "--query.max-match-params)\n");
  ExpectAnswer(
      port, absl::StrCat("/federate?match%5B%5D=", std::string(101, 'a')), 400,
      "match[] parameter 1 is too long: 101 bytes (limit 100, "
      "--query.max-selector-length)\n");
  ExpectAnswer(port, "/federate?match%5B%5D=%7Bi%3D~%22%5C%5CpL%7B100%7D%22%7D",
               400,
               "invalid regular expression \"\\pL{100}\": too complex (RE2 "
               "program size 119302, limit 100000, "
               "--query.max-regex-program-size)\n");

  // Concurrent requests: simultaneous requests find the one place taken.
  bool saw_503 = false;
  for (int round = 0; round < 20 && !saw_503; ++round) {
    absl::Notification go;
    std::atomic<int> unavailable{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 12; ++c) {
      clients.emplace_back([&] {
        httplib::Client client = LoopbackClient(port);
        go.WaitForNotification();
        httplib::Result res = client.Get("/federate?match%5B%5D=many");
        if (res && res->status == 503 &&
            res->get_header_value("Retry-After") == "1" &&
            res->body ==
                "too many concurrent requests (1, "
                "--web.max-concurrent-requests)\n") {
          ++unavailable;
        }
      });
    }
    go.Notify();
    for (std::thread& t : clients) t.join();
    saw_503 = unavailable.load() > 0;
  }
  EXPECT_TRUE(saw_503);

  // Meanwhile and after: the probes, a normal client and the scrapes.
  ExpectAnswer(port, "/-/healthy", 200, "fedgate is Healthy.\n");
  httplib::Result up = HttpGet(port, "/federate?match%5B%5D=up");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 200);
  const int64_t before = UpTimestamp(port);
  int64_t later = before;
  for (int i = 0; i < 150 && later <= before; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    later = UpTimestamp(port);
  }
  EXPECT_GT(later, before);

  EXPECT_GE(Refused(port, "too_many_series"), 2);
  EXPECT_EQ(Refused(port, "too_many_match_params"), 1);
  EXPECT_EQ(Refused(port, "selector_too_long"), 1);
  EXPECT_EQ(Refused(port, "regex_too_complex"), 1);
  EXPECT_GE(Refused(port, "too_many_requests"), 1);
}

}  // namespace
}  // namespace fedgate
