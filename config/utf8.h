// config/utf8.h
//
// Go's UTF-8 rules (package unicode/utf8), the one decoder of the project:
// every stage that must accept, reject, quote or re-encode text exactly as
// Prometheus does goes through it (label values, help text, regexes,
// selectors, JSON output, error quoting). An invalid byte decodes as
// U+FFFD with width 1; overlong forms, surrogates (U+D800..U+DFFF) and values
// above U+10FFFF are invalid.
//
// Hot path: IsValidUtf8 runs per label value and help text in the exposition
// parsers and DecodeRune per non-ASCII rune in the JSON writer; both are
// inline for ASCII and skip 8 ASCII bytes per step when validating.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_CONFIG_UTF8_H_
#define FEDGATE_CONFIG_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {

// Go's utf8.RuneError, the rune an invalid byte decodes to.
inline constexpr int32_t kRuneError = 0xFFFD;
// Go's unicode.MaxRune.
inline constexpr int32_t kMaxRune = 0x10FFFF;

// One decoded rune: `rune` is kRuneError with `width` 1 for an invalid byte,
// and kRuneError with `width` 0 at the end of the input.
struct DecodedRune {
  int32_t rune;
  size_t width;
};

namespace utf8_internal {
DecodedRune DecodeMultiByteRune(absl::string_view s);
size_t FirstInvalidUtf8From(absl::string_view s, size_t i);
}  // namespace utf8_internal

// Returns whether `r` is a Unicode scalar value (utf8.ValidRune): in
// [0, U+10FFFF] and not a surrogate.
inline bool IsValidRune(int32_t r) {
  return r >= 0 && r <= kMaxRune && !(r >= 0xD800 && r < 0xE000);
}

// Decodes the rune at the start of `s` as utf8.DecodeRuneInString does.
inline DecodedRune DecodeRune(absl::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  const unsigned char c = static_cast<unsigned char>(s[0]);
  if (c < 0x80) return {c, 1};
  return utf8_internal::DecodeMultiByteRune(s);
}

// Appends the UTF-8 encoding of `r` (utf8.AppendRune): invalid runes are
// written as U+FFFD.
void AppendRune(int32_t r, std::string* out);

// Returns the offset of the first byte that does not start a valid UTF-8
// sequence, or absl::string_view::npos when all of `s` is valid.
inline size_t FirstInvalidUtf8(absl::string_view s) {
  size_t i = 0;
  // 8 ASCII bytes per step: label values are ASCII in practice.
  while (i + 8 <= s.size()) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof(word));
    if ((word & 0x8080808080808080ULL) != 0) break;
    i += 8;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  if (i == s.size()) return absl::string_view::npos;
  return utf8_internal::FirstInvalidUtf8From(s, i);
}

// Returns whether `s` is valid UTF-8 (utf8.ValidString).
inline bool IsValidUtf8(absl::string_view s) {
  return FirstInvalidUtf8(s) == absl::string_view::npos;
}

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_UTF8_H_
