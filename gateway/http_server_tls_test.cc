// The HTTP server with a web config (--web.config.file): HTTPS, client
// certificates, basic auth, bearer tokens, headers, and files changed on
// disk while it serves. Real TLS on 127.0.0.1 with certificates made by the
// test; the client is cpp-httplib (OpenSSL), so both TLS stacks meet.

#include <gnutls/gnutls.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gateway/http_server.h"
#include "gateway/security/test_web_configs.h"
#include "gateway/security/web_security.h"
#include "gateway/test_http_server.h"
#include "gateway/test_raw_connection.h"
#include "gtest/gtest.h"
#include "scraper/discovery/test_sd_files.h"
#include "scraper/test_certificates.h"

namespace fedgate {
namespace {

// exporter-toolkit's web_config_users.good.yml: dave's password is dave123.
constexpr char kDaveHash[] =
    "$2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq";

// Returns whether a GnuTLS client limited to `priorities` completes a
// handshake with 127.0.0.1:`port` (the server's certificate is not checked:
// only the protocol is).
bool HandshakeSucceeds(int port, const char* priorities) {
  RawConnection connection(port);
  if (!connection.ok()) return false;
  gnutls_certificate_credentials_t credentials;
  gnutls_certificate_allocate_credentials(&credentials);
  gnutls_session_t session;
  gnutls_init(&session, GNUTLS_CLIENT);
  gnutls_priority_set_direct(session, priorities, nullptr);
  gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, credentials);
  gnutls_transport_set_int(session, connection.fd());
  gnutls_handshake_set_timeout(session, 5000);
  int rc;
  do {
    rc = gnutls_handshake(session);
  } while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
  gnutls_deinit(session);
  gnutls_certificate_free_credentials(credentials);
  return rc == 0;
}

// Calls `done` every 50 ms until it returns true or 10 s passed (the
// server looks at the files at most once per second).
bool WaitUntil(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return done();
}

class HttpServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A client whose handshake the server refuses may write to a closed
    // socket; as fedgate does, the test takes EPIPE instead of the signal.
    signal(SIGPIPE, SIG_IGN);
    ASSERT_TRUE(SharedTestPkis().ok()) << SharedTestPkis().status();
  }

  static const TestCertificates& certs() { return SharedTestPkis()->server; }
  static const TestCertificates& other() { return SharedTestPkis()->other; }

  // Writes the web config `yaml` into `dir`, loads it and starts a server.
  void Start(const std::string& dir, const std::string& yaml) {
    web_config_ = dir + "/web.yml";
    WriteAndRename(web_config_, yaml);
    absl::StatusOr<std::unique_ptr<WebSecurity>> security =
        WebSecurity::Create(web_config_);
    ASSERT_TRUE(security.ok()) << security.status();
    security_ = *std::move(security);
    store_ = std::make_unique<SeriesStore>();
    PublishTestUp(*store_);
    HttpServer::Options options =
        TestHttpServerOptions(store_.get(), &registry_);
    options.security = security_.get();
    options.reload = [] { return absl::OkStatus(); };
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // An HTTPS client of the server that trusts `ca_file` and checks the
  // name `localhost`; with a client certificate when given.
  std::unique_ptr<httplib::SSLClient> Client(const std::string& ca_file,
                                             const std::string& cert_file = "",
                                             const std::string& key_file = "") {
    auto client =
        cert_file.empty()
            ? std::make_unique<httplib::SSLClient>("localhost", server_->port())
            : std::make_unique<httplib::SSLClient>("localhost", server_->port(),
                                                   cert_file, key_file);
    client->set_ca_cert_path(ca_file.c_str());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(5);
    client->set_read_timeout(10);
    return client;
  }

  // A client that trusts the server's CA and presents the client
  // certificate of `pki`.
  std::unique_ptr<httplib::SSLClient> ClientWithCertificateOf(
      const TestCertificates& pki) {
    return Client(certs().ca_file, pki.client_cert_file, pki.client_key_file);
  }

  // Expects `client`'s GET of /-/healthy answered with 200.
  static void ExpectHealthy(const std::unique_ptr<httplib::SSLClient>& client) {
    httplib::Result res = client->Get("/-/healthy");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
  }

  std::string web_config_;
  std::unique_ptr<WebSecurity> security_;
  std::unique_ptr<SeriesStore> store_;
  prometheus::Registry registry_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTlsTest, ServesHttpsWithTheConfiguredCertificate) {
  Start(NewTestDir("https"), TlsServerConfigYaml(certs()));
  httplib::Result res = Client(certs().ca_file)->Get("/federate?match[]=up");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body,
            "# TYPE up untyped\nup{instance=\"t:1\",job=\"j\"} 1 "
            "1700000000000\n");
  // Plain HTTP on the HTTPS port gets no answer.
  httplib::Client plain("127.0.0.1", server_->port());
  plain.set_read_timeout(5);
  httplib::Result http = plain.Get("/-/healthy");
  EXPECT_TRUE(!http || http->status != 200);
  // A client that does not trust the CA refuses the server.
  EXPECT_FALSE(Client(other().ca_file)->Get("/-/healthy"));
}

