#include "config/redacted_url.h"

#include "absl/strings/str_cat.h"

namespace fedgate {

std::string RedactedUrl(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t authority =
      scheme_end == absl::string_view::npos ? 0 : scheme_end + 3;
  const size_t end = url.find_first_of("/?#", authority);
  const absl::string_view host_part = url.substr(
      authority, end == absl::string_view::npos ? end : end - authority);
  const size_t at = host_part.rfind('@');
  if (at == absl::string_view::npos) return std::string(url);
  const size_t colon = host_part.substr(0, at).find(':');
  if (colon == absl::string_view::npos) return std::string(url);
  return absl::StrCat(url.substr(0, authority + colon + 1), "xxxxx",
                      url.substr(authority + at));
}

}  // namespace fedgate
