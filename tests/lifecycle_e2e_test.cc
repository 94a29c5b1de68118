// tests/lifecycle_e2e_test.cc
//
// End-to-end: the real fedgate binary's lifecycle over loopback. /-/ready
// stays 503 until every target has been scraped once (a target that hangs
// until the scrape timeout included) and is 503 again once a stop begins;
// SIGTERM refuses new connections but lets a large /federate answer that is
// being read finish whole, then exits 0; at --web.shutdown-timeout an answer
// still unread is cut and the exit is still 0; POST /-/quit and /-/reload
// answer 403 without --web.enable-lifecycle and stop or reload with it; a
// gRPC Federate stream in progress at SIGTERM ends whole while new calls
// fail;
// --config.auto-reload-interval follows a ConfigMap volume's updates;
// --web.cors.origin decides which origins get Access-Control-Allow-Origin.

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/test_raw_connection.h"
#include "gtest/gtest.h"
#include "proto/fedgate.grpc.pb.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// The series of the large target: `big_series{i="<n>",pad="x..."} <n>`,
// about 150 bytes each in /federate: 150,000 of them are 22 MB, far more than
// the socket buffers hold (4 MiB sent, and the reader's 64 KiB), so the
// answer stays in progress while the client does not read.
constexpr int kBigSeries = 150000;

std::string BigBody() {
  std::string body = "# TYPE big_series gauge\n";
  const std::string pad(100, 'x');
  for (int i = 0; i < kBigSeries; ++i) {
    absl::StrAppend(&body, "big_series{i=\"", i, "\",pad=\"", pad, "\"} ", i,
                    "\n");
  }
  return body;
}

// A scrape interval long enough that the 150,000-series target is not parsed
// over and over on a shared machine, and a timeout within it.
std::string ConfigYaml(const std::string& big_address) {
  return absl::StrCat(
      "global:\n"
      "  scrape_interval: 5s\n"
      "  scrape_timeout: 5s\n"
      "scrape_configs:\n",
      StaticScrapeJob("big", big_address));
}

// Decodes a chunked HTTP body; returns nullopt unless it is well formed and
// ends with the last chunk.
std::optional<std::string> DecodeChunked(absl::string_view in) {
  std::string out;
  while (true) {
    const size_t eol = in.find("\r\n");
    if (eol == absl::string_view::npos) return std::nullopt;
    uint64_t size = 0;
    if (!absl::SimpleHexAtoi(in.substr(0, eol), &size)) return std::nullopt;
    in.remove_prefix(eol + 2);
    if (size == 0) {
      if (in == "\r\n") return out;
      return std::nullopt;
    }
    if (in.size() < size + 2 || in.substr(size, 2) != "\r\n") {
      return std::nullopt;
    }
    out.append(in.data(), size);
    in.remove_prefix(size + 2);
  }
}

// Returns the status of GET /-/ready on 127.0.0.1:`port`, 0 without answer.
int ReadyStatus(int port) {
  httplib::Result res = HttpGet(port, "/-/ready");
  return res ? res->status : 0;
}

// Starts fedgate on `config_yaml` (written to `<name>.yml`) with
// `extra_flags`, or fails the test.
FedgateProcess Start(const std::string& name, const std::string& config_yaml,
                     const std::vector<std::string>& extra_flags = {},
                     FedgateGrpc grpc = FedgateGrpc::kOff) {
  const std::string config_path =
      absl::StrCat(TestTempDir(), "/", name, ".yml");
  EXPECT_TRUE(WriteFile(config_path, config_yaml));
  absl::StatusOr<FedgateProcess> fedgate = StartFedgate(
      config_path, absl::StrCat(TestTempDir(), "/", name), grpc, extra_flags);
  EXPECT_TRUE(fedgate.ok()) << fedgate.status();
  if (!fedgate.ok()) return FedgateProcess();
  return *std::move(fedgate);
}

// Sends GET /federate for every big_series on `c` and reads its headers (and
// perhaps the first bytes of the body) into `*head`; returns whether a 200
// answer began.
bool BeginBigFederate(RawConnection& c, std::string* head) {
  if (!c.ok() ||
      !c.Send("GET /federate?match[]=big_series HTTP/1.1\r\nHost: x\r\n\r\n")) {
    return false;
  }
  return c.ReadUntil("\r\n\r\n", absl::Seconds(30), head) &&
         absl::StartsWith(*head, "HTTP/1.1 200");
}