TEST_F(HttpServerTlsTest, RequireAndVerifyClientCertRefusesOthers) {
  Start(NewTestDir("mtls"), MutualTlsServerConfigYaml(certs()));
  ExpectHealthy(ClientWithCertificateOf(certs()));
  // No certificate.
  EXPECT_FALSE(Client(certs().ca_file)->Get("/-/healthy"));
  // A certificate from another CA.
  EXPECT_FALSE(ClientWithCertificateOf(other())->Get("/-/healthy"));
}

TEST_F(HttpServerTlsTest, VerifyClientCertIfGivenAcceptsNoneButNotAWrongOne) {
  Start(NewTestDir("mtls_if_given"),
        absl::StrCat(TlsServerConfigYaml(certs()),
                     "  client_auth_type: VerifyClientCertIfGiven\n"
                     "  client_ca_file: ",
                     certs().ca_file, "\n"));
  ExpectHealthy(Client(certs().ca_file));
  ExpectHealthy(ClientWithCertificateOf(certs()));
  EXPECT_FALSE(ClientWithCertificateOf(other())->Get("/-/healthy"));
}

TEST_F(HttpServerTlsTest, MinAndMaxVersionBoundTheProtocol) {
  Start(NewTestDir("versions"),
        absl::StrCat(TlsServerConfigYaml(certs()), "  min_version: TLS13\n"));
  EXPECT_TRUE(
      HandshakeSucceeds(server_->port(), "NORMAL:-VERS-ALL:+VERS-TLS1.3"));
  EXPECT_FALSE(
      HandshakeSucceeds(server_->port(), "NORMAL:-VERS-ALL:+VERS-TLS1.2"));
}

TEST_F(HttpServerTlsTest, RequireAnyClientCertTakesAnyCertificate) {
  Start(NewTestDir("mtls_any"),
        absl::StrCat(TlsServerConfigYaml(certs()),
                     "  client_auth_type: RequireAnyClientCert\n"));
  ExpectHealthy(ClientWithCertificateOf(other()));
  EXPECT_FALSE(Client(certs().ca_file)->Get("/-/healthy"));
}

TEST_F(HttpServerTlsTest, BasicAuthGuardsEverythingButTheProbes) {
  Start(NewTestDir("basic"),
        absl::StrCat(TlsServerConfigYaml(certs()),
                     "basic_auth_users:\n  dave: ", kDaveHash, "\n"));
  auto client = Client(certs().ca_file);
  for (const char* path : {"/federate?match[]=up", "/metrics", "/api/v1/labels",
                           "/-/reload", "/targets", "/", "/nowhere"}) {
    SCOPED_TRACE(path);
    httplib::Result missing = client->Get(path);
    ASSERT_TRUE(missing) << httplib::to_string(missing.error());
    EXPECT_EQ(missing->status, 401);
    EXPECT_EQ(missing->body, "Unauthorized\n");
    EXPECT_EQ(missing->get_header_value("WWW-Authenticate"), "Basic");
  }
  client->set_basic_auth("dave", "bad");
  httplib::Result wrong = client->Get("/federate?match[]=up");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->get_header_value("WWW-Authenticate"), "Basic");
  client->set_basic_auth("dave", "dave123");
  for (int i = 0; i < 2; ++i) {  // bcrypt, then the cached outcome.
    httplib::Result right = client->Get("/federate?match[]=up");
    ASSERT_TRUE(right);
    EXPECT_EQ(right->status, 200);
  }
  httplib::Result post = client->Post("/federate", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  httplib::Result metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_TRUE(absl::StrContains(metrics->body,
                                "fedgate_http_unauthorized_requests_total 8"))
      << metrics->body;

  auto anonymous = Client(certs().ca_file);
  for (const char* path : {"/-/healthy", "/-/ready"}) {
    httplib::Result probe = anonymous->Get(path);
    ASSERT_TRUE(probe);
    EXPECT_EQ(probe->status, 200) << path;
  }
}

