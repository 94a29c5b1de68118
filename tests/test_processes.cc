#include "tests/test_processes.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

// Returns the port logged as ` <key>=PORT` in `log`, or 0.
int LoggedPort(const std::string& log, absl::string_view key) {
  const std::string needle = absl::StrCat(" ", key, "=");
  const size_t at = log.find(needle);
  if (at == std::string::npos) return 0;
  const size_t start = at + needle.size();
  size_t end = start;
  while (end < log.size() && absl::ascii_isdigit(log[end])) ++end;
  int port = 0;
  if (!absl::SimpleAtoi(log.substr(start, end - start), &port)) return 0;
  return port;
}

// Waits up to `timeout` for `done` while `process` starts: DeadlineExceeded
// "<what> within <timeout>; stderr:\n<its stderr>" if it never held.
absl::Status AwaitStartup(const Subprocess& process, absl::string_view what,
                          absl::Duration timeout,
                          const std::function<bool()>& done) {
  if (WaitUntil(done, timeout)) return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat(what, " within ", absl::FormatDuration(timeout),
                   "; stderr:\n", process.Stderr()));
}

}  // namespace

std::string TestTempDir() {
  const char* dir = getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string StaticScrapeJob(absl::string_view job_name,
                            absl::string_view address) {
  return absl::StrCat("  - job_name: ", job_name,
                      "\n"
                      "    static_configs:\n"
                      "      - targets: ['",
                      address, "']\n");
}

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string NoAuthenticationFlag(const std::string& dir) {
  const std::string path = dir + "/no-auth-web.yml";
  WriteFile(path, "authentication:\n  disabled: true\n");
  return "--web.config.file=" + path;
}

absl::StatusOr<FedgateProcess> StartFedgate(
    const std::string& config_path, const std::string& output_prefix,
    FedgateGrpc grpc, const std::vector<std::string>& extra_flags,
    const std::vector<std::string>& env) {
  const bool with_grpc = grpc == FedgateGrpc::kOnLoopback;
  std::vector<std::string> argv = {
      kFedgateBinary, "--config.file=" + config_path,
      "--web.listen-address=127.0.0.1:0",
      with_grpc ? "--grpc.listen-address=127.0.0.1:0"
                : "--grpc.listen-address="};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  if (std::none_of(extra_flags.begin(), extra_flags.end(),
                   [](const std::string& flag) {
                     return absl::StartsWith(flag, "--web.config.file");
                   })) {
    const size_t slash = output_prefix.rfind('/');
    argv.push_back(NoAuthenticationFlag(
        slash == std::string::npos ? "." : output_prefix.substr(0, slash)));
  }
  absl::StatusOr<std::unique_ptr<Subprocess>> process =
      Subprocess::Start(argv, output_prefix, env);
  if (!process.ok()) return process.status();
  FedgateProcess fedgate;
  fedgate.process = *std::move(process);
  const absl::Status started = AwaitStartup(
      *fedgate.process, "fedgate logged no ports", absl::Seconds(30), [&] {
        const std::string log = fedgate.process->Stderr();
        fedgate.web_port = LoggedPort(log, "web");
        fedgate.grpc_port = LoggedPort(log, "grpc");
        return fedgate.web_port > 0 && (!with_grpc || fedgate.grpc_port > 0);
      });
  if (!started.ok()) return started;
  return fedgate;
}

absl::StatusOr<PrometheusProcess> StartPrometheus(
    const std::string& config_path, const std::string& dir) {
  PrometheusProcess prometheus;
  prometheus.port = FreeLoopbackPort();
  if (prometheus.port == 0) {
    return absl::UnavailableError("no free port on 127.0.0.1");
  }
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(
      {kPrometheusBinary, "--config.file=" + config_path,
       "--storage.tsdb.path=" + dir + "/prometheus-data",
       absl::StrCat("--web.listen-address=127.0.0.1:", prometheus.port)},
      dir + "/prometheus");
  if (!process.ok()) return process.status();
  prometheus.process = *std::move(process);
  const absl::Status ready = AwaitStartup(
      *prometheus.process, "prometheus not ready", absl::Seconds(60), [&] {
        httplib::Result res = HttpGet(prometheus.port, "/-/ready");
        return res && res->status == 200;
      });
  if (!ready.ok()) return ready;
  return prometheus;
}

httplib::Client LoopbackClient(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  return client;
}

httplib::Result HttpGet(int port, const std::string& path_and_query,
                        const httplib::Headers& headers) {
  return LoopbackClient(port).Get(path_and_query, headers);
}

absl::Status PromtoolCheckMetrics(const std::string& text) {
  std::string output;
  absl::StatusOr<int> exit_code = RunWithInput(
      {kPromtoolBinary, "check", "metrics"}, text, absl::Seconds(60), &output);
  if (!exit_code.ok()) return exit_code.status();
  // 3: lint findings only (missing HELP, counter names), not errors.
  if ((*exit_code != 0 && *exit_code != 3) ||
      absl::StrContains(output, "error")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "promtool check metrics exited ", *exit_code, ": ", output));
  }
  return absl::OkStatus();
}

