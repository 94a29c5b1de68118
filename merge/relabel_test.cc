#include "merge/relabel.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/relabel_config.h"
#include "gtest/gtest.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

// A rule with Prometheus's defaults for every field not given.

struct Case {
  const char* name;
  std::vector<RelabelConfig> rules;
  Labels input;
  bool kept;
  Labels want;  // Checked only when kept.
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<RelabelChain> chain = RelabelChain::Compile(c.rules);
    ASSERT_TRUE(chain.ok()) << chain.status();
    Labels labels = c.input;
    const bool kept = chain->Apply(&labels);
    EXPECT_EQ(kept, c.kept);
    if (c.kept && kept) {
      EXPECT_EQ(labels, c.want) << labels.ToString();
    }
  }
}

using A = RelabelAction;

TEST(RelabelTest, Replace) {
  RunCases({
      {"default regex copies the source",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(.*)", "b")},
       {{"a", "x"}},
       true,
       {{"a", "x"}, {"b", "x"}}},
      {"groups and literal text",
       {MakeRelabelConfig(A::kReplace, {"__address__"}, "(.+):(\\d+)", "host",
                          "h=$1 p=${2}")},
       {{"__address__", "10.0.0.1:9100"}},
       true,
       {{"__address__", "10.0.0.1:9100"}, {"host", "h=10.0.0.1 p=9100"}}},
      {"no match changes nothing",
       {MakeRelabelConfig(A::kReplace, {"a"}, "y", "b", "z")},
       {{"a", "x"}},
       true,
       {{"a", "x"}}},
      {"regex is anchored at both ends",
       {MakeRelabelConfig(A::kReplace, {"a"}, "x", "b", "m")},
       {{"a", "xx"}},
       true,
       {{"a", "xx"}}},
      {"anchoring wraps the whole regex, so alternation stays anchored",
       {MakeRelabelConfig(A::kReplace, {"a"}, "foo|bar", "b", "m")},
       {{"a", "foobar"}},
       true,
       {{"a", "foobar"}}},
      {"alternation with groups: the unmatched group is empty",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(foo)|(bar)", "b", "[$1|$2]")},
       {{"a", "bar"}},
       true,
       {{"a", "bar"}, {"b", "[|bar]"}}},
      {"dot does not match a newline (2.42)",
       {MakeRelabelConfig(A::kReplace, {"a"}, ".*", "b", "m")},
       {{"a", "x\ny"}},
       true,
       {{"a", "x\ny"}}},
      {"missing source label is the empty string",
       {MakeRelabelConfig(A::kReplace, {"nope"}, "", "b", "empty")},
       {{"a", "x"}},
       true,
       {{"a", "x"}, {"b", "empty"}}},
      {"missing source with the default regex deletes the target",
       {MakeRelabelConfig(A::kReplace, {"nope"}, "(.*)", "a")},
       {{"a", "x"}},
       true,
       {}},
      {"empty replacement deletes the target",
       {MakeRelabelConfig(A::kReplace, {"a"}, "x", "b", "")},
       {{"a", "x"}, {"b", "old"}},
       true,
       {{"a", "x"}}},
      {"no source labels: the value is empty and (.*) matches it",
       {MakeRelabelConfig(A::kReplace, {}, "(.*)", "b", "fixed")},
       {{"a", "x"}},
       true,
       {{"a", "x"}, {"b", "fixed"}}},
      {"multiple sources joined with the separator in listed order",
       {MakeRelabelConfig(A::kReplace, {"b", "a"}, "(.*)", "c")},
       {{"a", "1"}, {"b", "2"}},
       true,
       {{"a", "1"}, {"b", "2"}, {"c", "2;1"}}},
      {"custom separator and a missing middle source",
       {MakeRelabelConfig(A::kReplace, {"a", "nope", "b"}, "(.*)", "c", "$1",
                          "/")},
       {{"a", "1"}, {"b", "2"}},
       true,
       {{"a", "1"}, {"b", "2"}, {"c", "1//2"}}},
      {"dynamic target label from a group",
       {MakeRelabelConfig(A::kReplace, {"k", "v"}, "(\\w+);(.*)", "${1}",
                          "$2")},
       {{"k", "zone"}, {"v", "eu-1"}},
       true,
       {{"k", "zone"}, {"v", "eu-1"}, {"zone", "eu-1"}}},
      {"dynamic target that expands to an invalid name: no change",
       {MakeRelabelConfig(A::kReplace, {"k"}, "(.*)", "${1}", "v")},
       {{"k", "bad-name"}},
       true,
       {{"k", "bad-name"}}},
      {"dynamic target that expands to empty: no change",
       {MakeRelabelConfig(A::kReplace, {"k"}, "(.*)", "$1", "v")},
       {{"a", "x"}},
       true,
       {{"a", "x"}}},
      {"named groups, with and without braces",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(?P<host>[^:]+):(?P<port>\\d+)",
                          "b", "$port@${host}")},
       {{"a", "h:80"}},
       true,
       {{"a", "h:80"}, {"b", "80@h"}}},
      {"$1x is the group named 1x, which is empty",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(.*)", "b", "$1x")},
       {{"a", "v"}, {"b", "old"}},
       true,
       {{"a", "v"}}},
      {"${1}x appends literal text",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(.*)", "b", "${1}x")},
       {{"a", "v"}},
       true,
       {{"a", "v"}, {"b", "vx"}}},
      {"$$ is a literal dollar",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(.*)", "b", "$$1=$1$$")},
       {{"a", "v"}},
       true,
       {{"a", "v"}, {"b", "$1=v$"}}},
      {"a malformed reference keeps its dollar",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(.*)", "b", "${1 $ $- ${}")},
       {{"a", "v"}},
       true,
       {{"a", "v"}, {"b", "${1 $ $- ${}"}}},
      {"a group past the last one expands to nothing",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(.*)", "b", "<$2><$0><$01>")},
       {{"a", "v"}},
       true,
       {{"a", "v"}, {"b", "<><v><>"}}},
      {"unicode values and regexes",
       {MakeRelabelConfig(A::kReplace, {"city"}, "Z(.)rich", "letter")},
       {{"city", "Z\xC3\xBCrich"}},
       true,
       {{"city", "Z\xC3\xBCrich"}, {"letter", "\xC3\xBC"}}},
      {"overwrites an existing label",
       {MakeRelabelConfig(A::kReplace, {"__address__"}, "([^:]+):.*",
                          "instance")},
       {{"__address__", "node-1:9100"}, {"instance", "node-1:9100"}},
       true,
       {{"__address__", "node-1:9100"}, {"instance", "node-1"}}},
  });
}