TEST_F(HttpServerTlsTest, TokensRotateWhileRequestsRun) {
  const std::string dir = NewTestDir("tokens");
  WriteAndRename(dir + "/a.token", "token-a\n");
  WriteAndRename(dir + "/b.token", "token-b\n");
  // Plain HTTP: tokens do not need TLS (but should have it).
  Start(dir, "authentication:\n  bearer_token_files: [a.token]\n");
  httplib::Client client("127.0.0.1", server_->port());
  client.set_read_timeout(10);
  auto get = [&](const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    httplib::Result res = client.Get("/federate?match[]=up", headers);
    return res ? res->status : -1;
  };
  EXPECT_EQ(get("token-a"), 200);
  EXPECT_EQ(get("token-b"), 401);
  httplib::Result missing = client.Get("/metrics");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(missing->get_header_value("WWW-Authenticate"), "Bearer");

  // A second token file added: both work; then the first rewritten. A
  // client with token-b keeps being served throughout.
  WriteAndRename(web_config_,
                 "authentication:\n  bearer_token_files: [a.token, b.token]\n");
  ASSERT_TRUE(WaitUntil([&] { return get("token-b") == 200; }));
  EXPECT_EQ(get("token-a"), 200);
  std::atomic<int> failures{0};
  std::atomic<int> requests{0};
  absl::Notification stop;
  std::thread steady([&] {
    httplib::Client steady_client("127.0.0.1", server_->port());
    steady_client.set_read_timeout(10);
    while (!stop.HasBeenNotified()) {
      httplib::Result res = steady_client.Get(
          "/federate?match[]=up", {{"Authorization", "Bearer token-b"}});
      ++requests;
      if (!res || res->status != 200) ++failures;
    }
  });
  WriteAndRename(dir + "/a.token", "token-c\n");
  EXPECT_TRUE(WaitUntil([&] { return get("token-c") == 200; }));
  EXPECT_EQ(get("token-a"), 401);
  stop.Notify();
  steady.join();
  EXPECT_GT(requests.load(), 0);
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(HttpServerTlsTest, ConfiguredHeadersAreOnEveryAnswer) {
  const std::string dir = NewTestDir("headers");
  WriteAndRename(dir + "/a.token", "token-a\n");
  Start(dir,
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
        "    Strict-Transport-Security: max-age=31536000\n"
        "authentication:\n  bearer_token_files: [a.token]\n");
  httplib::Client client("127.0.0.1", server_->port());
  for (const auto& [path, token] :
       std::vector<std::pair<std::string, std::string>>{
           {"/-/healthy", ""},
           {"/federate?match[]=up", ""},
           {"/federate?match[]=up", "token-a"},
           {"/nowhere", "token-a"}}) {
    SCOPED_TRACE(path + " " + token);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    httplib::Result res = client.Get(path.c_str(), headers);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->get_header_value("X-Frame-Options"), "deny");
    EXPECT_EQ(res->get_header_value("Strict-Transport-Security"),
              "max-age=31536000");
  }
}

TEST_F(HttpServerTlsTest, CertificateChangedOnDiskServesNewConnections) {
  const std::string dir = NewTestDir("rotation");
  absl::StatusOr<RotatingTestCertificates> certs =
      GenerateRotatingTestCertificates(dir);
  ASSERT_TRUE(certs.ok()) << certs.status();
  const TestCertificates& first = certs->first;
  const TestCertificates& second = certs->second;
  Start(dir,
        "tls_server_config:\n  cert_file: server.crt\n"
        "  key_file: server.key\n");
  ExpectHealthy(Client(first.ca_file));

  RotateTestCertificates(*certs);
  EXPECT_TRUE(WaitUntil([&] {
    httplib::Result res = Client(second.ca_file)->Get("/-/healthy");
    return res && res->status == 200;
  }));
  EXPECT_FALSE(Client(first.ca_file)->Get("/-/healthy"));

  // A broken web config keeps the certificate in force.
  WriteAndRename(web_config_, "tls_server_config:\n  cert_file: [\n");
  absl::SleepFor(absl::Milliseconds(1100));  // Past the next look.
  ExpectHealthy(Client(second.ca_file));
}

}  // namespace
}  // namespace fedgate
