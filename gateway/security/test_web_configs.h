// gateway/security/test_web_configs.h
//
// Test-only: pieces of web configs that more than one test loads, written
// once: the TLS server settings of a test PKI (scraper/test_certificates.h)
// and parts of exporter-toolkit's test web configs (web/testdata/*.yml), for
// the web config parsing tests and the TLS tests of HTTP and gRPC.
//
// Thread-safety: constants and pure functions; thread-safe.

#ifndef FEDGATE_GATEWAY_SECURITY_TEST_WEB_CONFIGS_H_
#define FEDGATE_GATEWAY_SECURITY_TEST_WEB_CONFIGS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "scraper/test_certificates.h"

namespace fedgate {

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
