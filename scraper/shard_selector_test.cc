#include "scraper/shard_selector.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/relabel_config.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "merge/relabel.h"
#include "scraper/scrape_settings.h"

namespace fedgate {
namespace {

// The relabel rules docs/sharding.md gives users to compute a target's
// shard: hashmod of `source` into `__tmp_shard`, then keep shard `index`.
RelabelChain UserShardRules(const std::string& source, uint64_t index,
                            uint64_t count) {
  RelabelConfig hash;
  hash.source_labels = {source};
  hash.modulus = count;
  hash.target_label = "__tmp_shard";
  hash.action = RelabelAction::kHashMod;
  RelabelConfig keep;
  keep.source_labels = {"__tmp_shard"};
  keep.regex = absl::StrCat(index);
  keep.action = RelabelAction::kKeep;
  absl::StatusOr<RelabelChain> chain = RelabelChain::Compile({hash, keep});
  EXPECT_TRUE(chain.ok()) << chain.status();
  return chain.ok() ? *std::move(chain) : RelabelChain();
}

TEST(ShardSelectorTest, OneShardKeepsEveryTarget) {
  const ShardSelector selector;
  EXPECT_EQ(selector.count(), 1u);
  EXPECT_TRUE(selector.Keeps(Labels({{"__address__", "10.0.0.1:9100"}}), {}));
  EXPECT_TRUE(selector.Keeps(Labels(), {}));
}

TEST(ShardSelectorTest, ShardIsPrometheusHashModOfTheAddress) {
  // hashmod("10.0.0.1", 7) is 1 in Prometheus 2.42 (merge/relabel_test.cc).
  const Labels target({{"__address__", "10.0.0.1"}, {"job", "node"}});
  for (uint64_t index = 0; index < 7; ++index) {
    absl::StatusOr<ShardSelector> selector = ShardSelector::Create(index, 7);
    ASSERT_TRUE(selector.ok()) << selector.status();
    EXPECT_EQ(selector->Keeps(target, {}), index == 1) << index;
  }
}

TEST(ShardSelectorTest, EveryTargetIsKeptByExactlyTheShardUserRulesKeep) {
  constexpr uint64_t kCount = 3;
  for (int i = 0; i < 200; ++i) {
    const std::string address = absl::StrCat("10.1.", i / 250, ".", i, ":8080");
    const Labels target({{"__address__", address}});
    int keepers = 0;
    for (uint64_t index = 0; index < kCount; ++index) {
      absl::StatusOr<ShardSelector> selector =
          ShardSelector::Create(index, kCount);
      ASSERT_TRUE(selector.ok()) << selector.status();
      Labels relabeled = target;
      const bool user_keeps =
          UserShardRules("__address__", index, kCount).Apply(&relabeled);
      EXPECT_EQ(selector->Keeps(target, {}), user_keeps) << address;
      keepers += selector->Keeps(target, {}) ? 1 : 0;
    }
    EXPECT_EQ(keepers, 1) << address;
  }
}

TEST(ShardSelectorTest, DedupGroupMembersShareTheShardOfTheGroupKey) {
  DedupGroupConfig group;
  group.name = "k3s";
  group.job_names = {"k3s"};
  group.source_labels = {"__address__"};
  group.regex = R"((.+):\d+)";
  absl::StatusOr<DedupKeyRule> rule = DedupKeyRule::Compile(group);
  ASSERT_TRUE(rule.ok()) << rule.status();
  constexpr uint64_t kCount = 4;
  for (int node = 0; node < 20; ++node) {
    const std::string host = absl::StrCat("10.0.0.", node);
    std::vector<Labels> members;
    for (const char* port : {"6443", "10250", "10249"}) {
      members.push_back(Labels(
          {{"__address__", absl::StrCat(host, ":", port)}, {"job", "k3s"}}));
    }
    for (uint64_t index = 0; index < kCount; ++index) {
      absl::StatusOr<ShardSelector> selector =
          ShardSelector::Create(index, kCount);
      ASSERT_TRUE(selector.ok()) << selector.status();
      // The shard of the key, as a user's hashmod of the key computes it.
      Labels key_labels({{"__tmp_key", host}});
      const bool key_kept =
          UserShardRules("__tmp_key", index, kCount).Apply(&key_labels);
      for (const Labels& member : members) {
        const DedupSettings dedup =
            rule->SettingsFor(member, absl::Seconds(15));
        ASSERT_EQ(dedup.group, absl::StrCat("k3s/", host));
        EXPECT_EQ(ShardSelector::ShardKey(member, dedup), host);
        EXPECT_EQ(selector->Keeps(member, dedup), key_kept)
            << member.Get("__address__") << " shard " << index;
      }
    }
  }
}

TEST(ShardSelectorTest, TargetOutsideAnyGroupIsShardedByAddress) {
  const Labels target({{"__address__", "10.0.0.1:9100"}});
  EXPECT_EQ(ShardSelector::ShardKey(target, DedupSettings()), "10.0.0.1:9100");
}

TEST(ShardSelectorTest, CreateRefusesBadIndexAndCount) {
  struct Case {
    const char* name;
    uint64_t index;
    uint64_t count;
    const char* error;
  };
  for (const Case& c : {
           Case{"zero shards", 0, 0, "--shard.count must be at least 1"},
           Case{"index equal to count", 3, 3,
                "--shard.index=3 is not below --shard.count=3"},
           Case{"index with one shard", 1, 1,
                "--shard.index=1 is not below --shard.count=1"},
       }) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<ShardSelector> selector =
        ShardSelector::Create(c.index, c.count);
    ASSERT_FALSE(selector.ok());
    EXPECT_EQ(selector.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(selector.status().message(), c.error))
        << selector.status();
  }
}

TEST(ShardSelectorTest, FromFlagsTakesTheIndexOrThePodOrdinal) {
  struct Case {
    const char* name;
    std::optional<uint64_t> index;
    uint64_t count;
    const char* pod_name;
    uint64_t want_index;
    uint64_t want_count;
  };
  for (const Case& c : {
           Case{"no sharding ignores the pod name", std::nullopt, 1, "web", 0,
                1},
           Case{"explicit index wins over the pod name", 1, 3, "fedgate-2", 1,
                3},
           Case{"index from the ordinal", std::nullopt, 3, "fedgate-2", 2, 3},
           Case{"dashed StatefulSet name", std::nullopt, 4, "fedgate-shard-a-0",
                0, 4},
       }) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<ShardSelector> selector =
        ShardSelector::FromFlags(c.index, c.count, c.pod_name, "POD_NAME");
    ASSERT_TRUE(selector.ok()) << selector.status();
    EXPECT_EQ(selector->index(), c.want_index);
    EXPECT_EQ(selector->count(), c.want_count);
  }
}

