#include "scraper/curl_request_options.h"

#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(CurlRequestOptionsTest, StatusLinesOfHttp1AndHttp2AreRead) {
  int code = 0;
  std::string reason;
  ASSERT_TRUE(ParseHttpStatusLine("HTTP/1.1 500 Internal Server Error\r\n",
                                  &code, &reason));
  EXPECT_EQ(code, 500);
  EXPECT_EQ(reason, "Internal Server Error");
  ASSERT_TRUE(ParseHttpStatusLine("HTTP/2 410 \r\n", &code, &reason));
  EXPECT_EQ(code, 410);
  EXPECT_EQ(reason, "");
  // Other header lines, and a broken status line, change nothing.
  EXPECT_FALSE(
      ParseHttpStatusLine("Content-Type: text/plain\r\n", &code, &reason));
  EXPECT_FALSE(ParseHttpStatusLine("HTTP/1.1 abc\r\n", &code, &reason));
  EXPECT_EQ(code, 410);
}

TEST(CurlRequestOptionsTest, ServerNameRewritesTheUrlAndKeepsTheHost) {
  CURL* easy = curl_easy_init();
  ASSERT_NE(easy, nullptr);
  {
    HttpClientConfig config;
    config.tls_config.server_name = "api.example";
    CurlRequestOptions options;
    options.Apply(easy, "https://127.0.0.1:6443/api/v1/pods", config);
    char* url = nullptr;
    ASSERT_EQ(curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url), CURLE_OK);
    EXPECT_EQ(std::string(url), "https://api.example:6443/api/v1/pods");
  }
  {
    CurlRequestOptions options;
    options.Apply(easy, "http://127.0.0.1:1/metrics", HttpClientConfig());
    char* url = nullptr;
    ASSERT_EQ(curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url), CURLE_OK);
    EXPECT_EQ(std::string(url), "http://127.0.0.1:1/metrics");
  }
  curl_easy_cleanup(easy);
}

}  // namespace
}  // namespace fedgate
