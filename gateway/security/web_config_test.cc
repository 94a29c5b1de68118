#include "gateway/security/web_config.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/security/test_web_configs.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

// Expects `yaml` refused as a web config, with a message that contains
// `error`.
void ExpectRefused(const std::string& yaml, absl::string_view error) {
  absl::StatusOr<WebConfig> config = ParseWebConfig(yaml, "web.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(config.status().message(), error))
      << config.status();
}

struct FileCase {
  const char* name;  // exporter-toolkit's web/testdata file.
  const char* yaml;
  const char* error;  // Substring of the error; "" when the file is good.
  const char* more_yaml = "";  // Appended to `yaml`: a shared piece.
};

// exporter-toolkit v0.8.2 web/testdata/*.yml with the expectations of its
// tls_config_test.go. Files whose errors come from reading the certificate
// files (`somefile`: no such file) parse here and fail in web_security_test.
const FileCase kExporterToolkitCases[] = {
    {"web_config_empty.yml", "", ""},
    {"web_config_junk.yml",
     "hWkNKCp3fvIx3jKnsaBI\nTuEjdwNS8A2vYdFbiKqr\nay3RiOtykgt4m6m3KOol\n",
     "web.yml:1: cannot unmarshal !!str"},
    {"web_config_junk_key.yml",
     "tls_server_config:\n  cert_filse: \"server.crt\"\n",
     "web.yml:2: field cert_filse not found in web.TLSConfig"},
    {"web_config_noAuth_certPath_empty.bad.yml",
     "tls_server_config:\n  cert_file: \"\"\n  key_file: \"server.key\"\n",
     "missing cert_file"},
    {"web_config_noAuth_keyPath_empty.bad.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n  key_file: \"\"\n",
     "missing key_file"},
    {"web_config_noAuth_certPath_keyPath_empty.bad.yml",
     "tls_server_config:\n  cert_file: \"\"\n  key_file: \"\"\n"
     "  client_auth_type: \"x\"\n",
     "missing cert_file"},
    {"web_config_noAuth_certPath_invalid.bad.yml",
     "tls_server_config:\n  cert_file: \"somefile\"\n"
     "  key_file: \"server.key\"\n",
     ""},
    {"web_config_noAuth.bad.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n  client_ca_file: \"/dev/null\"\n",
     "Client CA's have been configured without a Client Auth Policy"},
    {"web_config_auth_clientCAs_missing.bad.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n"
     "  client_auth_type: \"RequireAndVerifyClientCert\"\n",
     "client_auth_type RequireAndVerifyClientCert requires client_ca_file"},
    {"web_config_auth_user_list_invalid.bad.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\nbasic_auth_users:\n  john: doe\n",
     "web.yml:5: basic_auth_users: user \"john\": crypto/bcrypt: hashedSecret "
     "too short to be a bcrypted password"},
    {"web_config_noAuth_inventedCiphers.bad.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n"
     "  client_auth_type: \"VerifyClientCertIfGiven\"\n"
     "  client_ca_file: \"ca.pem\"\n"
     "  cipher_suites:\n  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048\n",
     "unknown cipher: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048"},
    {"web_config_noAuth_inventedCurves.bad.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n  curve_preferences:\n    - CurveP257\n",
     "unknown curve: CurveP257"},
    {"web_config_noAuth_wrongTLSVersion.bad.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n  min_version: TLS111\n",
     "web.yml:4: unknown TLS version: TLS111"},
    {"web_config_noAuth_allCiphers.good.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n",
     "", kAllCipherSuitesYaml},
    {"web_config_noAuth_allCurves.good.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n  curve_preferences:\n    - CurveP256\n"
     "    - CurveP384\n    - CurveP521\n    - X25519\n",
     ""},
    {"web_config_noAuth_noHTTP2.good.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n  cipher_suites:\n"
     "    - TLS_RSA_WITH_AES_128_CBC_SHA\n  max_version: TLS12\n"
     "http_server_config:\n  http2: false\n",
     ""},
    {"web_config_noAuth_noHTTP2Cipher.bad.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n  cipher_suites:\n"
     "    - TLS_RSA_WITH_AES_128_CBC_SHA\n  max_version: TLS12\n",
     "TLSConfig.CipherSuites is missing an HTTP/2-required"},
    {"web_config_noAuth_someCiphers_noOrder.good.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n  cipher_suites:\n"
     "  - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
     "  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
     "  prefer_server_cipher_suites: false\n  min_version: TLS12\n"
     "  max_version: TLS12\n",
     ""},
    {"tls_config_noAuth.requireanyclientcert.good.yml",
     "tls_server_config:\n  cert_file: \"server.crt\"\n"
     "  key_file: \"server.key\"\n"
     "  client_auth_type: \"RequireAnyClientCert\"\n",
     ""},
    {"web_config_headers.good.yml",
     "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
     "    Strict-Transport-Security: max-age=31536000; includeSubDomains\n"
     "    X-Content-Type-Options: nosniff\n    X-XSS-Protection: 1\n"
     "    Content-Security-Policy: \"default-src 'self' "
     "*.test.example.net\"\n",
     ""},
    {"web_config_headers_content_type_options.bad.yml",
     "http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
     "web.yml:3: invalid value for X-Content-Type-Options. Expected one of: "
     "[\"nosniff\"], but got: \"sniff\""},
    {"web_config_headers_frame_options.bad.yml",
     "http_server_config:\n  headers:\n    X-Frame-Options: foo\n",
     "invalid value for X-Frame-Options. Expected one of: [\"deny\" "
     "\"sameorigin\"], but got: \"foo\""},
    {"web_config_headers_extra_header.bad.yml",
     "http_server_config:\n  headers:\n    Content-Type: foo\n",
     "web.yml:3: HTTP header \"Content-Type\" can not be configured"},
    {"web_config_users_noTLS.good.yml",
     "basic_auth_users:\n"
     "  alice: $2y$12$1DpfPeqF9HzHJt.EWswy1exHluGfbhnn3yXhR7Xes6m3WJqFg0Wby\n"
     "  bob: $2y$18$4VeFDzXIoPHKnKTU3O3GH.N.vZu06CVqczYZ8WvfzrddFU6tGqjR.\n"
     "  carol: $2y$10$qRTBuFoULoYNA7AQ/F3ck.trZBPyjV64.oA4ZsSBCIWvXuvQlQTuu\n"
     "  dave: $2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq\n",
     ""},
};

TEST(WebConfigTest, ExporterToolkitTestdata) {
  for (const FileCase& c : kExporterToolkitCases) {
    SCOPED_TRACE(c.name);
    const std::string yaml = absl::StrCat(c.yaml, c.more_yaml);
    if (c.error[0] == '\0') {
      absl::StatusOr<WebConfig> config = ParseWebConfig(yaml, "web.yml");
      EXPECT_TRUE(config.ok()) << config.status();
    } else {
      ExpectRefused(yaml, c.error);
    }
  }
}

TEST(WebConfigTest, DefaultsAndRelativePaths) {
  absl::StatusOr<WebConfig> config = ParseWebConfig(
      "tls_server_config:\n"
      "  cert_file: server.crt\n"
      "  key_file: /abs/server.key\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  client_ca_file: ca/clients.pem\n"
      "authentication:\n"
      "  bearer_token_files: [tokens/a, /run/b]\n",
      "/etc/fedgate/web.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->tls_enabled);
  EXPECT_EQ(config->tls.cert_file, "/etc/fedgate/server.crt");
  EXPECT_EQ(config->tls.key_file, "/abs/server.key");
  EXPECT_EQ(config->tls.client_ca_file, "/etc/fedgate/ca/clients.pem");
  EXPECT_EQ(config->tls.client_auth_type,
            ClientAuthType::kRequireAndVerifyClientCert);
  EXPECT_EQ(config->tls.min_version, kTls12);
  EXPECT_EQ(config->tls.max_version, kTls13);
  EXPECT_TRUE(config->tls.prefer_server_cipher_suites);
  EXPECT_TRUE(config->http.http2);
  EXPECT_EQ(config->authentication.bearer_token_files,
            (std::vector<std::string>{"/etc/fedgate/tokens/a", "/run/b"}));
}

TEST(WebConfigTest, EmptyFileServesPlainHttpWithoutCredentials) {
  absl::StatusOr<WebConfig> config = ParseWebConfig("", "web.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->tls_enabled);
  EXPECT_TRUE(config->basic_auth_users.empty());
  EXPECT_TRUE(config->authentication.bearer_token_files.empty());
}

TEST(WebConfigTest, AuthenticationCanBeTurnedOffExplicitly) {
  absl::StatusOr<WebConfig> config =
      ParseWebConfig("authentication:\n  disabled: true\n", "web.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->authentication.disabled);
  EXPECT_TRUE(config->authentication.bearer_token_files.empty());
}

TEST(WebConfigTest, KubernetesAuthentication) {
  absl::StatusOr<WebConfig> config = ParseWebConfig(
      "authentication:\n"
      "  kubernetes:\n"
      "    api_server: https://kubernetes.example:6443\n"
      "    tls_config: {ca_file: ca.crt}\n"
      "    bearer_token_file: token\n"
      "    audiences: [fedgate]\n"
      "    allowed_cache_ttl: 1m\n"
      "    denied_cache_ttl: 5s\n"
      "    timeout: 3s\n",
      "/etc/fedgate/web.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->authentication.kubernetes.has_value());
  const WebKubernetesAuthConfig& k = *config->authentication.kubernetes;
  EXPECT_EQ(k.api_server, "https://kubernetes.example:6443");
  EXPECT_EQ(k.http_client.tls_config.ca_file, "/etc/fedgate/ca.crt");
  ASSERT_TRUE(k.http_client.authorization.has_value());
  EXPECT_EQ(k.http_client.authorization->type, "Bearer");
  EXPECT_EQ(k.http_client.authorization->credentials_file,
            "/etc/fedgate/token");
  EXPECT_EQ(k.audiences, std::vector<std::string>{"fedgate"});
  EXPECT_EQ(k.times.token_cache_ttl, absl::Minutes(2));
  EXPECT_EQ(k.times.rejected_cache_ttl, absl::Seconds(30));
  EXPECT_EQ(k.times.allowed_cache_ttl, absl::Minutes(1));
  EXPECT_EQ(k.times.denied_cache_ttl, absl::Seconds(5));
  EXPECT_EQ(k.times.timeout, absl::Seconds(3));

  // An empty section: the in-cluster configuration with the defaults.
  config = ParseWebConfig("authentication:\n  kubernetes: {}\n", "web.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->authentication.kubernetes.has_value());
  EXPECT_TRUE(config->authentication.kubernetes->api_server.empty());
  EXPECT_EQ(config->authentication.kubernetes->times.allowed_cache_ttl,
            absl::Minutes(5));

  config = ParseWebConfig(
      "authentication:\n  kubernetes:\n"
      "    kubeconfig_file: kube/config\n",
      "/etc/fedgate/web.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->authentication.kubernetes->kubeconfig_file,
            "/etc/fedgate/kube/config");
}

TEST(WebConfigTest, RejectsWhatFedgateCannotServe) {
  const struct {
    const char* name;
    const char* yaml;
    const char* error;
  } kCases[] = {
      {"unknown top-level field", "tls_config: {}\n",
       "web.yml:1: field tls_config not found in web config"},
      {"repeated key", "basic_auth_users: {}\nbasic_auth_users: {}\n",
       "web.yml:2:"},
      {"users and tokens",
       "basic_auth_users:\n"
       "  dave: $2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq\n"
       "authentication:\n  bearer_token_files: [t]\n",
       "web.yml:4: at most one of basic_auth_users, "
       "authentication.bearer_token_files & authentication.kubernetes must be "
       "configured"},
      {"tokens and kubernetes",
       "authentication:\n  bearer_token_files: [t]\n  kubernetes: {}\n",
       "web.yml:3: at most one of"},
      {"disabled with kubernetes",
       "authentication:\n  disabled: true\n  kubernetes: {}\n",
       "authentication.disabled cannot be set together"},
      {"disabled with tokens",
       "authentication:\n  disabled: true\n  bearer_token_files: [t]\n",
       "authentication.disabled cannot be set together"},
      {"kubernetes unknown field",
       "authentication:\n  kubernetes:\n    cache_ttl: 1m\n",
       "web.yml:3: field cache_ttl not found in authentication.kubernetes"},
      {"kubernetes api_server and kubeconfig",
       "authentication:\n  kubernetes:\n    api_server: https://k:6443\n"
       "    kubeconfig_file: kc\n",
       "web.yml:2: cannot use 'kubeconfig_file' and 'api_server' "
       "simultaneously"},
      {"kubernetes http client without api_server",
       "authentication:\n  kubernetes:\n"
       "    tls_config: {insecure_skip_verify: true}\n",
       "to use custom HTTP client configuration please provide the "
       "'api_server' URL explicitly"},
      {"kubernetes api_server not a URL",
       "authentication:\n  kubernetes:\n    api_server: k:6443\n",
       "web.yml:3: api_server \"k:6443\" is not an http or https URL"},
      {"kubernetes zero timeout",
       "authentication:\n  kubernetes:\n    timeout: 0s\n",
       "timeout must be greater than zero"},
      {"unknown authentication field", "authentication:\n  tokens: [a]\n",
       "web.yml:2: field tokens not found in authentication"},
      {"invalid client auth",
       "tls_server_config:\n  cert_file: c\n  key_file: k\n"
       "  client_auth_type: Sometimes\n",
       "web.yml:4: Invalid ClientAuth: Sometimes"},
      {"versions reversed",
       "tls_server_config:\n  cert_file: c\n  key_file: k\n"
       "  min_version: TLS13\n  max_version: TLS12\n",
       "min_version is greater than max_version"},
      {"unknown http field", "http_server_config:\n  http3: true\n",
       "web.yml:2: field http3 not found in web.HTTPConfig"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    ExpectRefused(c.yaml, c.error);
  }
}

TEST(WebConfigTest, ErrorsNeverQuoteThePasswordHash) {
  absl::StatusOr<WebConfig> config = ParseWebConfig(
      "basic_auth_users:\n  dave: $2y$10$tooshortsecretvalue\n", "web.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_FALSE(absl::StrContains(config.status().message(), "tooshort"))
      << config.status();
}

TEST(WebConfigTest, HeadersKeepDocumentOrder) {
  absl::StatusOr<WebConfig> config = ParseWebConfig(
      "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
      "    X-Content-Type-Options: nosniff\n",
      "web.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->http.headers.size(), 2u);
  EXPECT_EQ(config->http.headers[0].first, "X-Frame-Options");
  EXPECT_EQ(config->http.headers[1].second, "nosniff");
}

TEST(WebConfigTest, GnutlsPrioritiesFromVersionsCiphersAndCurves) {
  WebTlsConfig tls;
  EXPECT_EQ(GnutlsPriorities(tls),
            "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3:%SERVER_PRECEDENCE");
  tls.min_version = kTls12;
  tls.max_version = kTls12;
  tls.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                       "TLS_RSA_WITH_AES_128_CBC_SHA"};
  tls.curve_preferences = {"X25519", "CurveP256"};
  tls.prefer_server_cipher_suites = false;
  EXPECT_EQ(GnutlsPriorities(tls),
            "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:-CIPHER-ALL:-MAC-ALL"
            ":+ECDHE-RSA:+RSA:+AES-128-GCM:+AES-128-CBC:+AEAD:+SHA1"
            ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1");
}

}  // namespace
}  // namespace fedgate
