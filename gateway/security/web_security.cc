#include "gateway/security/web_security.h"

#include <crypt.h>
#include <gnutls/crypto.h>
#include <sys/stat.h>

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "config/file_contents.h"
#include "gateway/logger.h"
#include "gateway/security/digest.h"

namespace fedgate {
namespace {

// Basic auth outcomes kept; past it the cache starts over. 1,000 entries
// of ~60 bytes: far more than the scrapers and users of one fedgate.
constexpr size_t kMaxCached = 1000;
constexpr absl::Duration kCacheTtl = absl::Minutes(1);
constexpr absl::Duration kLookInterval = absl::Seconds(1);
// A hash bcrypt checks passwords of unknown users against, so that they
// cost as much as known ones (exporter-toolkit does the same).
constexpr char kUnknownUserHash[] =
    "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

// Reads one file the web config names; errors in Go's wording
// (`open <path>: no such file or directory`), prefixed by `what`.
absl::StatusOr<std::string> ReadNamedFile(const std::string& path,
                                          absl::string_view what) {
  // Certificates, keys and tokens are small; 1 MiB is far more than any.
  constexpr size_t kMaxBytes = 1 << 20;
  absl::StatusOr<std::string> contents = ReadFileContents(
      path,
      [&](absl::string_view call, int error_number) {
        return absl::ErrnoToStatus(error_number,
                                   absl::StrCat(what, ": ", call, " ", path));
      },
      kMaxBytes);
  if (!contents.ok()) return contents.status();
  if (contents->size() > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", path, " is larger than 1 MiB"));
  }
  return contents;
}

gnutls_datum_t Datum(const std::string& text) {
  return gnutls_datum_t{
      reinterpret_cast<unsigned char*>(const_cast<char*>(text.data())),
      static_cast<unsigned int>(text.size())};
}

// GnuTLS's check of a client certificate, run in the handshake for the
// Verify* client auth types: the chain must lead to the client CA.
int VerifyPeer(gnutls_session_t session, bool required) {
  unsigned int count = 0;
  const gnutls_datum_t* certs = gnutls_certificate_get_peers(session, &count);
  if (certs == nullptr || count == 0) return required ? -1 : 0;
  unsigned int status = 0;
  if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0) {
    return GNUTLS_E_CERTIFICATE_ERROR;
  }
  return 0;
}
int VerifyPeerIfGiven(gnutls_session_t session) {
  return VerifyPeer(session, false);
}
int VerifyPeerRequired(gnutls_session_t session) {
  return VerifyPeer(session, true);
}

// A constant-time comparison of two equal-length digests.
// The token of `Bearer <token>` (the scheme is case-insensitive), "" when
// `authorization` is not one.
absl::string_view BearerToken(absl::string_view authorization) {
  constexpr absl::string_view kPrefix = "Bearer ";
  if (!absl::StartsWithIgnoreCase(authorization, kPrefix)) return "";
  return absl::StripAsciiWhitespace(authorization.substr(kPrefix.size()));
}

// Splits `Basic <base64(user:password)>`; false if malformed.
bool ParseBasic(absl::string_view authorization, std::string* user,
                std::string* password) {
  // Go's Request.BasicAuth: the scheme is case-insensitive.
  constexpr absl::string_view kPrefix = "Basic ";
  if (!absl::StartsWithIgnoreCase(authorization, kPrefix)) return false;
  std::string decoded;
  if (!absl::Base64Unescape(authorization.substr(kPrefix.size()), &decoded)) {
    return false;
  }
  const size_t colon = decoded.find(':');
  const bool ok = colon != std::string::npos;
  if (ok) {
    *user = decoded.substr(0, colon);
    *password = decoded.substr(colon + 1);
  }
  gnutls_memset(decoded.data(), 0, decoded.size());
  return ok;
}

// Runs bcrypt (libcrypt's crypt_rn) and compares in constant time.
bool BcryptMatches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(),
                             static_cast<int>(sizeof(crypt_data)));
  if (out == nullptr || out[0] == '*') return false;
  const size_t n = std::strlen(out);
  return n == hash.size() && gnutls_memcmp(out, hash.data(), n) == 0;
}

int64_t NowNanos() { return absl::GetCurrentTimeNanos(); }

}  // namespace

