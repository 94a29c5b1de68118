// gateway/security/web_config.h
//
// The `--web.config.file` document: the format Prometheus 2.42 and its
// exporters read (prometheus/exporter-toolkit v0.8, `web/tls_config.go`):
// `tls_server_config`, `http_server_config`, `basic_auth_users`, plus
// fedgate's own `authentication` section (static bearer tokens, Kubernetes
// delegated authentication, or none). Read with
// the same strict YAML reader as the main configuration: unknown fields and
// repeated keys are errors with `file:line`; relative paths are resolved
// against the file's directory, as exporter-toolkit does.
//
// This module only reads and checks the document; the files it names
// (certificates, keys, tokens) are read by web_security.h. Called at start
// and whenever the file changes on disk; not on a hot path.
//
// Thread-safety: pure functions and value types.

#ifndef FEDGATE_GATEWAY_SECURITY_WEB_CONFIG_H_
#define FEDGATE_GATEWAY_SECURITY_WEB_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "gateway/security/review_times.h"

namespace fedgate {

// Go's tls.ClientAuthType, by exporter-toolkit's names.
enum class ClientAuthType {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

// Returns exporter-toolkit's name of `type` (`RequireAndVerifyClientCert`).
absl::string_view ClientAuthTypeName(ClientAuthType type);

// TLS protocol versions as Go numbers them (tls.VersionTLS12 = 0x0303).
inline constexpr uint16_t kTls10 = 0x0301;
inline constexpr uint16_t kTls11 = 0x0302;
inline constexpr uint16_t kTls12 = 0x0303;
inline constexpr uint16_t kTls13 = 0x0304;

// `tls_server_config`. Paths are absolute or relative to the working
// directory once loaded (resolved against the file's directory).
struct WebTlsConfig {
  std::string cert_file;
  std::string key_file;
  ClientAuthType client_auth_type = ClientAuthType::kNoClientCert;
  std::string client_ca_file;
  // Go cipher suite names (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`), checked
  // against Go's list; empty: GnuTLS's defaults.
  std::vector<std::string> cipher_suites;
  // `CurveP256`, `CurveP384`, `CurveP521`, `X25519`; empty: defaults.
  std::vector<std::string> curve_preferences;
  uint16_t min_version = kTls12;
  uint16_t max_version = kTls13;
  bool prefer_server_cipher_suites = true;
};

// `http_server_config`.
struct WebHttpConfig {
  // Read for compatibility; fedgate's HTTP server speaks HTTP/1.1 only.
  bool http2 = true;
  // Headers added to every answer; only exporter-toolkit's five names
  // (Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options,
  // X-XSS-Protection, Content-Security-Policy), in document order.
  std::vector<std::pair<std::string, std::string>> headers;
};

// `authentication.kubernetes`: bearer tokens checked by the Kubernetes API
// server (a TokenReview) and the access of their user to the request's path
// (a SubjectAccessReview), as kube-rbac-proxy does
// (kubernetes_access_review.h).
struct WebKubernetesAuthConfig {
  // The API server, found as kubernetes_sd_configs find it: `api_server`
  // with the HTTP client fields, `kubeconfig_file`, or neither: the
  // in-cluster configuration (the pod's service account).
  std::string api_server;
  std::string kubeconfig_file;  // Resolved against the file's directory.
  HttpClientConfig http_client;
  // TokenReview audiences; empty: the API server's.
  std::vector<std::string> audiences;
  // How long answers are kept (an authenticated token, a rejected one, an
  // allowed and a denied access), one review's round trip to the API server.
  KubernetesReviewTimes times;
};

// fedgate's `authentication` section.
struct WebAuthenticationConfig {
  // Files of static bearer tokens, one token per file (trimmed); every
  // listed token is accepted, so a new one can be added before the old one
  // is removed.
  std::vector<std::string> bearer_token_files;
  std::optional<WebKubernetesAuthConfig> kubernetes;
  // `disabled: true`: no credentials are asked for, explicitly.
  bool disabled = false;
};

struct WebConfig {
  // Whether any of `tls_server_config` was set: HTTPS is served.
  bool tls_enabled = false;
  WebTlsConfig tls;
  WebHttpConfig http;
  // User name → bcrypt hash (`$2y$`, `$2b$`, `$2a$`).
  std::map<std::string, std::string> basic_auth_users;
  WebAuthenticationConfig authentication;
};

// Parses and checks a web config document. `filename` is used in errors
// (`web.yml:4: …`) and to resolve relative paths. InvalidArgument for any
// error; secrets (password hashes) never appear in the message.
absl::StatusOr<WebConfig> ParseWebConfig(absl::string_view yaml,
                                         absl::string_view filename);

// Reads and parses the file at `path`. NotFound (or the errno's code) with
// the path when it cannot be read.
absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path);

// Returns the GnuTLS priority string for `tls`: the versions from
// min_version to max_version, the cipher suites and curves when set, and
// `%SERVER_PRECEDENCE` when prefer_server_cipher_suites.
std::string GnutlsPriorities(const WebTlsConfig& tls);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_SECURITY_WEB_CONFIG_H_
