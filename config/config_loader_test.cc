#include "config/config_loader.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/relabel_config.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

using Labels = std::map<std::string, std::string>;

TEST(ParseConfigTest, EmptyDocumentsGiveDefaults) {
  const struct {
    const char* name;
    const char* yaml;
  } kCases[] = {
      {"empty", ""},
      {"blank lines", "\n\n  \n"},
      {"comment only", "# nothing here\n"},
      {"document marker", "---\n"},
      {"null document", "~\n"},
      {"null sections", "global:\nscrape_configs:\n"},
      {"empty sections", "global: {}\nscrape_configs: []\n"},
      {"empty unsupported sections", "rule_files: []\nalerting: {}\n"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Config> config = ParseConfig(c.yaml, "test.yml");
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->global.scrape_interval, absl::Minutes(1));
    EXPECT_EQ(config->global.scrape_timeout, absl::Seconds(10));
    EXPECT_EQ(config->global.evaluation_interval, absl::Minutes(1));
    EXPECT_TRUE(config->global.external_labels.empty());
    EXPECT_TRUE(config->scrape_configs.empty());
    EXPECT_EQ(config->source_path, "test.yml");
  }
}

TEST(ParseConfigTest, ReadsEverySupportedField) {
  absl::StatusOr<Config> config = ParseConfig(R"(global:
  scrape_interval: 15s
  scrape_timeout: 5s
  evaluation_interval: 30s
  external_labels:
    region: eu
    replica: "a"
scrape_configs:
  - job_name: node
    scrape_interval: 1m
    scrape_timeout: 20s
    metrics_path: /node/metrics
    scheme: https
    honor_labels: true
    honor_timestamps: false
    static_configs:
      - targets: ["a:9100", "b:9100"]
        labels:
          rack: r1
          empty:
      - targets:
          - c:9100
  - job_name: 42
)",
                                              "fedgate.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source_path, "fedgate.yml");
  EXPECT_EQ(config->global.scrape_interval, absl::Seconds(15));
  EXPECT_EQ(config->global.scrape_timeout, absl::Seconds(5));
  EXPECT_EQ(config->global.evaluation_interval, absl::Seconds(30));
  EXPECT_EQ(config->global.external_labels,
            (Labels{{"region", "eu"}, {"replica", "a"}}));
  ASSERT_EQ(config->scrape_configs.size(), 2u);

  const ScrapeConfig& node = config->scrape_configs[0];
  EXPECT_EQ(node.job_name, "node");
  EXPECT_EQ(node.line, 9);
  EXPECT_EQ(node.scrape_interval, absl::Minutes(1));
  EXPECT_EQ(node.scrape_timeout, absl::Seconds(20));
  EXPECT_EQ(node.metrics_path, "/node/metrics");
  EXPECT_EQ(node.scheme, "https");
  EXPECT_TRUE(node.honor_labels);
  EXPECT_FALSE(node.honor_timestamps);
  ASSERT_EQ(node.static_configs.size(), 2u);
  EXPECT_EQ(node.static_configs[0].targets,
            (std::vector<std::string>{"a:9100", "b:9100"}));
  EXPECT_EQ(node.static_configs[0].labels,
            (Labels{{"empty", ""}, {"rack", "r1"}}));
  EXPECT_EQ(node.static_configs[0].line, 17);
  EXPECT_EQ(node.static_configs[1].targets,
            (std::vector<std::string>{"c:9100"}));
  EXPECT_TRUE(node.static_configs[1].labels.empty());
  EXPECT_EQ(node.static_configs[1].line, 21);

  // Defaults, and a YAML integer read as a string as yaml.v2 does.
  const ScrapeConfig& other = config->scrape_configs[1];
  EXPECT_EQ(other.job_name, "42");
  EXPECT_EQ(other.line, 23);
  EXPECT_EQ(other.scrape_interval, absl::Seconds(15));
  EXPECT_EQ(other.scrape_timeout, absl::Seconds(5));
  EXPECT_EQ(other.metrics_path, "/metrics");
  EXPECT_EQ(other.scheme, "http");
  EXPECT_FALSE(other.honor_labels);
  EXPECT_TRUE(other.honor_timestamps);
  EXPECT_TRUE(other.static_configs.empty());
}

TEST(ParseConfigTest, FillsIntervalsAndTimeoutsLikePrometheus) {
  // Expected values checked against Prometheus 2.42's /api/v1/status/config.
  const struct {
    const char* name;
    const char* yaml;
    absl::Duration global_interval;
    absl::Duration global_timeout;
    absl::Duration job_interval;
    absl::Duration job_timeout;
  } kCases[] = {
      {"all defaults", "scrape_configs: [{job_name: j}]", absl::Minutes(1),
       absl::Seconds(10), absl::Minutes(1), absl::Seconds(10)},
      {"global timeout capped to a short global interval",
       "global: {scrape_interval: 5s}\nscrape_configs: [{job_name: j}]",
       absl::Seconds(5), absl::Seconds(5), absl::Seconds(5), absl::Seconds(5)},
      {"job timeout capped to a short job interval",
       "global: {scrape_interval: 30s}\n"
       "scrape_configs: [{job_name: j, scrape_interval: 5s}]",
       absl::Seconds(30), absl::Seconds(10), absl::Seconds(5),
       absl::Seconds(5)},
      {"job inherits a shorter global timeout",
       "global: {scrape_timeout: 3s}\n"
       "scrape_configs: [{job_name: j, scrape_interval: 5s}]",
       absl::Minutes(1), absl::Seconds(3), absl::Seconds(5), absl::Seconds(3)},
      {"explicit timeout equal to interval",
       "scrape_configs: [{job_name: j, scrape_interval: 10s, "
       "scrape_timeout: 10s}]",
       absl::Minutes(1), absl::Seconds(10), absl::Seconds(10),
       absl::Seconds(10)},
      {"explicit job timeout longer than the global one",
       "scrape_configs: [{job_name: j, scrape_timeout: 30s}]", absl::Minutes(1),
       absl::Seconds(10), absl::Minutes(1), absl::Seconds(30)},
      {"global timeout longer than the default",
       "global: {scrape_interval: 5m, scrape_timeout: 2m}\n"
       "scrape_configs: [{job_name: j}]",
       absl::Minutes(5), absl::Minutes(2), absl::Minutes(5), absl::Minutes(2)},
      {"zero means unset",
       "global: {scrape_interval: 0, scrape_timeout: 0s}\n"
       "scrape_configs: [{job_name: j, scrape_interval: 0, "
       "scrape_timeout: 0ms}]",
       absl::Minutes(1), absl::Seconds(10), absl::Minutes(1),
       absl::Seconds(10)},
      {"null means unset",
       "global: {scrape_interval: ~, scrape_timeout: }\n"
       "scrape_configs: [{job_name: j, scrape_interval: null}]",
       absl::Minutes(1), absl::Seconds(10), absl::Minutes(1),
       absl::Seconds(10)},
      {"global section after scrape_configs",
       "scrape_configs: [{job_name: j}]\nglobal: {scrape_interval: 2s}",
       absl::Seconds(2), absl::Seconds(2), absl::Seconds(2), absl::Seconds(2)},
      {"millisecond intervals",
       "scrape_configs: [{job_name: j, scrape_interval: 1s500ms}]",
       absl::Minutes(1), absl::Seconds(10), absl::Milliseconds(1500),
       absl::Milliseconds(1500)},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Config> config = ParseConfig(c.yaml, "test.yml");
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->global.scrape_interval, c.global_interval);
    EXPECT_EQ(config->global.scrape_timeout, c.global_timeout);
    ASSERT_EQ(config->scrape_configs.size(), 1u);
    EXPECT_EQ(config->scrape_configs[0].scrape_interval, c.job_interval);
    EXPECT_EQ(config->scrape_configs[0].scrape_timeout, c.job_timeout);
  }
}