absl::StatusOr<std::shared_ptr<const ServerTlsCredentials>>
ServerTlsCredentials::Create(const WebTlsConfig& tls, std::string cert_pem,
                             std::string key_pem, std::string client_ca_pem) {
  std::shared_ptr<ServerTlsCredentials> creds(new ServerTlsCredentials());
  creds->client_auth_type_ = tls.client_auth_type;
  creds->priorities_ = GnutlsPriorities(tls);
  creds->cert_pem_ = std::move(cert_pem);
  creds->key_pem_ = std::move(key_pem);
  creds->client_ca_pem_ = std::move(client_ca_pem);
  if (gnutls_certificate_allocate_credentials(&creds->credentials_) < 0) {
    return absl::ResourceExhaustedError("cannot allocate TLS credentials");
  }
  gnutls_datum_t cert = Datum(creds->cert_pem_);
  gnutls_datum_t key = Datum(creds->key_pem_);
  if (int rc = gnutls_certificate_set_x509_key_mem2(
          creds->credentials_, &cert, &key, GNUTLS_X509_FMT_PEM, nullptr, 0);
      rc < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("failed to load X509KeyPair from ", tls.cert_file, " and ",
                     tls.key_file, ": ", gnutls_strerror(rc)));
  }
  if (!creds->client_ca_pem_.empty()) {
    gnutls_datum_t ca = Datum(creds->client_ca_pem_);
    const int n = gnutls_certificate_set_x509_trust_mem(
        creds->credentials_, &ca, GNUTLS_X509_FMT_PEM);
    if (n <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("client_ca_file ", tls.client_ca_file,
                       ": no PEM certificate could be read"));
    }
  }
  if (tls.client_auth_type == ClientAuthType::kVerifyClientCertIfGiven) {
    gnutls_certificate_set_verify_function(creds->credentials_,
                                           &VerifyPeerIfGiven);
  } else if (tls.client_auth_type ==
             ClientAuthType::kRequireAndVerifyClientCert) {
    gnutls_certificate_set_verify_function(creds->credentials_,
                                           &VerifyPeerRequired);
  }
  const char* error_at = nullptr;
  if (gnutls_priority_init(&creds->priority_cache_, creds->priorities_.c_str(),
                           &error_at) < 0) {
    creds->priority_cache_ = nullptr;
    return absl::InvalidArgumentError(
        absl::StrCat("GnuTLS rejects the TLS priorities \"", creds->priorities_,
                     "\" at \"", error_at == nullptr ? "" : error_at, "\""));
  }
  return std::shared_ptr<const ServerTlsCredentials>(std::move(creds));
}

ServerTlsCredentials::~ServerTlsCredentials() {
  if (priority_cache_ != nullptr) gnutls_priority_deinit(priority_cache_);
  if (credentials_ != nullptr) {
    gnutls_certificate_free_credentials(credentials_);
  }
  // The key's copy is wiped before its memory is given back.
  gnutls_memset(key_pem_.data(), 0, key_pem_.size());
}

