#include "config/http_client_config_loader.h"

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/config.h"
#include "config/yaml_reader.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// Feeds every top-level field of `text` to an HttpClientConfigLoader, as a
// section loader does, and returns the validated client. A field the loader
// does not take is an error here.
absl::StatusOr<HttpClientConfig> LoadHttpClient(const std::string& text) {
  YamlReader reader(text, "/etc/fedgate/fedgate.yml");
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  if (!root.ok()) return root.status();
  absl::StatusOr<std::vector<YamlEntry>> entries =
      reader.Entries(*root, YamlMapKind::kStruct, "scrape config");
  if (!entries.ok()) return entries.status();
  HttpClientConfigLoader http(reader);
  for (const YamlEntry& field : *entries) {
    absl::StatusOr<bool> read = http.ReadField(field);
    if (!read.ok()) return read.status();
    if (!*read) return absl::NotFoundError(field.name);
  }
  return std::move(http).Finish();
}

// Expects LoadHttpClient to refuse `text` with InvalidArgument `message`.
void ExpectLoadError(const std::string& text, absl::string_view message) {
  const absl::Status status = LoadHttpClient(text).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), message);
}

// Expects the client of `text` to send `want` as its Authorization header
// (`type` is "Bearer" unless set).
void ExpectAuthorization(const std::string& text,
                         const AuthorizationConfig& want) {
  absl::StatusOr<HttpClientConfig> http = LoadHttpClient(text);
  ASSERT_TRUE(http.ok()) << http.status();
  ASSERT_TRUE(http->authorization.has_value());
  EXPECT_EQ(http->authorization->type, want.type);
  EXPECT_EQ(http->authorization->credentials, want.credentials);
  EXPECT_EQ(http->authorization->credentials_file, want.credentials_file);
}

TEST(HttpClientConfigLoaderTest, ReadsEveryFieldAndResolvesPaths) {
  absl::StatusOr<HttpClientConfig> http = LoadHttpClient(
      "follow_redirects: false\n"
      "enable_http2: false\n"
      "proxy_url: http://proxy:3128\n"
      "tls_config:\n"
      "  ca_file: ca.pem\n"
      "  server_name: node\n"
      "  min_version: TLS13\n"
      "basic_auth:\n"
      "  username: u\n"
      "  password_file: /run/secret\n");
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_FALSE(http->follow_redirects);
  EXPECT_FALSE(http->enable_http2);
  EXPECT_EQ(http->proxy_url, "http://proxy:3128");
  EXPECT_EQ(http->tls_config.ca_file, "/etc/fedgate/ca.pem");
  EXPECT_EQ(http->tls_config.server_name, "node");
  EXPECT_EQ(http->tls_config.min_version, 0x0304);
  ASSERT_TRUE(http->basic_auth.has_value());
  EXPECT_EQ(http->basic_auth->username, "u");
  EXPECT_EQ(http->basic_auth->password_file, "/run/secret");
  EXPECT_FALSE(http->authorization.has_value());
}

TEST(HttpClientConfigLoaderTest, BearerTokenFileBecomesBearerAuthorization) {
  AuthorizationConfig want;
  want.credentials_file = "/etc/fedgate/token";
  ExpectAuthorization("bearer_token_file: token\n", want);
}

TEST(HttpClientConfigLoaderTest, AuthorizationTypeDefaultsToBearer) {
  AuthorizationConfig want;
  want.credentials = "secret";
  ExpectAuthorization("authorization:\n  credentials: secret\n", want);
}

TEST(HttpClientConfigLoaderTest, ReadFieldLeavesOtherFieldsToTheCaller) {
  const std::string text = "job_name: node\n";
  YamlReader reader(text, "f.yml");
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  ASSERT_TRUE(root.ok()) << root.status();
  absl::StatusOr<std::vector<YamlEntry>> entries =
      reader.Entries(*root, YamlMapKind::kStruct, "scrape config");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 1u);
  HttpClientConfigLoader http(reader);
  absl::StatusOr<bool> read = http.ReadField((*entries)[0]);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(*read);
}

TEST(HttpClientConfigLoaderTest, ConflictPointsAtTheLaterField) {
  ExpectLoadError(
      "basic_auth:\n"
      "  username: u\n"
      "bearer_token: t\n",
      "/etc/fedgate/fedgate.yml:3: at most one of basic_auth, oauth2, "
      "bearer_token & bearer_token_file must be configured");
}

// A field value the loader refuses, and its error: the line is the field's,
// or its section's for a check across fields.
struct FieldErrorCase {
  const char* name;
  const char* yaml;
  const char* message;
};

// Names the case in gtest's output and in the test's name.
void PrintTo(const FieldErrorCase& c, std::ostream* os) { *os << c.name; }

class HttpClientFieldErrorTest
    : public ::testing::TestWithParam<FieldErrorCase> {};

TEST_P(HttpClientFieldErrorTest, NamesItsLine) {
  ExpectLoadError(GetParam().yaml, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    HttpClientConfigLoaderTest, HttpClientFieldErrorTest,
    ::testing::Values(
        FieldErrorCase{"UnknownTlsVersion",
                       "tls_config:\n  min_version: TLS9\n",
                       "/etc/fedgate/fedgate.yml:2: unknown TLS version: TLS9"},
        FieldErrorCase{"CertWithoutKey", "tls_config:\n  cert_file: /c.pem\n",
                       "/etc/fedgate/fedgate.yml:1: client cert file "
                       "\"/c.pem\" specified without client key file"},
        FieldErrorCase{
            "UnknownTlsField", "tls_config:\n  nope: 1\n",
            "/etc/fedgate/fedgate.yml:2: field nope not found in tls config"},
        FieldErrorCase{"ProxyWithoutScheme", "proxy_url: \":3128\"\n",
                       "/etc/fedgate/fedgate.yml:1: parse \":3128\": missing "
                       "protocol scheme"},
        FieldErrorCase{"BasicAuthorizationType",
                       "authorization:\n  type: Basic\n",
                       "/etc/fedgate/fedgate.yml:1: authorization type cannot "
                       "be set to \"basic\", use \"basic_auth\" instead"}),
    ::testing::PrintToStringParamName());

TEST(HttpClientConfigLoaderTest, UnsupportedFieldsArePrometheusHttpFields) {
  EXPECT_TRUE(IsUnsupportedHttpClientField("oauth2"));
  EXPECT_TRUE(IsUnsupportedHttpClientField("http_headers"));
  EXPECT_FALSE(IsUnsupportedHttpClientField("tls_config"));
  EXPECT_FALSE(IsUnsupportedHttpClientField("job_name"));
}

}  // namespace
}  // namespace fedgate