TEST(ParseConfigTest, EvaluationIntervalDefaultsWhenZero) {
  absl::StatusOr<Config> config =
      ParseConfig("global:\n  evaluation_interval: 0\n", "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->global.evaluation_interval, absl::Minutes(1));
}

TEST(ParseConfigTest, NullFieldsTakeGoZeroValues) {
  // yaml.v2 sets a field to its zero value for an explicit null, so these
  // differ from the defaults (checked against Prometheus 2.42).
  absl::StatusOr<Config> config = ParseConfig(R"(global:
  external_labels:
    a:
scrape_configs:
  - job_name: j
    metrics_path: ~
    honor_timestamps:
    honor_labels: null
    static_configs:
)",
                                              "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->global.external_labels, (Labels{{"a", ""}}));
  ASSERT_EQ(config->scrape_configs.size(), 1u);
  EXPECT_EQ(config->scrape_configs[0].metrics_path, "");
  EXPECT_FALSE(config->scrape_configs[0].honor_timestamps);
  EXPECT_FALSE(config->scrape_configs[0].honor_labels);
  EXPECT_TRUE(config->scrape_configs[0].static_configs.empty());
}

TEST(ParseConfigTest, AcceptsYamlOneOneBooleans) {
  const struct {
    const char* value;
    bool want;
  } kCases[] = {
      {"true", true},   {"True", true},        {"TRUE", true},
      {"yes", true},    {"Yes", true},         {"YES", true},
      {"y", true},      {"Y", true},           {"on", true},
      {"On", true},     {"ON", true},          {"false", false},
      {"False", false}, {"FALSE", false},      {"no", false},
      {"No", false},    {"NO", false},         {"n", false},
      {"N", false},     {"off", false},        {"Off", false},
      {"OFF", false},   {"!!bool true", true},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.value);
    absl::StatusOr<Config> config = ParseConfig(
        std::string("scrape_configs:\n  - job_name: j\n    honor_labels: ") +
            c.value + "\n",
        "test.yml");
    ASSERT_TRUE(config.ok()) << config.status();
    ASSERT_EQ(config->scrape_configs.size(), 1u);
    EXPECT_EQ(config->scrape_configs[0].honor_labels, c.want);
  }
}

TEST(ParseConfigTest, ResolvesMergeKeysLikeYamlV2) {
  // Expected values checked against Prometheus 2.42's /api/v1/status/config.
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
  - job_name: base
    <<: &common {scrape_interval: 5s, metrics_path: /m}
  - <<: *common
    job_name: override
    metrics_path: /explicit
  - job_name: before
    metrics_path: /early
    <<: *common
  - <<: [{job_name: first, scheme: https}, {job_name: second, honor_labels: y}]
)",
                                              "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->scrape_configs.size(), 4u);
  EXPECT_EQ(config->scrape_configs[0].job_name, "base");
  EXPECT_EQ(config->scrape_configs[0].scrape_interval, absl::Seconds(5));
  EXPECT_EQ(config->scrape_configs[0].metrics_path, "/m");
  // Keys after a merge override it...
  EXPECT_EQ(config->scrape_configs[1].job_name, "override");
  EXPECT_EQ(config->scrape_configs[1].scrape_interval, absl::Seconds(5));
  EXPECT_EQ(config->scrape_configs[1].metrics_path, "/explicit");
  // ...and a merge overrides the keys before it.
  EXPECT_EQ(config->scrape_configs[2].job_name, "before");
  EXPECT_EQ(config->scrape_configs[2].metrics_path, "/m");
  // In a list of merged maps, the earlier map wins.
  EXPECT_EQ(config->scrape_configs[3].job_name, "first");
  EXPECT_EQ(config->scrape_configs[3].scheme, "https");
  EXPECT_TRUE(config->scrape_configs[3].honor_labels);
  EXPECT_EQ(config->scrape_configs[3].scrape_interval, absl::Minutes(1));
}

TEST(ParseConfigTest, AcceptsEmptyUnsupportedFields) {
  // An empty value configures nothing, so nothing is silently ignored.
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
  - job_name: j
    tls_config: {}
    bearer_token: ""
    consul_sd_configs: ~
)",
                                              "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->scrape_configs.size(), 1u);
}

TEST(ParseConfigTest, ReadsScrapeLimitsAndParams) {
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
  - job_name: j
    params:
      module: [m1, m2]
      empty: ~
    sample_limit: 5
    target_limit: 6
    label_limit: 7
    label_name_length_limit: 8
    label_value_length_limit: 9
    body_size_limit: 1.5KB
  - job_name: k
)",
                                              "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  const ScrapeConfig& j = config->scrape_configs[0];
  EXPECT_EQ(j.params, (std::map<std::string, std::vector<std::string>>{
                          {"empty", {}}, {"module", {"m1", "m2"}}}));
  EXPECT_EQ(j.sample_limit, 5u);
  EXPECT_EQ(j.target_limit, 6u);
  EXPECT_EQ(j.label_limit, 7u);
  EXPECT_EQ(j.label_name_length_limit, 8u);
  EXPECT_EQ(j.label_value_length_limit, 9u);
  EXPECT_EQ(j.body_size_limit, 1536);
  const ScrapeConfig& k = config->scrape_configs[1];
  EXPECT_TRUE(k.params.empty());
  EXPECT_EQ(k.sample_limit, 0u);
  EXPECT_EQ(k.body_size_limit, 0);
}

TEST(ParseConfigTest, ParsesBodySizeLimitLikeUnitsBase2Bytes) {
  const std::pair<const char*, int64_t> kCases[] = {
      {"0", 0},
      {"100B", 100},
      {"10KB", 10 * 1024},
      {"10KiB", 10 * 1024},
      {"10MB", 10 << 20},
      {"1GiB", int64_t{1} << 30},
      {"1KiB512B", 1536},
      {".5KB", 512},
      {"-1KB", -1024},
  };
  for (const auto& [text, bytes] : kCases) {
    SCOPED_TRACE(text);
    absl::StatusOr<Config> config = ParseConfig(
        absl::StrCat(
            "scrape_configs:\n- job_name: j\n  body_size_limit: ", text, "\n"),
        "test.yml");
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->scrape_configs[0].body_size_limit, bytes);
  }
}

