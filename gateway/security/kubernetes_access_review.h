// gateway/security/kubernetes_access_review.h
//
// Kubernetes delegated authentication and authorization of fedgate's
// endpoints, as kube-rbac-proxy and the in-cluster components of the seeds
// do it: a request's bearer token is authenticated with a TokenReview
// (authentication.k8s.io/v1), and the user the API server names is
// authorized with a SubjectAccessReview (authorization.k8s.io/v1) for the
// request's verb on its non-resource path (`get` on `/federate`), which an
// RBAC rule grants as
//
//   rules:
//     - nonResourceURLs: ["/federate", "/metrics", "/api/v1/*"]
//       verbs: ["get"]
//
// The verb comes from the HTTP method as kube-rbac-proxy maps it: GET `get`,
// POST `create`, PUT `update`, PATCH `patch`, DELETE `delete`, any other
// `*`.
//
// Answers are cached, as Kubernetes's delegating authenticator and
// authorizer cache them: an authenticated token for 2 minutes, a rejected
// one and a denied access for 30 seconds, an allowed access for 5 minutes.
// Tokens are kept only as salted SHA-256 digests. An API server that cannot
// be reached, or that answers a review with an error (fedgate's own
// ServiceAccount lacking `create` on tokenreviews, say), gives kUnavailable
// with the reason, never access; those answers are not cached.
//
// Called by the HTTP and gRPC servers for each request that needs a token;
// one review takes a round trip to the API server when not cached.
//
// Thread-safety: thread-safe. Reviews run on the caller's thread, each on an
// API client of its own taken from a pool.

#ifndef FEDGATE_GATEWAY_SECURITY_KUBERNETES_ACCESS_REVIEW_H_
#define FEDGATE_GATEWAY_SECURITY_KUBERNETES_ACCESS_REVIEW_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bazel/rapidjson.h"
#include "gateway/security/review_times.h"
#include "scraper/discovery/kubernetes_api.h"

namespace fedgate {

struct KubernetesAccessReviewOptions {
  KubernetesApiServer server;
  // TokenReview spec.audiences; empty: the API server's own audience. With
  // audiences, a token is authenticated only when the API server says it is
  // valid for one of them.
  std::vector<std::string> audiences;
  // How long answers are kept; one review's round trip.
  KubernetesReviewTimes times;
  // Entries per cache (tokens; accesses): past it, expired entries go,
  // then any.
  size_t max_cached = 4096;
};

enum class AccessDecision {
  kAllowed,
  kUnauthenticated,  // No token, or one the API server does not accept.
  kForbidden,        // An authenticated user without the permission.
  kUnavailable,      // The API server could not say.
};

struct AccessReview {
  AccessDecision decision = AccessDecision::kUnavailable;
  // The authenticated user name ("" when unauthenticated).
  std::string user;
  // Why access is refused: the API server's error or reason, or what went
  // wrong in asking it. Never the token.
  std::string reason;
};

class KubernetesAccessReviewer {
 public:
  explicit KubernetesAccessReviewer(KubernetesAccessReviewOptions options);
  KubernetesAccessReviewer(const KubernetesAccessReviewer&) = delete;
  KubernetesAccessReviewer& operator=(const KubernetesAccessReviewer&) = delete;

  // Reviews access with `token` (the bearer token, without `Bearer `) for
  // `http_method` on `path` (the URL path, without the query).
  AccessReview Review(absl::string_view token, absl::string_view http_method,
                      absl::string_view path) ABSL_LOCKS_EXCLUDED(mu_);

  // kube-rbac-proxy's verb for an HTTP method (see the banner).
  static absl::string_view VerbOf(absl::string_view http_method);

 private:
  struct User {
    std::string name;
    std::string uid;
    std::vector<std::string> groups;
    std::vector<std::pair<std::string, std::vector<std::string>>> extra;
  };
  struct Authentication {
    bool authenticated = false;
    User user;
    std::string error;
    absl::Time expires;
  };
  struct Authorization {
    bool allowed = false;
    std::string reason;
    absl::Time expires;
  };

  // The TokenReview of `token`, and the SubjectAccessReview of `user` for
  // `verb` on `path`; `*unavailable` says why when the API server could not
  // answer.
  Authentication ReviewToken(absl::string_view token, std::string* unavailable);
  Authorization ReviewAccess(const User& user, absl::string_view verb,
                             absl::string_view path, std::string* unavailable);
  // POSTs `review` (a `kind` object) to `path` on a pooled client and parses
  // the answer into `*answer`. False, with `*unavailable` saying why, unless
  // the status is 200 or 201 and the answer has a `status` object.
  bool PostReview(absl::string_view path, absl::string_view kind,
                  const rapidjson::StringBuffer& review,
                  rapidjson::Document* answer, std::string* unavailable)
      ABSL_LOCKS_EXCLUDED(mu_);
  std::string TokenKey(absl::string_view token) const;

  const KubernetesAccessReviewOptions options_;
  std::string salt_;  // Random, per process: keys tokens in the caches.

  // Answers kept until their `expires`, at most `max` of them: past it, the
  // expired ones go first, then any one. Thread-safe.
  template <typename Entry>
  class AnswerCache {
   public:
    explicit AnswerCache(size_t max) : max_(max) {}
    // Returns the entry at `key`, unless there is none or it has expired.
    std::optional<Entry> Find(const std::string& key) const
        ABSL_LOCKS_EXCLUDED(mu_);
    // Stores `entry` at `key`, making room first when the cache is full.
    void Store(const std::string& key, Entry entry) ABSL_LOCKS_EXCLUDED(mu_);

   private:
    const size_t max_;
    mutable absl::Mutex mu_;
    absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  };

  absl::Mutex mu_;
  std::vector<std::unique_ptr<KubernetesApiClient>> idle_clients_
      ABSL_GUARDED_BY(mu_);
  AnswerCache<Authentication> tokens_;
  // By user name, uid and groups, verb and path.
  AnswerCache<Authorization> accesses_;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_SECURITY_KUBERNETES_ACCESS_REVIEW_H_