TEST(RelabelTest, KeepAndDrop) {
  RunCases({
      {"keep on match",
       {MakeRelabelConfig(A::kKeep, {"job"}, "api|web")},
       {{"job", "web"}},
       true,
       {{"job", "web"}}},
      {"keep drops on no match",
       {MakeRelabelConfig(A::kKeep, {"job"}, "api|web")},
       {{"job", "webapp"}},
       false,
       {}},
      {"keep with a missing source matches the empty value",
       {MakeRelabelConfig(A::kKeep, {"nope"}, "")},
       {{"job", "x"}},
       true,
       {{"job", "x"}}},
      {"keep with the empty value and a non-empty regex drops",
       {MakeRelabelConfig(A::kKeep, {"nope"}, ".+")},
       {{"job", "x"}},
       false,
       {}},
      {"drop on match",
       {MakeRelabelConfig(A::kDrop, {"__name__"}, "go_.*")},
       {{"__name__", "go_goroutines"}},
       false,
       {}},
      {"drop keeps what does not match",
       {MakeRelabelConfig(A::kDrop, {"__name__"}, "go_.*")},
       {{"__name__", "process_open_fds"}},
       true,
       {{"__name__", "process_open_fds"}}},
      {"drop on joined sources",
       {MakeRelabelConfig(A::kDrop, {"ns", "pod"}, "kube-system;.*")},
       {{"ns", "kube-system"}, {"pod", "p"}},
       false,
       {}},
      {"drop with unicode",
       {MakeRelabelConfig(A::kDrop, {"v"}, "\xC3\xA9t\xC3\xA9")},
       {{"v", "\xC3\xA9t\xC3\xA9"}},
       false,
       {}},
  });
}

TEST(RelabelTest, KeepEqualAndDropEqual) {
  RunCases({
      {"keepequal keeps equal values",
       {MakeRelabelConfig(A::kKeepEqual, {"__meta_port"}, "(.*)", "port",
                          "$1")},
       {{"__meta_port", "80"}, {"port", "80"}},
       true,
       {{"__meta_port", "80"}, {"port", "80"}}},
      {"keepequal drops different values",
       {MakeRelabelConfig(A::kKeepEqual, {"__meta_port"}, "(.*)", "port",
                          "$1")},
       {{"__meta_port", "80"}, {"port", "81"}},
       false,
       {}},
      {"keepequal: both missing are equal",
       {MakeRelabelConfig(A::kKeepEqual, {"a"}, "(.*)", "b", "$1")},
       {{"c", "x"}},
       true,
       {{"c", "x"}}},
      {"dropequal drops equal values",
       {MakeRelabelConfig(A::kDropEqual, {"a", "b"}, "(.*)", "c", "$1")},
       {{"a", "1"}, {"b", "2"}, {"c", "1;2"}},
       false,
       {}},
      {"dropequal keeps different values",
       {MakeRelabelConfig(A::kDropEqual, {"a"}, "(.*)", "c", "$1")},
       {{"a", "1"}, {"c", "2"}},
       true,
       {{"a", "1"}, {"c", "2"}}},
  });
}

