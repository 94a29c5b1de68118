#include "config/redacted_url.h"

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(RedactedUrlTest, HidesThePasswordOnly) {
  EXPECT_EQ(RedactedUrl("http://user:pw@proxy:3128/"),
            "http://user:xxxxx@proxy:3128/");
  // The userinfo ends at the last `@` of the authority.
  EXPECT_EQ(RedactedUrl("http://user:p@w@proxy:3128"),
            "http://user:xxxxx@proxy:3128");
}

TEST(RedactedUrlTest, KeepsUrlsWithoutAPassword) {
  EXPECT_EQ(RedactedUrl("http://user@proxy:3128/"), "http://user@proxy:3128/");
  // An `@` in the path is not userinfo.
  EXPECT_EQ(RedactedUrl("http://proxy:3128/a@b"), "http://proxy:3128/a@b");
  EXPECT_EQ(RedactedUrl(""), "");
}

TEST(RedactedUrlTest, HidesThePasswordOfAUrlWithoutScheme) {
  EXPECT_EQ(RedactedUrl(":user:pw@proxy:3128/"), ":xxxxx@proxy:3128/");
  EXPECT_EQ(RedactedUrl("user:pw@proxy"), "user:xxxxx@proxy");
}

}  // namespace
}  // namespace fedgate
