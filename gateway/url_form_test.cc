#include "gateway/url_form.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(UrlFormTest, DecodesPairsInOrder) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(
      ParseUrlEncoded("match%5B%5D=up%7Bjob%3D%22a+b%22%7D&x=&y&&z=%zz"),
      (Pairs{
          {"match[]", "up{job=\"a b\"}"}, {"x", ""}, {"y", ""}, {"z", "%zz"}}));
  EXPECT_EQ(ParseUrlEncoded(""), Pairs{});
  EXPECT_EQ(ParseUrlEncoded("a=%4"), (Pairs{{"a", "%4"}}));
}

TEST(UrlFormTest, KeepsMalformedEscapesAndEmptyNames) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ParseUrlEncoded("%=%%&=v&a%2"),
            (Pairs{{"%", "%%"}, {"", "v"}, {"a%2", ""}}));
  EXPECT_EQ(ParseUrlEncoded("%00=%ff"),
            (Pairs{{std::string(1, '\0'), "\xff"}}));
}

}  // namespace
}  // namespace fedgate
