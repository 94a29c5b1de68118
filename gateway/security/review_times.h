// gateway/security/review_times.h
//
// How long fedgate keeps the Kubernetes API server's answers to its access
// reviews, and how long one review may take: the `authentication.kubernetes`
// fields of the web config file (web_config.h) and the reviewer's options
// (kubernetes_access_review.h) are this one struct, so the defaults are
// written once. The defaults are those Kubernetes components use when they
// delegate to the API server (the kubelet's webhook cache times): 2m for an
// authenticated token, 5m for an allowed access, 30s for a denied one; a
// rejected token is kept 30s.
//
// Thread-safety: a plain value.

#ifndef FEDGATE_GATEWAY_SECURITY_REVIEW_TIMES_H_
#define FEDGATE_GATEWAY_SECURITY_REVIEW_TIMES_H_

#include "absl/time/time.h"

namespace fedgate {

struct KubernetesReviewTimes {
  absl::Duration token_cache_ttl = absl::Minutes(2);      // Authenticated.
  absl::Duration rejected_cache_ttl = absl::Seconds(30);  // Not.
  absl::Duration allowed_cache_ttl = absl::Minutes(5);
  absl::Duration denied_cache_ttl = absl::Seconds(30);
  // One review's round trip to the API server.
  absl::Duration timeout = absl::Seconds(10);
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_SECURITY_REVIEW_TIMES_H_
