#include "config/config_printer.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/config_loader.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

// The inputs and outputs of config/testdata/printer/.
std::string ReadPrinterTestdata(const std::string& file) {
  std::ifstream in("config/testdata/printer/" + file, std::ios::binary);
  EXPECT_TRUE(in.good()) << file;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Expects `<name>.yml` of config/testdata/printer/, parsed as fedgate.yml (so
// relative paths print as written), to print as `<name>.printed.yml`, and
// returns what was printed.
std::string ExpectPrintedAsTestdata(const std::string& name) {
  absl::StatusOr<Config> config =
      ParseConfig(ReadPrinterTestdata(name + ".yml"), "fedgate.yml");
  if (!config.ok()) {
    ADD_FAILURE() << config.status();
    return "";
  }
  std::string printed = PrintConfigYaml(*config);
  EXPECT_EQ(printed, ReadPrinterTestdata(name + ".printed.yml"));
  return printed;
}

TEST(ConfigPrinterTest, PrintsDefaultsFilledAsPrometheus) {
  // The same file given to Prometheus 2.42 prints exactly this in
  // /api/v1/status/config (relabel_configs and basic_auth aside).
  ExpectPrintedAsTestdata("defaults_filled");
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
  ExpectPrintedAsTestdata("false_honor_timestamps");
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
  ExpectPrintedAsTestdata("discovery_configs");
}

TEST(ConfigPrinterTest, PrintsScrapeLimitsAndHttpClientLikePrometheus) {
  // The input and the expected output are Prometheus 2.42's
  // /api/v1/status/config for the same file.
  const std::string printed =
      ExpectPrintedAsTestdata("scrape_limits_and_http_client");
  // No secret appears anywhere in the output.
  for (const char* secret : {"secret\n", ": p\n", "xx\n", ":pw@"}) {
    EXPECT_FALSE(absl::StrContains(printed, secret)) << secret;
  }
}

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

// What /api/v1/status/config prints loads again (a printed config is what
// users copy into a new file) and prints the same. As in Prometheus 2.42,
// secrets print as <secret> and `honor_timestamps: false` is omitted, so
// those two do not survive the trip and are left out here.
TEST(ConfigPrinterTest, PrintedConfigLoadsAgain) {
  // every_field.yml sets every field fedgate prints.
  for (const char* name : {"empty", "defaults", "every_field"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<Config> config = ParseConfig(
        ReadPrinterTestdata(absl::StrCat("loads_again/", name, ".yml")),
        "fedgate.yml");
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