TEST(ParseConfigTest, ReadsHttpClientSettings) {
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
  - job_name: tls
    scheme: https
    follow_redirects: false
    enable_http2: false
    proxy_url: http://proxy:3128
    tls_config:
      ca_file: ca.pem
      cert_file: /abs/client.pem
      key_file: sub/client.key
      server_name: example.org
      insecure_skip_verify: true
      min_version: TLS12
      max_version: TLS13
    authorization:
      credentials_file: token
  - job_name: bearer
    bearer_token: s3cret
  - job_name: bearer_file
    bearer_token_file: /var/run/token
  - job_name: basic
    basic_auth:
      username: u
      password_file: pw
  - job_name: typed
    authorization:
      type: " Token "
      credentials: abc
  - job_name: plain
)",
                                              "/etc/fedgate/fedgate.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  const HttpClientConfig& tls = config->scrape_configs[0].http_client;
  EXPECT_FALSE(tls.follow_redirects);
  EXPECT_FALSE(tls.enable_http2);
  EXPECT_EQ(tls.proxy_url, "http://proxy:3128");
  // Relative paths resolve against the config file's directory.
  EXPECT_EQ(tls.tls_config.ca_file, "/etc/fedgate/ca.pem");
  EXPECT_EQ(tls.tls_config.cert_file, "/abs/client.pem");
  EXPECT_EQ(tls.tls_config.key_file, "/etc/fedgate/sub/client.key");
  EXPECT_EQ(tls.tls_config.server_name, "example.org");
  EXPECT_TRUE(tls.tls_config.insecure_skip_verify);
  EXPECT_EQ(tls.tls_config.min_version, 0x0303);
  EXPECT_EQ(tls.tls_config.max_version, 0x0304);
  ASSERT_TRUE(tls.authorization.has_value());
  EXPECT_EQ(tls.authorization->type, "Bearer");
  EXPECT_EQ(tls.authorization->credentials_file, "/etc/fedgate/token");
  EXPECT_FALSE(tls.basic_auth.has_value());

  // bearer_token(_file) become `authorization` of type Bearer.
  const HttpClientConfig& bearer = config->scrape_configs[1].http_client;
  ASSERT_TRUE(bearer.authorization.has_value());
  EXPECT_EQ(bearer.authorization->type, "Bearer");
  EXPECT_EQ(bearer.authorization->credentials, "s3cret");
  const HttpClientConfig& bearer_file = config->scrape_configs[2].http_client;
  ASSERT_TRUE(bearer_file.authorization.has_value());
  EXPECT_EQ(bearer_file.authorization->credentials_file, "/var/run/token");

  const HttpClientConfig& basic = config->scrape_configs[3].http_client;
  ASSERT_TRUE(basic.basic_auth.has_value());
  EXPECT_EQ(basic.basic_auth->username, "u");
  EXPECT_EQ(basic.basic_auth->password_file, "/etc/fedgate/pw");
  EXPECT_FALSE(basic.authorization.has_value());

  const HttpClientConfig& typed = config->scrape_configs[4].http_client;
  ASSERT_TRUE(typed.authorization.has_value());
  EXPECT_EQ(typed.authorization->type, "Token");  // Trimmed.
  EXPECT_EQ(typed.authorization->credentials, "abc");

  const HttpClientConfig& plain = config->scrape_configs[5].http_client;
  EXPECT_TRUE(plain.follow_redirects);
  EXPECT_TRUE(plain.enable_http2);
  EXPECT_TRUE(plain.tls_config.empty());
  EXPECT_FALSE(plain.authorization.has_value());
  EXPECT_FALSE(plain.basic_auth.has_value());
  EXPECT_EQ(plain.proxy_url, "");
}