TEST(RelabelTest, HashModMatchesPrometheus) {
  // Values verified against Prometheus 2.42 (md5, last 8 bytes, big-endian).
  RunCases({
      {"10.0.0.1 mod 7",
       {MakeRelabelConfig(A::kHashMod, {"__address__"}, "(.*)", "shard", "$1",
                          ";", 7)},
       {{"__address__", "10.0.0.1"}},
       true,
       {{"__address__", "10.0.0.1"}, {"shard", "1"}}},
      {"[::1] mod 7",
       {MakeRelabelConfig(A::kHashMod, {"__address__"}, "(.*)", "shard", "$1",
                          ";", 7)},
       {{"__address__", "[::1]"}},
       true,
       {{"__address__", "[::1]"}, {"shard", "3"}}},
      {"host-a mod 7",
       {MakeRelabelConfig(A::kHashMod, {"__address__"}, "(.*)", "shard", "$1",
                          ";", 7)},
       {{"__address__", "host-a"}},
       true,
       {{"__address__", "host-a"}, {"shard", "3"}}},
      {"modulus 1 is always 0",
       {MakeRelabelConfig(A::kHashMod, {"a"}, "(.*)", "shard", "$1", ";", 1)},
       {{"a", "anything"}},
       true,
       {{"a", "anything"}, {"shard", "0"}}},
      {"then keep one shard",
       {MakeRelabelConfig(A::kHashMod, {"__address__"}, "(.*)", "__tmp_hash",
                          "$1", ";", 7),
        MakeRelabelConfig(A::kKeep, {"__tmp_hash"}, "3")},
       {{"__address__", "10.0.0.1"}},
       false,
       {}},
  });
}

TEST(RelabelTest, LabelMap) {
  RunCases({
      {"maps __meta_ labels, keeping the originals",
       {MakeRelabelConfig(A::kLabelMap, {}, "__meta_kubernetes_pod_label_(.+)",
                          "", "$1")},
       {{"__meta_kubernetes_pod_label_app", "web"},
        {"__meta_kubernetes_pod_label_tier", "fe"},
        {"job", "k"}},
       true,
       {{"__meta_kubernetes_pod_label_app", "web"},
        {"__meta_kubernetes_pod_label_tier", "fe"},
        {"app", "web"},
        {"job", "k"},
        {"tier", "fe"}}},
      {"literal replacement text",
       {MakeRelabelConfig(A::kLabelMap, {}, "(a|b)", "", "x_${1}_y")},
       {{"a", "1"}, {"b", "2"}, {"c", "3"}},
       true,
       {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"x_a_y", "1"}, {"x_b_y", "2"}}},
      {"later names win when two map to the same label",
       {MakeRelabelConfig(A::kLabelMap, {}, "(?:a|b)_(.*)", "", "$1")},
       {{"a_k", "from_a"}, {"b_k", "from_b"}},
       true,
       {{"a_k", "from_a"}, {"b_k", "from_b"}, {"k", "from_b"}}},
      {"overwrites an existing label",
       {MakeRelabelConfig(A::kLabelMap, {}, "tmp_(.*)", "", "$1")},
       {{"job", "old"}, {"tmp_job", "new"}},
       true,
       {{"job", "new"}, {"tmp_job", "new"}}},
      {"no match changes nothing",
       {MakeRelabelConfig(A::kLabelMap, {}, "zzz_(.*)", "", "$1")},
       {{"a", "1"}},
       true,
       {{"a", "1"}}},
  });
}

TEST(RelabelTest, LabelDropAndLabelKeep) {
  RunCases({
      {"labeldrop removes matching names",
       {MakeRelabelConfig(A::kLabelDrop, {}, "pod|container_id")},
       {{"container_id", "c"}, {"job", "j"}, {"pod", "p"}, {"podx", "x"}},
       true,
       {{"job", "j"}, {"podx", "x"}}},
      {"labeldrop can remove __name__ and __address__",
       {MakeRelabelConfig(A::kLabelDrop, {}, "__.*")},
       {{"__address__", "a"}, {"__name__", "m"}, {"job", "j"}},
       true,
       {{"job", "j"}}},
      {"labelkeep removes names that do not match",
       {MakeRelabelConfig(A::kLabelKeep, {}, "__name__|job|instance")},
       {{"__name__", "m"}, {"instance", "i"}, {"job", "j"}, {"pod", "p"}},
       true,
       {{"__name__", "m"}, {"instance", "i"}, {"job", "j"}}},
      {"labelkeep of nothing leaves an empty set (kept)",
       {MakeRelabelConfig(A::kLabelKeep, {}, "none")},
       {{"a", "1"}},
       true,
       {}},
  });
}

