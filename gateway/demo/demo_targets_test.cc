#include "gateway/demo/demo_targets.h"

#include <httplib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

constexpr char kPromtool[] = "/usr/bin/promtool";

// A clock the test moves by hand; the servers read it from their threads.
class FakeClock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}
  absl::Time Now() const {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

struct Fetched {
  int status = 0;
  std::string content_type;
  std::string body;
};

Fetched Fetch(const std::string& address, const std::string& path) {
  httplib::Client client(absl::StrCat("http://", address));
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  Fetched out;
  httplib::Result res = client.Get(path.c_str());
  if (!res) return out;
  out.status = res->status;
  out.content_type = res->get_header_value("Content-Type");
  out.body = res->body;
  return out;
}

std::string FetchMetrics(const std::string& address) {
  Fetched f = Fetch(address, "/metrics");
  EXPECT_EQ(f.status, 200) << address;
  return f.body;
}

std::string WriteTempFile(absl::string_view name, absl::string_view content) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

struct CommandResult {
  int exit_status = -1;
  std::string output;
};

// Runs `command` with sh, returning its exit status and its stdout+stderr.
CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(absl::StrCat(command, " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.output.append(buffer, n);
  }
  int status = pclose(pipe);
  if (status != -1 && WIFEXITED(status))
    result.exit_status = WEXITSTATUS(status);
  return result;
}

// Returns every sample line of a text exposition as series -> value.
std::map<std::string, double> Samples(absl::string_view body) {
  std::map<std::string, double> out;
  for (absl::string_view line : absl::StrSplit(body, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    size_t space = line.rfind(' ');
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &value)) << line;
    out[std::string(line.substr(0, space))] = value;
  }
  return out;
}

// Returns the families of a text exposition declared with `# TYPE <name> t`
// for t in {counter, histogram}: their samples must never go down.
std::vector<std::string> CumulativeFamilies(absl::string_view body) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(body, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
    if (words.size() == 4 && words[0] == "#" && words[1] == "TYPE" &&
        (words[3] == "counter" || words[3] == "histogram")) {
      out.emplace_back(words[2]);
    }
  }
  return out;
}

// Demo targets whose clock the test moves; it starts at 1700000000 s.
class DemoTargetsOnFakeClockTest : public ::testing::Test {
 protected:
  // Starts the targets with `proxies` proxies on clock_.
  void Start(int proxies = 4) {
    DemoTargetsOptions options;
    options.proxies = proxies;
    options.clock = [this] { return clock_.Now(); };
    absl::StatusOr<std::unique_ptr<DemoTargets>> targets =
        DemoTargets::Start(std::move(options));
    ASSERT_TRUE(targets.ok()) << targets.status();
    targets_ = std::move(*targets);
  }

  FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  std::unique_ptr<DemoTargets> targets_;
};

TEST_F(DemoTargetsOnFakeClockTest, ServesOnLoopbackPorts) {
  ASSERT_NO_FATAL_FAILURE(Start(3));

  std::vector<std::string> k3s = targets_->K3sAddresses();
  std::vector<std::string> proxies = targets_->ProxyAddresses();
  EXPECT_EQ(k3s.size(), 3u);
  EXPECT_EQ(proxies.size(), 3u);
  for (const std::vector<std::string>* addresses : {&k3s, &proxies}) {
    for (const std::string& address : *addresses) {
      EXPECT_TRUE(absl::StartsWith(address, "127.0.0.1:")) << address;
      Fetched f = Fetch(address, "/metrics");
      EXPECT_EQ(f.status, 200) << address;
      EXPECT_EQ(f.content_type, "text/plain; version=0.0.4; charset=utf-8");
      EXPECT_EQ(Fetch(address, "/other").status, 404) << address;
    }
  }
}