TEST(ParseConfigTest, ReadsFileSdConfigsWithDefaults) {
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
  - job_name: j
    file_sd_configs:
      - files: [targets/*.json, /abs/b.yml]
      - files: [c.YAML]
        refresh_interval: 10s
      - files: [d.yaml]
        refresh_interval: ~
)",
                                              "/etc/fedgate/fedgate.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  const std::vector<FileSdConfig>& sd =
      config->scrape_configs[0].file_sd_configs;
  ASSERT_EQ(sd.size(), 3u);
  // Relative paths are relative to the config file's directory.
  EXPECT_EQ(sd[0].files, (std::vector<std::string>{
                             "/etc/fedgate/targets/*.json", "/abs/b.yml"}));
  EXPECT_EQ(sd[0].refresh_interval, absl::Minutes(5));
  EXPECT_EQ(sd[0].line, 4);
  EXPECT_EQ(sd[1].files, std::vector<std::string>{"/etc/fedgate/c.YAML"});
  EXPECT_EQ(sd[1].refresh_interval, absl::Seconds(10));
  EXPECT_EQ(sd[2].refresh_interval, absl::Minutes(5));
}

TEST(ParseConfigTest, FileSdPathsWithoutConfigDirectoryStayRelative) {
  absl::StatusOr<Config> config = ParseConfig(
      "scrape_configs:\n  - job_name: j\n"
      "    file_sd_configs: [{files: [t.json]}]\n",
      "fedgate.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->scrape_configs[0].file_sd_configs[0].files,
            std::vector<std::string>{"t.json"});
}

TEST(ParseConfigTest, ReadsDedupGroupsWithDefaults) {
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
  - job_name: k3s
  - job_name: apiserver
  - job_name: agent
  - job_name: other
dedup_groups:
  - name: k3s-registry
    job_names: [k3s, apiserver]
    source_labels: [__address__]
    regex: '(.+):\d+'
    replica_labels: [instance, job]
    group_label: node
    leader_timeout: 45s
  - name: ha
    job_names: [agent]
  - name: plain
    job_names: [other]
    group_label: ''
)",
                                              "fedgate.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->dedup_groups.size(), 3u);
  const DedupGroupConfig& a = config->dedup_groups[0];
  EXPECT_EQ(a.name, "k3s-registry");
  EXPECT_EQ(a.job_names, (std::vector<std::string>{"k3s", "apiserver"}));
  EXPECT_EQ(a.source_labels, std::vector<std::string>{"__address__"});
  EXPECT_EQ(a.regex, "(.+):\\d+");
  EXPECT_EQ(a.replacement, "$1");
  EXPECT_EQ(a.separator, ";");
  EXPECT_EQ(a.replica_labels, (std::vector<std::string>{"instance", "job"}));
  EXPECT_EQ(a.group_label, "node");
  EXPECT_EQ(a.leader_timeout, absl::Seconds(45));
  EXPECT_EQ(a.line, 7);
  const DedupGroupConfig& b = config->dedup_groups[1];
  EXPECT_EQ(b.source_labels, std::vector<std::string>{"job"});
  EXPECT_EQ(b.replica_labels, std::vector<std::string>{"instance"});
  EXPECT_EQ(b.group_label, "instance");
  EXPECT_EQ(b.leader_timeout, absl::ZeroDuration());
  // The group key can be left off the output.
  EXPECT_EQ(config->dedup_groups[2].group_label, "");
}

TEST(ParseConfigTest, ReadsDnsSdConfigsWithDefaults) {
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
  - job_name: j
    dns_sd_configs:
      - names: [_prometheus._tcp.example.com]
      - names: [a.example.com, b.example.com]
        type: aaaa
        port: 9100
        refresh_interval: 1m
  - job_name: k
)",
                                              "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  const std::vector<DnsSdConfig>& sd = config->scrape_configs[0].dns_sd_configs;
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_EQ(sd[0].names,
            std::vector<std::string>{"_prometheus._tcp.example.com"});
  EXPECT_EQ(sd[0].type, "SRV");
  EXPECT_EQ(sd[0].port, 0);
  EXPECT_EQ(sd[0].refresh_interval, absl::Seconds(30));
  EXPECT_EQ(sd[1].names,
            (std::vector<std::string>{"a.example.com", "b.example.com"}));
  EXPECT_EQ(sd[1].type, "aaaa");
  EXPECT_EQ(sd[1].port, 9100);
  EXPECT_EQ(sd[1].refresh_interval, absl::Minutes(1));
  // A scrape config without any targets is valid.
  EXPECT_TRUE(config->scrape_configs[1].static_configs.empty());
  EXPECT_TRUE(config->scrape_configs[1].file_sd_configs.empty());
  EXPECT_TRUE(config->scrape_configs[1].dns_sd_configs.empty());
}

TEST(ParseConfigTest, ReadsRelabelConfigsWithPrometheusDefaults) {
  absl::StatusOr<Config> config = ParseConfig(R"yaml(scrape_configs:
  - job_name: j
    static_configs:
      - targets: ["http://a:1/metrics"]
    relabel_configs:
      - target_label: __address__
        replacement: a:1
      - source_labels: [__address__, job]
        separator: "/"
        regex: "(.+)"
        target_label: addr
        replacement: "${1}x"
        action: Replace
      - action: hashmod
        source_labels: [__address__]
        modulus: 0x10
        target_label: __tmp_hash
      - regex: __meta_(.+)
        action: labelmap
      - action: labeldrop
        regex:
      - action: keepequal
        source_labels: [a]
        target_label: b
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
)yaml",
                                              "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->scrape_configs.size(), 1u);
  const ScrapeConfig& job = config->scrape_configs[0];
  ASSERT_EQ(job.relabel_configs.size(), 6u);

  // MakeRelabelConfig leaves the fields a rule does not write at their
  // defaults, as the loader must.
  EXPECT_EQ(job.relabel_configs[0],
            MakeRelabelConfig(RelabelAction::kReplace, {}, "(.*)",
                              "__address__", "a:1"));
  EXPECT_EQ(job.relabel_configs[0].line, 6);
  EXPECT_EQ(job.relabel_configs[1],
            MakeRelabelConfig(RelabelAction::kReplace, {"__address__", "job"},
                              "(.+)", "addr", "${1}x", "/"));
  EXPECT_EQ(job.relabel_configs[1].line, 8);

  EXPECT_EQ(job.relabel_configs[2].action, RelabelAction::kHashMod);
  EXPECT_EQ(job.relabel_configs[2].modulus, 16u);
  EXPECT_EQ(job.relabel_configs[3].action, RelabelAction::kLabelMap);
  EXPECT_EQ(job.relabel_configs[3].replacement, "$1");
  // A null regex is the empty regex, which matches only "".
  EXPECT_EQ(job.relabel_configs[4].action, RelabelAction::kLabelDrop);
  EXPECT_EQ(job.relabel_configs[4].regex, "");
  EXPECT_EQ(job.relabel_configs[5].action, RelabelAction::kKeepEqual);

  ASSERT_EQ(job.metric_relabel_configs.size(), 1u);
  EXPECT_EQ(job.metric_relabel_configs[0].action, RelabelAction::kDrop);
  EXPECT_EQ(job.metric_relabel_configs[0].regex, "go_.*");
  EXPECT_EQ(job.metric_relabel_configs[0].line, 26);
  // With relabel_configs, a URL-like target is left to the relabeling.
  EXPECT_EQ(job.static_configs[0].targets,
            (std::vector<std::string>{"http://a:1/metrics"}));
}

TEST(ParseConfigTest, AcceptsByteOrderMarkAndCrlf) {
  absl::StatusOr<Config> config = ParseConfig(
      "\xef\xbb\xbfscrape_configs:\r\n  - job_name: j\r\n", "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->scrape_configs.size(), 1u);
  EXPECT_EQ(config->scrape_configs[0].job_name, "j");
  EXPECT_EQ(config->scrape_configs[0].line, 2);
}

TEST(ParseConfigTest, ReadsOnlyTheFirstDocument) {
  absl::StatusOr<Config> config = ParseConfig(
      "scrape_configs: [{job_name: j}]\n---\nbogus: 1\n", "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->scrape_configs.size(), 1u);
}

TEST(ParseConfigTest, RejectsInvalidConfigsWithLocation) {
  // Reasons use Prometheus 2.42's wording where it has one (checked with
  // `promtool check config`); the line is 1-based.
  const struct {
    const char* name;
    std::string yaml;
    int line;
    const char* reason;
  } kCases[] = {
      // YAML itself.
      {"syntax error", "global:\n  scrape_interval: [\n", 3,
       "invalid YAML: end of sequence flow not found"},
      {"bad indentation", "global:\n  a: 1\n b: 2\n", 3,
       "invalid YAML: end of map not found"},
      {"undefined alias", "global: *nope\n", 1,
       "invalid YAML: the referenced anchor is not defined"},
      {"invalid utf-8", "global:\n  external_labels:\n    a: \xff\n", 3,
       "invalid YAML: invalid UTF-8 byte 0xff"},
      {"utf-16 surrogate escape",
       "global:\n  external_labels:\n    a: "
       "\"\\ud800\"\n",
       3, "invalid YAML: invalid unicode: 55296"},

      // Top level.
      {"document is a list", "[]\n", 1, "cannot unmarshal !!seq into config"},
      {"document is a scalar", "x\n", 1,
       "cannot unmarshal !!str `x` into config"},
      {"unknown top-level field", "global: {}\nfoo: 1\n", 2,
       "field foo not found in config"},
      {"unsupported top-level field", "alerting: {x: 1}\n", 1,
       "field alerting in config is not supported by fedgate yet"},
      {"rule options for no rule",
       "rule_options:\n  x:\n    keep_inputs: false\n", 2,
       "rule_options: no recording rule named \"x\" in rule_files"},
      {"rule options of a bad name", "rule_options:\n  1x: {}\n", 2,
       "rule_options: \"1x\" is not a valid recording rule name"},
      {"unknown rule option", "rule_options:\n  x:\n    keep: false\n", 3,
       "field keep not found in rule options"},
      {"rule file pattern with a star in a directory",
       "rule_files: [\"a/*/b.yml\"]\n", 1,
       "invalid rule file path \"a/*/b.yml\""},
      {"repeated section", "global: {}\n\nglobal: {}\n", 3,
       "field global already set in config"},
      {"complex key", "? [a]\n: 1\n", 1,
       "cannot unmarshal !!seq into a key of config"},

      // global.
      {"global is a scalar", "global: 1\n", 1,
       "cannot unmarshal !!str `1` into global config"},
      {"unknown global field", "global:\n  scrape_intervall: 1s\n", 2,
       "field scrape_intervall not found in global config"},
      {"unsupported global field", "global:\n  query_log_file: q.log\n", 2,
       "field query_log_file in global config is not supported by fedgate "
       "yet"},
      {"invalid duration", "global:\n  scrape_interval: 5 m\n", 2,
       "field scrape_interval: not a valid duration string: \"5 m\""},
      {"unitless duration", "global:\n  scrape_timeout: 30\n", 2,
       "field scrape_timeout: not a valid duration string: \"30\""},
      {"empty duration", "global:\n  evaluation_interval: \"\"\n", 2,
       "field evaluation_interval: empty duration string"},
      {"duration out of range", "global:\n  scrape_interval: 300y\n", 2,
       "field scrape_interval: duration out of range: \"300y\""},
      {"duration is a list", "global:\n  scrape_interval: [1s]\n", 2,
       "field scrape_interval: cannot unmarshal !!seq into string"},
      {"global timeout above global interval",
       "global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n", 3,
       "global scrape timeout greater than scrape interval"},
      {"global timeout above default interval",
       "global:\n  scrape_timeout: 2m\n", 2,
       "global scrape timeout greater than scrape interval"},
      {"external label name starts with a digit",
       "global:\n  external_labels:\n    1a: x\n", 3,
       "\"1a\" is not a valid label name"},
      {"external label name with a dash",
       "global:\n  external_labels:\n    a-b: x\n", 3,
       "\"a-b\" is not a valid label name"},
      {"external label name is not ascii",
       "global:\n  external_labels:\n    \"\\u00e9t\\u00a0\": x\n", 3,
       "\"\xc3\xa9t\\u00a0\" is not a valid label name"},
      {"external label name is empty",
       "global:\n  external_labels:\n    \"\": x\n", 3,
       "\"\" is not a valid label name"},
      {"repeated external label",
       "global:\n  external_labels:\n    a: x\n    a: y\n", 4,
       "label \"a\" already set in external_labels"},
      {"external label value is a list",
       "global:\n  external_labels:\n    a: [1]\n", 3,
       "field a: cannot unmarshal !!seq into string"},
      {"external labels is a list", "global:\n  external_labels: [a]\n", 2,
       "field external_labels: cannot unmarshal !!seq into a label set"},

      // scrape_configs.
      {"scrape_configs is a map", "scrape_configs: {}\n", 1,
       "field scrape_configs: cannot unmarshal !!map into a list"},
      {"null scrape config", "scrape_configs:\n  - job_name: a\n  -\n", 3,
       "empty or null scrape config section"},
      {"explicit null scrape config", "scrape_configs:\n\n  - ~\n", 3,
       "empty or null scrape config section"},
      {"scrape config is a scalar", "scrape_configs:\n  - node\n", 2,
       "cannot unmarshal !!str `node` into scrape config"},
      {"missing job_name", "scrape_configs:\n  - scrape_interval: 1s\n", 2,
       "job_name is empty"},
      {"empty job_name",
       "scrape_configs:\n  - scrape_interval: 1s\n    job_name: \"\"\n", 3,
       "job_name is empty"},
      {"null job_name", "scrape_configs:\n  - job_name:\n", 2,
       "job_name is empty"},
      {"job_name is a list", "scrape_configs:\n  - job_name: [a]\n", 2,
       "field job_name: cannot unmarshal !!seq into string"},
      {"duplicate job names",
       "scrape_configs:\n  - job_name: a\n  - job_name: b\n  - job_name: a\n",
       4, "found multiple scrape configs with job name \"a\""},
      {"repeated field", "scrape_configs:\n  - job_name: a\n    job_name: b\n",
       3, "field job_name already set in scrape config"},
      {"unknown scrape field",
       "scrape_configs:\n  - job_name: a\n    static_config: []\n", 3,
       "field static_config not found in scrape config"},

      // relabel_configs and metric_relabel_configs (relabel.Config 2.42).
      {"unknown relabel action",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: foo\n",
       4, "unknown relabel action \"foo\""},
      {"empty string relabel action",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: \"\"\n",
       4, "unknown relabel action \"\""},
      {"null relabel action",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - source_labels: [a]\n        action:\n",
       4, "relabel action cannot be empty"},
      {"hashmod without modulus",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: hashmod\n        target_label: s\n",
       4, "relabel configuration for hashmod requires non-zero modulus"},
      {"replace without target_label",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - source_labels: [a]\n",
       4,
       "relabel configuration for replace action requires 'target_label' "
       "value"},
      {"uppercase without target_label",
       "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n"
       "      - action: Uppercase\n",
       4,
       "relabel configuration for uppercase action requires 'target_label' "
       "value"},
      {"keepequal without target_label",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: keepequal\n        source_labels: [a]\n",
       4,
       "relabel configuration for keepequal action requires 'target_label' "
       "value"},
      {"invalid replace target_label",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - target_label: \"${1}bad-name\"\n",
       4, "\"${1}bad-name\" is invalid 'target_label' for replace action"},
      {"invalid lowercase target_label",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: lowercase\n        target_label: 1x\n",
       4, "\"1x\" is invalid 'target_label' for lowercase action"},
      {"hashmod target_label must be a plain name",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: hashmod\n        modulus: 2\n"
       "        target_label: ${1}\n",
       4, "\"${1}\" is invalid 'target_label' for hashmod action"},
      {"replacement on lowercase",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: lowercase\n        target_label: b\n"
       "        replacement: x\n",
       4, "'replacement' can not be set for lowercase action"},
      {"invalid labelmap replacement",
       "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n"
       "      - action: labelmap\n        replacement: a-$1\n",
       4, "\"a-$1\" is invalid 'replacement' for labelmap action"},
      {"keepequal with a regex",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: keepequal\n        target_label: b\n"
       "        regex: (.*)\n",
       4,
       "keepequal action requires only 'source_labels' and `target_label`, "
       "and no other fields"},
      {"dropequal with a separator",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: dropequal\n        target_label: b\n"
       "        separator: \",\"\n",
       4,
       "dropequal action requires only 'source_labels' and `target_label`, "
       "and no other fields"},
      {"labeldrop with source_labels",
       "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n"
       "      - action: labeldrop\n        regex: a\n"
       "        source_labels: []\n",
       4, "labeldrop action requires only 'regex', and no other fields"},
      {"labelkeep with target_label",
       "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n"
       "      - action: labelkeep\n        target_label: x\n",
       4, "labelkeep action requires only 'regex', and no other fields"},
      {"invalid relabel regex",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - target_label: b\n        regex: \"(\"\n",
       5, "error parsing regexp: missing closing ): `^(?:()$`"},
      {"invalid metric relabel regex",
       "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n"
       "      - action: drop\n        regex: \")\"\n",
       5, "error parsing regexp: unexpected ): `^(?:))$`"},
      {"invalid source label name",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - target_label: b\n        source_labels: [a, b-c]\n",
       5, "\"b-c\" is not a valid label name"},
      {"source_labels is a scalar",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - target_label: b\n        source_labels: a\n",
       5, "field source_labels: cannot unmarshal !!str `a` into a list"},
      {"negative modulus",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: hashmod\n        target_label: b\n"
       "        modulus: -1\n",
       6, "field modulus: cannot unmarshal !!str `-1` into uint64"},
      {"unknown relabel field",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - target_label: b\n        regexp: a\n",
       5, "field regexp not found in relabel config"},
      {"null target relabel rule",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - target_label: b\n      -\n",
       5, "empty or null target relabeling rule in scrape config"},
      {"null metric relabel rule",
       "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n"
       "      - ~\n",
       4, "empty or null metric relabeling rule in scrape config"},
      {"relabel rule is a scalar",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - drop\n",
       4, "cannot unmarshal !!str `drop` into relabel config"},
      {"relabel_configs is a map",
       "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      action: drop\n",
       4, "field relabel_configs: cannot unmarshal !!map into a list"},
      {"oauth2 not supported yet",
       "scrape_configs:\n  - job_name: a\n    oauth2:\n"
       "      client_id: x\n",
       3, "field oauth2 in scrape config is not supported by fedgate yet"},
      {"consul_sd_configs not supported yet",
       "scrape_configs:\n  - job_name: a\n    consul_sd_configs:\n"
       "      - server: localhost:8500\n",
       3,
       "field consul_sd_configs in scrape config is not supported by fedgate "
       "yet"},
      {"enable_http2 not a bool",
       "scrape_configs:\n  - job_name: a\n    enable_http2: maybe\n", 3,
       "field enable_http2: cannot unmarshal !!str `maybe` into bool"},

      // Scrape limits and params (Prometheus 2.42 wording).
      {"negative sample_limit",
       "scrape_configs:\n  - job_name: a\n    sample_limit: -1\n", 3,
       "field sample_limit: cannot unmarshal !!str `-1` into uint"},
      {"text label_limit",
       "scrape_configs:\n  - job_name: a\n    label_limit: abc\n", 3,
       "field label_limit: cannot unmarshal !!str `abc` into uint"},
      {"body_size_limit unknown unit",
       "scrape_configs:\n  - job_name: a\n    body_size_limit: 10XB\n", 3,
       "units: unknown unit XB in 10XB"},
      {"body_size_limit without unit",
       "scrape_configs:\n  - job_name: a\n    body_size_limit: 10\n", 3,
       "units: unknown unit  in 10"},
      {"body_size_limit not a number",
       "scrape_configs:\n  - job_name: a\n    body_size_limit: MB\n", 3,
       "units: invalid MB"},
      {"params value not a list",
       "scrape_configs:\n  - job_name: a\n    params:\n      a: b\n", 4,
       "cannot unmarshal !!str `b` into []string"},
      {"enable_compression is not in 2.42",
       "scrape_configs:\n  - job_name: a\n    enable_compression: false\n", 3,
       "field enable_compression in scrape config is not supported by "
       "fedgate yet"},
      {"global sample_limit is not in 2.42", "global:\n  sample_limit: 5\n", 2,
       "field sample_limit in global config is not supported by fedgate yet"},

      // HTTP client (prometheus/common HTTPClientConfig.Validate).
      {"bearer_token and bearer_token_file",
       "scrape_configs:\n  - job_name: a\n    bearer_token: x\n"
       "    bearer_token_file: f\n",
       4, "at most one of bearer_token & bearer_token_file must be configured"},
      {"basic_auth and bearer_token",
       "scrape_configs:\n  - job_name: a\n    bearer_token: x\n"
       "    basic_auth: {username: u}\n",
       4,
       "at most one of basic_auth, oauth2, bearer_token & bearer_token_file "
       "must be configured"},
      {"basic_auth password and password_file",
       "scrape_configs:\n  - job_name: a\n"
       "    basic_auth: {username: u, password: p, password_file: f}\n",
       3,
       "at most one of basic_auth password & password_file must be "
       "configured"},
      {"authorization and bearer_token",
       "scrape_configs:\n  - job_name: a\n"
       "    authorization: {credentials: a}\n    bearer_token: b\n",
       4,
       "authorization is not compatible with bearer_token & bearer_token_file"},
      {"authorization credentials and credentials_file",
       "scrape_configs:\n  - job_name: a\n"
       "    authorization: {credentials: a, credentials_file: b}\n",
       3,
       "at most one of authorization credentials & credentials_file must be "
       "configured"},
      {"authorization type basic",
       "scrape_configs:\n  - job_name: a\n"
       "    authorization: {type: Basic, credentials: a}\n",
       3,
       "authorization type cannot be set to \"basic\", use \"basic_auth\" "
       "instead"},
      {"authorization and basic_auth",
       "scrape_configs:\n  - job_name: a\n"
       "    authorization: {credentials: a}\n    basic_auth: {username: u}\n",
       4,
       "at most one of basic_auth, oauth2 & authorization must be configured"},
      {"basic_auth username_file is not in 2.42",
       "scrape_configs:\n  - job_name: a\n"
       "    basic_auth:\n      username_file: f\n",
       4, "field username_file not found in basic auth"},
      {"unknown TLS version",
       "scrape_configs:\n  - job_name: a\n"
       "    tls_config:\n      min_version: TLS14\n",
       4, "unknown TLS version: TLS14"},
      {"inline ca is not in 2.42",
       "scrape_configs:\n  - job_name: a\n    tls_config:\n      ca: x\n", 4,
       "field ca not found in tls config"},
      {"cert_file without key_file",
       "scrape_configs:\n  - job_name: a\n"
       "    tls_config:\n      cert_file: /c.pem\n",
       3, "client cert file \"/c.pem\" specified without client key file"},
      {"key_file without cert_file",
       "scrape_configs:\n  - job_name: a\n"
       "    tls_config:\n      key_file: /k.pem\n",
       3, "client key file \"/k.pem\" specified without client cert file"},
      {"proxy_url without scheme",
       "scrape_configs:\n  - job_name: a\n    proxy_url: \"::bad\"\n", 3,
       "parse \"::bad\": missing protocol scheme"},
      // The password never reaches the message (Go's url.Parse quotes it).
      {"proxy_url without scheme, with a password",
       "scrape_configs:\n  - job_name: a\n"
       "    proxy_url: \":u:s3cret@proxy:3128\"\n",
       3, "parse \":xxxxx@proxy:3128\": missing protocol scheme"},
      {"scrape timeout above scrape interval",
       "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n"
       "    scrape_timeout: 6s\n",
       4,
       "scrape timeout greater than scrape interval for scrape config with "
       "job name \"a\""},
      {"scrape timeout above inherited interval",
       "global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: a\n"
       "    scrape_timeout: 6s\n",
       5,
       "scrape timeout greater than scrape interval for scrape config with "
       "job name \"a\""},
      {"unsupported scheme",
       "scrape_configs:\n  - job_name: a\n    scheme: ftp\n", 3,
       "scheme \"ftp\" is not supported for scrape config with job name "
       "\"a\": use \"http\" or \"https\""},
      {"upper-case scheme",
       "scrape_configs:\n  - job_name: a\n    scheme: HTTPS\n", 3,
       "scheme \"HTTPS\" is not supported for scrape config with job name "
       "\"a\": use \"http\" or \"https\""},
      {"null scheme", "scrape_configs:\n  - job_name: a\n    scheme:\n", 3,
       "scheme \"\" is not supported for scrape config with job name "
       "\"a\": use \"http\" or \"https\""},
      {"integer bool",
       "scrape_configs:\n  - job_name: a\n    honor_labels: 1\n", 3,
       "field honor_labels: cannot unmarshal !!str `1` into bool"},
      {"quoted bool",
       "scrape_configs:\n  - job_name: a\n    honor_timestamps: \"true\"\n", 3,
       "field honor_timestamps: cannot unmarshal !!str `true` into bool"},
      {"mixed-case bool",
       "scrape_configs:\n  - job_name: a\n    honor_labels: tRue\n", 3,
       "field honor_labels: cannot unmarshal !!str `tRue` into bool"},
      {"bool is a map",
       "scrape_configs:\n  - job_name: a\n    honor_labels: {}\n", 3,
       "field honor_labels: cannot unmarshal !!map into bool"},

      // static_configs.
      {"static_configs is a map",
       "scrape_configs:\n  - job_name: a\n    static_configs: {}\n", 3,
       "field static_configs: cannot unmarshal !!map into a list"},
      {"null static config",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n      -\n", 4,
       "empty or null section in static_configs"},
      {"static config is a scalar",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n      - x\n", 4,
       "cannot unmarshal !!str `x` into static config"},
      {"unknown static config field",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets: [a:1]\n        label: {}\n",
       5, "field label not found in static config"},
      {"targets is a scalar",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets: a:1\n",
       4, "field targets: cannot unmarshal !!str `a:1` into []string"},
      {"target is a URL",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets:\n          - a:1\n          - http://b:2/metrics\n",
       6, "\"http://b:2/metrics\" is not a valid hostname"},
      {"target with a path",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets: [\"a:1/x\"]\n",
       4, "\"a:1/x\" is not a valid hostname"},
      {"empty target",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets: [a:1, \"\"]\n",
       4, "target has no address"},
      {"null target",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets:\n          - a:1\n          -\n          - b:1\n",
       6, "target has no address"},
      {"target is a list",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets: [[a]]\n",
       4, "field targets: cannot unmarshal !!seq into string"},
      {"invalid target label name",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets: [a:1]\n        labels:\n          1x: y\n",
       6, "\"1x\" is not a valid label name"},
      {"repeated target label",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - labels: {x: 1, x: 2}\n",
       4, "label \"x\" already set in labels"},
      {"target label value is a map",
       "scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - labels:\n          x: {y: z}\n",
       5, "field x: cannot unmarshal !!map into string"},

      // Merge keys.
      {"merge of a scalar", "scrape_configs:\n  - job_name: a\n    <<: 1\n", 3,
       "map merge requires map or sequence of maps as the value"},
      {"merge of a list with a scalar",
       "scrape_configs:\n  - job_name: a\n    <<: [{scheme: http}, 1]\n", 3,
       "map merge requires map or sequence of maps as the value"},
      {"merged unknown field",
       "scrape_configs:\n  - &x {job_name: a, bogus: 1}\n", 2,
       "field bogus not found in scrape config"},
      {"field repeated around a merge",
       "scrape_configs:\n  - job_name: a\n    <<: {scheme: http}\n"
       "    job_name: b\n",
       4, "field job_name already set in scrape config"},
      {"repeated field inside a merged map",
       "scrape_configs:\n  - job_name: a\n    <<: {scheme: http,\n"
       "         scheme: https}\n",
       4, "field scheme already set in scrape config"},
      {"merged repeated label",
       "global:\n  external_labels:\n    <<: {a: x}\n    a: y\n", 4,
       "label \"a\" already set in external_labels"},

      // file_sd_configs.
      {"file_sd not a list",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs: 1\n", 3,
       "field file_sd_configs: cannot unmarshal !!str `1` into a list"},
      {"file_sd null entry",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n    -\n", 4,
       "empty or null section in file_sd_configs"},
      {"file_sd without files",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
       "    - refresh_interval: 1m\n",
       4, "file service discovery config must contain at least one path name"},
      {"file_sd glob in a directory",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
       "    - files: [sd/*/x.json]\n",
       4, "path name \"sd/*/x.json\" is not valid for file discovery"},
      {"file_sd unknown extension",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
       "    - files: [x.txt]\n",
       4, "path name \"x.txt\" is not valid for file discovery"},
      {"file_sd star as extension",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
       "    - files: [\"x*\"]\n",
       4, "path name \"x*\" is not valid for file discovery"},
      {"file_sd files not a list",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
       "    - files: x.json\n",
       4, "field files: cannot unmarshal !!str `x.json` into []string"},
      {"file_sd bad refresh_interval",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
       "    - files: [x.json]\n      refresh_interval: 1x\n",
       5, "field refresh_interval: not a valid duration string: \"1x\""},
      {"file_sd zero refresh_interval",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
       "    - files: [x.json]\n      refresh_interval: 0s\n",
       5, "refresh_interval must be greater than 0"},
      {"file_sd unknown field",
       "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
       "    - files: [x.json]\n      bogus: 1\n",
       5, "field bogus not found in file_sd config"},

      // dns_sd_configs.
      {"dns_sd not a list",
       "scrape_configs:\n  - job_name: a\n    dns_sd_configs: {}\n", 3,
       "field dns_sd_configs: cannot unmarshal !!map into a list"},
      {"dns_sd entry not a map",
       "scrape_configs:\n  - job_name: a\n    dns_sd_configs: [x]\n", 3,
       "cannot unmarshal !!str `x` into dns_sd config"},
      {"dns_sd without names",
       "scrape_configs:\n  - job_name: a\n    dns_sd_configs:\n"
       "    - type: SRV\n",
       4, "DNS-SD config must contain at least one SRV record name"},
      {"dns_sd A without port",
       "scrape_configs:\n  - job_name: a\n    dns_sd_configs:\n"
       "    - names: [x]\n      type: A\n",
       4,
       "a port is required in DNS-SD configs for all record types except SRV"},
      {"dns_sd bad type",
       "scrape_configs:\n  - job_name: a\n    dns_sd_configs:\n"
       "    - names: [x]\n      type: TXT\n",
       5, "invalid DNS-SD records type TXT"},
      {"dns_sd bad port",
       "scrape_configs:\n  - job_name: a\n    dns_sd_configs:\n"
       "    - names: [x]\n      port: http\n",
       5, "field port: cannot unmarshal !!str `http` into int"},
      {"dns_sd bad refresh_interval",
       "scrape_configs:\n  - job_name: a\n    dns_sd_configs:\n"
       "    - names: [x]\n      refresh_interval: soon\n",
       5, "field refresh_interval: not a valid duration string: \"soon\""},
      {"dns_sd unknown field",
       "scrape_configs:\n  - job_name: a\n    dns_sd_configs:\n"
       "    - names: [x]\n      server: 1.1.1.1\n",
       5, "field server not found in dns_sd config"},

      // dedup_groups (fedgate's own section).
      {"dedup group without a name",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n"
       "  - job_names: [a]\n",
       4, "dedup group without a name"},
      {"dedup group without jobs",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n  - name: g\n", 4,
       "dedup group \"g\" must name at least one job in job_names"},
      {"dedup group with an unknown job",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n"
       "  - name: g\n    job_names: [b]\n",
       4, "dedup group \"g\": no scrape config with job name \"b\""},
      {"job in two dedup groups",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n"
       "  - name: g\n    job_names: [a]\n  - name: h\n    job_names: [a]\n",
       6, "dedup group \"h\": job \"a\" is already in dedup group \"g\""},
      {"two dedup groups with one name",
       "scrape_configs:\n  - job_name: a\n  - job_name: b\ndedup_groups:\n"
       "  - name: g\n    job_names: [a]\n  - name: g\n    job_names: [b]\n",
       7, "found multiple dedup groups with name \"g\""},
      {"dedup group bad regex",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n"
       "  - name: g\n    job_names: [a]\n    regex: '('\n",
       6, "error parsing regexp: missing closing ): `^(?:()$`"},
      {"dedup group bad replica label",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n"
       "  - name: g\n    job_names: [a]\n    replica_labels: [a-b]\n",
       6, "\"a-b\" is not a valid label name"},
      {"dedup group replica __name__",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n"
       "  - name: g\n    job_names: [a]\n    replica_labels: [__name__]\n",
       6, "__name__ cannot be a replica label"},
      {"dedup group bad group label",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n"
       "  - name: g\n    job_names: [a]\n    group_label: a-b\n",
       6, "\"a-b\" is not a valid label name"},
      {"dedup group label __name__",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n"
       "  - name: g\n    job_names: [a]\n    group_label: __name__\n",
       6, "__name__ cannot be a group label"},
      {"dedup group unknown field",
       "scrape_configs:\n  - job_name: a\ndedup_groups:\n"
       "  - name: g\n    job_names: [a]\n    leader: x\n",
       6, "field leader not found in dedup group"},
      {"dedup groups not a list",
       "scrape_configs:\n  - job_name: a\ndedup_groups: {}\n", 3,
       "field dedup_groups: cannot unmarshal !!map into a list"},

      // The first error in document order wins.
      {"first error wins",
       "scrape_configs:\n  - job_name: a\n    foo: 1\n  - job_name: \"\"\n", 3,
       "field foo not found in scrape config"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Config> config = ParseConfig(c.yaml, "test.yml");
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
        << config.status();
    EXPECT_EQ(config.status().message(),
              "test.yml:" + std::to_string(c.line) + ": " + c.reason);
  }
}

TEST(ParseConfigTest, ErrorsWithoutFilenameStartWithLine) {
  absl::StatusOr<Config> config =
      ParseConfig("scrape_configs:\n  - job_name: \"\"\n", "");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), "line 2: job_name is empty");
}