absl::Status ServerTlsCredentials::ApplyTo(gnutls_session_t session) const {
  if (int rc = gnutls_priority_set(session, priority_cache_); rc < 0) {
    return absl::InternalError(
        absl::StrCat("gnutls_priority_set: ", gnutls_strerror(rc)));
  }
  if (int rc =
          gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, credentials_);
      rc < 0) {
    return absl::InternalError(
        absl::StrCat("gnutls_credentials_set: ", gnutls_strerror(rc)));
  }
  gnutls_certificate_request_t request = GNUTLS_CERT_IGNORE;
  switch (client_auth_type_) {
    case ClientAuthType::kNoClientCert:
      break;
    case ClientAuthType::kRequestClientCert:
    case ClientAuthType::kVerifyClientCertIfGiven:
      request = GNUTLS_CERT_REQUEST;
      break;
    case ClientAuthType::kRequireAnyClientCert:
    case ClientAuthType::kRequireAndVerifyClientCert:
      request = GNUTLS_CERT_REQUIRE;
      break;
  }
  gnutls_certificate_server_set_request(session, request);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const WebSecurityState>> LoadWebSecurityState(
    const std::string& path, const KubernetesEnvironment& env,
    DefaultAuthentication default_authentication) {
  absl::StatusOr<WebConfig> config =
      path.empty() ? WebConfig() : LoadWebConfigFile(path);
  if (!config.ok()) return config.status();
  auto state = std::make_shared<WebSecurityState>();
  state->config = *std::move(config);
  WebAuthenticationConfig& auth = state->config.authentication;
  // Verified client certificates authenticate clients by themselves.
  const bool verified_clients = state->config.tls_enabled &&
                                state->config.tls.client_auth_type ==
                                    ClientAuthType::kRequireAndVerifyClientCert;
  const bool by_default =
      default_authentication == DefaultAuthentication::kKubernetes &&
      !verified_clients && state->config.basic_auth_users.empty() &&
      auth.bearer_token_files.empty() && !auth.kubernetes.has_value() &&
      !auth.disabled;
  if (by_default) auth.kubernetes.emplace();
  const WebConfig& c = state->config;
  if (c.tls_enabled) {
    absl::StatusOr<std::string> cert =
        ReadNamedFile(c.tls.cert_file, "failed to load X509KeyPair");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadNamedFile(c.tls.key_file, "failed to load X509KeyPair");
    if (!key.ok()) return key.status();
    std::string ca;
    if (!c.tls.client_ca_file.empty()) {
      absl::StatusOr<std::string> read =
          ReadNamedFile(c.tls.client_ca_file, "client_ca_file");
      if (!read.ok()) return read.status();
      ca = *std::move(read);
    }
    absl::StatusOr<std::shared_ptr<const ServerTlsCredentials>> tls =
        ServerTlsCredentials::Create(c.tls, *std::move(cert), *std::move(key),
                                     std::move(ca));
    if (!tls.ok()) return tls.status();
    state->tls = *std::move(tls);
  }
  if (c.authentication.kubernetes.has_value()) {
    const WebKubernetesAuthConfig& k = *c.authentication.kubernetes;
    // Found as kubernetes_sd_configs find theirs.
    KubernetesSdConfig where;
    where.api_server = k.api_server;
    where.kubeconfig_file = k.kubeconfig_file;
    where.http_client = k.http_client;
    absl::StatusOr<KubernetesApiServer> server =
        ResolveKubernetesApiServer(where, env);
    if (!server.ok() && by_default) {
      return absl::InvalidArgumentError(absl::StrCat(
          "no authentication configured, and the default, Kubernetes "
          "service account tokens reviewed by the cluster's API server, "
          "cannot find it: ",
          server.status().message(),
          "; configure authentication in --web.config.file, or turn it off "
          "with `authentication: {disabled: true}` (docs/security.md)"));
    }
    if (!server.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "authentication.kubernetes: ", server.status().message()));
    }
    KubernetesAccessReviewOptions options;
    options.server = *std::move(server);
    options.audiences = k.audiences;
    options.times = k.times;
    state->scheme = WebAuthScheme::kKubernetes;
    state->reviewer =
        std::make_shared<KubernetesAccessReviewer>(std::move(options));
  } else if (!c.basic_auth_users.empty()) {
    state->scheme = WebAuthScheme::kBasic;
  } else if (!c.authentication.bearer_token_files.empty()) {
    state->scheme = WebAuthScheme::kBearer;
    for (const std::string& file : c.authentication.bearer_token_files) {
      absl::StatusOr<std::string> token =
          ReadNamedFile(file, "bearer_token_files");
      if (!token.ok()) return token.status();
      absl::string_view trimmed = absl::StripAsciiWhitespace(*token);
      if (trimmed.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("bearer_token_files: ", file, " holds no token"));
      }
      state->token_digests.push_back(Sha256(trimmed));
      gnutls_memset(token->data(), 0, token->size());
    }
  }
  return std::shared_ptr<const WebSecurityState>(std::move(state));
}

absl::StatusOr<std::unique_ptr<WebSecurity>> WebSecurity::Create(
    std::string path, KubernetesEnvironment env,
    DefaultAuthentication default_authentication) {
  std::unique_ptr<WebSecurity> security(
      new WebSecurity(std::move(path), std::move(env), default_authentication));
  absl::StatusOr<std::shared_ptr<const WebSecurityState>> state =
      LoadWebSecurityState(security->path_, security->env_,
                           security->default_authentication_);
  if (!state.ok()) return state.status();
  // Taken once the files are read: a file rewritten within the
  // microseconds between its read and its stat is seen at its next change.
  std::vector<FileStamp> stamps = Stamps(security->path_, state->get());
  {
    absl::MutexLock lock(&security->reload_mu_);
    security->stamps_ = std::move(stamps);
  }
  absl::MutexLock lock(&security->mu_);
  security->state_ = *std::move(state);
  security->next_look_ns_ =
      NowNanos() + absl::ToInt64Nanoseconds(kLookInterval);
  return security;
}

