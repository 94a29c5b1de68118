#include "gateway/writers/exposition_writer.h"

#include <vector>

#include "gtest/gtest.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

std::vector<Label> ToVector(absl::Span<const Label> labels) {
  return std::vector<Label>(labels.begin(), labels.end());
}

TEST(ExternalLabelsTest, AppendsMissingLabelsInNameOrderWithInstance) {
  ExternalLabels external({{"zone", "ie"}, {"a", "ext"}, {"job", "x"}});
  struct Case {
    const char* name;
    Labels labels;
    std::vector<Label> want;
  };
  const Case kCases[] = {
      {"AllMissing",
       Labels({{"__name__", "m"}}),
       {{"a", "ext"}, {"instance", ""}, {"job", "x"}, {"zone", "ie"}}},
      {"SeriesLabelsWin",
       Labels({{"__name__", "m"}, {"instance", "i:1"}, {"job", "own"}}),
       {{"a", "ext"}, {"zone", "ie"}}},
      {"SameMaskAgain",
       Labels({{"__name__", "n"}, {"instance", "i:2"}, {"job", "j"}}),
       {{"a", "ext"}, {"zone", "ie"}}},
      {"NothingMissing",
       Labels({{"a", "1"}, {"instance", "i"}, {"job", "j"}, {"zone", "z"}}),
       {}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ToVector(external.For(c.labels)), c.want);
  }
}

TEST(ExternalLabelsTest, ConfiguredInstanceReplacesEmptyInstance) {
  ExternalLabels external(
      std::map<std::string, std::string>{{"instance", "baz"}});
  EXPECT_EQ(ToVector(external.For(Labels({{"__name__", "m"}}))),
            (std::vector<Label>{{"instance", "baz"}}));
}

}  // namespace
}  // namespace fedgate