TEST(ShardSelectorTest, FromFlagsExplainsAMissingOrBadOrdinal) {
  struct Case {
    const char* name;
    const char* pod_name;
    const char* error;
  };
  for (const Case& c : {
           Case{"no pod name", "",
                "--shard.count=3 needs --shard.index, or a StatefulSet pod "
                "name <name>-<ordinal> in POD_NAME, HOSTNAME or the host "
                "name; none is set"},
           Case{"no ordinal", "laptop",
                "--shard.index is not set and the pod name \"laptop\" (from "
                "HOSTNAME) does not end in a StatefulSet ordinal"},
           Case{"Deployment pod", "fedgate-7d9f8b6c4-x2x9z",
                "pod name \"fedgate-7d9f8b6c4-x2x9z\" (from HOSTNAME) does "
                "not end"},
           Case{"sign", "fedgate-+1", "does not end in a StatefulSet ordinal"},
           Case{"trailing dash", "fedgate-", "does not end"},
           Case{"ordinal past the count", "fedgate-3",
                "shard index 3 (from the pod name \"fedgate-3\") is not below "
                "--shard.count=3"},
       }) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<ShardSelector> selector =
        ShardSelector::FromFlags(std::nullopt, 3, c.pod_name, "HOSTNAME");
    ASSERT_FALSE(selector.ok());
    EXPECT_EQ(selector.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(selector.status().message(), c.error))
        << selector.status();
  }
}

TEST(ShardSelectorTest, StatefulSetOrdinalReadsTheDigitsAfterTheLastDash) {
  absl::StatusOr<uint64_t> ordinal = StatefulSetOrdinal("fedgate-12");
  ASSERT_TRUE(ordinal.ok()) << ordinal.status();
  EXPECT_EQ(*ordinal, 12u);
  EXPECT_FALSE(StatefulSetOrdinal("fedgate12").ok());
  EXPECT_FALSE(StatefulSetOrdinal("fedgate-1a").ok());
  EXPECT_FALSE(StatefulSetOrdinal("fedgate-99999999999999999999999").ok());
}

}  // namespace
}  // namespace fedgate