std::vector<WebSecurity::FileStamp> WebSecurity::Stamps(
    const std::string& config_path, const WebSecurityState* state) {
  std::vector<std::string> paths = {config_path};
  if (state != nullptr) {
    const WebConfig& c = state->config;
    if (c.tls_enabled) {
      paths.push_back(c.tls.cert_file);
      paths.push_back(c.tls.key_file);
      if (!c.tls.client_ca_file.empty()) paths.push_back(c.tls.client_ca_file);
    }
    for (const std::string& file : c.authentication.bearer_token_files) {
      paths.push_back(file);
    }
  }
  std::vector<FileStamp> stamps;
  for (std::string& p : paths) {
    FileStamp stamp;
    struct stat st {};
    if (stat(p.c_str(), &st) == 0) {
      stamp.inode = st.st_ino;
      stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                       st.st_mtim.tv_nsec;
      stamp.size = st.st_size;
    }
    stamp.path = std::move(p);
    stamps.push_back(std::move(stamp));
  }
  return stamps;
}

bool WebSecurity::ReloadIfChanged() {
  if (!reload_mu_.TryLock()) return false;  // Another thread is at it.
  std::shared_ptr<const WebSecurityState> current;
  {
    absl::MutexLock lock(&mu_);
    current = state_;
  }
  std::vector<FileStamp> stamps = Stamps(path_, current.get());
  if (stamps == stamps_) {
    reload_mu_.Unlock();
    return false;
  }
  absl::StatusOr<std::shared_ptr<const WebSecurityState>> next =
      LoadWebSecurityState(path_, env_, default_authentication_);
  bool swapped = false;
  if (!next.ok()) {
    // Not retried until a file changes again.
    stamps_ = std::move(stamps);
    Log(LogLevel::kError,
        "Error reloading the web config file; the previous settings stay in "
        "force",
        {{"file", path_}, {"err", std::string(next.status().message())}});
  } else if ((*next)->config.tls_enabled != current->config.tls_enabled) {
    stamps_ = std::move(stamps);
    Log(LogLevel::kError,
        "Error reloading the web config file; the previous settings stay in "
        "force",
        {{"file", path_},
         {"err",
          "turning TLS on or off takes a restart of fedgate; certificates, "
          "keys and every other setting are reloaded"}});
  } else {
    stamps_ = Stamps(path_, next->get());
    {
      absl::MutexLock lock(&mu_);
      state_ = *std::move(next);
    }
    swapped = true;
    Log(LogLevel::kInfo, "Completed loading of web config file",
        {{"file", path_}});
  }
  reload_mu_.Unlock();
  return swapped;
}

bool WebSecurity::ReloadIfChangedForTest() { return ReloadIfChanged(); }

std::shared_ptr<const WebSecurityState> WebSecurity::Current() {
  const int64_t now = NowNanos();
  int64_t next = next_look_ns_.load(std::memory_order_relaxed);
  if (now >= next && next_look_ns_.compare_exchange_strong(
                         next, now + absl::ToInt64Nanoseconds(kLookInterval))) {
    ReloadIfChanged();
  }
  absl::MutexLock lock(&mu_);
  return state_;
}

std::string WebSecurity::Challenge(const WebSecurityState& state) {
  switch (state.scheme) {
    case WebAuthScheme::kNone:
      return "";
    case WebAuthScheme::kBasic:
      return "Basic";
    case WebAuthScheme::kBearer:
    case WebAuthScheme::kKubernetes:
      return "Bearer";
  }
  return "";
}

std::string WebSecurity::CacheKey(absl::string_view user,
                                  absl::string_view hash,
                                  absl::string_view password) {
  // Lengths first, so that no two different triples share a key.
  return Sha256(
      absl::StrCat(user.size(), ":", hash.size(), ":", user, hash, password));
}

