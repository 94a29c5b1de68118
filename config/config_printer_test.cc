#include "config/config_printer.h"

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "config/config_loader.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(ConfigPrinterTest, PrintsDefaultsFilledAsPrometheus) {
  // The same configuration given to Prometheus 2.42 prints exactly this in
  // /api/v1/status/config (relabel_configs and basic_auth aside).
  absl::StatusOr<Config> config = ParseConfig(R"(
global:
  scrape_interval: 2s
  external_labels: {zone: ie}
scrape_configs:
- job_name: j1
  static_configs:
  - targets: ['127.0.0.1:19411']
    labels: {team: a}
- job_name: down
  honor_labels: true
  relabel_configs:
  - source_labels: [__address__]
    regex: drop.*
    action: drop
  metric_relabel_configs:
  - source_labels: [a, b]
    target_label: c
    modulus: 8
    action: hashmod
  static_configs:
  - targets: ['127.0.0.1:1', 'drop:1']
)",
                                              "fedgate.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(PrintConfigYaml(*config),
            "global:\n"
            "  scrape_interval: 2s\n"
            "  scrape_timeout: 2s\n"
            "  evaluation_interval: 1m\n"
            "  external_labels:\n"
            "    zone: ie\n"
            "scrape_configs:\n"
            "- job_name: j1\n"
            "  honor_timestamps: true\n"
            "  scrape_interval: 2s\n"
            "  scrape_timeout: 2s\n"
            "  metrics_path: /metrics\n"
            "  scheme: http\n"
            "  follow_redirects: true\n"
            "  enable_http2: true\n"
            "  static_configs:\n"
            "  - targets:\n"
            "    - 127.0.0.1:19411\n"
            "    labels:\n"
            "      team: a\n"
            "- job_name: down\n"
            "  honor_labels: true\n"
            "  honor_timestamps: true\n"
            "  scrape_interval: 2s\n"
            "  scrape_timeout: 2s\n"
            "  metrics_path: /metrics\n"
            "  scheme: http\n"
            "  follow_redirects: true\n"
            "  enable_http2: true\n"
            "  relabel_configs:\n"
            "  - source_labels: [__address__]\n"
            "    separator: ;\n"
            "    regex: drop.*\n"
            "    replacement: $1\n"
            "    action: drop\n"
            "  metric_relabel_configs:\n"
            "  - source_labels: [a, b]\n"
            "    separator: ;\n"
            "    regex: (.*)\n"
            "    modulus: 8\n"
            "    target_label: c\n"
            "    replacement: $1\n"
            "    action: hashmod\n"
            "  static_configs:\n"
            "  - targets:\n"
            "    - 127.0.0.1:1\n"
            "    - drop:1\n");
}

TEST(ConfigPrinterTest, PrintsGlobalDefaultsForEmptyConfig) {
  absl::StatusOr<Config> config = ParseConfig("", "empty.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(PrintConfigYaml(*config),
            "global:\n"
            "  scrape_interval: 1m\n"
            "  scrape_timeout: 10s\n"
            "  evaluation_interval: 1m\n");
}

TEST(ConfigPrinterTest, PrintsRuleFilesResolvedAfterGlobal) {
  // The patterns match no file: printing needs no rule file on disk.
  absl::StatusOr<Config> config = ParseConfig(
      "rule_files: [\"rules/*.yml\", /abs/r.yml]\n", "/etc/fedgate/f.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(PrintConfigYaml(*config),
            "global:\n"
            "  scrape_interval: 1m\n"
            "  scrape_timeout: 10s\n"
            "  evaluation_interval: 1m\n"
            "rule_files:\n"
            "- /etc/fedgate/rules/*.yml\n"
            "- /abs/r.yml\n");
}

TEST(ConfigPrinterTest, PrintsRuleOptionsLast) {
  Config config;
  config.rule_options["deployment:request_total:sum"].keep_inputs = false;
  EXPECT_EQ(PrintConfigYaml(config),
            "global:\n"
            "  scrape_interval: 1m\n"
            "  scrape_timeout: 10s\n"
            "  evaluation_interval: 1m\n"
            "rule_options:\n"
            "  deployment:request_total:sum:\n"
            "    keep_inputs: false\n");
}

