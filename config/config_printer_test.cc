#include "config/config_printer.h"

#include "absl/status/statusor.h"
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

TEST(ConfigPrinterTest, PrintsDiscoveryConfigsSortedByKey) {
  absl::StatusOr<Config> config = ParseConfig(R"(
scrape_configs:
- job_name: sd
  static_configs: [{targets: [a:1]}]
  file_sd_configs: [{files: [/sd/*.json]}]
  dns_sd_configs: [{names: [x.example.com], type: A, port: 80}]
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
            "  static_configs:\n"
            "  - targets:\n"
            "    - a:1\n");
}

TEST(ConfigPrinterTest, QuotesScalarsAsYamlV2) {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
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
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(YamlScalar(c.in), c.want);
  }
}

}  // namespace
}  // namespace fedgate
