#include "merge/relabel.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/relabel_config.h"
#include "config/relabel_config_loader.h"
#include "config/yaml_reader.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// The labels a YAML mapping of names to values holds.
Labels LabelsOf(const YAML::Node& node) {
  std::vector<Label> labels;
  for (const auto& label : node) {
    labels.push_back(
        {label.first.as<std::string>(), label.second.as<std::string>()});
  }
  return Labels(std::move(labels));
}

// Runs each case of merge/testdata/relabel/<file>: its `relabel_configs`,
// written and loaded as in a scrape config, applied to its `input` labels,
// give its `want` labels, or drop the series where it says `dropped: true`.
void RunCases(const std::string& file) {
  const std::string path = "merge/testdata/relabel/" + file;
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path;
  std::ostringstream contents;
  contents << in.rdbuf();
  const std::string text = contents.str();  // The reader borrows it.
  YamlReader reader(text, path);
  absl::StatusOr<YAML::Node> cases = reader.ParseRoot();
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_TRUE(cases->IsSequence()) << path;
  for (const YAML::Node& c : *cases) {
    SCOPED_TRACE(c["name"].as<std::string>());
    const YAML::Node rules = c["relabel_configs"];
    absl::StatusOr<std::vector<RelabelConfig>> configs = ParseRelabelConfigs(
        reader, YamlEntry("relabel_configs", rules.Mark().line + 1, rules),
        RelabelListKind::kTarget);
    ASSERT_TRUE(configs.ok()) << configs.status();
    absl::StatusOr<RelabelChain> chain = RelabelChain::Compile(*configs);
    ASSERT_TRUE(chain.ok()) << chain.status();
    Labels labels = LabelsOf(c["input"]);
    const bool kept = chain->Apply(&labels);
    if (c["dropped"].as<bool>(false)) {
      EXPECT_FALSE(kept) << labels.ToString();
    } else {
      const Labels want = LabelsOf(c["want"]);
      EXPECT_TRUE(kept);
      EXPECT_EQ(labels, want)
          << labels.ToString() << ", want " << want.ToString();
    }
  }
}

using A = RelabelAction;

TEST(RelabelTest, Replace) { RunCases("replace.yml"); }

TEST(RelabelTest, KeepAndDrop) { RunCases("keep_and_drop.yml"); }

TEST(RelabelTest, KeepEqualAndDropEqual) {
  RunCases("keep_equal_and_drop_equal.yml");
}

TEST(RelabelTest, HashModMatchesPrometheus) {
  RunCases("hash_mod_matches_prometheus.yml");
}

TEST(RelabelTest, LabelMap) { RunCases("label_map.yml"); }

TEST(RelabelTest, LabelDropAndLabelKeep) {
  RunCases("label_drop_and_label_keep.yml");
}

TEST(RelabelTest, LowercaseAndUppercase) {
  RunCases("lowercase_and_uppercase.yml");
}

TEST(RelabelTest, ChainsStopAtTheFirstDrop) {
  RunCases("chains_stop_at_the_first_drop.yml");
}

TEST(RelabelTest, KeepDropsSeriesWhenRegexDoesNotMatch) {
  RelabelConfig config;
  config.source_labels = {"job"};
  config.regex = "api";
  config.action = RelabelAction::kKeep;
  absl::StatusOr<RelabelRule> rule = RelabelRule::Compile(config);
  ASSERT_TRUE(rule.ok()) << rule.status();
  Labels labels({{"job", "node"}});
  EXPECT_FALSE(rule->Apply(&labels));
  EXPECT_EQ(labels, Labels({{"job", "node"}}));
}

TEST(RelabelTest, CompileRejectsInvalidRegexWithGoMessage) {
  RelabelConfig config;
  config.regex = "(";
  absl::StatusOr<RelabelRule> rule = RelabelRule::Compile(config);
  ASSERT_FALSE(rule.ok());
  EXPECT_EQ(rule.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rule.status().message(),
            "error parsing regexp: missing closing ): `^(?:()$`");

  absl::StatusOr<RelabelChain> chain =
      RelabelChain::Compile({MakeRelabelConfig(A::kKeep, {"a"}), config});
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedgate
