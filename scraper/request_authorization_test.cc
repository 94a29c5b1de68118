#include "scraper/request_authorization.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

std::string WriteTempFile(absl::string_view name, absl::string_view content) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  FILE* f = std::fopen(path.c_str(), "w");
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  return path;
}

TEST(RequestAuthorizationTest, NoneConfiguredIsEmpty) {
  absl::StatusOr<std::string> value = AuthorizationValue(HttpClientConfig());
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "");
}

TEST(RequestAuthorizationTest, CredentialsInlineOrFromAFileReadEveryTime) {
  HttpClientConfig config;
  config.authorization = AuthorizationConfig();
  config.authorization->type = "Bearer";
  config.authorization->credentials = "inline-token";
  EXPECT_EQ(*AuthorizationValue(config), "Bearer inline-token");

  config.authorization->credentials = "";
  config.authorization->credentials_file =
      WriteTempFile("token", "  first-token\n");
  EXPECT_EQ(*AuthorizationValue(config), "Bearer first-token");
  // Rotated on disk: the next request sends the new token.
  WriteTempFile("token", "second-token\n");
  EXPECT_EQ(*AuthorizationValue(config), "Bearer second-token");
}

TEST(RequestAuthorizationTest, BasicAuthWithAPasswordFile) {
  HttpClientConfig config;
  config.basic_auth = BasicAuthConfig();
  config.basic_auth->username = "prometheus";
  config.basic_auth->password_file = WriteTempFile("password", "s3cret\n");
  EXPECT_EQ(*AuthorizationValue(config),
            absl::StrCat("Basic ", absl::Base64Escape("prometheus:s3cret")));
}

TEST(RequestAuthorizationTest, AMissingFileIsNamedButNotItsContent) {
  HttpClientConfig config;
  config.authorization = AuthorizationConfig();
  config.authorization->type = "Bearer";
  config.authorization->credentials_file = "/nonexistent/token";
  absl::StatusOr<std::string> value = AuthorizationValue(config);
  EXPECT_TRUE(absl::IsUnavailable(value.status())) << value.status();
  EXPECT_EQ(value.status().message(),
            "unable to read authorization credentials file /nonexistent/token: "
            "open /nonexistent/token: no such file or directory");
}

}  // namespace
}  // namespace fedgate
