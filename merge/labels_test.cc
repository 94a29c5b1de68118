#include "merge/labels.h"

#include <vector>

#include "absl/hash/hash.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(LabelsTest, SortsByNameDropsEmptyValuesAndLastValueWins) {
  Labels labels(std::vector<Label>{{"job", "a"},
                                   {"__name__", "up"},
                                   {"empty", ""},
                                   {"job", "b"},
                                   {"Zone", "z"}});
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels.items()[0], (Label{"Zone", "z"}));
  EXPECT_EQ(labels.items()[1], (Label{"__name__", "up"}));
  EXPECT_EQ(labels.items()[2], (Label{"job", "b"}));
  EXPECT_EQ(labels.MetricName(), "up");
  EXPECT_EQ(labels.Get("empty"), "");
  EXPECT_FALSE(labels.Has("empty"));
}

TEST(LabelsTest, SetInsertsReplacesAndRemoves) {
  Labels labels{{"b", "2"}};
  labels.Set("a", "1");
  labels.Set("c", "3");
  labels.Set("b", "two");
  EXPECT_EQ(labels.ToString(), "{a=\"1\", b=\"two\", c=\"3\"}");
  labels.Set("b", "");
  labels.Remove("missing");
  EXPECT_EQ(labels.ToString(), "{a=\"1\", c=\"3\"}");
  EXPECT_EQ(Labels({{"__name__", "n-bad"}, {"q", "a\"b\\\n"}}).ToString(),
            "{__name__=\"n-bad\", q=\"a\\\"b\\\\\\n\"}");
}

TEST(LabelsTest, OrdersLikePrometheusLabelsCompare) {
  const Labels a{{"a", "1"}};
  const Labels ab{{"a", "1"}, {"b", "1"}};
  const Labels a2{{"a", "2"}};
  const Labels b{{"b", "0"}};
  EXPECT_TRUE(a < ab);   // A prefix sorts first.
  EXPECT_TRUE(ab < a2);  // Values compare before length.
  EXPECT_TRUE(a2 < b);   // Names compare first.
  EXPECT_FALSE(a < a);
}

TEST(LabelsTest, EqualSetsHashEqual) {
  const Labels x{{"a", "1"}, {"b", "2"}};
  const Labels y{{"b", "2"}, {"a", "1"}};
  EXPECT_EQ(x, y);
  EXPECT_EQ(absl::Hash<Labels>()(x), absl::Hash<Labels>()(y));
  EXPECT_NE(x, (Labels{{"a", "1"}}));
}

}  // namespace
}  // namespace fedgate
