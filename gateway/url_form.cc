#include "gateway/url_form.h"

#include "absl/strings/str_split.h"

namespace fedgate {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string DecodeComponent(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseUrlEncoded(
    absl::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view pair : absl::StrSplit(text, '&')) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) {
      out.emplace_back(DecodeComponent(pair), "");
    } else {
      out.emplace_back(DecodeComponent(pair.substr(0, eq)),
                       DecodeComponent(pair.substr(eq + 1)));
    }
  }
  return out;
}

}  // namespace fedgate