TEST(ParseConfigTest, RejectsExponentialMergeExpansion) {
  // Each level merges the previous one twice: 2^30 entries if expanded.
  std::string yaml = "scrape_configs:\n  - &l0 {job_name: a}\n";
  for (int i = 1; i <= 30; ++i) {
    yaml += "  - &l" + std::to_string(i) + " {<<: [*l" + std::to_string(i - 1) +
            ", *l" + std::to_string(i - 1) + "]}\n";
  }
  absl::StatusOr<Config> config = ParseConfig(yaml, "test.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(config.status().message(),
                                "YAML merge keys (<<) expand to more than"))
      << config.status();
}

TEST(ParseConfigTest, RejectsAMapThatMergesItself) {
  // An alias to the map being defined: merging it would never end.
  const std::string yaml =
      "scrape_configs:\n  - &r\n    job_name: a\n    <<: *r\n";
  absl::StatusOr<Config> config = ParseConfig(yaml, "test.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(config.status().message(),
                                "YAML merge keys (<<) nest deeper than 64"))
      << config.status();
}

TEST(ParseConfigTest, DeepNestingIsAnErrorNotACrash) {
  const std::string yaml = "global: " + std::string(100000, '[') + "\n";
  absl::StatusOr<Config> config = ParseConfig(yaml, "test.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  // yaml-cpp's depth limit reports "bad file" at the end of the input.
  EXPECT_TRUE(absl::StartsWith(config.status().message(), "test.yml:"))
      << config.status();
  EXPECT_TRUE(absl::StrContains(config.status().message(), ": invalid YAML: "))
      << config.status();
}

TEST(LoadConfigFileTest, LoadsRuleFilesAndTheirOptions) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/rules");
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", dir).c_str()), 0);
  std::ofstream(dir + "/mesh.yml")
      << "groups:\n  - name: mesh\n    rules:\n"
         "      - record: deployment:request_total:sum\n"
         "        expr: sum by (deployment) (request_total)\n";
  const std::string path = dir + "/../fedgate.yml";
  std::ofstream(path) << "rule_files: [rules/*.yml]\n"
                         "rule_options:\n"
                         "  deployment:request_total:sum:\n"
                         "    keep_inputs: false\n";
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->rule_files,
            std::vector<std::string>{dir + "/../rules/*.yml"});
  ASSERT_EQ(config->rule_groups.size(), 1);
  EXPECT_EQ(config->rule_groups[0].rules[0].record,
            "deployment:request_total:sum");
  ASSERT_EQ(config->rule_options.count("deployment:request_total:sum"), 1);
  EXPECT_FALSE(
      config->rule_options.at("deployment:request_total:sum").keep_inputs);
}

