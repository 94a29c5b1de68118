#include "merge/interned_labels.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(InternedLabelsTest, EqualContentIsOneRepresentation) {
  const InternedLabels a =
      InternedLabels::Intern(Labels{{"__name__", "up"}, {"job", "x"}});
  const InternedLabels b =
      InternedLabels::Intern(Labels{{"job", "x"}, {"__name__", "up"}});
  const InternedLabels c =
      InternedLabels::Intern(Labels{{"__name__", "up"}, {"job", "y"}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.id(), b.id());
  EXPECT_NE(a, c);
  EXPECT_TRUE(SameLabels(a, Labels{{"__name__", "up"}, {"job", "x"}}));
  EXPECT_FALSE(SameLabels(a, Labels{{"__name__", "up"}}));
}

TEST(InternedLabelsTest, ReadsLabels) {
  const InternedLabels s = InternedLabels::Intern(
      Labels{{"__name__", "http_requests_total"}, {"code", "200"}, {"a", ""}});
  EXPECT_EQ(s.size(), 2u);  // The empty value is no label.
  EXPECT_EQ(s.MetricName(), "http_requests_total");
  EXPECT_EQ(s.Get("code"), "200");
  EXPECT_EQ(s.Get("a"), "");
  EXPECT_EQ(s.Get("zzz"), "");
  EXPECT_TRUE(s.Has("code"));
  std::vector<std::string> seen;
  for (const LabelView label : s) {
    seen.push_back(absl::StrCat(label.name, "=", label.value));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"__name__=http_requests_total",
                                            "code=200"}));
  EXPECT_EQ(s.ToString(), R"({__name__="http_requests_total", code="200"})");
  EXPECT_EQ(s.ToLabels(),
            (Labels{{"__name__", "http_requests_total"}, {"code", "200"}}));
}

TEST(InternedLabelsTest, LooksUpByInternedName) {
  const InternedLabels s = InternedLabels::Intern(
      Labels{{"__name__", "m"}, {"instance", "a:1"}, {"job", "j"}});
  const InternedName instance("instance");
  const InternedName absent("not_a_label_anywhere");
  EXPECT_EQ(instance.text(), "instance");
  EXPECT_EQ(s.Get(instance), "a:1");
  EXPECT_TRUE(s.Has(instance));
  EXPECT_EQ(s.Get(absent), "");
  EXPECT_FALSE(InternedLabels().Has(instance));
  // A moved-from name holds nothing and finds nothing.
  InternedName moved("job");
  InternedName taker = std::move(moved);
  EXPECT_EQ(s.Get(taker), "j");
  EXPECT_EQ(s.Get(moved), "");  // NOLINT(bugprone-use-after-move)
}

TEST(InternedLabelsTest, MarksValuesThatNeedNoEscaping) {
  const InternedLabels s =
      InternedLabels::Intern(Labels{{"a", "plain value"},
                                    {"b", "back\\slash"},
                                    {"c", "quote\""},
                                    {"d", "line\nfeed"},
                                    {"e", "tab\tand\xc3\xbc"}});
  std::vector<std::string> plain;
  for (const LabelView label : s) {
    if (label.plain) plain.push_back(std::string(label.name));
  }
  EXPECT_EQ(plain, (std::vector<std::string>{"a", "e"}));
  EXPECT_FALSE(LabelView(Label{"a", "x"}).plain);  // Unknown for a Label.
}

TEST(InternedLabelsTest, WithoutMetricName) {
  const InternedLabels s = InternedLabels::Intern(Labels{{"job", "x"}});
  EXPECT_EQ(s.MetricName(), "");
  EXPECT_EQ(s.Get("job"), "x");
}

TEST(InternedLabelsTest, EmptySet) {
  const InternedLabels empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_EQ(empty.MetricName(), "");
  EXPECT_EQ(InternedLabels::Intern(Labels()), empty);
  EXPECT_EQ(empty.ToString(), "{}");
}

TEST(InternedLabelsTest, OrdersByContentLikePrometheus) {
  const InternedLabels a = InternedLabels::Intern(Labels{{"a", "1"}});
  const InternedLabels b = InternedLabels::Intern(Labels{{"a", "2"}});
  const InternedLabels ab =
      InternedLabels::Intern(Labels{{"a", "1"}, {"b", "1"}});
  const InternedLabels c = InternedLabels::Intern(Labels{{"c", "0"}});
  EXPECT_TRUE(a < b);
  EXPECT_FALSE(b < a);
  EXPECT_TRUE(a < ab);  // A prefix sorts first.
  EXPECT_TRUE(ab < b);
  EXPECT_TRUE(b < c);
  EXPECT_FALSE(a < a);
}

