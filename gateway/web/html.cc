#include "gateway/web/html.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "config/utf8.h"

namespace fedgate {

void AppendHtmlEscaped(absl::string_view s, std::string* out) {
  out->reserve(out->size() + s.size());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const DecodedRune r = DecodeRune(s.substr(i));
      if (r.rune == kRuneError && r.width == 1) {
        AppendRune(kRuneError, out);
      } else {
        out->append(s.data() + i, r.width);
      }
      i += r.width;
      continue;
    }
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&#34;");
        break;
      case '\'':
        out->append("&#39;");
        break;
      case '\0':
        // The HTML parser would drop or replace it; say so visibly.
        AppendRune(kRuneError, out);
        break;
      default:
        out->push_back(static_cast<char>(c));
    }
    ++i;
  }
}

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  AppendHtmlEscaped(s, &out);
  return out;
}

std::string CspSha256Source(absl::string_view content) {
  uint8_t digest[32];
  // GnuTLS is linked for TLS already; SHA-256 of a constant cannot fail.
  const int rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, content.data(),
                                  content.size(), digest);
  if (rc != GNUTLS_E_SUCCESS) return "'none'";
  return absl::StrCat(
      "'sha256-",
      absl::Base64Escape(absl::string_view(
          reinterpret_cast<const char*>(digest), sizeof(digest))),
      "'");
}

}  // namespace fedgate
