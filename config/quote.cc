#include "config/quote.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace fedgate {
namespace {

// Decodes one UTF-8 code point at the start of `s` (non-empty) the way Go's
// utf8.DecodeRuneInString does. Returns the code point and sets `width`, or
// returns -1 with `width` 1 for an invalid sequence (bad lead or continuation
// byte, overlong form, surrogate, or a value above U+10FFFF).
int32_t DecodeRune(absl::string_view s, int* width) {
  const auto byte = [&s](size_t i) { return static_cast<uint8_t>(s[i]); };
  *width = 1;
  const uint8_t b0 = byte(0);
  if (b0 < 0x80) return b0;
  int n;
  int32_t r;
  uint8_t lo = 0x80, hi = 0xBF;  // Allowed range of the second byte.
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    r = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    r = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // Overlong.
    if (b0 == 0xED) hi = 0x9F;  // Surrogates.
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    r = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // Overlong.
    if (b0 == 0xF4) hi = 0x8F;  // Above U+10FFFF.
  } else {
    return -1;
  }
  if (s.size() < static_cast<size_t>(n)) return -1;
  if (byte(1) < lo || byte(1) > hi) return -1;
  r = (r << 6) | (byte(1) & 0x3F);
  for (int i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return -1;
    r = (r << 6) | (byte(i) & 0x3F);
  }
  *width = n;
  return r;
}

// Approximates the complement of Go's unicode.IsPrint for non-ASCII code
// points: controls (Cc), spaces (Zs, Zl, Zp), format characters (Cf),
// private use (Co) and noncharacters.
bool IsNonPrintableNonAscii(int32_t r) {
  if (r <= 0xA0) return true;  // C1 controls and NO-BREAK SPACE.
  if (r == 0xAD || r == 0x061C || r == 0x06DD || r == 0x070F) return true;
  if (r == 0x1680 || r == 0x180E) return true;
  if (r >= 0x2000 && r <= 0x200F) return true;
  if (r >= 0x2028 && r <= 0x202F) return true;
  if (r >= 0x205F && r <= 0x206F) return true;
  if (r == 0x3000 || r == 0xFEFF) return true;
  if (r >= 0xE000 && r <= 0xF8FF) return true;
  if (r >= 0xFFF9 && r <= 0xFFFB) return true;
  if ((r & 0xFFFE) == 0xFFFE) return true;  // U+xxFFFE, U+xxFFFF.
  if (r >= 0xFDD0 && r <= 0xFDEF) return true;
  if (r >= 0xE0000 && r <= 0xE007F) return true;
  if (r >= 0xF0000) return true;  // Planes 15 and 16: private use.
  return false;
}

}  // namespace

std::string GoQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  while (!s.empty()) {
    int width;
    const int32_t r = DecodeRune(s, &width);
    if (r < 0) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<uint8_t>(s[0]));
    } else if (r == '"' || r == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r));
    } else if (r >= 0x20 && r < 0x7F) {
      out.push_back(static_cast<char>(r));
    } else if (r < 0x80) {
      switch (r) {
        case '\a':
          out.append("\\a");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        case '\v':
          out.append("\\v");
          break;
        default:
          absl::StrAppendFormat(&out, "\\x%02x", r);
      }
    } else if (!IsNonPrintableNonAscii(r)) {
      out.append(s.data(), width);
    } else if (r < 0x10000) {
      absl::StrAppendFormat(&out, "\\u%04x", r);
    } else {
      absl::StrAppendFormat(&out, "\\U%08x", r);
    }
    s.remove_prefix(width);
  }
  out.push_back('"');
  return out;
}

}  // namespace fedgate
