#include "gateway/security/web_security.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/security/test_web_configs.h"
#include "gtest/gtest.h"
#include "scraper/discovery/test_sd_files.h"
#include "scraper/test_certificates.h"

namespace fedgate {
namespace {

// Writes the web config `yaml` to `dir`/web.yml and loads it.
absl::StatusOr<std::unique_ptr<WebSecurity>> CreateWithWebConfig(
    const std::string& dir, const std::string& yaml) {
  WriteAndRename(dir + "/web.yml", yaml);
  return WebSecurity::Create(dir + "/web.yml");
}

// exporter-toolkit's web_config_users.good.yml: dave's password is dave123.
constexpr char kDaveHash[] =
    "$2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq";

std::string BasicHeader(const std::string& user, const std::string& password) {
  return absl::StrCat("Basic ", absl::Base64Escape(user + ":" + password));
}

TEST(WebSecurityTest, KubernetesTokensUnlessSomethingElseIsConfigured) {
  const std::string dir = NewTestDir("default_authentication");
  // A cluster as the pod sees it; the API server is not asked at load.
  KubernetesEnvironment env;
  env.service_account_dir = dir;
  env.service_host = "127.0.0.1";
  env.service_port = "6443";
  WriteAndRename(dir + "/token", "sa-token");
  WriteAndRename(dir + "/namespace", "monitoring");
  WriteAndRename(dir + "/ca.crt", "");
  const std::string users =
      absl::StrCat("basic_auth_users: {dave: ", kDaveHash, "}\n");
  struct Case {
    const char* name;
    const char* yaml;  // nullptr: no web config at all.
    WebAuthScheme want;
  };
  const Case cases[] = {
      {"no web config", nullptr, WebAuthScheme::kKubernetes},
      {"nothing about authentication", "http_server_config: {}\n",
       WebAuthScheme::kKubernetes},
      {"turned off", "authentication: {disabled: true}\n",
       WebAuthScheme::kNone},
      {"tokens", "authentication: {bearer_token_files: [token]}\n",
       WebAuthScheme::kBearer},
      {"users", users.c_str(), WebAuthScheme::kBasic},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string path;
    if (c.yaml != nullptr) {
      path = dir + "/web.yml";
      WriteAndRename(path, c.yaml);
    }
    absl::StatusOr<std::shared_ptr<const WebSecurityState>> state =
        LoadWebSecurityState(path, env, DefaultAuthentication::kKubernetes);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ((*state)->scheme, c.want);
    // The embedded demo's default: nothing.
    state = LoadWebSecurityState(path, env, DefaultAuthentication::kNone);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_NE((*state)->scheme, WebAuthScheme::kKubernetes);
  }
}

TEST(WebSecurityTest, MissingCertificateFilesFailTheStart) {
  const std::string dir = NewTestDir("missing_cert");
  const struct {
    const char* name;  // exporter-toolkit's web/testdata file.
    const char* yaml;
  } kCases[] = {
      {"web_config_noAuth_certPath_invalid.bad.yml",
       "tls_server_config:\n  cert_file: somefile\n  key_file: server.key\n"},
      {"web_config_noAuth_keyPath_invalid.bad.yml",
       "tls_server_config:\n  cert_file: server.cert\n  key_file: somefile\n"},
      {"web_config_noAuth_certPath_keyPath_invalid.bad.yml",
       "tls_server_config:\n  cert_file: somefile\n  key_file: somefile\n"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::unique_ptr<WebSecurity>> security =
        CreateWithWebConfig(dir, c.yaml);
    ASSERT_FALSE(security.ok());
    EXPECT_TRUE(absl::StrContains(security.status().message(),
                                  "No such file or directory"))
        << security.status();
    EXPECT_TRUE(absl::StrContains(security.status().message(), dir))
        << security.status();
  }
}

TEST(WebSecurityTest, ClientCaFileMustExistAndHoldCertificates) {
  ASSERT_TRUE(SharedTestPkis().ok()) << SharedTestPkis().status();
  const TestCertificates& certs = SharedTestPkis()->server;
  const std::string dir = NewTestDir("client_ca");
  // exporter-toolkit's web_config_auth_clientCAs_invalid.bad.yml.
  absl::StatusOr<std::unique_ptr<WebSecurity>> security = CreateWithWebConfig(
      dir, absl::StrCat(TlsServerConfigYaml(certs),
                        "  client_auth_type: VerifyClientCertIfGiven\n"
                        "  client_ca_file: somefile\n"));
  ASSERT_FALSE(security.ok());
  EXPECT_TRUE(absl::StrContains(security.status().message(), "somefile"))
      << security.status();
  // A key that does not parse: the error names the files, not the key.
  WriteAndRename(dir + "/bad.key", "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n");
  security = CreateWithWebConfig(
      dir, absl::StrCat("tls_server_config:\n  cert_file: ",
                        certs.server_cert_file, "\n  key_file: bad.key\n"));
  ASSERT_FALSE(security.ok());
  EXPECT_TRUE(absl::StrContains(security.status().message(),
                                "failed to load X509KeyPair"))
      << security.status();
  EXPECT_FALSE(absl::StrContains(security.status().message(), "c2VjcmV0"))
      << security.status();
}

TEST(WebSecurityTest, TlsCredentialsFollowTheConfig) {
  ASSERT_TRUE(SharedTestPkis().ok()) << SharedTestPkis().status();
  const TestCertificates& certs = SharedTestPkis()->server;
  absl::StatusOr<std::unique_ptr<WebSecurity>> security = CreateWithWebConfig(
      NewTestDir("tls_state"),
      absl::StrCat(MutualTlsServerConfigYaml(certs), "  min_version: TLS13\n"));
  ASSERT_TRUE(security.ok()) << security.status();
  std::shared_ptr<const WebSecurityState> state = (*security)->Current();
  ASSERT_NE(state->tls, nullptr);
  EXPECT_EQ(state->tls->client_auth_type(),
            ClientAuthType::kRequireAndVerifyClientCert);
  EXPECT_EQ(state->tls->priorities(),
            "NORMAL:-VERS-ALL:+VERS-TLS1.3:%SERVER_PRECEDENCE");
  EXPECT_TRUE(absl::StartsWith(state->tls->cert_pem(), "-----BEGIN"));
  EXPECT_FALSE(state->tls->client_ca_pem().empty());
  EXPECT_EQ(state->scheme, WebAuthScheme::kNone);
  EXPECT_EQ((*security)->CheckFast(""), WebAuthDecision::kAllowed);
}

TEST(WebSecurityTest, GnutlsTakesThePrioritiesOfEveryCipherCurveAndVersion) {
  ASSERT_TRUE(SharedTestPkis().ok()) << SharedTestPkis().status();
  const TestCertificates& certs = SharedTestPkis()->server;
  const std::string dir = NewTestDir("priorities");
  const std::string tls = TlsServerConfigYaml(certs);
  const struct {
    const char* name;
    const char* settings;
  } kCases[] = {
      {"all ciphers (exporter-toolkit's allCiphers)", kAllCipherSuitesYaml},
      {"all curves",
       "  curve_preferences: [CurveP256, CurveP384, CurveP521, "
       "X25519]\n"},
      {"TLS 1.0 to 1.1, no server preference",
       "  min_version: TLS10\n  max_version: TLS11\n"
       "  prefer_server_cipher_suites: false\n"},
      {"some ciphers, TLS 1.2 only (exporter-toolkit's someCiphers)",
       "  cipher_suites:\n  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
       "  - TLS_RSA_WITH_AES_128_CBC_SHA\n"
       "  min_version: TLS12\n  max_version: TLS12\n"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::unique_ptr<WebSecurity>> security =
        CreateWithWebConfig(dir, tls + c.settings);
    EXPECT_TRUE(security.ok()) << security.status();
  }
}

TEST(WebSecurityTest, BasicAuthChecksBcryptOnceAndCachesTheOutcome) {
  const std::string dir = NewTestDir("basic");
  absl::StatusOr<std::unique_ptr<WebSecurity>> security = CreateWithWebConfig(
      dir, absl::StrCat("basic_auth_users:\n  dave: ", kDaveHash, "\n"));
  ASSERT_TRUE(security.ok()) << security.status();
  WebSecurity& s = **security;
  EXPECT_EQ(WebSecurity::Challenge(*s.Current()), "Basic");
  const std::string right = BasicHeader("dave", "dave123");
  EXPECT_EQ(s.CheckFast(right), WebAuthDecision::kNeedsSlowCheck);
  EXPECT_TRUE(s.CheckSlow(right));
  EXPECT_EQ(s.CheckFast(right), WebAuthDecision::kAllowed);

  const std::string wrong = BasicHeader("dave", "bad");
  EXPECT_FALSE(s.Check(wrong));
  EXPECT_EQ(s.CheckFast(wrong), WebAuthDecision::kDenied);
  EXPECT_FALSE(s.Check(BasicHeader("nonexistent", "nonexistent")));
  EXPECT_FALSE(s.Check(""));
  EXPECT_FALSE(s.Check("Basic !!!"));
  EXPECT_FALSE(s.Check("Bearer dave123"));
}

TEST(WebSecurityTest, EveryConfiguredTokenIsAcceptedAndRotationIsPickedUp) {
  const std::string dir = NewTestDir("tokens");
  WriteAndRename(dir + "/a.token", "token-a\n");
  WriteAndRename(dir + "/b.token", "  token-b  \n");
  absl::StatusOr<std::unique_ptr<WebSecurity>> security = CreateWithWebConfig(
      dir, "authentication:\n  bearer_token_files: [a.token, b.token]\n");
  ASSERT_TRUE(security.ok()) << security.status();
  WebSecurity& s = **security;
  EXPECT_EQ(WebSecurity::Challenge(*s.Current()), "Bearer");
  EXPECT_EQ(s.CheckFast("Bearer token-a"), WebAuthDecision::kAllowed);
  EXPECT_EQ(s.CheckFast("bearer token-b"), WebAuthDecision::kAllowed);
  EXPECT_EQ(s.CheckFast("Bearer token-c"), WebAuthDecision::kDenied);
  EXPECT_EQ(s.CheckFast("Bearer "), WebAuthDecision::kDenied);
  EXPECT_EQ(s.CheckFast(""), WebAuthDecision::kDenied);
  EXPECT_EQ(s.CheckFast(BasicHeader("token-a", "")), WebAuthDecision::kDenied);

  // Rotation: a token file rewritten.
  WriteAndRename(dir + "/a.token", "token-c\n");
  EXPECT_TRUE(s.ReloadIfChangedForTest());
  EXPECT_EQ(s.CheckFast("Bearer token-c"), WebAuthDecision::kAllowed);
  EXPECT_EQ(s.CheckFast("Bearer token-a"), WebAuthDecision::kDenied);
  // Nothing changed: nothing reloaded.
  EXPECT_FALSE(s.ReloadIfChangedForTest());

  // A token file that disappears: the previous tokens stay in force.
  std::remove((dir + "/b.token").c_str());
  EXPECT_FALSE(s.ReloadIfChangedForTest());
  EXPECT_EQ(s.CheckFast("Bearer token-b"), WebAuthDecision::kAllowed);
  // A web config that does not load: the same.
  WriteAndRename(dir + "/web.yml", "authentication:\n  bearer_token_file: x\n");
  EXPECT_FALSE(s.ReloadIfChangedForTest());
  EXPECT_EQ(s.CheckFast("Bearer token-c"), WebAuthDecision::kAllowed);
  // A third token file added to a good file.
  WriteAndRename(dir + "/d.token", "token-d");
  WriteAndRename(dir + "/web.yml",
                 "authentication:\n  bearer_token_files: [a.token, d.token]\n");
  EXPECT_TRUE(s.ReloadIfChangedForTest());
  EXPECT_EQ(s.CheckFast("Bearer token-d"), WebAuthDecision::kAllowed);
  EXPECT_EQ(s.CheckFast("Bearer token-b"), WebAuthDecision::kDenied);
}

TEST(WebSecurityTest, EmptyTokenFileIsAnError) {
  const std::string dir = NewTestDir("empty_token");
  WriteAndRename(dir + "/a.token", " \n");
  absl::StatusOr<std::unique_ptr<WebSecurity>> security = CreateWithWebConfig(
      dir, "authentication:\n  bearer_token_files: [a.token]\n");
  ASSERT_FALSE(security.ok());
  EXPECT_TRUE(absl::StrContains(security.status().message(), "holds no token"))
      << security.status();
}

TEST(WebSecurityTest, TurningTlsOnAtReloadIsRefused) {
  ASSERT_TRUE(SharedTestPkis().ok()) << SharedTestPkis().status();
  const TestCertificates& certs = SharedTestPkis()->server;
  const std::string dir = NewTestDir("tls_toggle");
  absl::StatusOr<std::unique_ptr<WebSecurity>> security =
      CreateWithWebConfig(dir, "");
  ASSERT_TRUE(security.ok()) << security.status();
  WriteAndRename(dir + "/web.yml", TlsServerConfigYaml(certs));
  EXPECT_FALSE((*security)->ReloadIfChangedForTest());
  EXPECT_EQ((*security)->Current()->tls, nullptr);
}

}  // namespace
}  // namespace fedgate
