// gateway/security/test_web_configs.h
//
// Test-only: pieces of exporter-toolkit's test web configs
// (web/testdata/*.yml) that more than one test loads, written once: the web
// config parsing tests and the TLS handshake tests of the resulting
// credentials use the same text.
//
// Thread-safety: constants only.

#ifndef FEDGATE_GATEWAY_SECURITY_TEST_WEB_CONFIGS_H_
#define FEDGATE_GATEWAY_SECURITY_TEST_WEB_CONFIGS_H_

namespace fedgate {

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
