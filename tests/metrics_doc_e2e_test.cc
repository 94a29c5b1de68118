// tests/metrics_doc_e2e_test.cc
//
// docs/metrics.md against what the real fedgate exposes on /metrics. One
// fedgate runs with a target of every kind that makes a metric family
// appear: a healthy static target, a failing one (500), a file_sd target,
// a Kubernetes pod (the loopback test API server, whose watches are then
// cut), a /federate answer, a 404, a gRPC call and a cancelled gRPC stream
// (every gRPC method's series exist from the start; these give them values).
// Its /metrics must pass `promtool check metrics`, and its families (name,
// type, label names) must be exactly those of the tables of
// docs/metrics.md. A few values check that the new metrics count what
// they say. About 5 s.
//
// A second fedgate, without targets, says what it was built from: its
// `--version`, `fedgate_build_info` and /api/v1/status/buildinfo must name
// the same version, revision and branch; those of Bazel's workspace status
// of the build (bazel/workspace_status.sh, through :stable_status); and,
// when git can read the source tree (a git checkout, found through the
// runfile docs/metrics.md), its HEAD commit and branch. Under a second.

#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/substitute.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/fedgate.grpc.pb.h"
#include "scraper/discovery/kubernetes_test_server.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

constexpr char kMetricsDoc[] = "docs/metrics.md";
// Bazel's stable workspace status of this build (//tests:stable_status).
constexpr char kStableStatus[] = "tests/stable-status.txt";
constexpr char kGit[] = "/usr/bin/git";

// A metric family: its type and the names of its labels (`le` left out).
struct Family {
  std::string type;
  std::set<std::string> labels;
  bool operator==(const Family& o) const {
    return type == o.type && labels == o.labels;
  }
};

std::string Describe(const Family& f) {
  return absl::StrCat(f.type, " {", absl::StrJoin(f.labels, ","), "}");
}

// The families of a text-format exposition, from its TYPE lines and the
// label names of its samples.
std::map<std::string, Family> ExposedFamilies(const std::string& text) {
  std::map<std::string, Family> families;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      if (parts.size() == 2) families[parts[0]].type = parts[1];
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const size_t brace = line.find('{');
    if (brace == absl::string_view::npos) continue;
    std::string name(line.substr(0, brace));
    if (families.count(name) == 0) {
      for (absl::string_view suffix : {"_bucket", "_sum", "_count"}) {
        absl::string_view base = name;
        if (absl::ConsumeSuffix(&base, suffix) &&
            families.count(std::string(base)) != 0) {
          name = std::string(base);
        }
      }
    }
    // Label names: what precedes each `="`.
    absl::string_view rest = line.substr(brace + 1);
    while (true) {
      const size_t eq = rest.find("=\"");
      if (eq == absl::string_view::npos) break;
      std::string label(absl::StripAsciiWhitespace(rest.substr(0, eq)));
      if (label != "le") families[name].labels.insert(label);
      // Skip the value (fedgate's label values hold no escaped quote).
      const size_t end = rest.find('"', eq + 2);
      if (end == absl::string_view::npos) break;
      rest = rest.substr(end + 1);
      absl::ConsumePrefix(&rest, ",");
    }
  }
  return families;
}

// The families of the tables of docs/metrics.md: rows
// `| `name` | type | `label`, `label` | meaning |`.
std::map<std::string, Family> DocumentedFamilies(const std::string& doc) {
  std::map<std::string, Family> families;
  for (absl::string_view line : absl::StrSplit(doc, '\n')) {
    if (!absl::StartsWith(line, "| `")) continue;
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    // "", name, type, labels, meaning, "".
    if (cells.size() < 5) {
      ADD_FAILURE() << "bad row: " << line;
      continue;
    }
    const std::string name(absl::StripSuffix(
        absl::StripPrefix(absl::StripAsciiWhitespace(cells[1]), "`"), "`"));
    Family family;
    family.type = std::string(absl::StripAsciiWhitespace(cells[2]));
    for (absl::string_view label : absl::StrSplit(cells[3], ',')) {
      label = absl::StripAsciiWhitespace(label);
      if (label.empty()) continue;
      family.labels.insert(
          std::string(absl::StripSuffix(absl::StripPrefix(label, "`"), "`")));
    }
    EXPECT_EQ(families.count(name), 0u) << name << " listed twice";
    families[name] = family;
  }
  return families;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Returns the value of the sample `series` (its whole text before the
// value, labels in the order fedgate writes them: sorted) in `text`, or -1.
double SampleValue(const std::string& text, absl::string_view series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, series) || !absl::StartsWith(line, " ")) {
      continue;
    }
    double value = 0;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(line), &value)) {
      return value;
    }
  }
  return -1;
}

