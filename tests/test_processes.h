// tests/test_processes.h
//
// The set-up the cross-stage tests share: the real fedgate binary started on
// a configuration file (its ports read from its log line
// `msg="Server is ready to receive web requests." web=PORT grpc=PORT`), the
// real Prometheus 2.42 started in a temp dir and waited for until ready, a
// loopback scrape target whose body and status the test changes, and GETs
// from 127.0.0.1. Everything listens on 127.0.0.1, every wait is bounded, and
// every process is stopped by its PID (`Subprocess`'s destructor). Test code
// only, never on a hot path.
//
// Thread-safety: `LoopbackTarget` is thread-safe (its server thread reads what
// the test thread sets); the rest is thread-compatible.

#ifndef FEDGATE_TESTS_TEST_PROCESSES_H_
#define FEDGATE_TESTS_TEST_PROCESSES_H_

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "tests/subprocess.h"

namespace fedgate {

// The binaries, relative to the runfiles directory or absolute (Debian).
inline constexpr char kFedgateBinary[] = "gateway/fedgate";
inline constexpr char kPrometheusBinary[] = "/usr/bin/prometheus";
inline constexpr char kPromtoolBinary[] = "/usr/bin/promtool";

// Returns the test's scratch directory ($TEST_TMPDIR, else /tmp).
std::string TestTempDir();

// Returns a port that was free on 127.0.0.1 a moment ago (bound to port 0,
// then closed), or 0 on error. For programs that cannot listen on port 0 and
// report the port (Prometheus).
int FreeLoopbackPort();

// The counter and histogram families that the federation tests' targets serve
// first, in the text format: `http_requests_total` (two series) and
// `rpc_latency_seconds` (two buckets), with HELP and TYPE.
inline constexpr char kRequestsAndLatencyText[] =
    "# HELP http_requests_total Requests served.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{code=\"200\",method=\"get\"} 1027\n"
    "http_requests_total{code=\"500\",method=\"get\"} 3\n"
    "# HELP rpc_latency_seconds RPC latency.\n"
    "# TYPE rpc_latency_seconds histogram\n"
    "rpc_latency_seconds_bucket{le=\"0.1\"} 5\n"
    "rpc_latency_seconds_bucket{le=\"+Inf\"} 7\n"
    "rpc_latency_seconds_sum 1.25\n"
    "rpc_latency_seconds_count 7\n";

// Returns one `scrape_configs:` entry in YAML: the job `job_name` with the one
// static target `address` (`HOST:PORT`). Its last line is the `targets:` line,
// so a caller may append the group's `labels:` (at 8 spaces).
std::string StaticScrapeJob(absl::string_view job_name,
                            absl::string_view address);

// Whether fedgate also opens its gRPC listener.
enum class FedgateGrpc { kOff, kOnLoopback };

// A running fedgate and the ports it logged.
struct FedgateProcess {
  std::unique_ptr<Subprocess> process;
  int web_port = 0;
  int grpc_port = 0;  // 0 with FedgateGrpc::kOff.
};

// Writes `<dir>/no-auth-web.yml`, a web config with `authentication:
// {disabled: true}`, and returns the flag that points fedgate at it: outside
// a cluster fedgate's default authentication (Kubernetes service account
// tokens) cannot start, and tests serve loopback clients without tokens.
std::string NoAuthenticationFlag(const std::string& dir);

// Starts fedgate on `config_path` with its web listener (and, with
// FedgateGrpc::kOnLoopback, its gRPC listener) on 127.0.0.1 port 0, output in
// `<output_prefix>.stdout` and `.stderr`; waits up to 30 s for the ports in
// its log line. DeadlineExceeded (with fedgate's stderr) if none came; the
// process is then stopped.
// `extra_flags` are added to the command line; without a
// `--web.config.file` among them, NoAuthenticationFlag() of the output's
// directory is. `env` (`NAME=value` each) is set in fedgate's environment.
absl::StatusOr<FedgateProcess> StartFedgate(
    const std::string& config_path, const std::string& output_prefix,
    FedgateGrpc grpc = FedgateGrpc::kOff,
    const std::vector<std::string>& extra_flags = {},
    const std::vector<std::string>& env = {});

// Returns the code block (```yaml, ```promql, ...) of `page`
// (docs/configuration.md unless given) that follows `marker` (an HTML comment
// such as `<!-- example: dedup-k3s -->`), as users copy it.
absl::StatusOr<std::string> DocsExample(
    absl::string_view marker, absl::string_view page = "docs/configuration.md");

// A running Prometheus and its web port.
struct PrometheusProcess {
  std::unique_ptr<Subprocess> process;
  int port = 0;
};

// Starts Prometheus 2.42 on `config_path` with its TSDB in
// `<dir>/prometheus-data`, output in `<dir>/prometheus.stdout` and `.stderr`,
// listening on a free 127.0.0.1 port; waits up to 60 s until /-/ready answers
// 200. Unavailable if no free port was found; DeadlineExceeded (with its
// stderr) if it was not ready in time; the process is then stopped.
absl::StatusOr<PrometheusProcess> StartPrometheus(
    const std::string& config_path, const std::string& dir);

// Prometheus 2.42 and fedgate, both started on one configuration: the pair
// of a differential test.
struct PrometheusAndFedgate {
  std::unique_ptr<Subprocess> prometheus;
  int prometheus_port = 0;
  std::unique_ptr<Subprocess> fedgate;
  int fedgate_port = 0;
};

// Writes `config` to `<dir>/<name>.yml` and starts Prometheus
// (StartPrometheus, its files in `dir`) and fedgate (StartFedgate, its files
// in `<dir>/fedgate`) on it; the first error stops what was started.
absl::StatusOr<PrometheusAndFedgate> StartPrometheusAndFedgate(
    const std::string& config, const std::string& dir, const std::string& name);

// Returns a client for 127.0.0.1:`port` with bounded waits (5 s to connect,
// 10 s per read).
httplib::Client LoopbackClient(int port);

// GETs `path_and_query` (already URL-encoded) from 127.0.0.1:`port` with
// LoopbackClient's bounds.
httplib::Result HttpGet(int port, const std::string& path_and_query,
                        const httplib::Headers& headers = {});

// Runs `promtool check metrics` on `text`: InvalidArgument with promtool's
// output if it finds an error (lint findings alone pass).
absl::Status PromtoolCheckMetrics(const std::string& text);

// Runs `promtool check config` on the file at `path`: InvalidArgument with
// promtool's output unless it accepts it (the oracle must take a test's
// configuration as it is).
absl::Status PromtoolCheckConfig(const std::string& path);

// GETs /federate?match[]=`match` (encoded here) from 127.0.0.1:`port`;
// returns the body of a 200 answer, "" for anything else. Every non-empty
// answer must pass PromtoolCheckMetrics (a test failure otherwise): nothing
// fedgate serves may break an upstream's scrape.
std::string FederateText(int port, const std::string& match);

// One scrape target on a loopback address (127.0.0.1 unless given; any
// 127.0.0.0/8 address, e.g. 127.0.0.2 as a second node), port 0: GET /metrics
// answers the status and text-format body last set. `Hold()` makes scrapes wait
// until `Release()` (60 s at most), e.g. to keep fedgate's first scrape from
// finishing.
class LoopbackTarget {
 public:
  // Starts serving `body` with status 200 on its own thread.
  explicit LoopbackTarget(std::string body = "",
                          std::string host = "127.0.0.1");
  // Releases held scrapes, stops the server and joins its thread.
  ~LoopbackTarget();
  LoopbackTarget(const LoopbackTarget&) = delete;
  LoopbackTarget& operator=(const LoopbackTarget&) = delete;

  // Makes the next scrapes answer `status` with `body`.
  void Serve(int status, std::string body) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes scrapes wait for `Release()`; once released, they never wait again.
  void Hold() { held_ = true; }
  void Release();

  // Returns `HOST:PORT`, as a scrape config's target.
  std::string address() const;

 private:
  httplib::Server server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
  std::atomic<bool> held_{false};
  absl::Notification release_;
  absl::Mutex mu_;
  int status_ ABSL_GUARDED_BY(mu_) = 200;
  std::string body_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_TESTS_TEST_PROCESSES_H_