absl::Status PromtoolCheckConfig(const std::string& path) {
  std::string output;
  absl::StatusOr<int> exit_code =
      RunWithInput({kPromtoolBinary, "check", "config", path}, "",
                   absl::Seconds(60), &output);
  if (!exit_code.ok()) return exit_code.status();
  if (*exit_code != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "promtool check config exited ", *exit_code, ": ", output));
  }
  return absl::OkStatus();
}

std::string FederateText(int port, const std::string& match) {
  const httplib::Params params = {{"match[]", match}};
  httplib::Result res = LoopbackClient(port).Get(
      "/federate", params, httplib::Headers{}, httplib::Progress{});
  if (!res || res->status != 200) return "";
  if (!res->body.empty()) {
    absl::Status checked = PromtoolCheckMetrics(res->body);
    EXPECT_TRUE(checked.ok())
        << checked << "\nthe answer to match[]=" << match << ":\n"
        << res->body;
  }
  return res->body;
}

LoopbackTarget::LoopbackTarget(std::string body, std::string host)
    : host_(std::move(host)), body_(std::move(body)) {
  server_.Get(
      "/metrics", [this](const httplib::Request&, httplib::Response& res) {
        if (held_) {
          release_.WaitForNotificationWithTimeout(absl::Seconds(60));
        }
        absl::MutexLock lock(&mu_);
        res.status = status_;
        res.set_content(body_, "text/plain; version=0.0.4; charset=utf-8");
      });
  port_ = server_.bind_to_any_port(host_);
  thread_ = std::thread([this] { server_.listen_after_bind(); });
}

LoopbackTarget::~LoopbackTarget() {
  Release();
  server_.stop();
  thread_.join();
}

void LoopbackTarget::Serve(int status, std::string body) {
  absl::MutexLock lock(&mu_);
  status_ = status;
  body_ = std::move(body);
}

void LoopbackTarget::Release() {
  if (!release_.HasBeenNotified()) release_.Notify();
}

std::string LoopbackTarget::address() const {
  return absl::StrCat(host_, ":", port_);
}

absl::StatusOr<PrometheusAndFedgate> StartPrometheusAndFedgate(
    const std::string& config, const std::string& dir,
    const std::string& name) {
  const std::string path = absl::StrCat(dir, "/", name, ".yml");
  if (!WriteFile(path, config)) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  absl::StatusOr<PrometheusProcess> prometheus = StartPrometheus(path, dir);
  if (!prometheus.ok()) return prometheus.status();
  absl::StatusOr<FedgateProcess> fedgate = StartFedgate(path, dir + "/fedgate");
  if (!fedgate.ok()) {
    prometheus->process->Stop();
    return fedgate.status();
  }
  PrometheusAndFedgate both;
  both.prometheus = std::move(prometheus->process);
  both.prometheus_port = prometheus->port;
  both.fedgate = std::move(fedgate->process);
  both.fedgate_port = fedgate->web_port;
  return both;
}

absl::StatusOr<std::string> DocsExample(absl::string_view marker,
                                        absl::string_view page) {
  const std::string file = ReadFileOrEmpty(std::string(page));
  const absl::string_view docs = file;
  const size_t at = docs.find(marker);
  if (at == absl::string_view::npos) {
    return absl::NotFoundError(absl::StrCat("no ", marker, " in ", page));
  }
  // The fence and its language (```yaml, ```promql), through the newline.
  const size_t fence = docs.find("```", at);
  const size_t begin =
      fence == absl::string_view::npos ? fence : docs.find('\n', fence);
  if (begin == absl::string_view::npos) {
    return absl::NotFoundError(absl::StrCat("no code block after ", marker));
  }
  const size_t end = docs.find("```", begin + 1);
  if (end == absl::string_view::npos) {
    return absl::NotFoundError(
        absl::StrCat("unterminated block after ", marker));
  }
  return std::string(docs.substr(begin + 1, end - begin - 1));
}

}  // namespace fedgate