TEST(LoadConfigFileTest, LoadsFileAndRecordsPath) {
  absl::StatusOr<Config> config = LoadConfigFile("config/testdata/valid.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source_path, "config/testdata/valid.yml");
  EXPECT_EQ(config->global.scrape_interval, absl::Seconds(15));
  EXPECT_EQ(config->global.external_labels,
            (Labels{{"region", "eu-west-1"}, {"replica", "a"}}));
  ASSERT_EQ(config->scrape_configs.size(), 2u);
  EXPECT_EQ(config->scrape_configs[0].job_name, "node");
  EXPECT_EQ(config->scrape_configs[0].line, 12);
  EXPECT_EQ(config->scrape_configs[0].scrape_timeout, absl::Seconds(5));
  ASSERT_EQ(config->scrape_configs[0].static_configs.size(), 2u);
  EXPECT_EQ(config->scrape_configs[0].static_configs[1].targets,
            (std::vector<std::string>{"10.0.0.3:9100"}));
  EXPECT_EQ(config->scrape_configs[1].job_name, "k3s");
  EXPECT_EQ(config->scrape_configs[1].scheme, "https");
  EXPECT_EQ(config->scrape_configs[1].scrape_timeout, absl::Seconds(20));
}

TEST(LoadConfigFileTest, EmptyFileIsValid) {
  absl::StatusOr<Config> config = LoadConfigFile("config/testdata/empty.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->scrape_configs.empty());
  EXPECT_EQ(config->global.scrape_interval, absl::Minutes(1));
}

// Expects LoadConfigFile to refuse `path` with `code` and a message that
// names the file.
void ExpectUnreadable(const std::string& path, absl::StatusCode code) {
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), code) << config.status();
  EXPECT_TRUE(absl::StartsWith(config.status().message(),
                               "reading config file " + path + ": "))
      << config.status();
}