TEST(LifecycleE2eTest, SigtermFinishesAFederateAnswerInProgressAndExitsZero) {
  LoopbackTarget big(BigBody());
  FedgateProcess fedgate = Start("sigterm", ConfigYaml(big.address()));
  ASSERT_NE(fedgate.process, nullptr);
  const int port = fedgate.web_port;
  ASSERT_TRUE(
      WaitUntil([&] { return ReadyStatus(port) == 200; }, absl::Seconds(60)))
      << fedgate.process->Stderr();

  // A probe on a kept-alive connection, as a kubelet's.
  httplib::Client probe = LoopbackClient(port);
  probe.set_keep_alive(true);
  httplib::Result ready = probe.Get("/-/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);

  RawConnection reader(port);
  std::string answer;
  ASSERT_TRUE(BeginBigFederate(reader, &answer)) << answer;

  ASSERT_EQ(kill(fedgate.process->pid(), SIGTERM), 0);
  // New connections are refused while the answer is still being sent.
  EXPECT_TRUE(
      WaitUntil([&] { return !RawConnection(port).ok(); }, absl::Seconds(30)))
      << fedgate.process->Stderr();
  ready = probe.Get("/-/ready");
  ASSERT_TRUE(ready) << httplib::to_string(ready.error());
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->body, "Service Unavailable");
  EXPECT_FALSE(fedgate.process->WaitFor(absl::ZeroDuration()).has_value());

  // The answer ends whole: every series, then the last chunk.
  EXPECT_TRUE(reader.ReadUntil("\r\n0\r\n\r\n", absl::Seconds(30), &answer));
  std::optional<std::string> body = DecodeChunked(
      absl::string_view(answer).substr(answer.find("\r\n\r\n") + 4));
  ASSERT_TRUE(body.has_value()) << answer.size() << " bytes";
  int series = 0;
  for (size_t at = body->find("\nbig_series{"); at != std::string::npos;
       at = body->find("\nbig_series{", at + 1)) {
    ++series;
  }
  EXPECT_EQ(series, kBigSeries);
  EXPECT_TRUE(absl::EndsWith(*body, "\n"));

  EXPECT_EQ(fedgate.process->WaitFor(absl::Seconds(60)), 0)
      << fedgate.process->Stderr();
  EXPECT_TRUE(absl::StrContains(fedgate.process->Stderr(),
                                "msg=\"Received signal, exiting gracefully\""))
      << fedgate.process->Stderr();
}

TEST(LifecycleE2eTest, SigtermFinishesAGrpcStreamInProgress) {
  LoopbackTarget big(BigBody());
  FedgateProcess fedgate = Start("sigterm_grpc", ConfigYaml(big.address()), {},
                                 FedgateGrpc::kOnLoopback);
  ASSERT_NE(fedgate.process, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return ReadyStatus(fedgate.web_port) == 200; },
                        absl::Seconds(60)))
      << fedgate.process->Stderr();
  const std::string address = absl::StrCat("127.0.0.1:", fedgate.grpc_port);
  std::unique_ptr<v1::Fedgate::Stub> stub = v1::Fedgate::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(120));
  v1::FederateRequest request;
  request.add_match("big_series");
  auto reader = stub->Federate(&context, request);
  io::prometheus::client::MetricFamily family;
  ASSERT_TRUE(reader->Read(&family));  // The stream has begun.
  int metrics = family.metric_size();

  ASSERT_EQ(kill(fedgate.process->pid(), SIGTERM), 0);
  // A new call on a new connection fails once the listener is closed.
  EXPECT_TRUE(WaitUntil(
      [&] {
        grpc::ChannelArguments args;
        args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // No reuse.
        std::unique_ptr<v1::Fedgate::Stub> fresh =
            v1::Fedgate::NewStub(grpc::CreateCustomChannel(
                address, grpc::InsecureChannelCredentials(), args));
        grpc::ClientContext probe;
        probe.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(2));
        v1::ListTargetsResponse targets;
        return !fresh->ListTargets(&probe, v1::ListTargetsRequest(), &targets)
                    .ok();
      },
      absl::Seconds(30)));
  EXPECT_FALSE(fedgate.process->WaitFor(absl::ZeroDuration()).has_value());

  // The stream in progress ends whole and OK.
  while (reader->Read(&family)) metrics += family.metric_size();
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(metrics, kBigSeries);
  EXPECT_EQ(fedgate.process->WaitFor(absl::Seconds(60)), 0)
      << fedgate.process->Stderr();
}

