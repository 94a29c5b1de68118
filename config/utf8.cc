#include "config/utf8.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {
namespace utf8_internal {

DecodedRune DecodeMultiByteRune(absl::string_view s) {
  const auto byte = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  size_t len;
  int32_t value;
  unsigned char lo = 0x80, hi = 0xBF;  // Allowed range of the second byte.
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    value = lead & 0x0F;
    if (lead == 0xE0) lo = 0xA0;  // Overlong.
    if (lead == 0xED) hi = 0x9F;  // Surrogates.
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    value = lead & 0x07;
    if (lead == 0xF0) lo = 0x90;  // Overlong.
    if (lead == 0xF4) hi = 0x8F;  // Above U+10FFFF.
  } else {
    return {kRuneError, 1};
  }
  if (s.size() < len || byte(1) < lo || byte(1) > hi) return {kRuneError, 1};
  value = (value << 6) | (byte(1) & 0x3F);
  for (size_t k = 2; k < len; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return {kRuneError, 1};
    value = (value << 6) | (byte(k) & 0x3F);
  }
  return {value, len};
}

size_t FirstInvalidUtf8From(absl::string_view s, size_t i) {
  while (i < s.size()) {
    if (i + 8 <= s.size()) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, sizeof(word));
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const DecodedRune r = DecodeRune(s.substr(i));
    // A literal U+FFFD is three bytes; an invalid byte is one.
    if (r.rune == kRuneError && r.width == 1) return i;
    i += r.width;
  }
  return absl::string_view::npos;
}

}  // namespace utf8_internal

void AppendRune(int32_t r, std::string* out) {
  if (!IsValidRune(r)) r = kRuneError;
  const uint32_t u = static_cast<uint32_t>(r);
  if (u < 0x80) {
    out->push_back(static_cast<char>(u));
  } else if (u < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (u >> 6)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else if (u < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (u >> 12)));
    out->push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (u >> 18)));
    out->push_back(static_cast<char>(0x80 | ((u >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  }
}

}  // namespace fedgate