TEST_F(DemoTargetsOnFakeClockTest, K3sEndpointsServeIdenticalBodies) {
  ASSERT_NO_FATAL_FAILURE(Start());
  clock_.Advance(absl::Seconds(42));

  std::vector<std::string> bodies;
  for (const std::string& address : targets_->K3sAddresses()) {
    bodies.push_back(FetchMetrics(address));
  }
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[0], bodies[1]);
  EXPECT_EQ(bodies[0], bodies[2]);
  EXPECT_EQ(bodies[0], targets_->K3sBody(clock_.Now()));
  EXPECT_TRUE(
      absl::StrContains(bodies[0], "# TYPE apiserver_request_total counter\n"));
  EXPECT_TRUE(absl::StrContains(
      bodies[0],
      "apiserver_request_total{code=\"200\",component=\"apiserver\",group=\"\","
      "resource=\"pods\",scope=\"resource\",subresource=\"\",verb=\"GET\","
      "version=\"v1\"} "));
  EXPECT_TRUE(absl::StrContains(
      bodies[0], "# TYPE apiserver_request_duration_seconds histogram\n"));
  EXPECT_TRUE(absl::StrContains(bodies[0], "workqueue_depth{name=\""));
  EXPECT_TRUE(absl::StrContains(bodies[0], "kubernetes_build_info{"));
  EXPECT_TRUE(absl::StrContains(bodies[0], "\ngo_goroutines "));
}