TEST(LoadConfigFileTest, ReportsAMissingFile) {
  ExpectUnreadable("config/testdata/missing.yml", absl::StatusCode::kNotFound);
}

TEST(LoadConfigFileTest, ReportsADirectory) {
  ExpectUnreadable("config/testdata", absl::StatusCode::kFailedPrecondition);
}

TEST(ParseConfigTest, ExpandsExternalLabelsOnlyWithTheFeature) {
  constexpr absl::string_view kYaml =
      "global:\n"
      "  external_labels:\n"
      "    replica: ${POD_NAME}\n"
      "    region: eu-$ZONE\n"
      "    cost: $$5\n"
      "    gone: $UNSET\n"
      "    empty: x${EMPTY}\n"
      "    plain: a\n"
      "scrape_configs:\n"
      "  - job_name: j\n"
      "    static_configs:\n"
      "      - targets: [a:1]\n"
      "        labels: {pod: $POD_NAME}\n";
  const Labels env = {{"POD_NAME", "fedgate-1"}, {"ZONE", "1"}, {"EMPTY", ""}};
  std::vector<std::string> asked, empty, replaced;
  ConfigLoadOptions options;
  options.getenv = [&](absl::string_view name) {
    asked.emplace_back(name);
    auto it = env.find(std::string(name));
    return it == env.end() ? std::string() : it->second;
  };
  options.on_empty_variable = [&](absl::string_view name) {
    empty.emplace_back(name);
  };
  options.on_label_expanded = [&](absl::string_view label,
                                  absl::string_view input,
                                  absl::string_view output) {
    replaced.push_back(absl::StrCat(label, ": ", input, " -> ", output));
  };

  // Off (the default): the values as written.
  absl::StatusOr<Config> config = ParseConfig(kYaml, "f.yml", options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->global.external_labels.at("replica"), "${POD_NAME}");
  EXPECT_EQ(config->global.external_labels.at("cost"), "$$5");
  EXPECT_TRUE(asked.empty());

  options.expand_external_labels = true;
  config = ParseConfig(kYaml, "f.yml", options);
  ASSERT_TRUE(config.ok()) << config.status();
  // A label whose value expands to "" stays, as in Prometheus.
  EXPECT_EQ(config->global.external_labels, (Labels{{"cost", "$5"},
                                                    {"empty", "x"},
                                                    {"gone", ""},
                                                    {"plain", "a"},
                                                    {"region", "eu-1"},
                                                    {"replica", "fedgate-1"}}));
  // Labels in name order; `$$` never reads the environment.
  EXPECT_EQ(asked,
            (std::vector<std::string>{"EMPTY", "UNSET", "ZONE", "POD_NAME"}));
  EXPECT_EQ(empty, (std::vector<std::string>{"EMPTY", "UNSET"}));
  EXPECT_EQ(replaced, (std::vector<std::string>{
                          "cost: $$5 -> $5", "empty: x${EMPTY} -> x",
                          "gone: $UNSET -> ", "region: eu-$ZONE -> eu-1",
                          "replica: ${POD_NAME} -> fedgate-1"}));
  // Only external labels are expanded.
  ASSERT_EQ(config->scrape_configs.size(), 1u);
  EXPECT_EQ(config->scrape_configs[0].static_configs[0].labels.at("pod"),
            "$POD_NAME");
}

