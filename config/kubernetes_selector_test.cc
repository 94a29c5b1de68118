#include "config/kubernetes_selector.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

// Matches `selector` against `labels` (both as label and as field selector
// where it parses as one).
bool LabelsMatch(absl::string_view selector,
                 const std::map<std::string, std::string>& labels) {
  absl::StatusOr<std::vector<KubernetesLabelRequirement>> parsed =
      ParseKubernetesLabelSelector(selector);
  EXPECT_TRUE(parsed.ok()) << selector << ": " << parsed.status();
  if (!parsed.ok()) return false;
  return MatchesLabelSelector(*parsed, [&](absl::string_view name) {
    auto it = labels.find(std::string(name));
    return it == labels.end() ? nullptr : &it->second;
  });
}

TEST(KubernetesSelectorTest, LabelSelectorOperatorsMatchAsTheApiServer) {
  const std::map<std::string, std::string> web = {
      {"app", "web"}, {"tier", "front"}, {"example.com/rank", "7"}};
  struct Case {
    absl::string_view selector;
    bool matches;
  };
  const Case cases[] = {
      {"", true},
      {"app=web", true},
      {"app==web", true},
      {"app = web , tier=front", true},
      {"app=db", false},
      {"app!=db", true},
      {"missing!=x", true},
      {"app in (db, web)", true},
      {"app in (db)", false},
      {"app notin (db)", true},
      {"missing notin (db)", true},
      {"app notin (web)", false},
      {"app", true},
      {"missing", false},
      {"!missing", true},
      {"!app", false},
      {"example.com/rank>5", true},
      {"example.com/rank<5", false},
      {"app>5", false},
      {"missing=", false},
      {"app in (web,)", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LabelsMatch(c.selector, web), c.matches) << c.selector;
  }
  EXPECT_TRUE(LabelsMatch("tier=", {{"tier", ""}}));
}

TEST(KubernetesSelectorTest, InvalidLabelSelectorsAreRefusedWithTheReason) {
  const std::pair<absl::string_view, absl::string_view> cases[] = {
      {"app in web", "must be in parentheses"},
      {"app in ()", "cannot be empty"},
      {"app=web,", "expected a requirement after ','"},
      {"=web", "expected a label key"},
      {"-app=web", "invalid label key"},
      {"app=we b", "expected ',' or the end"},
      {"app=-web", "invalid label value"},
      {"Bad_Prefix/app=x", "invalid label key"},
      {"app>x", "must be an integer"},
      {"!app=x", "'!' takes a key alone"},
      {"app web", "expected an operator"},
      {"app=(x)", "expected a value"},
  };
  for (const auto& [selector, reason] : cases) {
    absl::StatusOr<std::vector<KubernetesLabelRequirement>> parsed =
        ParseKubernetesLabelSelector(selector);
    ASSERT_FALSE(parsed.ok()) << selector;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(reason), std::string::npos)
        << selector << ": " << parsed.status();
  }
  const std::string long_value(64, 'a');
  EXPECT_FALSE(ParseKubernetesLabelSelector("a=" + long_value).ok());
  EXPECT_TRUE(ParseKubernetesLabelSelector("a=" + long_value.substr(1)).ok());
}

TEST(KubernetesSelectorTest, FieldSelectorsSplitAtUnescapedCommas) {
  absl::StatusOr<std::vector<KubernetesFieldRequirement>> parsed =
      ParseKubernetesFieldSelector(
          R"(metadata.name=a\,b,spec.nodeName!=n1,status.phase==Running)");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].field, "metadata.name");
  EXPECT_EQ((*parsed)[0].value, "a,b");
  EXPECT_TRUE((*parsed)[0].equals);
  EXPECT_EQ((*parsed)[1].field, "spec.nodeName");
  EXPECT_FALSE((*parsed)[1].equals);
  EXPECT_EQ((*parsed)[2].value, "Running");

  const std::map<std::string, std::string> fields = {{"metadata.name", "a,b"},
                                                     {"spec.nodeName", "n2"}};
  auto lookup = [&](absl::string_view name) -> const std::string* {
    auto it = fields.find(std::string(name));
    return it == fields.end() ? nullptr : &it->second;
  };
  EXPECT_FALSE(MatchesFieldSelector(*parsed, lookup));  // No status.phase.
  parsed->pop_back();
  EXPECT_TRUE(MatchesFieldSelector(*parsed, lookup));

  EXPECT_TRUE(ParseKubernetesFieldSelector("").ok());
  EXPECT_FALSE(ParseKubernetesFieldSelector("metadata.name").ok());
  EXPECT_FALSE(ParseKubernetesFieldSelector(R"(a=b\x)").ok());
}

}  // namespace
}  // namespace fedgate
