// Differential test of relabeling against the real Prometheus 2.42: fedgate
// and Prometheus scrape the same loopback target with the same
// relabel_configs (targets) and metric_relabel_configs (series), and the
// series each one then federates must be the same label sets, with the same
// values for the scraped series, `up` and the scrape_samples_* counts.

#include <httplib.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// What the target exposes: names for keep/drop, labels for labeldrop,
// labelmap and replace with groups, an exposed `instance` (renamed to
// `exported_instance` before metric relabeling runs), unicode values.
const char kTargetBody[] =
    "# TYPE go_goroutines gauge\n"
    "go_goroutines 12\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{code=\"200\",method=\"GET\",path=\"/api/v1/q\","
    "pod_uid=\"u1\"} 1027\n"
    "http_requests_total{code=\"503\",method=\"Post\",path=\"/api/v2/w\","
    "pod_uid=\"u1\"} 3\n"
    "http_requests_total{code=\"404\",method=\"GET\",path=\"/static\"} 9\n"
    "# TYPE temperature_celsius gauge\n"
    "temperature_celsius{instance=\"sensor-1\",room=\"K\xC3\xBC"
    "che\"} 21.5\n"
    "temperature_celsius{room=\"\xC3\x89TAGE\"} 19\n"
    "node_pair{a=\"x\",b=\"node_pair\"} 1\n"
    "node_pair{a=\"x\",b=\"y\"} 2\n"
    "node_shard{host=\"host-a\"} 1\n"
    "node_shard{host=\"10.0.0.1\"} 2\n"
    "node_dollar{v=\"price\"} 5\n";

// The relabel rules both get, in Prometheus YAML (indented for a job).
const char kRelabelConfigs[] = R"yaml(    relabel_configs:
      - source_labels: [__meta_env]
        regex: dev
        action: drop
      - source_labels: [__address__]
        modulus: 7
        target_label: __tmp_shard
        action: hashmod
      - source_labels: [__tmp_shard]
        target_label: shard
      - regex: __meta_(.+)
        replacement: meta_$1
        action: labelmap
      - source_labels: [team]
        target_label: team_lower
        action: lowercase
      - source_labels: [__meta_env]
        target_label: env_upper
        action: uppercase
      - source_labels: [__meta_env]
        target_label: env_${1}
        replacement: "yes"
      - source_labels: [__meta_zone]
        regex: Z(.*)
        target_label: ${1}_zone
        replacement: bad
      - source_labels: [__tmp_addr]
        regex: (.+)
        target_label: __address__
      - source_labels: [__meta_env, team]
        separator: "|"
        regex: "prod\\|(.*)"
        target_label: joined
        replacement: "$1@$$x"
      - source_labels: [no_such_label]
        target_label: team
      - source_labels: [__address__]
        regex: ".+"
        action: keep
)yaml";

const char kMetricRelabelConfigs[] = R"yaml(    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
      - regex: pod_uid
        action: labeldrop
      - source_labels: [code]
        regex: (\d)\d\d
        target_label: class
        replacement: ${1}xx
      - source_labels: [path]
        regex: /api/(?P<ver>v\d)/.*
        target_label: api
        replacement: $ver
      - source_labels: [path]
        regex: /(static|api)/?(.*)
        target_label: rest
        replacement: $2x|${2}x|$$
      - regex: exported_(.*)
        replacement: orig_$1
        action: labelmap
      - source_labels: [method]
        target_label: method
        action: lowercase
      - source_labels: [__name__]
        target_label: b
        action: dropequal
      - source_labels: [host]
        modulus: 7
        target_label: host_shard
        action: hashmod
      - source_labels: [room]
        regex: (?i)k.*
        target_label: kitchen
        replacement: "true"
      - source_labels: [v]
        regex: (.+)
        target_label: v
        replacement: $$$1
      - source_labels: [__name__, shard]
        regex: "(http_requests_total|temperature_celsius|node_.*);.*"
        action: keep
)yaml";

std::string ConfigYaml(const std::string& target) {
  return absl::StrCat(
      "global:\n"
      "  scrape_interval: 1s\n"
      "  scrape_timeout: 500ms\n"
      "scrape_configs:\n"
      "  - job_name: relabel\n"
      "    static_configs:\n"
      "      - targets: ['",
      target,
      "']\n"
      "        labels:\n"
      "          __meta_env: prod\n"
      "          __meta_zone: \"Z\xC3\xBCrich\"\n"
      "          team: Core\n"
      "      - targets: ['",
      target,
      "']\n"
      "        labels:\n"
      "          __meta_env: dev\n"
      "          team: dropped\n"
      "      - targets: ['127.0.0.1:1']\n"
      "        labels:\n"
      "          __meta_env: prod\n"
      "          team: Unreachable\n"
      "      - targets: ['host-a']\n"
      "        labels:\n"
      "          __meta_env: staging\n"
      "          __tmp_addr: '",
      target,
      "'\n"
      "          team: Moved\n",
      kRelabelConfigs, kMetricRelabelConfigs);
}

// The selector both federate: every series of every job.
constexpr char kAllJobs[] = "{job=~\".+\"}";

// Returns `name{l1="v1",...}` with the labels sorted by name, parsed from
// the series part of a sample line (values keep their escapes).
std::string CanonicalSeries(absl::string_view series) {
  const size_t brace = series.find('{');
  if (brace == absl::string_view::npos) return std::string(series);
  std::vector<std::string> labels;
  size_t i = brace + 1;
  while (i < series.size() && series[i] != '}') {
    const size_t eq = series.find('=', i);
    if (eq == absl::string_view::npos) break;
    size_t j = eq + 2;  // After `="`.
    while (j < series.size() && series[j] != '"')
      j += series[j] == '\\' ? 2 : 1;
    labels.emplace_back(series.substr(i, j + 1 - i));
    i = j + 1;
    if (i < series.size() && series[i] == ',') ++i;
  }
  std::sort(labels.begin(), labels.end());
  return absl::StrCat(series.substr(0, brace), "{", absl::StrJoin(labels, ","),
                      "}");
}

// Series -> value of a /federate answer. The value is "*" for series whose
// value depends on timing (scrape duration, series added).
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    // `series value timestamp`; a label value may contain spaces.
    const size_t last = line.rfind(' ');
    if (last == absl::string_view::npos) continue;
    const size_t before = line.rfind(' ', last - 1);
    if (before == absl::string_view::npos) continue;
    const absl::string_view series = line.substr(0, before);
    std::string value(line.substr(before + 1, last - before - 1));
    if (absl::StartsWith(series, "scrape_duration_seconds") ||
        absl::StartsWith(series, "scrape_series_added")) {
      value = "*";
    }
    out[CanonicalSeries(series)] = value;
  }
  return out;
}

std::string Show(const std::map<std::string, std::string>& samples) {
  std::string out;
  for (const auto& [series, value] : samples) {
    absl::StrAppend(&out, series, " ", value, "\n");
  }
  return out;
}

TEST(RelabelDifferentialTest, SameSeriesAsPrometheus) {
  LoopbackTarget target(kTargetBody);
  const std::string dir = TestTempDir();
  const std::string config_path = dir + "/relabel.yml";
  ASSERT_TRUE(WriteFile(config_path, ConfigYaml(target.address())));

  // The oracle must accept the configuration as it is.
  const absl::Status checked = PromtoolCheckConfig(config_path);
  ASSERT_TRUE(checked.ok()) << checked;

  absl::StatusOr<PrometheusProcess> prometheus =
      StartPrometheus(config_path, dir);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  const int prometheus_port = prometheus->port;
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  const int fedgate_port = fedgate->web_port;

  // Both have scraped every target (three are active) once the answers
  // agree; give up after a bounded time and show the difference.
  std::map<std::string, std::string> want, got;
  const auto complete = [](const std::map<std::string, std::string>& s) {
    int up = 0;
    for (const auto& [series, value] : s) {
      up += absl::StartsWith(series, "up{") ? 1 : 0;
    }
    return up == 3 && s.size() > 20;
  };
  WaitUntil(
      [&] {
        want = Samples(FederateText(prometheus_port, kAllJobs));
        got = Samples(FederateText(fedgate_port, kAllJobs));
        return complete(want) && want == got;
      },
      absl::Seconds(60));
  ASSERT_TRUE(complete(want)) << Show(want) << prometheus->process->Stderr();
  EXPECT_EQ(Show(got), Show(want)) << fedgate->process->Stderr();

  // The rules did something: spot checks with literal values.
  const std::string t = target.address();
  const std::string core =
      absl::StrCat("env_prod=\"yes\",env_upper=\"PROD\",instance=\"", t,
                   "\",job=\"relabel\",joined=\"Core@$x\",meta_env=\"prod\","
                   "meta_zone=\"Z\xC3\xBCrich\",shard=\"");
  const std::string core_end = "\",team_lower=\"core\"}";
  bool saw_class = false, saw_dropped = false, saw_go = false;
  for (const auto& [series, value] : got) {
    saw_class = saw_class || absl::StrContains(series, "class=\"5xx\"");
    saw_dropped = saw_dropped || absl::StrContains(series, "team=\"dropped\"");
    saw_go = saw_go || absl::StartsWith(series, "go_");
  }
  EXPECT_TRUE(saw_class) << Show(got);
  EXPECT_FALSE(saw_dropped) << Show(got);
  EXPECT_FALSE(saw_go) << Show(got);
  bool saw_core_up = false;
  for (const auto& [series, value] : got) {
    if (absl::StartsWith(series, absl::StrCat("up{", core)) &&
        absl::EndsWith(series, core_end) && value == "1") {
      saw_core_up = true;
    }
  }
  EXPECT_TRUE(saw_core_up) << core << "\n" << Show(got);

  // The dropped target is listed with its labels from before relabeling
  // (not diffed: 2.42's discoveredLabels can show relabeled values).
  for (int port : {fedgate_port, prometheus_port}) {
    httplib::Result res = HttpGet(port, "/api/v1/targets?state=dropped");
    ASSERT_TRUE(res) << port;
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_TRUE(absl::StrContains(res->body, "\"droppedTargets\":[{"))
        << res->body;
    EXPECT_TRUE(absl::StrContains(res->body, "\"__meta_env\":\"dev\""))
        << res->body;
    EXPECT_TRUE(absl::StrContains(res->body, "\"activeTargets\":[]"))
        << res->body;
  }

  fedgate->process->Stop();
  prometheus->process->Stop();
}

}  // namespace
}  // namespace fedgate
