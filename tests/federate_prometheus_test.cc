// End-to-end against the real Prometheus 2.42 (Debian package): (1) a
// Prometheus federation job (honor_labels, metrics_path /federate, two
// match[]) scrapes fedgate — it negotiates OpenMetrics and gzip — and the
// series arrive in its TSDB with fedgate's labels and values; (2) the same
// Prometheus scrapes the same loopback targets directly, and fedgate's
// /federate answer equals Prometheus's own for the same selectors, apart from
// the documented differences (TYPE/HELP lines, order inside a family,
// timestamps, and the values of scrape_duration_seconds and
// scrape_series_added); content negotiation gives the same Content-Type and
// Content-Encoding as Prometheus for the same headers (OpenMetrics aside);
// (3) `promtool check metrics` passes on fedgate's text answer (promtool
// 2.42 reads only text 0.0.4; the OpenMetrics answer is checked by
// Prometheus's own parser in (1)).

#include <httplib.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "scraper/test_bodies.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// Served by the node target after kRequestsAndLatencyText.
const char kNodeBodyTail[] =
    "# HELP temperature_celsius Current \\\\ temperature.\n"
    "# TYPE temperature_celsius gauge\n"
    "temperature_celsius{room=\"a\\\"b\\\\c\\nd\"} -1.5e-05\n"
    "Zupper_metric 1e+06\n"
    "big_value{instance=\"exposed\"} 123456789\n";

const char kProxyBody[] =
    "# TYPE request_total counter\n"
    "request_total{direction=\"inbound\",authority=\"web.default:8080\"} 42\n"
    "request_total{direction=\"outbound\",authority=\"db:5432\"} 0.0001\n"
    "response_latency_ms_sum{direction=\"inbound\"} 17.5\n"
    "other_metric 1\n";

// A series: its canonical label set (`name{a="x",b="y"}`, labels sorted,
// empty values dropped) and its value.
using SeriesMap = std::map<std::string, double>;

// Parses one quoted label value of the text format starting after `"`;
// returns the position after the closing quote.
size_t ParseQuoted(absl::string_view s, size_t at, std::string* value) {
  value->clear();
  while (at < s.size() && s[at] != '"') {
    if (s[at] == '\\' && at + 1 < s.size()) {
      const char c = s[at + 1];
      value->push_back(c == 'n' ? '\n' : c);
      at += 2;
    } else {
      value->push_back(s[at++]);
    }
  }
  return at + 1;
}

std::string Canonical(absl::string_view name,
                      std::map<std::string, std::string> labels) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) {
    if (!v.empty()) parts.push_back(absl::StrCat(k, "=", v));
  }
  return absl::StrCat(name, "{", absl::StrJoin(parts, ","), "}");
}

// Parses the sample lines of a text 0.0.4 answer.
SeriesMap ParseText(const std::string& text) {
  SeriesMap series;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    size_t at = line.find_first_of("{ ");
    const absl::string_view name = line.substr(0, at);
    std::map<std::string, std::string> labels;
    if (line[at] == '{') {
      ++at;
      while (line[at] != '}') {
        const size_t eq = line.find('=', at);
        std::string key(line.substr(at, eq - at));
        std::string value;
        at = ParseQuoted(line, eq + 2, &value);
        labels[key] = value;
        if (line[at] == ',') ++at;
      }
      ++at;
    }
    std::vector<absl::string_view> rest =
        absl::StrSplit(line.substr(at + 1), ' ');
    double value = 0;
    if (rest[0] == "NaN") {
      value = std::nan("");
    } else if (!absl::SimpleAtod(rest[0], &value)) {
      ADD_FAILURE() << "bad value in " << line;
    }
    series[Canonical(name, labels)] = value;
  }
  return series;
}