TEST(LifecycleE2eTest, AnswersStillUnreadAtTheShutdownTimeoutAreCut) {
  LoopbackTarget big(BigBody());
  FedgateProcess fedgate = Start("shutdown_timeout", ConfigYaml(big.address()),
                                 {"--web.shutdown-timeout=1s"});
  ASSERT_NE(fedgate.process, nullptr);
  const int port = fedgate.web_port;
  ASSERT_TRUE(
      WaitUntil([&] { return ReadyStatus(port) == 200; }, absl::Seconds(60)))
      << fedgate.process->Stderr();
  RawConnection reader(port);
  std::string answer;
  ASSERT_TRUE(BeginBigFederate(reader, &answer)) << answer;

  // The client reads nothing more: fedgate exits cleanly at the deadline.
  ASSERT_EQ(kill(fedgate.process->pid(), SIGTERM), 0);
  EXPECT_EQ(fedgate.process->WaitFor(absl::Seconds(60)), 0)
      << fedgate.process->Stderr();
  EXPECT_TRUE(
      absl::StrContains(fedgate.process->Stderr(), "Shutdown timeout reached"))
      << fedgate.process->Stderr();
  // What was sent ends without the last chunk.
  EXPECT_FALSE(reader.ReadUntil("\r\n0\r\n\r\n", absl::Seconds(30), &answer));
}

