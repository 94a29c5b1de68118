#include "gateway/security/digest.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

namespace fedgate {

std::string Sha256(absl::string_view data) {
  unsigned char digest[32];
  gnutls_hash_fast(GNUTLS_DIG_SHA256, data.data(), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

bool DigestsEqual(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() &&
         gnutls_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomBytes(size_t size) {
  std::string out(size, '\0');
  if (gnutls_rnd(GNUTLS_RND_RANDOM, out.data(), out.size()) != 0) {
    // Left zero: callers use it as a salt of digests, which stay digests.
    std::fill(out.begin(), out.end(), '\0');
  }
  return out;
}

}  // namespace fedgate