std::string Metrics(int port) {
  httplib::Result res = HttpGet(port, "/metrics");
  return res && res->status == 200 ? res->body : "";
}

// Waits up to 20 s until `done(/metrics)`.
bool WaitForMetrics(int port,
                    const std::function<bool(const std::string&)>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (done(Metrics(port))) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

std::string PodJson(const std::string& ip, int port) {
  return absl::Substitute(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"app-0",
        "namespace":"default","uid":"uid-app-0","labels":{"app":"app"}},
        "spec":{"nodeName":"node-a","containers":[{"name":"app",
          "image":"app:v1","ports":[{"name":"metrics","containerPort":$1,
          "protocol":"TCP"}]}]},
        "status":{"phase":"Running","podIP":"$0","hostIP":"127.0.0.1",
          "conditions":[{"type":"Ready","status":"True"}]}})",
      ip, port);
}

TEST(MetricsDocE2eTest,
     EveryExposedFamilyIsDocumentedAndEveryDocumentedOneExposed) {
  LoopbackTarget healthy(kRequestsAndLatencyText);
  LoopbackTarget failing;
  failing.Serve(500, "broken\n");
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> api =
      KubernetesTestServer::Start({});
  ASSERT_TRUE(api.ok()) << api.status();
  const std::string healthy_address = healthy.address();
  const int healthy_port =
      std::stoi(healthy_address.substr(healthy_address.rfind(':') + 1));
  ASSERT_TRUE((*api)->Create(PodJson("127.0.0.1", healthy_port)).ok());

  const std::string dir = TestTempDir();
  const std::string sd_file = absl::StrCat(dir, "/metrics-doc-sd.json");
  {
    std::ofstream(sd_file) << R"([{"targets":[")" << healthy_address
                           << R"("],"labels":{"via":"file"}}])";
  }
  // An aggregation rule makes the fedgate_rule_* series appear.
  const std::string rule_file = absl::StrCat(dir, "/metrics-doc-rules.yml");
  {
    std::ofstream(rule_file) << "groups:\n  - name: jobs\n    rules:\n"
                                "      - record: job:up:sum\n"
                                "        expr: sum by (job) (up)\n";
  }
  const std::string config_path = absl::StrCat(dir, "/metrics-doc.yml");
  {
    std::ofstream(config_path) << absl::Substitute(
        R"(global:
  scrape_interval: 1s
  scrape_timeout: 1s
rule_files: ['$4']
scrape_configs:
$0
$1
  - job_name: files
    file_sd_configs:
      - files: ['$2']
  - job_name: kubernetes
    kubernetes_sd_configs:
      - role: pod
        api_server: $3
        namespaces:
          names: [default]
)",
        StaticScrapeJob("healthy", healthy_address),
        StaticScrapeJob("failing", failing.address()), sd_file, (*api)->url(),
        rule_file);
  }
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, absl::StrCat(dir, "/metrics-doc-fedgate"),
                   FedgateGrpc::kOnLoopback);
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  const int port = fedgate->web_port;

  // Every target scraped once: the failing one down, the others up.
  ASSERT_TRUE(WaitForMetrics(port, [](const std::string& m) {
    return SampleValue(
               m,
               R"(fedgate_scrape_pool_targets{health="down",scrape_job="failing"})") ==
               1 &&
           SampleValue(
               m,
               R"(fedgate_scrape_pool_targets{health="up",scrape_job="healthy"})") ==
               1 &&
           SampleValue(
               m,
               R"(fedgate_scrape_pool_targets{health="up",scrape_job="files"})") ==
               1 &&
           SampleValue(
               m,
               R"(fedgate_scrape_pool_targets{health="up",scrape_job="kubernetes"})") ==
               1;
  })) << Metrics(port);
  // The rule sums `up` per job: one output series per job, from scrapes.
  ASSERT_TRUE(WaitForMetrics(port, [](const std::string& m) {
    return SampleValue(m, "fedgate_rules") == 1 &&
           SampleValue(m, R"(fedgate_rule_output_series{rule="job:up:sum"})") ==
               4 &&
           SampleValue(m, R"(fedgate_rule_input_series{rule="job:up:sum"})") ==
               4 &&
           SampleValue(
               m, R"(fedgate_rule_evaluations_total{rule="job:up:sum"})") >= 4;
  })) << Metrics(port);

  // A change of a file_sd file reaches the scrape manager.
  { std::ofstream(sd_file + ".tmp") << "[]"; }
  ASSERT_EQ(std::rename((sd_file + ".tmp").c_str(), sd_file.c_str()), 0);
  // Cut watches restart.
  (*api)->DropWatches();
  ASSERT_TRUE(WaitForMetrics(port, [](const std::string& m) {
    return SampleValue(
               m,
               R"(fedgate_sd_discovered_targets{config="files",provider="file/2"})") ==
               0 &&
           SampleValue(m, "fedgate_sd_update_latency_seconds_count") >= 1 &&
           absl::StrContains(m, "fedgate_sd_kubernetes_watch_restarts_total{");
  })) << Metrics(port);

  // HTTP: a /federate answer (once fedgate is ready, which its readiness
  // watcher notes within 50 ms of the first scrapes) and a 404.
  const absl::Time ready_deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < ready_deadline) {
    httplib::Result ready = HttpGet(port, "/-/ready");
    if (ready && ready->status == 200) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_NE(FederateText(port, "up"), "");
  httplib::Result missing = HttpGet(port, "/no/such/path");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  // gRPC: a call, and a stream its client cancels at once.
  uint64_t list_targets_bytes = 0;
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", fedgate->grpc_port),
                          grpc::InsecureChannelCredentials());
  std::unique_ptr<v1::Fedgate::Stub> stub = v1::Fedgate::NewStub(channel);
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    v1::ListTargetsResponse response;
    const grpc::Status s =
        stub->ListTargets(&context, v1::ListTargetsRequest(), &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.targets_size(), 3);  // The file_sd one has left.
    list_targets_bytes = response.ByteSizeLong();
  }
  {
    grpc::ClientContext context;
    v1::FederateRequest request;
    request.add_match("{__name__=~\".+\"}");
    std::unique_ptr<grpc::ClientReader<io::prometheus::client::MetricFamily>>
        reader = stub->Federate(&context, request);
    // One message first, so that the call has reached the server: it then
    // ends cancelled, or OK when the server had written every message
    // before the cancellation came.
    io::prometheus::client::MetricFamily family;
    EXPECT_TRUE(reader->Read(&family));
    context.TryCancel();
    while (reader->Read(&family)) {
    }
    reader->Finish();
  }

  std::string text;
  ASSERT_TRUE(WaitForMetrics(port, [&text](const std::string& m) {
    text = m;
    return SampleValue(
               m,
               R"(fedgate_grpc_server_handled_total{grpc_code="OK",grpc_method="ListTargets",grpc_service="fedgate.v1.Fedgate"})") ==
               1 &&
           SampleValue(
               m,
               R"(fedgate_grpc_server_handled_total{grpc_code="Canceled",grpc_method="Federate",grpc_service="fedgate.v1.Fedgate"})") +
                   SampleValue(
                       m,
                       R"(fedgate_grpc_server_handled_total{grpc_code="OK",grpc_method="Federate",grpc_service="fedgate.v1.Fedgate"})") ==
               1 &&
           SampleValue(
               m,
               R"(fedgate_http_requests_total{code="404",handler="other"})") ==
               1 &&
           SampleValue(
               m,
               R"(fedgate_http_requests_total{code="200",handler="/federate"})") ==
               1;
  })) << Metrics(port);

  EXPECT_TRUE(PromtoolCheckMetrics(text).ok()) << PromtoolCheckMetrics(text);
  // gRPC messages and bytes: the ListTargets answer, and the Federate
  // stream's messages up to the cancellation (at least the one read).
  EXPECT_EQ(
      SampleValue(
          text,
          R"(fedgate_grpc_server_msg_sent_total{grpc_method="ListTargets",grpc_service="fedgate.v1.Fedgate",grpc_type="unary"})"),
      1);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(fedgate_grpc_server_response_size_bytes_sum{grpc_method="ListTargets",grpc_service="fedgate.v1.Fedgate"})"),
      list_targets_bytes);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(fedgate_grpc_server_msg_received_total{grpc_method="Federate",grpc_service="fedgate.v1.Fedgate",grpc_type="server_stream"})"),
      1);
  EXPECT_GE(
      SampleValue(
          text,
          R"(fedgate_grpc_server_msg_sent_total{grpc_method="Federate",grpc_service="fedgate.v1.Fedgate",grpc_type="server_stream"})"),
      1);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(fedgate_grpc_server_response_size_bytes_count{grpc_method="Federate",grpc_service="fedgate.v1.Fedgate"})"),
      1);
  EXPECT_EQ(SampleValue(text, "fedgate_federate_series_per_response_count"), 1);
  EXPECT_GT(SampleValue(text, "fedgate_federate_response_size_bytes_sum"), 0);
  EXPECT_GE(SampleValue(
                text, R"(fedgate_scrape_failures_total{scrape_job="failing"})"),
            1);
  EXPECT_EQ(SampleValue(
                text, R"(fedgate_scrape_failures_total{scrape_job="healthy"})"),
            0);
  EXPECT_GE(
      SampleValue(
          text,
          R"(fedgate_scrape_duration_seconds_count{scrape_job="healthy"})"),
      1);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(fedgate_http_request_duration_seconds_count{handler="/federate"})"),
      1);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(fedgate_sd_discovered_targets{config="kubernetes",provider="kubernetes/3"})"),
      1);

  // The families exposed and those documented, both ways.
  const std::map<std::string, Family> exposed = ExposedFamilies(text);
  const std::map<std::string, Family> documented =
      DocumentedFamilies(ReadFile(kMetricsDoc));
  ASSERT_FALSE(documented.empty()) << "no table rows in " << kMetricsDoc;
  for (const auto& [name, family] : exposed) {
    auto it = documented.find(name);
    if (it == documented.end()) {
      ADD_FAILURE() << name << " (" << Describe(family)
                    << ") is exposed but not in " << kMetricsDoc;
    } else {
      EXPECT_EQ(Describe(it->second), Describe(family))
          << name << ": " << kMetricsDoc << " (left) differs from /metrics";
    }
  }
  for (const auto& [name, family] : documented) {
    EXPECT_EQ(exposed.count(name), 1u)
        << name << " is in " << kMetricsDoc << " but not exposed";
  }
}

