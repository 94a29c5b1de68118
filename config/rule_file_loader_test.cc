#include "config/rule_file_loader.h"

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(RuleFileLoaderTest, ReadsGroupsAndRules) {
  absl::StatusOr<std::vector<RuleGroupConfig>> groups = ParseRuleFile(
      "groups:\n"
      "  - name: mesh\n"
      "    rules:\n"
      "      - record: deployment:request_total:sum\n"
      "        expr: sum by (deployment) (request_total)\n"
      "        labels:\n"
      "          tier: edge\n"
      "      - record: job:up:count\n"
      "        expr: count by (job) (up)\n"
      "  - name: empty\n",
      "r.yml");
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 2);
  const RuleGroupConfig& mesh = (*groups)[0];
  EXPECT_EQ(mesh.name, "mesh");
  EXPECT_EQ(mesh.file, "r.yml");
  EXPECT_EQ(mesh.line, 2);
  ASSERT_EQ(mesh.rules.size(), 2);
  EXPECT_EQ(mesh.rules[0].record, "deployment:request_total:sum");
  EXPECT_EQ(mesh.rules[0].expr, "sum by (deployment) (request_total)");
  EXPECT_EQ(mesh.rules[0].line, 4);
  EXPECT_EQ(mesh.rules[0].expr_line, 5);
  EXPECT_EQ(mesh.rules[0].labels,
            (std::map<std::string, std::string>{{"tier", "edge"}}));
  EXPECT_EQ(mesh.rules[1].line, 8);
  EXPECT_TRUE((*groups)[1].rules.empty());
}

TEST(RuleFileLoaderTest, EmptyFileHasNoGroups) {
  for (const char* yaml : {"", "# nothing\n", "groups: []\n", "groups:\n"}) {
    absl::StatusOr<std::vector<RuleGroupConfig>> groups =
        ParseRuleFile(yaml, "r.yml");
    ASSERT_TRUE(groups.ok()) << yaml << ": " << groups.status();
    EXPECT_TRUE(groups->empty());
  }
}

// A rule file ParseRuleFile refuses, and its error with file and line.
struct RuleFileErrorCase {
  const char* name;
  const char* yaml;
  const char* error;
};

// Names the case in gtest's output and in the test's name.
void PrintTo(const RuleFileErrorCase& c, std::ostream* os) { *os << c.name; }

class RuleFileErrorTest : public ::testing::TestWithParam<RuleFileErrorCase> {};

