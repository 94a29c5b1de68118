// gateway/security/digest.h
//
// The one SHA-256 of fedgate's serving security (GnuTLS's), and the
// constant-time compare of digests: how bearer tokens and basic auth
// attempts are kept and compared without keeping the secret itself.
// Called by web_security.h and kubernetes_access_review.h once per request
// that carries credentials.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_GATEWAY_SECURITY_DIGEST_H_
#define FEDGATE_GATEWAY_SECURITY_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {

// Returns the 32 bytes of SHA-256 of `data`.
std::string Sha256(absl::string_view data);

// Returns whether `a` and `b` are equal, in a time that depends only on
// their size (digests: always 32 bytes).
bool DigestsEqual(absl::string_view a, absl::string_view b);

// Returns `size` random bytes from GnuTLS's generator (for salts).
std::string RandomBytes(size_t size);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_SECURITY_DIGEST_H_