// What a build says it was built from.
struct BuildStamp {
  std::string version;
  std::string revision;
  std::string branch;
};

std::string Describe(const BuildStamp& b) {
  return absl::StrCat("version ", b.version, ", revision ", b.revision,
                      ", branch ", b.branch);
}

// The text between `before` and the next `after` in `text`, or "".
std::string Between(absl::string_view text, absl::string_view before,
                    absl::string_view after) {
  const size_t start = text.find(before);
  if (start == absl::string_view::npos) return "";
  text.remove_prefix(start + before.size());
  const size_t end = text.find(after);
  return end == absl::string_view::npos ? "" : std::string(text.substr(0, end));
}

// Runs git in the source tree `dir` with `args`; its trimmed output, or
// nullopt unless it exits 0.
std::optional<std::string> Git(const std::string& dir,
                               const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kGit, "--no-optional-locks", "-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  absl::StatusOr<int> code = RunWithInput(argv, "", absl::Seconds(30), &out);
  if (!code.ok() || *code != 0) return std::nullopt;
  return std::string(absl::StripAsciiWhitespace(out));
}

TEST(MetricsDocE2eTest, BuildInfoAndVersionNameTheCommitBuilt) {
  // The binary's --version.
  std::string version_text;
  absl::StatusOr<int> code = RunWithInput({kFedgateBinary, "--version"}, "",
                                          absl::Seconds(30), &version_text);
  ASSERT_TRUE(code.ok()) << code.status();
  ASSERT_EQ(*code, 0) << version_text;
  ASSERT_TRUE(absl::StartsWith(version_text, "fedgate, version "))
      << version_text;
  BuildStamp version;
  version.version = Between(version_text, "fedgate, version ", " (branch: ");
  version.branch = Between(version_text, " (branch: ", ", revision: ");
  version.revision = Between(version_text, ", revision: ", ")\n");

  // The same binary's fedgate_build_info and /api/v1/status/buildinfo.
  const std::string dir = TestTempDir();
  const std::string config_path = absl::StrCat(dir, "/build-info.yml");
  { std::ofstream(config_path) << "scrape_configs: []\n"; }
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, absl::StrCat(dir, "/build-info-fedgate"));
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  std::string info_line;
  for (absl::string_view line :
       absl::StrSplit(Metrics(fedgate->web_port), '\n')) {
    if (absl::StartsWith(line, "fedgate_build_info{")) {
      info_line = std::string(line);
    }
  }
  ASSERT_FALSE(info_line.empty()) << Metrics(fedgate->web_port);
  EXPECT_TRUE(absl::EndsWith(info_line, "} 1")) << info_line;
  BuildStamp metric;
  metric.version = Between(info_line, "version=\"", "\"");
  metric.revision = Between(info_line, "revision=\"", "\"");
  metric.branch = Between(info_line, "branch=\"", "\"");
  // The API answers once fedgate is ready: at once without targets.
  std::string api_body;
  ASSERT_TRUE(WaitUntil(
      [&] {
        httplib::Result api =
            HttpGet(fedgate->web_port, "/api/v1/status/buildinfo");
        if (!api || api->status != 200) return false;
        api_body = api->body;
        return true;
      },
      absl::Seconds(20)));
  BuildStamp buildinfo;
  buildinfo.version = Between(api_body, R"("version":")", "\"");
  buildinfo.revision = Between(api_body, R"("revision":")", "\"");
  buildinfo.branch = Between(api_body, R"("branch":")", "\"");

  EXPECT_FALSE(version.version.empty()) << version_text;
  EXPECT_FALSE(version.revision.empty()) << version_text;
  EXPECT_FALSE(version.branch.empty()) << version_text;
  EXPECT_EQ(Describe(metric), Describe(version))
      << "fedgate_build_info (left) differs from --version: " << info_line;
  EXPECT_EQ(Describe(buildinfo), Describe(version))
      << "/api/v1/status/buildinfo (left) differs from --version: " << api_body;

  // What the build's workspace status said, and the VERSION file.
  const std::string status = ReadFile(kStableStatus);
  ASSERT_FALSE(status.empty()) << kStableStatus;
  BuildStamp stamped;
  stamped.version =
      std::string(absl::StripAsciiWhitespace(ReadFile("gateway/VERSION")));
  stamped.revision = Between(status, "STABLE_GIT_REVISION ", "\n");
  stamped.branch = Between(status, "STABLE_GIT_BRANCH ", "\n");
  EXPECT_EQ(Describe(version), Describe(stamped))
      << "--version (left) differs from gateway/VERSION and " << kStableStatus
      << ":\n"
      << status;

  // The checkout itself, when git can read it: the runfile docs/metrics.md
  // is a link to the source tree's file (a Docker build from a copy of the
  // tree without .git has neither, and stamps "unknown").
  char source[PATH_MAX];
  const std::string source_dir =
      realpath(kMetricsDoc, source) != nullptr
          ? std::string(absl::StripSuffix(source, "/metrics.md"))
          : std::string(".");
  const std::optional<std::string> head =
      Git(source_dir, {"rev-parse", "HEAD"});
  if (!head.has_value()) {
    std::cout << "git cannot read " << source_dir
              << ": the revision is checked against the workspace status "
                 "only\n";
    return;
  }
  const std::optional<std::string> branch =
      Git(source_dir, {"rev-parse", "--abbrev-ref", "HEAD"});
  const std::optional<std::string> changes =
      Git(source_dir, {"status", "--porcelain", "--untracked-files=no"});
  ASSERT_TRUE(branch.has_value() && changes.has_value());
  EXPECT_EQ(version.branch, *branch);
  // A tree with uncommitted changes is stamped "-modified"; one changed
  // while this test runs may still be stamped without it.
  if (changes->empty()) {
    EXPECT_EQ(version.revision, *head) << "the checkout has no changes";
  } else {
    EXPECT_THAT(version.revision,
                ::testing::AnyOf(*head, absl::StrCat(*head, "-modified")))
        << "the checkout has changes:\n"
        << *changes;
  }
}

}  // namespace
}  // namespace fedgate
