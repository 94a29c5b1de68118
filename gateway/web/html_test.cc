#include "gateway/web/html.h"

#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(HtmlTest, EscapesMarkupCharacters) {
  EXPECT_EQ(HtmlEscape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(HtmlEscape("a=\"1\" b='2' & c"),
            "a=&#34;1&#34; b=&#39;2&#39; &amp; c");
  EXPECT_EQ(HtmlEscape("&amp;"), "&amp;amp;");
}

TEST(HtmlTest, KeepsPlainTextAndValidUtf8) {
  EXPECT_EQ(HtmlEscape("http://10.0.0.5:9100/metrics"),
            "http://10.0.0.5:9100/metrics");
  EXPECT_EQ(HtmlEscape("h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80"),
            "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80");
  EXPECT_EQ(HtmlEscape(""), "");
}

TEST(HtmlTest, ReplacesInvalidUtf8AndNul) {
  struct Case {
    const char* name;
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {"lone continuation byte", "a\x80z", "a\xEF\xBF\xBDz"},
      {"truncated sequence", "a\xE2\x9C", "a\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"overlong slash", "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"surrogate", "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"invalid byte before markup", "\xFF<b>", "\xEF\xBF\xBD&lt;b&gt;"},
      {"nul", std::string("a\0b", 3),
       "a\xEF\xBF\xBD"
       "b"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(HtmlEscape(c.in), c.want);
  }
}

TEST(HtmlTest, AppendsToExistingText) {
  std::string out = "<p>";
  AppendHtmlEscaped("1 < 2", &out);
  EXPECT_EQ(out, "<p>1 &lt; 2");
}

TEST(HtmlTest, CspSourceIsTheBase64Sha256) {
  // printf '' | openssl dgst -sha256 -binary | base64
  EXPECT_EQ(CspSha256Source(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
  // printf 'abc' | openssl dgst -sha256 -binary | base64
  EXPECT_EQ(CspSha256Source("abc"),
            "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='");
}

}  // namespace
}  // namespace fedgate