TEST(InternedLabelsTest, FreesWithTheLastHandle) {
  // Holds the names, so that only the two values below are new symbols.
  const InternedLabels anchor =
      InternedLabels::Intern(Labels{{"__name__", "anchor"}, {"pod", "anchor"}});
  const InternedLabelsStats before = GetInternedLabelsStats();
  {
    InternedLabels s = InternedLabels::Intern(
        Labels{{"__name__", "only_in_this_test"}, {"pod", "unique-pod-1"}});
    InternedLabels copy = s;
    InternedLabels moved = std::move(copy);
    const InternedLabelsStats during = GetInternedLabelsStats();
    EXPECT_EQ(during.label_sets, before.label_sets + 1);
    EXPECT_EQ(during.symbols, before.symbols + 2);  // The two new values.
  }
  const InternedLabelsStats after = GetInternedLabelsStats();
  EXPECT_EQ(after.label_sets, before.label_sets);
  EXPECT_EQ(after.symbols, before.symbols);
  EXPECT_EQ(after.symbol_bytes, before.symbol_bytes);
}

TEST(InternedLabelsTest, SymbolIdsAreReused) {
  for (int round = 0; round < 3; ++round) {
    std::vector<InternedLabels> sets;
    for (int i = 0; i < 5000; ++i) {
      sets.push_back(InternedLabels::Intern(
          Labels{{"__name__", "m"}, {"pod", absl::StrCat("pod-", i)}}));
    }
    EXPECT_EQ(sets[1234].Get("pod"), "pod-1234");
  }
  // All gone again: only what other tests hold remains.
  EXPECT_LT(GetInternedLabelsStats().label_sets, 100u);
}

// Threads intern, copy and drop the same few label sets at once; run under
// TSan and ASan (the suite does), this checks the reference counting and the
// hand-over between a dying representation and a new one.
TEST(InternedLabelsTest, ConcurrentInternAndRelease) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 3000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kRounds; ++i) {
        const std::string value = absl::StrCat("v", (i + t) % 7);
        InternedLabels s =
            InternedLabels::Intern(Labels{{"__name__", "race"}, {"k", value}});
        InternedLabels copy = s;
        ASSERT_EQ(copy.Get("k"), value);
        ASSERT_TRUE(SameLabels(s, Labels{{"__name__", "race"}, {"k", value}}));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const InternedLabels probe =
      InternedLabels::Intern(Labels{{"__name__", "race"}, {"k", "v1"}});
  EXPECT_EQ(probe.Get("k"), "v1");
}

TEST(InternedLabelsTest, ReadsBackLargeSymbolIds) {
  // Past 2^14 symbols the ids take three bytes each.
  std::vector<InternedLabels> sets;
  for (int i = 0; i < 20000; ++i) {
    sets.push_back(
        InternedLabels::Intern(Labels{{"__name__", absl::StrCat("m", i)},
                                      {"a", absl::StrCat("a", i)},
                                      {"z", absl::StrCat("z", i)}}));
  }
  for (int i : {0, 127, 128, 16383, 16384, 19999}) {
    const InternedLabels& s = sets[i];
    EXPECT_EQ(s.MetricName(), absl::StrCat("m", i));
    EXPECT_EQ(s.Get("z"), absl::StrCat("z", i));
    EXPECT_EQ(s.Get("a"), absl::StrCat("a", i));
    EXPECT_EQ(s.size(), 3u);
    EXPECT_EQ(s.ToLabels(), (Labels{{"__name__", absl::StrCat("m", i)},
                                    {"a", absl::StrCat("a", i)},
                                    {"z", absl::StrCat("z", i)}}));
  }
}

TEST(InternedLabelsTest, HoldsTheLargestAllowedSet) {
  std::vector<Label> many;
  for (size_t i = 0; i < InternedLabels::kMaxLabels; ++i) {
    many.push_back(Label{absl::StrCat("l", i), absl::StrCat("v", i)});
  }
  const InternedLabels s = InternedLabels::Intern(Labels(many));
  EXPECT_EQ(s.size(), InternedLabels::kMaxLabels);
  EXPECT_EQ(s.Get("l4095"), "v4095");
  EXPECT_EQ(s.MetricName(), "");
}

}  // namespace
}  // namespace fedgate
