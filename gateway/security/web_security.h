// gateway/security/web_security.h
//
// What the web config file (web_config.h) makes of the HTTP and gRPC
// servers at run time: the TLS credentials (certificate, key, client CA and
// GnuTLS priorities) and the check of the credentials a request carries
// (basic auth against bcrypt hashes, static bearer tokens, or bearer tokens
// reviewed by the Kubernetes API server, kubernetes_access_review.h). The
// file and
// every file it names are re-read when they change on disk: a stat of each
// at most once per second, from the server's threads; a new state that
// fails to load keeps the old one and logs why. Which paths need
// credentials is decided by the caller (http_server.h: all but the probes).
//
// Costs: a token check is two SHA-256 and a constant-time compare per
// configured token (microseconds), so it runs on the event loop. A bcrypt
// check costs 50-100 ms at cost 10, so it runs on the caller's worker
// (CheckSlow); its outcome is cached for a minute under a SHA-256 of the
// user, hash and password, as exporter-toolkit caches it, so a scraper's
// requests pay it once.
//
// Secrets (tokens, passwords, hashes, the key) never appear in logs or
// errors.
//
// Thread-safety: thread-safe. States are immutable and published as
// shared_ptr<const>; a TLS session keeps the credentials it was given alive.

#ifndef FEDGATE_GATEWAY_SECURITY_WEB_SECURITY_H_
#define FEDGATE_GATEWAY_SECURITY_WEB_SECURITY_H_

#include <gnutls/gnutls.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/security/kubernetes_access_review.h"
#include "gateway/security/web_config.h"
#include "scraper/discovery/kubernetes_api.h"

namespace fedgate {

// The server side of TLS for one loaded state: GnuTLS credentials (the
// certificate chain, its key, the client CA and the client certificate
// check) and priorities. Immutable once built.
class ServerTlsCredentials {
 public:
  // Builds credentials from PEM text. InvalidArgument naming the file that
  // does not parse (never its contents).
  static absl::StatusOr<std::shared_ptr<const ServerTlsCredentials>> Create(
      const WebTlsConfig& tls, std::string cert_pem, std::string key_pem,
      std::string client_ca_pem);
  ~ServerTlsCredentials();
  ServerTlsCredentials(const ServerTlsCredentials&) = delete;
  ServerTlsCredentials& operator=(const ServerTlsCredentials&) = delete;

  // Makes a server `session` that has not shaken hands yet use these
  // credentials, priorities and client certificate request. The
  // credentials must outlive the session.
  absl::Status ApplyTo(gnutls_session_t session) const;

  ClientAuthType client_auth_type() const { return client_auth_type_; }
  const std::string& priorities() const { return priorities_; }
  const std::string& cert_pem() const { return cert_pem_; }
  const std::string& key_pem() const { return key_pem_; }
  // Empty when no client CA is configured.
  const std::string& client_ca_pem() const { return client_ca_pem_; }

 private:
  ServerTlsCredentials() = default;

  ClientAuthType client_auth_type_ = ClientAuthType::kNoClientCert;
  std::string priorities_;
  std::string cert_pem_;
  std::string key_pem_;
  std::string client_ca_pem_;
  gnutls_certificate_credentials_t credentials_ = nullptr;
  gnutls_priority_t priority_cache_ = nullptr;
};

// How requests must authenticate.
enum class WebAuthScheme { kNone, kBasic, kBearer, kKubernetes };

// One loaded web config and the files it names.
struct WebSecurityState {
  WebConfig config;
  WebAuthScheme scheme = WebAuthScheme::kNone;
  // SHA-256 of each static bearer token.
  std::vector<std::string> token_digests;
  // Set when config.tls_enabled.
  std::shared_ptr<const ServerTlsCredentials> tls;
  // Set for authentication.kubernetes: the API server's reviews.
  std::shared_ptr<KubernetesAccessReviewer> reviewer;
};

// What a web config without any authentication (no users, tokens,
// `kubernetes`, `disabled` or RequireAndVerifyClientCert; or no web config
// at all) means: Kubernetes
// service account tokens reviewed by the pod's own API server, fedgate's
// default in a cluster; or none, for the embedded demo.
enum class DefaultAuthentication { kKubernetes, kNone };

// Reads the web config file at `path` ("": none) and the files it names into
// a state. `env` locates the in-cluster API server for
// authentication.kubernetes. InvalidArgument (or the errno's code) naming
// the file at fault; outside a cluster, the default Kubernetes
// authentication is an InvalidArgument that says how to configure another.
absl::StatusOr<std::shared_ptr<const WebSecurityState>> LoadWebSecurityState(
    const std::string& path, const KubernetesEnvironment& env,
    DefaultAuthentication default_authentication =
        DefaultAuthentication::kNone);

// The result of checking a request's `Authorization` header on the event
// loop.
enum class WebAuthDecision { kAllowed, kDenied, kNeedsSlowCheck };

// The outcome of every check a request needs: kUnauthorized is a 401
// (UNAUTHENTICATED), kForbidden a 403 (PERMISSION_DENIED), kUnavailable a
// 503 (UNAVAILABLE): the Kubernetes API server could not say.
enum class WebAccess { kAllowed, kUnauthorized, kForbidden, kUnavailable };
struct WebAccessDecision {
  WebAccess access = WebAccess::kUnauthorized;
  // Why access is refused, for the log; never a secret.
  std::string reason;
};

class WebSecurity {
 public:
  // Loads `path`; fails as LoadWebSecurityState. The process refuses to
  // start with such an error.
  static absl::StatusOr<std::unique_ptr<WebSecurity>> Create(
      std::string path,
      KubernetesEnvironment env = KubernetesEnvironment::FromProcess(""),
      DefaultAuthentication default_authentication =
          DefaultAuthentication::kNone);