TEST(ConfigPrinterTest, OmitsFalseHonorTimestamps) {
  absl::StatusOr<Config> config = ParseConfig(R"(
scrape_configs:
- job_name: "yes"
  honor_timestamps: false
  scrape_interval: 30s
  metrics_path: /m
)",
                                              "fedgate.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(PrintConfigYaml(*config),
            "global:\n"
            "  scrape_interval: 1m\n"
            "  scrape_timeout: 10s\n"
            "  evaluation_interval: 1m\n"
            "scrape_configs:\n"
            "- job_name: \"yes\"\n"
            "  scrape_interval: 30s\n"
            "  scrape_timeout: 10s\n"
            "  metrics_path: /m\n"
            "  scheme: http\n"
            "  follow_redirects: true\n"
            "  enable_http2: true\n");
}

TEST(ConfigPrinterTest, PrintsDedupGroupsWithTheirGroupLabel) {
  absl::StatusOr<Config> config = ParseConfig(R"(
scrape_configs:
- job_name: a
- job_name: b
dedup_groups:
- name: a
  job_names: [a]
- name: b
  job_names: [b]
  group_label: ''
)",
                                              "fedgate.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  const std::string yaml = PrintConfigYaml(*config);
  EXPECT_TRUE(absl::StrContains(yaml,
                                "- name: a\n"
                                "  job_names: [a]\n"
                                "  source_labels: [job]\n"
                                "  separator: ;\n"
                                "  regex: (.*)\n"
                                "  replacement: $1\n"
                                "  replica_labels: [instance]\n"
                                "  group_label: instance\n"))
      << yaml;
  EXPECT_TRUE(absl::StrContains(yaml,
                                "  replica_labels: [instance]\n"
                                "  group_label: \"\"\n"))
      << yaml;
}