TEST(LifecycleE2eTest, NotReadyUntilAHangingTargetHasFailedOnce) {
  LoopbackTarget good(kRequestsAndLatencyText);
  LoopbackTarget hanging(kRequestsAndLatencyText);
  // Its scrapes wait for Release(), which comes only at the end: fedgate's
  // first scrape of it fails at the 5 s scrape timeout.
  hanging.Hold();
  FedgateProcess fedgate = Start(
      "not_ready", absl::StrCat("global:\n"
                                "  scrape_interval: 5s\n"
                                "  scrape_timeout: 5s\n"
                                "scrape_configs:\n",
                                StaticScrapeJob("good", good.address()),
                                StaticScrapeJob("hanging", hanging.address())));
  ASSERT_NE(fedgate.process, nullptr);
  const int port = fedgate.web_port;
  httplib::Result res = HttpGet(port, "/-/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "Service Unavailable");
  res = HttpGet(port, "/federate?match[]=up");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  res = HttpGet(port, "/api/v1/targets");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  res = HttpGet(port, "/-/healthy");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  ASSERT_TRUE(
      WaitUntil([&] { return ReadyStatus(port) == 200; }, absl::Seconds(60)))
      << fedgate.process->Stderr();
  // Ready with the hanging target down, its scrape failed once.
  const std::string up = FederateText(port, "up");
  EXPECT_TRUE(
      absl::StrContains(up, absl::StrCat("up{instance=\"", hanging.address(),
                                         "\",job=\"hanging\"} 0 ")))
      << up;
  EXPECT_TRUE(absl::StrContains(
      up,
      absl::StrCat("up{instance=\"", good.address(), "\",job=\"good\"} 1 ")))
      << up;
  EXPECT_EQ(fedgate.process->Stop(), 0) << fedgate.process->Stderr();
}

TEST(LifecycleE2eTest, QuitAndReloadNeedTheLifecycleSwitch) {
  LoopbackTarget good(kRequestsAndLatencyText);
  const std::string config =
      absl::StrCat("global:\n  scrape_interval: 1s\nscrape_configs:\n",
                   StaticScrapeJob("good", good.address()));
  FedgateProcess off = Start("lifecycle_off", config);
  ASSERT_NE(off.process, nullptr);
  httplib::Client client = LoopbackClient(off.web_port);
  for (const char* path : {"/-/quit", "/-/reload"}) {
    httplib::Result res = client.Post(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 403) << path;
    EXPECT_EQ(res->body, "Lifecycle API is not enabled.") << path;
  }
  EXPECT_FALSE(off.process->WaitFor(absl::ZeroDuration()).has_value());
  httplib::Result healthy = client.Get("/-/healthy");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);

  FedgateProcess on = Start("lifecycle_on", config, {"--web.enable-lifecycle"});
  ASSERT_NE(on.process, nullptr);
  httplib::Client on_client = LoopbackClient(on.web_port);
  httplib::Result res = on_client.Post("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = on_client.Post("/-/quit");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "Requesting termination... Goodbye!");
  EXPECT_EQ(on.process->WaitFor(absl::Seconds(60)), 0) << on.process->Stderr();
  EXPECT_TRUE(absl::StrContains(
      on.process->Stderr(),
      "msg=\"Received termination request via web service, exiting "
      "gracefully...\""))
      << on.process->Stderr();
}

// A directory laid out as the kubelet lays out a ConfigMap volume: each
// file a link through `..data` to a directory of the current version, which
// an update writes whole and then swaps in with one rename of `..data`.
class ConfigMapVolume {
 public:
  explicit ConfigMapVolume(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  // Publishes a new version holding `files` (name -> contents).
  void Update(const std::vector<std::pair<std::string, std::string>>& files) {
    const std::string version = absl::StrCat("..v", ++versions_);
    std::filesystem::create_directories(absl::StrCat(dir_, "/", version));
    for (const auto& [name, text] : files) {
      EXPECT_TRUE(WriteFile(absl::StrCat(dir_, "/", version, "/", name), text));
      const std::string link = absl::StrCat(dir_, "/", name);
      if (!std::filesystem::is_symlink(link)) {
        std::filesystem::create_symlink(absl::StrCat("..data/", name), link);
      }
    }
    const std::string next = absl::StrCat(dir_, "/..data_tmp");
    std::filesystem::create_symlink(version, next);
    std::filesystem::rename(next, absl::StrCat(dir_, "/..data"));
  }
  std::string Path(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }

 private:
  std::string dir_;
  int versions_ = 0;
};

// Returns how many times `text` occurs in `haystack`.
int Occurrences(absl::string_view haystack, absl::string_view text) {
  int n = 0;
  for (size_t at = haystack.find(text); at != absl::string_view::npos;
       at = haystack.find(text, at + text.size())) {
    ++n;
  }
  return n;
}

// --config.auto-reload-interval reloads a changed configuration or rule file
// (here a ConfigMap volume updated as the kubelet does), retries a broken one
// at every interval while the running one keeps serving, and leaves files
// rewritten with the same bytes alone.
TEST(LifecycleE2eTest, AutoReloadFollowsAConfigMapVolume) {
  LoopbackTarget a(kRequestsAndLatencyText);
  LoopbackTarget b(kRequestsAndLatencyText);
  const std::string head =
      "global:\n  scrape_interval: 1s\nrule_files: [rules.yml]\n"
      "scrape_configs:\n";
  const std::string rules =
      "groups:\n  - name: g\n    rules:\n      - record: job:requests:sum\n"
      "        expr: sum by (job) (http_requests_total)\n";
  ConfigMapVolume volume(absl::StrCat(TestTempDir(), "/configmap"));
  volume.Update(
      {{"fedgate.yml", absl::StrCat(head, StaticScrapeJob("a", a.address()))},
       {"rules.yml", rules}});
  absl::StatusOr<FedgateProcess> started = StartFedgate(
      volume.Path("fedgate.yml"), absl::StrCat(TestTempDir(), "/autoreload"),
      FedgateGrpc::kOff, {"--config.auto-reload-interval=1s"});
  ASSERT_TRUE(started.ok()) << started.status();
  FedgateProcess& fedgate = *started;
  const int port = fedgate.web_port;
  ASSERT_TRUE(
      WaitUntil([&] { return ReadyStatus(port) == 200; }, absl::Seconds(60)))
      << fedgate.process->Stderr();
  auto jobs_up = [&] { return FederateText(port, "up"); };
  auto reload_successful = [&] {
    httplib::Result res = HttpGet(port, "/metrics");
    return res && absl::StrContains(
                      res->body, "\nfedgate_config_last_reload_successful 1\n");
  };
  EXPECT_TRUE(absl::StrContains(fedgate.process->Stderr(),
                                "msg=\"Enabled automatic configuration file "
                                "reloading. Checking for configuration "
                                "changes every\" interval=1s"))
      << fedgate.process->Stderr();
  EXPECT_FALSE(absl::StrContains(jobs_up(), "job=\"b\""));

  // A second job.
  const std::string two_jobs =
      absl::StrCat(head, StaticScrapeJob("a", a.address()),
                   StaticScrapeJob("b", b.address()));
  volume.Update({{"fedgate.yml", two_jobs}, {"rules.yml", rules}});
  EXPECT_TRUE(
      WaitUntil([&] { return absl::StrContains(jobs_up(), "job=\"b\""); },
                absl::Seconds(20)))
      << fedgate.process->Stderr();
  EXPECT_TRUE(reload_successful());
  EXPECT_EQ(Occurrences(fedgate.process->Stderr(),
                        "msg=\"Configuration file change detected, reloading "
                        "the configuration.\""),
            1)
      << fedgate.process->Stderr();

  // Only the rule file changes: a rule renamed.
  const std::string renamed =
      absl::StrReplaceAll(rules, {{"job:requests:sum", "job:requests:total"}});
  volume.Update({{"fedgate.yml", two_jobs}, {"rules.yml", renamed}});
  EXPECT_TRUE(WaitUntil(
      [&] {
        return absl::StrContains(FederateText(port, "job:requests:total"),
                                 "job:requests:total{job=\"b\",");
      },
      absl::Seconds(20)))
      << fedgate.process->Stderr();

  // A broken rule file: the running configuration keeps serving, and the
  // reload is tried again at each interval.
  volume.Update({{"fedgate.yml", two_jobs}, {"rules.yml", "groups: [\n"}});
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Occurrences(fedgate.process->Stderr(),
                           "msg=\"Error reloading config\"") >= 2;
      },
      absl::Seconds(20)))
      << fedgate.process->Stderr();
  EXPECT_FALSE(reload_successful());
  EXPECT_TRUE(absl::StrContains(jobs_up(), "job=\"b\""));
  EXPECT_TRUE(absl::StrContains(FederateText(port, "job:requests:total"),
                                "job:requests:total{job=\"b\","));

  // Fixed, then the same bytes published again: one reload, not two.
  volume.Update({{"fedgate.yml", two_jobs}, {"rules.yml", renamed}});
  EXPECT_TRUE(WaitUntil(reload_successful, absl::Seconds(20)))
      << fedgate.process->Stderr();
  const int completed =
      Occurrences(fedgate.process->Stderr(),
                  "msg=\"Completed loading of configuration file\"");
  volume.Update({{"fedgate.yml", two_jobs}, {"rules.yml", renamed}});
  absl::SleepFor(absl::Seconds(3));
  EXPECT_EQ(Occurrences(fedgate.process->Stderr(),
                        "msg=\"Completed loading of configuration file\""),
            completed)
      << fedgate.process->Stderr();
  EXPECT_EQ(fedgate.process->Stop(), 0);
}