  // Returns the state in force (a pointer copy), after re-reading the files
  // if one changed since the last look (at most once per second; a state
  // being loaded by another thread is not waited for).
  std::shared_ptr<const WebSecurityState> Current() ABSL_LOCKS_EXCLUDED(mu_);

  // Checks `authorization` (the header's value, "" when absent) against the
  // current state without running bcrypt: tokens, cached basic auth
  // outcomes, and malformed or unknown credentials are decided here.
  WebAuthDecision CheckFast(absl::string_view authorization)
      ABSL_LOCKS_EXCLUDED(mu_, cache_mu_);
  // Decides what CheckFast could not: runs bcrypt (tens of milliseconds)
  // and caches the outcome. For worker threads only.
  bool CheckSlow(absl::string_view authorization)
      ABSL_LOCKS_EXCLUDED(mu_, cache_mu_);
  // Both checks, for callers that may block (gRPC).
  bool Check(absl::string_view authorization);
  // Decides a request by `method` on `path` (an HTTP method and URL path,
  // or "POST" and a gRPC method's path) with every check it needs, the slow
  // ones included: bcrypt, or the Kubernetes reviews (a round trip to the
  // API server when not cached). For worker threads and gRPC.
  WebAccessDecision Decide(absl::string_view authorization,
                           absl::string_view method, absl::string_view path)
      ABSL_LOCKS_EXCLUDED(mu_, cache_mu_);

  // Returns the `WWW-Authenticate` value of a 401 answer (`Basic
  // realm="fedgate"`, `Bearer`), "" when no credentials are needed.
  static std::string Challenge(const WebSecurityState& state);

  // Re-reads the files now if they changed, regardless of the once per
  // second limit; returns whether a new state is in force.
  bool ReloadIfChangedForTest() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // What a file looked like at the last look: a change of any is a reload.
  struct FileStamp {
    std::string path;
    ino_t inode = 0;
    int64_t mtime_ns = -1;
    int64_t size = -1;
    bool operator==(const FileStamp& o) const {
      return path == o.path && inode == o.inode && mtime_ns == o.mtime_ns &&
             size == o.size;
    }
  };
  static std::vector<FileStamp> Stamps(const std::string& config_path,
                                       const WebSecurityState* state);

  WebSecurity(std::string path, KubernetesEnvironment env,
              DefaultAuthentication default_authentication)
      : path_(std::move(path)),
        env_(std::move(env)),
        default_authentication_(default_authentication) {}
  bool ReloadIfChanged() ABSL_LOCKS_EXCLUDED(mu_);
  // Returns the cache key of a basic auth attempt.
  static std::string CacheKey(absl::string_view user, absl::string_view hash,
                              absl::string_view password);

  const std::string path_;
  const KubernetesEnvironment env_;
  const DefaultAuthentication default_authentication_;
  std::atomic<int64_t> next_look_ns_{0};
  absl::Mutex reload_mu_;  // One reload at a time; others do not wait.
  std::vector<FileStamp> stamps_ ABSL_GUARDED_BY(reload_mu_);
  absl::Mutex mu_;
  std::shared_ptr<const WebSecurityState> state_ ABSL_GUARDED_BY(mu_);
  // Basic auth outcomes: key → (accepted, expiry). At most kMaxCached.
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, std::pair<bool, absl::Time>> cache_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_SECURITY_WEB_SECURITY_H_