TEST(ConfigPrinterTest, PrintsDiscoveryConfigsSortedByKey) {
  absl::StatusOr<Config> config = ParseConfig(R"(
scrape_configs:
- job_name: sd
  static_configs: [{targets: [a:1]}]
  file_sd_configs: [{files: [/sd/*.json]}]
  dns_sd_configs: [{names: [x.example.com], type: A, port: 80}]
  kubernetes_sd_configs:
  - role: endpoints
    api_server: https://127.0.0.1:6443
    authorization: {credentials: s3cret}
    namespaces: {names: [default]}
    selectors: [{role: service, label: app=web}, {role: pod}]
    attach_metadata: {node: true}
  - role: node
)",
                                              "fedgate.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(PrintConfigYaml(*config),
            "global:\n"
            "  scrape_interval: 1m\n"
            "  scrape_timeout: 10s\n"
            "  evaluation_interval: 1m\n"
            "scrape_configs:\n"
            "- job_name: sd\n"
            "  honor_timestamps: true\n"
            "  scrape_interval: 1m\n"
            "  scrape_timeout: 10s\n"
            "  metrics_path: /metrics\n"
            "  scheme: http\n"
            "  follow_redirects: true\n"
            "  enable_http2: true\n"
            "  dns_sd_configs:\n"
            "  - names:\n"
            "    - x.example.com\n"
            "    refresh_interval: 30s\n"
            "    type: A\n"
            "    port: 80\n"
            "  file_sd_configs:\n"
            "  - files:\n"
            "    - /sd/*.json\n"
            "    refresh_interval: 5m\n"
            "  kubernetes_sd_configs:\n"
            "  - api_server: https://127.0.0.1:6443\n"
            "    role: endpoints\n"
            "    kubeconfig_file: \"\"\n"
            "    authorization:\n"
            "      type: Bearer\n"
            "      credentials: <secret>\n"
            "    follow_redirects: true\n"
            "    enable_http2: true\n"
            "    namespaces:\n"
            "      own_namespace: false\n"
            "      names:\n"
            "      - default\n"
            "    selectors:\n"
            "    - role: service\n"
            "      label: app=web\n"
            "    - role: pod\n"
            "    attach_metadata:\n"
            "      node: true\n"
            "  - role: node\n"
            "    kubeconfig_file: \"\"\n"
            "    follow_redirects: true\n"
            "    enable_http2: true\n"
            "  static_configs:\n"
            "  - targets:\n"
            "    - a:1\n");
}

TEST(ConfigPrinterTest, PrintsScrapeLimitsAndHttpClientLikePrometheus) {
  // The input and the expected output are Prometheus 2.42's
  // /api/v1/status/config for the same file.
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
- job_name: a
  params: {module: [m1, m2], x: [y]}
  sample_limit: 5
  label_limit: 6
  label_name_length_limit: 7
  label_value_length_limit: 8
  body_size_limit: 1.5KB
  target_limit: 9
  follow_redirects: false
  proxy_url: http://user:pw@p:3128/
  tls_config: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem, server_name: sn, insecure_skip_verify: true, min_version: TLS12, max_version: TLS13}
  authorization: {credentials_file: tok}
  static_configs: [{targets: ['127.0.0.1:1']}]
- job_name: b
  bearer_token: secret
  basic_auth: null
  static_configs: [{targets: ['127.0.0.1:1']}]
- job_name: c
  basic_auth: {username: u, password: p}
  body_size_limit: 10MB
  static_configs: [{targets: ['127.0.0.1:1']}]
- job_name: e
  authorization: {type: Token, credentials: xx}
  static_configs: [{targets: ['127.0.0.1:1']}]
)",
                                              "p.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  const std::string printed = PrintConfigYaml(*config);
  EXPECT_EQ(printed, R"(global:
  scrape_interval: 1m
  scrape_timeout: 10s
  evaluation_interval: 1m
scrape_configs:
- job_name: a
  honor_timestamps: true
  params:
    module:
    - m1
    - m2
    x:
    - "y"
  scrape_interval: 1m
  scrape_timeout: 10s
  metrics_path: /metrics
  scheme: http
  body_size_limit: 1KiB512B
  sample_limit: 5
  target_limit: 9
  label_limit: 6
  label_name_length_limit: 7
  label_value_length_limit: 8
  authorization:
    type: Bearer
    credentials_file: tok
  proxy_url: http://user:xxxxx@p:3128/
  tls_config:
    ca_file: ca.pem
    cert_file: c.pem
    key_file: k.pem
    server_name: sn
    insecure_skip_verify: true
    min_version: 771
    max_version: 772
  follow_redirects: false
  enable_http2: true
  static_configs:
  - targets:
    - 127.0.0.1:1
- job_name: b
  honor_timestamps: true
  scrape_interval: 1m
  scrape_timeout: 10s
  metrics_path: /metrics
  scheme: http
  authorization:
    type: Bearer
    credentials: <secret>
  follow_redirects: true
  enable_http2: true
  static_configs:
  - targets:
    - 127.0.0.1:1
- job_name: c
  honor_timestamps: true
  scrape_interval: 1m
  scrape_timeout: 10s
  metrics_path: /metrics
  scheme: http
  body_size_limit: 10MiB
  basic_auth:
    username: u
    password: <secret>
  follow_redirects: true
  enable_http2: true
  static_configs:
  - targets:
    - 127.0.0.1:1
- job_name: e
  honor_timestamps: true
  scrape_interval: 1m
  scrape_timeout: 10s
  metrics_path: /metrics
  scheme: http
  authorization:
    type: Token
    credentials: <secret>
  follow_redirects: true
  enable_http2: true
  static_configs:
  - targets:
    - 127.0.0.1:1
)");
  // No secret appears anywhere in the output.
  for (const char* secret : {"secret\n", ": p\n", "xx\n", ":pw@"}) {
    EXPECT_FALSE(absl::StrContains(printed, secret)) << secret;
  }
}

// What /api/v1/status/config prints loads again (a printed config is what
// users copy into a new file) and prints the same. As in Prometheus 2.42,
// secrets print as <secret> and `honor_timestamps: false` is omitted, so
// those two do not survive the trip and are left out here.
TEST(ConfigPrinterTest, NoSecretOfAnyDiscoveryOrScrapeClientIsPrinted) {
  // Every secret field a configuration can hold, each with a value that
  // appears nowhere else.
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
  - job_name: k
    basic_auth: {username: scrape-user, password: scrape-password-1}
    proxy_url: http://proxy-user:proxy-password-2@proxy:3128/
    kubernetes_sd_configs:
      - role: pod
        api_server: https://k8s:6443
        authorization: {credentials: sd-credentials-3}
        proxy_url: http://u:sd-proxy-password-4@proxy:3128/
      - role: node
        api_server: https://k8s:6443
        basic_auth: {username: sd-user, password: sd-password-5}
  - job_name: t
    bearer_token: scrape-bearer-6
    static_configs: [{targets: ['a:1']}]
)",
                                              "secrets.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  const std::string printed = PrintConfigYaml(*config);
  for (const char* secret :
       {"scrape-password-1", "proxy-password-2", "sd-credentials-3",
        "sd-proxy-password-4", "sd-password-5", "scrape-bearer-6"}) {
    EXPECT_FALSE(absl::StrContains(printed, secret)) << secret << "\n"
                                                     << printed;
  }
  // The non-secret parts stay, as Prometheus prints them.
  EXPECT_TRUE(absl::StrContains(printed, "username: sd-user")) << printed;
  EXPECT_TRUE(absl::StrContains(printed, "proxy-user:xxxxx@proxy")) << printed;
}

TEST(ConfigPrinterTest, PrintedConfigLoadsAgain) {
  const struct {
    const char* name;
    const char* yaml;
  } kCases[] = {
      {"empty", ""},
      {"defaults",
       "scrape_configs:\n- job_name: a\n"
       "  static_configs: [{targets: ['127.0.0.1:1']}]\n"},
      {"every field fedgate prints", R"(
global:
  scrape_interval: 2s
  external_labels: {zone: ie}
scrape_configs:
- job_name: a
  honor_labels: true
  params: {module: [m1, m2], x: [y]}
  sample_limit: 5
  label_limit: 6
  label_name_length_limit: 7
  label_value_length_limit: 8
  body_size_limit: 10MB
  target_limit: 9
  follow_redirects: false
  enable_http2: false
  proxy_url: http://p:3128/
  tls_config: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem, server_name: sn, insecure_skip_verify: true}
  authorization: {credentials_file: tok}
  relabel_configs:
  - source_labels: [__address__]
    regex: drop.*
    action: drop
  metric_relabel_configs:
  - source_labels: [a, b]
    target_label: c
    modulus: 8
    action: hashmod
  static_configs: [{targets: ['127.0.0.1:1'], labels: {team: a}}]
  file_sd_configs: [{files: [/sd/*.json]}]
  dns_sd_configs: [{names: [x.example.com], type: A, port: 80}]
- job_name: b
  scheme: https
  basic_auth: {username: u, password_file: pw}
  static_configs: [{targets: ['127.0.0.1:1']}]
)"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Config> config = ParseConfig(c.yaml, "fedgate.yml");
    ASSERT_TRUE(config.ok()) << config.status();
    const std::string printed = PrintConfigYaml(*config);
    absl::StatusOr<Config> again = ParseConfig(printed, "printed.yml");
    ASSERT_TRUE(again.ok()) << again.status() << "\n" << printed;
    EXPECT_EQ(PrintConfigYaml(*again), printed);
  }
}

TEST(ConfigPrinterTest, QuotesScalarsAsYamlV2) {
  // Each value and how yaml.v2 prints it.
  const std::pair<const char*, const char*> cases[] = {
      {"plain", "plain"},
      {"127.0.0.1:9090", "127.0.0.1:9090"},
      {"<secret>", "<secret>"},
      {"$1", "$1"},
      {"", "\"\""},
      {"true", "\"true\""},
      {"on", "\"on\""},
      {"null", "\"null\""},
      {"123", "\"123\""},
      {"1.5", "\"1.5\""},
      {"0x1F", "\"0x1F\""},
      {"1e3", "\"1e3\""},
      {"10:20", "\"10:20\""},
      {"a: b", "'a: b'"},
      {"*star", "'*star'"},
      {"- x", "'- x'"},
      {"it's", "it's"},
      {"it's #1", "'it''s #1'"},
      {"x #y", "'x #y'"},
      {" lead", "' lead'"},
      {"a'b: c", "'a''b: c'"},
      {"tab\there", "\"tab\\there\""},
  };
  for (const auto& [in, want] : cases) {
    SCOPED_TRACE(in);
    EXPECT_EQ(YamlScalar(in), want);
  }
}

}  // namespace
}  // namespace fedgate