TEST(LifecycleE2eTest, CorsOriginFlagDecidesWhichOriginsMayRead) {
  LoopbackTarget good(kRequestsAndLatencyText);
  FedgateProcess fedgate =
      Start("cors",
            absl::StrCat("global:\n  scrape_interval: 1s\nscrape_configs:\n",
                         StaticScrapeJob("good", good.address())),
            {R"(--web.cors.origin=https?://grafana\.example)"});
  ASSERT_NE(fedgate.process, nullptr);
  const int port = fedgate.web_port;
  ASSERT_TRUE(
      WaitUntil([&] { return ReadyStatus(port) == 200; }, absl::Seconds(60)))
      << fedgate.process->Stderr();
  struct Case {
    const char* origin;
    const char* allowed;  // Access-Control-Allow-Origin, "" when absent.
  };
  const Case cases[] = {
      {"https://grafana.example", "https://grafana.example"},
      {"http://grafana.example", "http://grafana.example"},
      {"https://grafana.example.evil", ""},
      {"https://evil.example", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.origin);
    httplib::Result res =
        HttpGet(port, "/api/v1/labels", {{"Origin", c.origin}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), c.allowed);
    EXPECT_EQ(res->get_header_value("Vary"), "Origin");
    EXPECT_EQ(res->get_header_value("Access-Control-Allow-Methods"),
              "GET, POST, OPTIONS");
  }
  // A value that is no regex is a command-line error, exit status 2.
  absl::StatusOr<std::unique_ptr<Subprocess>> bad =
      Subprocess::Start({kFedgateBinary, "--web.cors.origin=(grafana"},
                        absl::StrCat(TestTempDir(), "/cors_bad"));
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ((*bad)->WaitFor(absl::Seconds(30)), 2);
  EXPECT_TRUE(absl::StrContains(
      (*bad)->Stderr(),
      "fedgate: error: invalid value \"(grafana\" for flag --web.cors.origin: "
      "could not compile CORS regex string: error parsing regexp: missing "
      "closing ): "))
      << (*bad)->Stderr();
}

}  // namespace
}  // namespace fedgate