TEST_F(DemoTargetsOnFakeClockTest, K3sFamiliesAreSortedByName) {
  ASSERT_NO_FATAL_FAILURE(Start(1));

  std::vector<std::string> names;
  for (absl::string_view line :
       absl::StrSplit(targets_->K3sBody(clock_.Now()), '\n')) {
    if (absl::StartsWith(line, "# TYPE ")) {
      names.push_back(std::string(
          std::vector<absl::string_view>(absl::StrSplit(line, ' '))[2]));
    }
  }
  ASSERT_GE(names.size(), 8u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST_F(DemoTargetsOnFakeClockTest, ProxiesServeDistinctPods) {
  ASSERT_NO_FATAL_FAILURE(Start(6));

  std::vector<std::string> bodies;
  std::vector<std::string> pods;
  for (const std::string& address : targets_->ProxyAddresses()) {
    std::string body = FetchMetrics(address);
    size_t at = body.find(",pod=\"");
    ASSERT_NE(at, std::string::npos) << body;
    at += 6;
    pods.push_back(body.substr(at, body.find('"', at) - at));
    EXPECT_TRUE(absl::StrContains(body, "# TYPE request_total counter\n"));
    EXPECT_TRUE(absl::StrContains(body, "# TYPE response_total counter\n"));
    EXPECT_TRUE(
        absl::StrContains(body, "# TYPE response_latency_ms histogram\n"));
    EXPECT_TRUE(absl::StrContains(body, "# TYPE tcp_open_total counter\n"));
    EXPECT_TRUE(absl::StrContains(body, "direction=\"inbound\""));
    EXPECT_TRUE(absl::StrContains(
        body, "status_code=\"200\",classification=\"success\""));
    EXPECT_TRUE(absl::StrContains(body, "namespace=\"emojivoto\""));
    bodies.push_back(std::move(body));
  }
  ASSERT_EQ(bodies.size(), 6u);
  for (size_t i = 0; i < bodies.size(); ++i) {
    for (size_t j = i + 1; j < bodies.size(); ++j) {
      EXPECT_NE(bodies[i], bodies[j]) << i << " " << j;
      EXPECT_NE(pods[i], pods[j]) << i << " " << j;
    }
  }
  EXPECT_TRUE(absl::StartsWith(pods[0], "web-")) << pods[0];
  EXPECT_TRUE(absl::StartsWith(pods[1], "emoji-")) << pods[1];
}

TEST_F(DemoTargetsOnFakeClockTest, CountersGrowWithTime) {
  ASSERT_NO_FATAL_FAILURE(Start(2));
  std::vector<std::string> addresses = targets_->K3sAddresses();
  for (const std::string& proxy : targets_->ProxyAddresses()) {
    addresses.push_back(proxy);
  }

  std::vector<std::string> before;
  for (const std::string& address : addresses) {
    before.push_back(FetchMetrics(address));
  }
  clock_.Advance(absl::Seconds(30));
  for (size_t i = 0; i < addresses.size(); ++i) {
    SCOPED_TRACE(addresses[i]);
    std::string after = FetchMetrics(addresses[i]);
    std::map<std::string, double> old_samples = Samples(before[i]);
    std::map<std::string, double> new_samples = Samples(after);
    ASSERT_EQ(old_samples.size(), new_samples.size());
    int grown = 0;
    for (const std::string& family : CumulativeFamilies(after)) {
      for (const auto& [series, value] : new_samples) {
        if (!absl::StartsWith(series, family)) continue;
        ASSERT_EQ(old_samples.count(series), 1u) << series;
        EXPECT_GE(value, old_samples[series]) << series;
        if (value > old_samples[series]) ++grown;
      }
    }
    EXPECT_GT(grown, 5);
  }
  std::map<std::string, double> k3s = Samples(FetchMetrics(addresses[0]));
  const std::string pods_get =
      "apiserver_request_total{code=\"200\",component=\"apiserver\",group=\"\","
      "resource=\"pods\",scope=\"resource\",subresource=\"\",verb=\"GET\","
      "version=\"v1\"}";
  // 2.5 requests per second for 30 seconds.
  EXPECT_NEAR(k3s[pods_get] - Samples(before[0])[pods_get], 75, 1);
}

TEST_F(DemoTargetsOnFakeClockTest, CountersNeverGoBackWhenTheClockDoes) {
  ASSERT_NO_FATAL_FAILURE(Start(1));
  const std::string address = targets_->ProxyAddresses()[0];

  clock_.Advance(absl::Seconds(60));
  std::string later = FetchMetrics(address);
  clock_.Advance(absl::Seconds(-30));
  EXPECT_EQ(FetchMetrics(address), later);
}

TEST_F(DemoTargetsOnFakeClockTest, BodiesPassPromtoolCheckMetrics) {
  ASSERT_NO_FATAL_FAILURE(Start());
  clock_.Advance(absl::Hours(5));
  std::vector<std::string> addresses = targets_->K3sAddresses();
  for (const std::string& proxy : targets_->ProxyAddresses()) {
    addresses.push_back(proxy);
  }

  int n = 0;
  for (const std::string& address : addresses) {
    SCOPED_TRACE(address);
    std::string body = FetchMetrics(address);
    ASSERT_FALSE(body.empty());
    std::string path =
        WriteTempFile(absl::StrCat("demo_body_", n++, ".txt"), body);
    CommandResult check =
        RunCommand(absl::StrCat(kPromtool, " check metrics < '", path, "'"));
    // 0: clean; 3: lint problems only (allowed); 1: invalid exposition.
    EXPECT_TRUE(check.exit_status == 0 || check.exit_status == 3)
        << "promtool exit status " << check.exit_status << ":\n"
        << check.output << "\nbody:\n"
        << body;
  }
}

TEST(DemoTargetsTest, ConfigYamlPassesPromtoolCheckConfig) {
  absl::StatusOr<std::unique_ptr<DemoTargets>> targets = DemoTargets::Start(2);
  ASSERT_TRUE(targets.ok()) << targets.status();
  const std::string yaml = (*targets)->ConfigYaml();

  EXPECT_TRUE(absl::StrContains(yaml, "job_name: k3s\n")) << yaml;
  EXPECT_TRUE(absl::StrContains(yaml, "job_name: linkerd-proxy\n")) << yaml;
  EXPECT_TRUE(absl::StrContains(yaml, "scrape_interval: 5s\n")) << yaml;
  for (const std::vector<std::string>& addresses :
       {(*targets)->K3sAddresses(), (*targets)->ProxyAddresses()}) {
    for (const std::string& address : addresses) {
      EXPECT_TRUE(absl::StrContains(yaml, absl::StrCat("'", address, "'")))
          << yaml;
    }
  }
  std::string path = WriteTempFile("demo_config.yml", yaml);
  CommandResult check =
      RunCommand(absl::StrCat(kPromtool, " check config '", path, "'"));
  EXPECT_EQ(check.exit_status, 0) << check.output << "\n" << yaml;
}

TEST(DemoTargetsTest, StartRejectsProxyCountOutOfRange) {
  for (int proxies : {0, -1, 201}) {
    absl::StatusOr<std::unique_ptr<DemoTargets>> targets =
        DemoTargets::Start(proxies);
    ASSERT_FALSE(targets.ok()) << proxies;
    EXPECT_EQ(targets.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(targets.status().message(), "proxies"))
        << targets.status();
  }
}

}  // namespace
}  // namespace fedgate