// Parses Prometheus's instant-vector JSON (`/api/v1/query`), enough for
// these tests: every result's metric labels and value.
SeriesMap ParseVectorJson(const std::string& json) {
  SeriesMap series;
  size_t at = 0;
  auto read_string = [&json](size_t pos, std::string* out) {
    out->clear();
    ++pos;  // Opening quote.
    while (json[pos] != '"') {
      if (json[pos] == '\\') {
        const char c = json[pos + 1];
        if (c == 'n') {
          out->push_back('\n');
        } else if (c == 'u') {
          int code = 0;
          if (!absl::SimpleHexAtoi(json.substr(pos + 2, 4), &code)) code = 0;
          out->push_back(static_cast<char>(code));  // ASCII only here.
          pos += 4;
        } else {
          out->push_back(c);
        }
        pos += 2;
      } else {
        out->push_back(json[pos++]);
      }
    }
    return pos + 1;
  };
  while ((at = json.find("{\"metric\":{", at)) != std::string::npos) {
    at += 11;
    std::map<std::string, std::string> labels;
    while (json[at] == '"') {
      std::string key, value;
      at = read_string(at, &key);
      at = read_string(at + 1, &value);  // Skip ':'.
      labels[key] = value;
      if (json[at] == ',') ++at;
    }
    const std::string name = labels["__name__"];
    labels.erase("__name__");
    at = json.find("\"value\":[", at);
    at = json.find(',', at) + 1;
    std::string value;
    at = read_string(at, &value);
    double v = 0;
    if (value == "NaN") {
      v = std::nan("");
    } else {
      if (!absl::SimpleAtod(value, &v)) v = std::nan("");
    }
    series[Canonical(name, labels)] = v;
  }
  return series;
}

std::string Get(int port, const std::string& path,
                const httplib::Headers& headers = {}) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  httplib::Result res = client.Get(path.c_str(), headers);
  if (!res || res->status != 200) return "";
  return res->body;
}

std::string FederatePath(const std::vector<std::string>& matches) {
  httplib::Params params;
  for (const std::string& m : matches) params.emplace("match[]", m);
  return "/federate?" + httplib::detail::params_to_query_str(params);
}

std::string ScrapeConfig(const std::string& node, const std::string& proxy) {
  return absl::StrCat(StaticScrapeJob("node", node),
                      StaticScrapeJob("proxy", proxy));
}

class FederatePrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<LoopbackTarget>(
        absl::StrCat(kRequestsAndLatencyText, kNodeBodyTail));
    proxy_ = std::make_unique<LoopbackTarget>(kProxyBody);
    const std::string global =
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n";
    const std::string fedgate_config = TestTempDir() + "/fedgate.yml";
    ASSERT_TRUE(
        WriteFile(fedgate_config,
                  global + ScrapeConfig(node_->address(), proxy_->address())));
    absl::StatusOr<FedgateProcess> fedgate =
        StartFedgate(fedgate_config, TestTempDir() + "/fedgate");
    ASSERT_TRUE(fedgate.ok()) << fedgate.status();
    fedgate_ = std::move(fedgate->process);
    fedgate_port_ = fedgate->web_port;

    const std::string prometheus_config = TestTempDir() + "/prometheus.yml";
    ASSERT_TRUE(WriteFile(
        prometheus_config,
        absl::StrCat(global, ScrapeConfig(node_->address(), proxy_->address()),
                     "  - job_name: federate\n"
                     "    honor_labels: true\n"
                     "    metrics_path: /federate\n"
                     "    params:\n"
                     "      'match[]':\n"
                     "        - '{job=\"node\"}'\n"
                     "        - '{__name__=~\"request_.*\"}'\n"
                     "    static_configs:\n"
                     "      - targets: ['127.0.0.1:",
                     fedgate_port_,
                     "']\n"
                     "        labels:\n"
                     "          via: fedgate\n")));
    absl::StatusOr<PrometheusProcess> prometheus =
        StartPrometheus(prometheus_config, TestTempDir());
    ASSERT_TRUE(prometheus.ok()) << prometheus.status();
    prometheus_ = std::move(prometheus->process);
    prometheus_port_ = prometheus->port;
  }

  void TearDown() override {
    if (prometheus_ != nullptr) prometheus_->Stop();
    if (fedgate_ != nullptr) {
      EXPECT_EQ(fedgate_->Stop(), 0);
    }
  }

  SeriesMap Query(const std::string& query) {
    httplib::Params params = {{"query", query}};
    return ParseVectorJson(
        Get(prometheus_port_,
            "/api/v1/query?" + httplib::detail::params_to_query_str(params)));
  }

  std::unique_ptr<LoopbackTarget> node_;
  std::unique_ptr<LoopbackTarget> proxy_;
  std::unique_ptr<Subprocess> fedgate_;
  std::unique_ptr<Subprocess> prometheus_;
  int fedgate_port_ = 0;
  int prometheus_port_ = 0;
};

