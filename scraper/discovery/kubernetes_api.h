// scraper/discovery/kubernetes_api.h
//
// How kubernetes_sd_configs reach the Kubernetes API server, and the
// requests they make there.
//
// ResolveKubernetesApiServer() turns a config entry into a server to talk
// to, as Prometheus 2.42 does (discovery/kubernetes New()):
// - `api_server` set: that URL with the entry's HTTP client settings
//   (TLS, authorization or bearer token files re-read for every request,
//   basic auth, proxy_url, follow_redirects);
// - `kubeconfig_file` set: the current context's cluster and user (server,
//   certificate-authority[-data], insecure-skip-tls-verify,
//   tls-server-name, proxy-url; token, tokenFile, client-certificate[-data],
//   client-key[-data], username/password), relative paths against the
//   kubeconfig's directory;
// - neither: the in-cluster configuration, `https://$KUBERNETES_SERVICE_HOST:
//   $KUBERNETES_SERVICE_PORT` with the service account's `token` (re-read
//   for every request, so projected tokens that rotate keep working) and
//   `ca.crt`, and its `namespace` for `own_namespace`. The folder is
//   /var/run/secrets/kubernetes.io/serviceaccount unless the environment
//   says otherwise (tests).
//
// KubernetesApiClient sends GETs (lists, /version), watch streams and POSTs
// (the reviews of serving authentication, gateway/) with
// libcurl's easy interface on the caller's thread; the informer thread owns
// one client and its kept connection. Cancel() from another thread ends a
// request in progress at once (its socket is shut down).
//
// Not a hot path: a list per (re)start and a line per watch event.
//
// Thread-safety: KubernetesApiServer is a value. A KubernetesApiClient is
// used by one thread at a time, except Cancel(), which any thread may call.

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_API_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_API_H_

#include <string>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "config/config.h"

namespace fedgate {

inline constexpr absl::string_view kServiceAccountDir =
    "/var/run/secrets/kubernetes.io/serviceaccount";

// Where the in-cluster configuration comes from.
struct KubernetesEnvironment {
  std::string service_account_dir = std::string(kServiceAccountDir);
  std::string service_host;  // $KUBERNETES_SERVICE_HOST
  std::string service_port;  // $KUBERNETES_SERVICE_PORT

  // The process's environment, with `service_account_dir` ("" for the
  // default).
  static KubernetesEnvironment FromProcess(std::string service_account_dir);
};

// One API server and how to authenticate to it.
struct KubernetesApiServer {
  std::string url;  // Scheme, host, port and optional path; no trailing `/`.
  HttpClientConfig http;
  // PEM blocks from a kubeconfig's `*-data` fields, used instead of files.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  // The namespace `own_namespace` stands for ("" when not in-cluster).
  std::string own_namespace;

  friend bool operator==(const KubernetesApiServer& a,
                         const KubernetesApiServer& b) {
    return std::tie(a.url, a.http, a.ca_pem, a.cert_pem, a.key_pem,
                    a.own_namespace) == std::tie(b.url, b.http, b.ca_pem,
                                                 b.cert_pem, b.key_pem,
                                                 b.own_namespace);
  }
};

// Resolves `config`'s server (see the banner). Errors read like client-go's:
// `unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and
// KUBERNETES_SERVICE_PORT must be defined`, `could not determine the pod's
// namespace: open .../namespace: no such file or directory`, or name the
// kubeconfig file and what is wrong in it.
absl::StatusOr<KubernetesApiServer> ResolveKubernetesApiServer(
    const KubernetesSdConfig& config, const KubernetesEnvironment& env);

// An answer: the HTTP status and, for a GET, the body (for a stream, the
// body of an answer other than 200).
struct KubernetesResponse {
  int status = 0;
  std::string body;
};

class KubernetesApiClient {
 public:
  explicit KubernetesApiClient(KubernetesApiServer server);
  ~KubernetesApiClient();
  KubernetesApiClient(const KubernetesApiClient&) = delete;
  KubernetesApiClient& operator=(const KubernetesApiClient&) = delete;

  const KubernetesApiServer& server() const { return server_; }

  // GETs `path_and_query` (`/api/v1/pods?limit=500`) with `Accept:
  // application/json`. Any HTTP status is a response; errors are transport
  // failures (Unavailable, naming the URL), DeadlineExceeded after
  // `timeout`, Cancelled after Cancel(), and a body over `max_body` bytes
  // (ResourceExhausted).
  absl::StatusOr<KubernetesResponse> Get(absl::string_view path_and_query,
                                         absl::Duration timeout,
                                         size_t max_body = 512 << 20);

  // POSTs `json` to `path` (a review: TokenReview, SubjectAccessReview)
  // with `Content-Type: application/json`; answers and errors as Get().
  absl::StatusOr<KubernetesResponse> Post(absl::string_view path,
                                          const std::string& json,
                                          absl::Duration timeout,
                                          size_t max_body = 1 << 20);

  // GETs a watch stream and calls `on_line` with each line as it arrives
  // (without its `\n`; a line over 64 MiB fails the stream). Returns when
  // the server ends the stream (status 200), with any other status and its
  // body, when `on_line` returns false (status 200), or with the errors of
  // Get(). `timeout` bounds the whole stream.
  absl::StatusOr<KubernetesResponse> Stream(
      absl::string_view path_and_query, absl::Duration timeout,
      absl::FunctionRef<bool(absl::string_view line)> on_line);

  // Ends the request in progress, if any, and every later one, with
  // Cancelled. Any thread.
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Transfer;
  absl::StatusOr<KubernetesResponse> Perform(absl::string_view path_and_query,
                                             absl::Duration timeout,
                                             Transfer& transfer);

  const KubernetesApiServer server_;
  void* easy_ = nullptr;  // CURL*, reused so the connection is kept.

  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  int socket_ ABSL_GUARDED_BY(mu_) = -1;  // The open connection's socket.
};

// Returns the `message` of a Kubernetes `Status` body, or the body itself
// (at most 256 bytes of it) when it is not one.
std::string KubernetesStatusMessage(absl::string_view body);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_API_H_
