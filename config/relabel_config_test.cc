#include "config/relabel_config.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(RelabelConfigTest, DefaultsArePrometheus) {
  const RelabelConfig config;
  EXPECT_TRUE(config.source_labels.empty());
  EXPECT_EQ(config.separator, ";");
  EXPECT_EQ(config.regex, "(.*)");
  EXPECT_EQ(config.modulus, 0u);
  EXPECT_EQ(config.target_label, "");
  EXPECT_EQ(config.replacement, "$1");
  EXPECT_EQ(config.action, RelabelAction::kReplace);
}

TEST(RelabelConfigTest, ParsesActionsCaseInsensitively) {
  const struct {
    const char* name;
    RelabelAction action;
  } kCases[] = {
      {"replace", RelabelAction::kReplace},
      {"Replace", RelabelAction::kReplace},
      {"keep", RelabelAction::kKeep},
      {"DROP", RelabelAction::kDrop},
      {"hashmod", RelabelAction::kHashMod},
      {"HashMod", RelabelAction::kHashMod},
      {"labelmap", RelabelAction::kLabelMap},
      {"labeldrop", RelabelAction::kLabelDrop},
      {"labelkeep", RelabelAction::kLabelKeep},
      {"keepequal", RelabelAction::kKeepEqual},
      {"dropequal", RelabelAction::kDropEqual},
      {"lowercase", RelabelAction::kLowercase},
      {"uppercase", RelabelAction::kUppercase},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<RelabelAction> action = ParseRelabelAction(c.name);
    ASSERT_TRUE(action.ok()) << action.status();
    EXPECT_EQ(*action, c.action);
    EXPECT_EQ(ParseRelabelAction(RelabelActionName(c.action))
                  .value_or(RelabelAction::kKeep),
              c.action);
  }
}

TEST(RelabelConfigTest, RejectsUnknownActions) {
  for (const char* name : {"foo", "", "keep_equal", " keep"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<RelabelAction> action = ParseRelabelAction(name);
    ASSERT_FALSE(action.ok());
    EXPECT_EQ(action.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ParseRelabelAction("foo").status().message(),
            "unknown relabel action \"foo\"");
  EXPECT_EQ(ParseRelabelAction("").status().message(),
            "unknown relabel action \"\"");
}

TEST(RelabelConfigTest, AnchorsAsPrometheus242) {
  EXPECT_EQ(AnchoredRelabelRegex("(.*)"), "^(?:(.*))$");
  EXPECT_EQ(AnchoredRelabelRegex(""), "^(?:)$");
}

TEST(RelabelConfigTest, ReportsRegexErrorsInGoWording) {
  const struct {
    const char* regex;
    const char* message;  // Empty: valid.
  } kCases[] = {
      {"(.*)", ""},
      {"", ""},
      {"a|b(c)", ""},
      {"a)|(?:b", ""},  // Valid once anchored, as in Prometheus.
      {"(?P<name>x)", ""},
      {"(", "error parsing regexp: missing closing ): `^(?:()$`"},
      {"a\\Cb", "error parsing regexp: invalid escape sequence: `\\C`"},
      {"a\\\\Cb", ""},  // An escaped backslash, then C.
      {")", "error parsing regexp: unexpected ): `^(?:))$`"},
      {"[a", "error parsing regexp: missing closing ]: `[a)$`"},
      {"*",
       "error parsing regexp: missing argument to repetition operator: "
       "`*`"},
      {"\\", "error parsing regexp: missing closing ): `^(?:\\)$`"},
      {"a**",
       "error parsing regexp: invalid nested repetition operator: "
       "`**`"},
      {"[z-a]", "error parsing regexp: invalid character class range: `z-a`"},
      {"a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"},
      {"(?<x",
       "error parsing regexp: invalid or unsupported Perl syntax: "
       "`(?<`"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.regex);
    const absl::Status s = CheckRelabelRegex(c.regex);
    if (*c.message == '\0') {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      EXPECT_EQ(std::string(s.message()), c.message);
    }
  }
}

TEST(RelabelConfigTest, ChecksTargetLabelTemplates) {
  const struct {
    const char* target;
    bool valid;
  } kCases[] = {
      {"job", true},           {"_x", true},
      {"${1}", true},          {"$1", true},
      {"${1}_x", true},        {"foo_$name", true},
      {"${name}bar", true},    {"", false},
      {"1x", false},           {"a-b", false},
      {"${1}bad-name", false}, {"$", false},
      {"${}", false},          {"é", false},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.target);
    EXPECT_EQ(IsValidRelabelTarget(c.target), c.valid);
  }
}

TEST(RelabelConfigTest, MakeRelabelConfigKeepsTheDefaultsOfTheFieldsNotGiven) {
  RelabelConfig rule = MakeRelabelConfig(RelabelAction::kKeep, {"job"}, "node");
  RelabelConfig expected;
  expected.action = RelabelAction::kKeep;
  expected.source_labels = {"job"};
  expected.regex = "node";
  EXPECT_EQ(rule, expected);
  EXPECT_EQ(rule.separator, ";");
  EXPECT_EQ(rule.replacement, "$1");
  EXPECT_EQ(MakeRelabelConfig(RelabelAction::kHashMod, {"a"}, "(.*)", "s", "$1",
                              "/", 3)
                .modulus,
            3u);
}

}  // namespace
}  // namespace fedgate