WebAuthDecision WebSecurity::CheckFast(absl::string_view authorization) {
  std::shared_ptr<const WebSecurityState> state = Current();
  switch (state->scheme) {
    case WebAuthScheme::kNone:
      return WebAuthDecision::kAllowed;
    case WebAuthScheme::kKubernetes:
      // The API server decides (a round trip): on a worker.
      return BearerToken(authorization).empty()
                 ? WebAuthDecision::kDenied
                 : WebAuthDecision::kNeedsSlowCheck;
    case WebAuthScheme::kBearer: {
      if (!absl::StartsWithIgnoreCase(authorization, "Bearer ")) {
        return WebAuthDecision::kDenied;
      }
      const std::string digest = Sha256(BearerToken(authorization));
      // Every token is compared, so the time does not tell which matched.
      bool match = false;
      for (const std::string& token : state->token_digests) {
        match |= DigestsEqual(digest, token);
      }
      return match ? WebAuthDecision::kAllowed : WebAuthDecision::kDenied;
    }
    case WebAuthScheme::kBasic: {
      std::string user, password;
      if (!ParseBasic(authorization, &user, &password)) {
        return WebAuthDecision::kDenied;
      }
      auto it = state->config.basic_auth_users.find(user);
      const std::string& hash = it == state->config.basic_auth_users.end()
                                    ? std::string(kUnknownUserHash)
                                    : it->second;
      const std::string key = CacheKey(user, hash, password);
      gnutls_memset(password.data(), 0, password.size());
      absl::MutexLock lock(&cache_mu_);
      auto cached = cache_.find(key);
      if (cached == cache_.end() || cached->second.second < absl::Now()) {
        return WebAuthDecision::kNeedsSlowCheck;
      }
      return cached->second.first ? WebAuthDecision::kAllowed
                                  : WebAuthDecision::kDenied;
    }
  }
  return WebAuthDecision::kDenied;
}

bool WebSecurity::CheckSlow(absl::string_view authorization) {
  std::shared_ptr<const WebSecurityState> state = Current();
  if (state->scheme != WebAuthScheme::kBasic) {
    return CheckFast(authorization) == WebAuthDecision::kAllowed;
  }
  std::string user, password;
  if (!ParseBasic(authorization, &user, &password)) return false;
  auto it = state->config.basic_auth_users.find(user);
  const bool known = it != state->config.basic_auth_users.end();
  const std::string hash = known ? it->second : std::string(kUnknownUserHash);
  const bool accepted = BcryptMatches(password, hash) && known;
  const std::string key = CacheKey(user, hash, password);
  gnutls_memset(password.data(), 0, password.size());
  absl::MutexLock lock(&cache_mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[key] = {accepted, absl::Now() + kCacheTtl};
  return accepted;
}

bool WebSecurity::Check(absl::string_view authorization) {
  switch (CheckFast(authorization)) {
    case WebAuthDecision::kAllowed:
      return true;
    case WebAuthDecision::kDenied:
      return false;
    case WebAuthDecision::kNeedsSlowCheck:
      return CheckSlow(authorization);
  }
  return false;
}

WebAccessDecision WebSecurity::Decide(absl::string_view authorization,
                                      absl::string_view method,
                                      absl::string_view path) {
  WebAccessDecision decision;
  switch (CheckFast(authorization)) {
    case WebAuthDecision::kAllowed:
      decision.access = WebAccess::kAllowed;
      return decision;
    case WebAuthDecision::kDenied:
      decision.access = WebAccess::kUnauthorized;
      decision.reason = "missing or wrong credentials";
      return decision;
    case WebAuthDecision::kNeedsSlowCheck:
      break;
  }
  std::shared_ptr<const WebSecurityState> state = Current();
  if (state->scheme != WebAuthScheme::kKubernetes) {
    const bool accepted = CheckSlow(authorization);
    decision.access = accepted ? WebAccess::kAllowed : WebAccess::kUnauthorized;
    if (!accepted) decision.reason = "missing or wrong credentials";
    return decision;
  }
  AccessReview review =
      state->reviewer->Review(BearerToken(authorization), method, path);
  decision.reason = std::move(review.reason);
  switch (review.decision) {
    case AccessDecision::kAllowed:
      decision.access = WebAccess::kAllowed;
      break;
    case AccessDecision::kUnauthenticated:
      decision.access = WebAccess::kUnauthorized;
      break;
    case AccessDecision::kForbidden:
      decision.access = WebAccess::kForbidden;
      break;
    case AccessDecision::kUnavailable:
      decision.access = WebAccess::kUnavailable;
      break;
  }
  return decision;
}

}  // namespace fedgate
