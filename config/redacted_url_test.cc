#include "config/redacted_url.h"

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(RedactedUrlTest, HidesThePasswordOnly) {
  struct Case {
    const char* name;
    const char* url;
    const char* want;
  };
  const Case cases[] = {
      {"password", "http://user:pw@proxy:3128/",
       "http://user:xxxxx@proxy:3128/"},
      {"password with @", "http://user:p@w@proxy:3128",
       "http://user:xxxxx@proxy:3128"},
      {"user only", "http://user@proxy:3128/", "http://user@proxy:3128/"},
      {"no userinfo", "http://proxy:3128/a@b", "http://proxy:3128/a@b"},
      {"no scheme", ":user:pw@proxy:3128/", ":xxxxx@proxy:3128/"},
      {"no scheme, user", "user:pw@proxy", "user:xxxxx@proxy"},
      {"empty", "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(RedactedUrl(c.url), c.want);
  }
}

}  // namespace
}  // namespace fedgate
