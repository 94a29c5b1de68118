#include "gateway/config_checksum.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

constexpr char kRules[] =
    "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n"
    "        expr: sum by (job) (up)\n";

class ConfigChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/config_checksum_test");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/rules");
    Write("fedgate.yml",
          "global: {scrape_interval: 15s}\nrule_files: [rules/*.yml]\n");
    Write("rules/a.yml", kRules);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(absl::StrCat(dir_, "/", name), std::ios::trunc) << text;
  }
  std::string Checksum() {
    absl::StatusOr<std::string> sum = ConfigChecksum(dir_ + "/fedgate.yml");
    EXPECT_TRUE(sum.ok()) << sum.status();
    if (sum.ok()) {
      EXPECT_EQ(sum->size(), 32u);
    }
    return sum.value_or("");
  }
  std::string dir_;
};

TEST_F(ConfigChecksumTest, ChangesWithTheConfigAndItsRuleFilesOnly) {
  const std::string first = Checksum();
  // The same bytes written again: no change.
  Write("fedgate.yml",
        "global: {scrape_interval: 15s}\nrule_files: [rules/*.yml]\n");
  Write("rules/a.yml", kRules);
  EXPECT_EQ(Checksum(), first);
  // A file the globs do not match: no change.
  Write("rules/notes.txt", "not a rule file\n");
  EXPECT_EQ(Checksum(), first);

  Write("fedgate.yml",
        "global: {scrape_interval: 30s}\nrule_files: [rules/*.yml]\n");
  const std::string config_changed = Checksum();
  EXPECT_NE(config_changed, first);

  Write("rules/a.yml", absl::StrCat(kRules, "\n"));
  const std::string rules_changed = Checksum();
  EXPECT_NE(rules_changed, config_changed);

  // A rule file added to the glob, then removed again.
  Write("rules/b.yml", "groups: []\n");
  const std::string added = Checksum();
  EXPECT_NE(added, rules_changed);
  std::filesystem::remove(dir_ + "/rules/b.yml");
  EXPECT_EQ(Checksum(), rules_changed);

  // A rule file renamed, with the same bytes.
  std::filesystem::rename(dir_ + "/rules/a.yml", dir_ + "/rules/c.yml");
  EXPECT_NE(Checksum(), rules_changed);
}

TEST_F(ConfigChecksumTest, FailsWhereAReloadWould) {
  absl::StatusOr<std::string> sum = ConfigChecksum(dir_ + "/missing.yml");
  EXPECT_FALSE(sum.ok());
  Write("fedgate.yml", "scrape_configs: [\n");
  EXPECT_FALSE(ConfigChecksum(dir_ + "/fedgate.yml").ok());
  Write("fedgate.yml", "rule_files: [rules/*.yml]\n");
  Write("rules/a.yml", "groups: [\n");
  sum = ConfigChecksum(dir_ + "/fedgate.yml");
  EXPECT_FALSE(sum.ok());
  EXPECT_NE(sum.status().message().find("rules/a.yml"), std::string::npos)
      << sum.status();
}

}  // namespace
}  // namespace fedgate
