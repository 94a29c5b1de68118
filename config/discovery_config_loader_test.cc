#include "config/discovery_config_loader.h"

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/yaml_reader.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// Parses the reader's document, a mapping with one key, and returns that
// key's entry (an empty one if the document is not such a mapping).
YamlEntry OnlyEntry(YamlReader& reader) {
  const YamlEntry none("", 0, YAML::Node());
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  EXPECT_TRUE(root.ok()) << root.status();
  if (!root.ok()) return none;
  absl::StatusOr<std::vector<YamlEntry>> entries =
      reader.Entries(*root, YamlMapKind::kStruct, "scrape config");
  EXPECT_TRUE(entries.ok()) << entries.status();
  if (!entries.ok() || entries->size() != 1) return none;
  return (*entries)[0];
}

TEST(DiscoveryConfigLoaderTest, StaticConfigsRecordTheFirstUrlLikeTarget) {
  const std::string text =
      "static_configs:\n"
      "  - targets: [a:9100, http://b/metrics, http://c/]\n"
      "    labels: {env: prod}\n";
  YamlReader reader(text, "f.yml");
  const YamlEntry entry = OnlyEntry(reader);
  UrlLikeStaticTarget url_target;
  absl::StatusOr<std::vector<StaticConfig>> groups =
      ParseStaticConfigs(reader, entry, &url_target);
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].line, 2);
  EXPECT_EQ(
      (*groups)[0].targets,
      (std::vector<std::string>{"a:9100", "http://b/metrics", "http://c/"}));
  EXPECT_EQ((*groups)[0].labels,
            (std::map<std::string, std::string>{{"env", "prod"}}));
  EXPECT_EQ(url_target.address, "http://b/metrics");
  EXPECT_EQ(url_target.line, 2);
}

TEST(DiscoveryConfigLoaderTest, FileSdPathsAreResolvedAgainstTheConfigFile) {
  const std::string text =
      "file_sd_configs:\n"
      "  - files: [targets/*.json, /abs/t.yml]\n"
      "    refresh_interval: 1m\n";
  YamlReader reader(text, "/etc/fedgate/fedgate.yml");
  const YamlEntry entry = OnlyEntry(reader);
  absl::StatusOr<std::vector<FileSdConfig>> configs =
      ParseFileSdConfigs(reader, entry);
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 1u);
  EXPECT_EQ(
      (*configs)[0].files,
      (std::vector<std::string>{"/etc/fedgate/targets/*.json", "/abs/t.yml"}));
  EXPECT_EQ((*configs)[0].refresh_interval, absl::Minutes(1));
}

TEST(DiscoveryConfigLoaderTest, FileSdRejectsGlobInDirectory) {
  const std::string text = "file_sd_configs:\n  - files: [a*/t.json]\n";
  YamlReader reader(text, "f.yml");
  const YamlEntry entry = OnlyEntry(reader);
  absl::StatusOr<std::vector<FileSdConfig>> configs =
      ParseFileSdConfigs(reader, entry);
  ASSERT_FALSE(configs.ok());
  EXPECT_EQ(configs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(configs.status().message(),
            "f.yml:2: path name \"a*/t.json\" is not valid for file "
            "discovery");
}

TEST(DiscoveryConfigLoaderTest, DnsSdARecordsNeedAPort) {
  const std::string text =
      "dns_sd_configs:\n"
      "  - names: [db.example]\n"
      "    type: a\n";
  YamlReader reader(text, "f.yml");
  const YamlEntry entry = OnlyEntry(reader);
  absl::StatusOr<std::vector<DnsSdConfig>> configs =
      ParseDnsSdConfigs(reader, entry);
  ASSERT_FALSE(configs.ok());
  EXPECT_EQ(configs.status().message(),
            "f.yml:2: a port is required in DNS-SD configs for all record "
            "types except SRV");
}

TEST(DiscoveryConfigLoaderTest, DnsSdDefaultsToSrv) {
  const std::string text = "dns_sd_configs:\n  - names: [_node._tcp.example]\n";
  YamlReader reader(text, "f.yml");
  const YamlEntry entry = OnlyEntry(reader);
  absl::StatusOr<std::vector<DnsSdConfig>> configs =
      ParseDnsSdConfigs(reader, entry);
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 1u);
  EXPECT_EQ((*configs)[0].type, "SRV");
  EXPECT_EQ((*configs)[0].refresh_interval, absl::Seconds(30));
}

}  // namespace
}  // namespace fedgate
