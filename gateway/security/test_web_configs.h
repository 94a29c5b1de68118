// gateway/security/test_web_configs.h
//
// Test-only: pieces of web configs that more than one test loads, written
// once: the test PKIs (scraper/test_certificates.h) and their TLS server
// settings, and parts of exporter-toolkit's test web configs
// (web/testdata/*.yml), for the web config parsing tests and the TLS tests of
// HTTP and gRPC.
//
// Thread-safety: constants and functions; thread-safe (the PKIs are made
// once, under the function-local static's lock).

#ifndef FEDGATE_GATEWAY_SECURITY_TEST_WEB_CONFIGS_H_
#define FEDGATE_GATEWAY_SECURITY_TEST_WEB_CONFIGS_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "scraper/discovery/test_sd_files.h"
#include "scraper/test_certificates.h"

namespace fedgate {

// Two test PKIs: the server's, and another CA's, whose certificates the
// server must not trust.
struct TestPkis {
  TestCertificates server;
  TestCertificates other;
};

// Returns the test PKIs of the test program, made on the first call in new
// test directories (openssl takes a while), or why they could not be.
inline const absl::StatusOr<TestPkis>& SharedTestPkis() {
  static const absl::StatusOr<TestPkis>* const pkis = [] {
    using Result = absl::StatusOr<TestPkis>;
    absl::StatusOr<TestCertificates> server =
        GenerateTestCertificates(NewTestDir("pki"));
    if (!server.ok()) return new Result(server.status());
    absl::StatusOr<TestCertificates> other =
        GenerateTestCertificates(NewTestDir("other_pki"));
    if (!other.ok()) return new Result(other.status());
    return new Result(TestPkis{*std::move(server), *std::move(other)});
  }();
  return *pkis;
}

// The `tls_server_config:` of a web config that serves `certs`'s server
// certificate and key; further settings of it follow as lines indented by two
// spaces.
inline std::string TlsServerConfigYaml(const TestCertificates& certs) {
  return absl::StrCat(
      "tls_server_config:\n  cert_file: ", certs.server_cert_file,
      "\n  key_file: ", certs.server_key_file, "\n");
}

// TlsServerConfigYaml() that also requires a client certificate signed by
// `certs`'s CA (RequireAndVerifyClientCert).
inline std::string MutualTlsServerConfigYaml(const TestCertificates& certs) {
  return absl::StrCat(TlsServerConfigYaml(certs),
                      "  client_auth_type: RequireAndVerifyClientCert\n"
                      "  client_ca_file: ",
                      certs.ca_file, "\n");
}

// The `cipher_suites` of web_config_noAuth_allCiphers.good.yml, every suite
// crypto/tls names, as lines indented under `tls_server_config:`.
inline constexpr char kAllCipherSuitesYaml[] =
    "  cipher_suites:\n"
    "  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n"
    "  - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
    "  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
    "  - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
    "  - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\n"
    "  - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256\n"
    "  - TLS_AES_128_GCM_SHA256\n  - TLS_AES_256_GCM_SHA384\n"
    "  - TLS_CHACHA20_POLY1305_SHA256\n"
    "  - TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA\n"
    "  - TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA\n"
    "  - TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA\n"
    "  - TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA\n"
    "  - TLS_RSA_WITH_AES_128_CBC_SHA\n  - TLS_RSA_WITH_AES_256_CBC_SHA\n"
    "  - TLS_RSA_WITH_AES_128_GCM_SHA256\n"
    "  - TLS_RSA_WITH_AES_256_GCM_SHA384\n";

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_SECURITY_TEST_WEB_CONFIGS_H_