TEST_P(RuleFileErrorTest, RejectsWithFileAndLine) {
  const absl::Status status = ParseRuleFile(GetParam().yaml, "r.yml").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    RuleFileLoaderTest, RuleFileErrorTest,
    ::testing::Values(
        RuleFileErrorCase{"UnknownTopLevelField", "groups: []\nrules: []\n",
                          "r.yml:2: field rules not found in rule groups"},
        RuleFileErrorCase{"EmptyGroupName", "groups:\n  - rules: []\n",
                          "r.yml:2: Groupname must not be empty"},
        RuleFileErrorCase{
            "RepeatedGroup", "groups:\n  - name: a\n  - name: a\n",
            "r.yml:3: groupname: \"a\" is repeated in the same file"},
        RuleFileErrorCase{
            "GroupInterval", "groups:\n  - name: a\n    interval: 1m\n",
            "r.yml:3: field interval in rule group is not supported: fedgate "
            "evaluates aggregation rules on every scrape"},
        RuleFileErrorCase{"UnknownGroupField",
                          "groups:\n  - name: a\n    rule: []\n",
                          "r.yml:3: field rule not found in rule group"},
        RuleFileErrorCase{
            "AlertingRule",
            "groups:\n  - name: a\n    rules:\n      - alert: Down\n"
            "        expr: up == 0\n",
            "r.yml:4: group \"a\", rule 1, \"Down\": alerting rules are not "
            "supported: fedgate evaluates recording rules only"},
        RuleFileErrorCase{
            "NoRecord", "groups:\n  - name: a\n    rules:\n      - expr: up\n",
            "r.yml:4: group \"a\", rule 1, \"\": one of 'record' or "
            "'alert' must be set"},
        RuleFileErrorCase{
            "NoExpr", "groups:\n  - name: a\n    rules:\n      - record: x\n",
            "r.yml:4: group \"a\", rule 1, \"x\": field 'expr' must be set in "
            "rule"},
        RuleFileErrorCase{
            "Annotations",
            "groups:\n  - name: a\n    rules:\n      - record: x\n"
            "        expr: up\n        annotations: {a: b}\n",
            "r.yml:4: group \"a\", rule 1, \"x\": invalid field "
            "'annotations' in recording rule"},
        RuleFileErrorCase{
            "For",
            "groups:\n  - name: a\n    rules:\n      - record: x\n"
            "        expr: up\n        for: 5m\n",
            "r.yml:4: group \"a\", rule 1, \"x\": invalid field 'for' in "
            "recording rule"},
        RuleFileErrorCase{
            "BadRecordName",
            "groups:\n  - name: a\n    rules:\n      - record: 1x\n"
            "        expr: up\n",
            "r.yml:4: group \"a\", rule 1, \"1x\": invalid recording "
            "rule name: 1x"},
        RuleFileErrorCase{
            "NameLabel",
            "groups:\n  - name: a\n    rules:\n      - record: x\n"
            "        expr: up\n        labels:\n          __name__: y\n",
            "r.yml:7: group \"a\", rule 1, \"x\": invalid label "
            "name: __name__"},
        RuleFileErrorCase{
            "BadLabelName",
            "groups:\n  - name: a\n    rules:\n      - record: x\n"
            "        expr: up\n        labels:\n          a-b: y\n",
            "r.yml:7: group \"a\", rule 1, \"x\": invalid label name: a-b"},
        RuleFileErrorCase{
            "UnknownRuleField",
            "groups:\n  - name: a\n    rules:\n      - record: x\n"
            "        expr: up\n        keep_inputs: false\n",
            "r.yml:6: field keep_inputs not found in rule"}),
    ::testing::PrintToStringParamName());

TEST(RuleFileLoaderTest, PatternsAsPrometheus) {
  EXPECT_TRUE(IsValidRuleFilePattern("rules.yml"));
  EXPECT_TRUE(IsValidRuleFilePattern("/etc/fedgate/rules/*.yml"));
  EXPECT_TRUE(IsValidRuleFilePattern("a/b*c*.yml"));
  EXPECT_FALSE(IsValidRuleFilePattern("a/*/b.yml"));
}

class RuleFilesOnDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/rule_files_test");
    ASSERT_EQ(std::system(
                  absl::StrCat("rm -rf ", dir_, " && mkdir -p ", dir_).c_str()),
              0);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(absl::StrCat(dir_, "/", name)) << text;
  }
  std::string dir_;
};

TEST_F(RuleFilesOnDiskTest, ExpandsGlobsInLexicalOrder) {
  Write("b.yml",
        "groups:\n  - name: b\n    rules:\n      - record: b\n"
        "        expr: sum(x)\n");
  Write("a.yml",
        "groups:\n  - name: a\n    rules:\n      - record: a\n"
        "        expr: sum(x)\n");
  Write("c.txt", "not yaml: [\n");
  absl::StatusOr<std::vector<RuleGroupConfig>> groups =
      LoadRuleFiles({dir_ + "/*.yml", dir_ + "/none/*.yml"});
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 2);
  EXPECT_EQ((*groups)[0].name, "a");
  EXPECT_EQ((*groups)[0].file, dir_ + "/a.yml");
  EXPECT_EQ((*groups)[1].name, "b");
}

TEST_F(RuleFilesOnDiskTest, RejectsARecordNameDefinedTwice) {
  Write("a.yml",
        "groups:\n  - name: a\n    rules:\n      - record: x\n"
        "        expr: sum(y)\n");
  Write("b.yml",
        "groups:\n  - name: b\n    rules:\n      - record: x\n"
        "        expr: sum(z)\n");
  absl::StatusOr<std::vector<RuleGroupConfig>> groups =
      LoadRuleFiles({dir_ + "/*.yml"});
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.status().message(),
            absl::StrCat(dir_,
                         "/b.yml:4: recording rule \"x\" is already "
                         "defined at ",
                         dir_,
                         "/a.yml:4; fedgate keys a rule's output and options "
                         "by its name"));
}

}  // namespace
}  // namespace fedgate