// Series that both scrape, with values that depend on the scrape itself.
bool ValueMayDiffer(const std::string& series) {
  return absl::StartsWith(series, "scrape_duration_seconds{") ||
         absl::StartsWith(series, "scrape_series_added{");
}

TEST_F(FederatePrometheusTest, PrometheusFederatesFedgateAndAgreesWithIt) {
  const std::vector<std::string> matches = {"{job=\"node\"}",
                                            "{__name__=~\"request_.*\"}"};
  // fedgate has scraped both targets.
  SeriesMap fedgate;
  ASSERT_TRUE(WaitUntil(
      [&] {
        fedgate = ParseText(Get(fedgate_port_, FederatePath(matches)));
        return fedgate.size() == 16;
      },
      absl::Seconds(30)))
      << Get(fedgate_port_, FederatePath(matches));
  const std::string node_instance = "instance=" + node_->address();
  EXPECT_EQ(fedgate.count(absl::StrCat("http_requests_total{code=200,",
                                       node_instance, ",job=node,method=get}")),
            1u);

  // (1) Prometheus's federation job brought every series into its TSDB
  // with fedgate's labels (honor_labels) plus its target label, and values.
  SeriesMap federated;
  ASSERT_TRUE(WaitUntil(
      [&] {
        federated = Query("{via=\"fedgate\",job!=\"federate\"}");
        return federated.size() == fedgate.size();
      },
      absl::Seconds(60)))
      << "fedgate: " << ::testing::PrintToString(fedgate)
      << "\nprometheus: " << ::testing::PrintToString(federated)
      << prometheus_->Stderr();
  for (const auto& [series, value] : fedgate) {
    SCOPED_TRACE(series);
    // fedgate's series + via="fedgate" (sorted last here: `v` > others).
    const std::string want =
        series.substr(0, series.size() - 1) + ",via=fedgate}";
    ASSERT_EQ(federated.count(want), 1u) << ::testing::PrintToString(federated);
    if (!ValueMayDiffer(series)) {
      EXPECT_EQ(federated[want], value);
    }
  }
  // The federation scrape itself was healthy and took every line (it
  // negotiated OpenMetrics and gzip, see the checks below).
  SeriesMap health = Query("up{job=\"federate\"}");
  ASSERT_EQ(health.size(), 1u);
  EXPECT_EQ(health.begin()->second, 1);
  SeriesMap scraped = Query("scrape_samples_scraped{job=\"federate\"}");
  ASSERT_EQ(scraped.size(), 1u);
  EXPECT_EQ(scraped.begin()->second, static_cast<double>(fedgate.size()));

  // (2) Prometheus's own /federate for the directly scraped series equals
  // fedgate's: same label sets, same values (scrape-dependent ones aside).
  const std::vector<std::string> direct_matches = {
      "{job=\"node\",via=\"\"}", "{__name__=~\"request_.*\",via=\"\"}"};
  SeriesMap direct;
  ASSERT_TRUE(WaitUntil(
      [&] {
        direct = ParseText(Get(prometheus_port_, FederatePath(direct_matches)));
        return direct.size() == fedgate.size();
      },
      absl::Seconds(30)))
      << ::testing::PrintToString(direct);
  for (const auto& [series, value] : fedgate) {
    SCOPED_TRACE(series);
    ASSERT_EQ(direct.count(series), 1u) << ::testing::PrintToString(direct);
    if (!ValueMayDiffer(series)) {
      EXPECT_EQ(direct[series], value);
    }
  }
  // Both write families in byte order
  // (`Zupper_metric` first).
  const std::string fedgate_text = Get(fedgate_port_, FederatePath(matches));
  const std::string prometheus_text =
      Get(prometheus_port_, FederatePath(direct_matches));
  EXPECT_EQ(fedgate_text.find("# TYPE Zupper_metric"),
            fedgate_text.find("# TYPE "));
  EXPECT_EQ(prometheus_text.find("# TYPE Zupper_metric"),
            prometheus_text.find("# TYPE "));

  // Content negotiation: the same Content-Type and Content-Encoding as
  // Prometheus for the same headers (OpenMetrics is fedgate's addition).
  struct Headers {
    const char* accept;
    const char* accept_encoding;
  };
  const Headers kHeaders[] = {
      {"", ""},
      {"*/*", "gzip"},
      {"text/plain;version=0.0.4", "gzip;q=1"},
      {"application/vnd.google.protobuf;proto=io.prometheus.client."
       "MetricFamily;encoding=delimited",
       "br, gzip"},
      {"application/vnd.google.protobuf;proto=io.prometheus.client."
       "MetricFamily;encoding=text;q=0.3,text/plain;q=0.2",
       "deflate"},
      {"text/plain;q=0.5,application/vnd.google.protobuf;proto=io.prometheus."
       "client.MetricFamily;encoding=compact-text",
       "identity"},
      {"application/json", "br"},
  };
  for (const Headers& h : kHeaders) {
    SCOPED_TRACE(absl::StrCat(h.accept, " | ", h.accept_encoding));
    httplib::Headers headers;
    if (*h.accept != '\0') headers.emplace("Accept", h.accept);
    if (*h.accept_encoding != '\0') {
      headers.emplace("Accept-Encoding", h.accept_encoding);
    }
    httplib::Client f("127.0.0.1", fedgate_port_);
    httplib::Client p("127.0.0.1", prometheus_port_);
    f.set_decompress(false);
    p.set_decompress(false);
    httplib::Result fr = f.Get(FederatePath(matches).c_str(), headers);
    httplib::Result pr = p.Get(FederatePath(direct_matches).c_str(), headers);
    ASSERT_TRUE(fr && pr);
    EXPECT_EQ(fr->get_header_value("Content-Type"),
              pr->get_header_value("Content-Type"));
    EXPECT_EQ(fr->get_header_value("Content-Encoding"),
              pr->get_header_value("Content-Encoding"));
    EXPECT_EQ(fr->status, pr->status);
    const std::string encoding = fr->get_header_value("Content-Encoding");
    if (encoding == "gzip" || encoding == "deflate") {
      const std::string plain = Inflate(fr->body, encoding == "gzip" ? 31 : 15);
      EXPECT_FALSE(plain.empty());
    }
  }
  // What an upstream Prometheus is answered: OpenMetrics, gzip.
  httplib::Client f("127.0.0.1", fedgate_port_);
  f.set_decompress(false);
  httplib::Result om = f.Get(
      FederatePath(matches).c_str(),
      {{"Accept",
        "application/openmetrics-text;version=1.0.0,application/"
        "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
        "*/*;q=0.1"},
       {"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(om);
  EXPECT_EQ(om->get_header_value("Content-Type"),
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(om->get_header_value("Content-Encoding"), "gzip");
  const std::string om_text = Inflate(om->body, 31);
  EXPECT_TRUE(absl::EndsWith(om_text, "# EOF\n")) << om_text;
  EXPECT_TRUE(absl::StrContains(om_text, "# TYPE http_requests counter\n"))
      << om_text;

  // (3) promtool accepts fedgate's whole text answer.
  const std::string all =
      Get(fedgate_port_, FederatePath({"{__name__=~\".+\"}"}));
  const absl::Status checked = PromtoolCheckMetrics(all);
  EXPECT_TRUE(checked.ok()) << checked << all;
}

// A mesh proxy's body of `series` series in Linkerd's shapes (request and
// response counters per destination, latency histograms of 26 buckets): the
// repetitive text that federation moves in bulk.
std::string ProxyTargetBody(int series) {
  static const char* const kBuckets[] = {
      "1",     "2",     "3",     "4",     "5",    "10",   "20",
      "30",    "40",    "50",    "100",   "200",  "300",  "400",
      "500",   "1000",  "2000",  "3000",  "4000", "5000", "10000",
      "20000", "30000", "40000", "50000", "+Inf"};
  std::string body =
      "# HELP request_total Total count of HTTP requests.\n"
      "# TYPE request_total counter\n";
  int written = 0;
  uint64_t v = 12345;
  auto next_value = [&v] {
    v = v * 6364136223846793005ULL + 1442695040888963407ULL;
    return (v >> 40) % 100000;
  };
  std::string latency =
      "# HELP response_latency_ms Elapsed times between a request's headers "
      "being received and its response stream completing\n"
      "# TYPE response_latency_ms histogram\n";
  for (int dst = 0; written < series; ++dst) {
    const std::string labels = absl::StrCat(
        "authority=\"svc-", dst, ".ns-", dst % 7,
        ".svc.cluster.local:8080\",direction=\"outbound\",dst_deployment="
        "\"svc-",
        dst, "\",dst_namespace=\"ns-", dst % 7, "\",dst_pod=\"svc-", dst,
        "-7d9f8b6c5d-x2k4q\",tls=\"true\"");
    absl::StrAppend(&body, "request_total{", labels, "} ", next_value(), "\n");
    ++written;
    uint64_t count = 0;
    for (const char* le : kBuckets) {
      count += next_value() % 50;
      absl::StrAppend(&latency, "response_latency_ms_bucket{", labels,
                      ",status_code=\"200\",le=\"", le, "\"} ", count, "\n");
    }
    absl::StrAppend(&latency, "response_latency_ms_sum{", labels,
                    ",status_code=\"200\"} ", count * 17, "\n",
                    "response_latency_ms_count{", labels,
                    ",status_code=\"200\"} ", count, "\n");
    written += 28;
  }
  return body + latency;
}

// Lines of `text` that are samples.
size_t SampleLines(const std::string& text) {
  size_t n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "#")) ++n;
  }
  return n;
}

// A gzip answer of fedgate's is no more than 10% larger than Prometheus's
// (Go's default level) for the same series and the same request: what an
// upstream federation job transfers from each.
TEST(FederatePrometheusSizeTest, GzipAnswerWithinTenPercentOfPrometheus) {
  LoopbackTarget proxy(ProxyTargetBody(20000));
  const std::string config = absl::StrCat(
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
      "scrape_configs:\n",
      StaticScrapeJob("proxy", proxy.address()));
  // Its own directory: Prometheus's TSDB is not shared with other tests.
  const std::string dir = TestTempDir() + "/size";
  ASSERT_TRUE(std::filesystem::create_directories(dir) ||
              std::filesystem::is_directory(dir));
  ASSERT_TRUE(WriteFile(dir + "/size.yml", config));
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(dir + "/size.yml", dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  absl::StatusOr<PrometheusProcess> prometheus =
      StartPrometheus(dir + "/size.yml", dir);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();

  const std::string path = FederatePath({"{job=\"proxy\"}"});
  // Both hold every series of the target, and its 5 synthetic series (`up`,
  // `scrape_*`).
  const size_t want_series = SampleLines(ProxyTargetBody(20000)) + 5;
  for (int port : {fedgate->web_port, prometheus->port}) {
    ASSERT_TRUE(
        WaitUntil([&] { return SampleLines(Get(port, path)) == want_series; },
                  absl::Seconds(60)))
        << port;
  }
  // An upstream Prometheus's request: fedgate answers OpenMetrics,
  // Prometheus text; the text answer is compared as well.
  const std::string upstream_accept =
      "application/openmetrics-text;version=1.0.0,application/"
      "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
      "*/*;q=0.1";
  auto gzip_answer = [&](int port, const std::string& accept) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    client.set_decompress(false);
    httplib::Headers headers = {{"Accept-Encoding", "gzip"}};
    if (!accept.empty()) headers.emplace("Accept", accept);
    httplib::Result res = client.Get(path.c_str(), headers);
    if (!res || res->status != 200 ||
        res->get_header_value("Content-Encoding") != "gzip") {
      return std::string();
    }
    return res->body;
  };
  const std::string prometheus_gzip =
      gzip_answer(prometheus->port, upstream_accept);
  ASSERT_FALSE(prometheus_gzip.empty());
  EXPECT_EQ(SampleLines(Inflate(prometheus_gzip, 31)), want_series);
  for (const std::string& accept : {upstream_accept, std::string()}) {
    SCOPED_TRACE(accept);
    const std::string fedgate_gzip = gzip_answer(fedgate->web_port, accept);
    ASSERT_FALSE(fedgate_gzip.empty());
    EXPECT_EQ(SampleLines(Inflate(fedgate_gzip, 31)), want_series);
    // The sizes, in test.xml.
    ::testing::Test::RecordProperty(accept.empty()
                                        ? "fedgate_text_gzip_bytes"
                                        : "fedgate_upstream_gzip_bytes",
                                    static_cast<int>(fedgate_gzip.size()));
    ::testing::Test::RecordProperty("prometheus_gzip_bytes",
                                    static_cast<int>(prometheus_gzip.size()));
    EXPECT_LE(fedgate_gzip.size() * 10, prometheus_gzip.size() * 11)
        << "fedgate " << fedgate_gzip.size() << " bytes, Prometheus "
        << prometheus_gzip.size();
  }
  prometheus->process->Stop();
  EXPECT_EQ(fedgate->process->Stop(), 0);
}

}  // namespace
}  // namespace fedgate