TEST(RelabelTest, LowercaseAndUppercase) {
  RunCases({
      {"lowercase",
       {MakeRelabelConfig(A::kLowercase, {"a"}, "(.*)", "b")},
       {{"a", "MiXeD-Case_1"}},
       true,
       {{"a", "MiXeD-Case_1"}, {"b", "mixed-case_1"}}},
      {"uppercase of joined sources",
       {MakeRelabelConfig(A::kUppercase, {"a", "b"}, "(.*)", "c")},
       {{"a", "x"}, {"b", "y"}},
       true,
       {{"a", "x"}, {"b", "y"}, {"c", "X;Y"}}},
      {"lowercase is unicode-aware",
       {MakeRelabelConfig(A::kLowercase, {"a"}, "(.*)", "b")},
       // "ÄÖÜ ΣΑΣ Straße İ" -> "äöü σασ straße i"
       {{"a",
         "\xC3\x84\xC3\x96\xC3\x9C \xCE\xA3\xCE\x91\xCE\xA3 "
         "Stra\xC3\x9F"
         "e \xC4\xB0"}},
       true,
       {{"a",
         "\xC3\x84\xC3\x96\xC3\x9C \xCE\xA3\xCE\x91\xCE\xA3 "
         "Stra\xC3\x9F"
         "e \xC4\xB0"},
        {"b",
         "\xC3\xA4\xC3\xB6\xC3\xBC \xCF\x83\xCE\xB1\xCF\x83 "
         "stra\xC3\x9F"
         "e i"}}},
      {"uppercase is unicode-aware; ß has no single-rune upper case",
       {MakeRelabelConfig(A::kUppercase, {"a"}, "(.*)", "b")},
       {{"a",
         "stra\xC3\x9F"
         "e \xC3\xA9t\xC3\xA9"}},
       true,
       {{"a",
         "stra\xC3\x9F"
         "e \xC3\xA9t\xC3\xA9"},
        {"b",
         "STRA\xC3\x9F"
         "E \xC3\x89T\xC3\x89"}}},
      {"an empty value deletes the target",
       {MakeRelabelConfig(A::kLowercase, {"nope"}, "(.*)", "b")},
       {{"b", "old"}},
       true,
       {}},
      {"ignores the regex",
       {MakeRelabelConfig(A::kUppercase, {"a"}, "nomatch", "a")},
       {{"a", "x"}},
       true,
       {{"a", "X"}}},
  });
}

TEST(RelabelTest, ChainsStopAtTheFirstDrop) {
  RunCases({
      {"rules see earlier results",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(.*)", "b", "${1}2"),
        MakeRelabelConfig(A::kReplace, {"b"}, "(.*)", "c", "${1}3")},
       {{"a", "1"}},
       true,
       {{"a", "1"}, {"b", "12"}, {"c", "123"}}},
      {"an earlier drop stops the chain",
       {MakeRelabelConfig(A::kDrop, {"a"}, "1"),
        MakeRelabelConfig(A::kReplace, {}, "(.*)", "b", "x")},
       {{"a", "1"}},
       false,
       {}},
      {"a keep after a rewrite sees the rewrite",
       {MakeRelabelConfig(A::kReplace, {"a"}, "(.*)", "a", "kept"),
        MakeRelabelConfig(A::kKeep, {"a"}, "kept")},
       {{"a", "1"}},
       true,
       {{"a", "kept"}}},
      {"an empty chain keeps everything", {}, {{"a", "1"}}, true, {{"a", "1"}}},
      {"a realistic target chain (the Antrea seed's shape)",
       {MakeRelabelConfig(A::kKeep, {"__meta_kubernetes_namespace"},
                          "kube-system"),
        MakeRelabelConfig(A::kKeep, {"__meta_kubernetes_pod_container_name"},
                          "antrea-agent"),
        MakeRelabelConfig(A::kReplace, {"__meta_kubernetes_pod_node_name"},
                          "(.*)", "instance"),
        MakeRelabelConfig(A::kLabelMap, {}, "__meta_kubernetes_pod_label_(.+)",
                          "", "$1")},
       {{"__address__", "10.0.0.5:10350"},
        {"__meta_kubernetes_namespace", "kube-system"},
        {"__meta_kubernetes_pod_container_name", "antrea-agent"},
        {"__meta_kubernetes_pod_label_app", "antrea"},
        {"__meta_kubernetes_pod_node_name", "node-a"}},
       true,
       {{"__address__", "10.0.0.5:10350"},
        {"__meta_kubernetes_namespace", "kube-system"},
        {"__meta_kubernetes_pod_container_name", "antrea-agent"},
        {"__meta_kubernetes_pod_label_app", "antrea"},
        {"__meta_kubernetes_pod_node_name", "node-a"},
        {"app", "antrea"},
        {"instance", "node-a"}}},
  });
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