TEST(ParseConfigTest, ExpansionKeepsWhatTheEnvironmentHolds) {
  // Prometheus checks the values as written, not once expanded: a value
  // from the environment is taken as it is.
  ConfigLoadOptions options;
  options.expand_external_labels = true;
  options.getenv = [](absl::string_view) { return std::string("\xff{}\""); };
  absl::StatusOr<Config> config =
      ParseConfig("global:\n  external_labels:\n    a: $X\n", "f.yml", options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->global.external_labels.at("a"), "\xff{}\"");
  // A document with an error is refused before any expansion.
  bool asked = false;
  options.getenv = [&asked](absl::string_view) {
    asked = true;
    return std::string();
  };
  config = ParseConfig("global:\n  external_labels:\n    a: $X\n  bad: 1\n",
                       "f.yml", options);
  EXPECT_FALSE(config.ok());
  EXPECT_FALSE(asked);
}

TEST(LoadConfigFileTest, ExpandsFromTheProcessEnvironment) {
  const std::string path =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/expand.yml");
  std::ofstream(path) << "global:\n  external_labels:\n"
                         "    replica: ${FEDGATE_LOADER_TEST_REPLICA}\n";
  ASSERT_EQ(setenv("FEDGATE_LOADER_TEST_REPLICA", "b", 1), 0);
  ConfigLoadOptions options;
  options.expand_external_labels = true;
  absl::StatusOr<Config> config = LoadConfigFile(path, options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->global.external_labels, (Labels{{"replica", "b"}}));
}

}  // namespace
}  // namespace fedgate
