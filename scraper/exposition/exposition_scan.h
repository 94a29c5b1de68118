// scraper/exposition/exposition_scan.h
//
// Byte-level pieces shared by the text-based exposition parsers (text 0.0.4
// in text_parser.cc, OpenMetrics 1.0 in openmetrics_parser.cc): Go's
// strconv.ParseFloat as Prometheus's parsers call it, the
// "line N, column M: reason in "line"" error shape, and the TSDB's
// label-uniqueness check. Go's utf8.ValidString is config/utf8.h's
// IsValidUtf8() and Go's %q quoting config/quote.h's GoQuote(); both are
// included here for the parsers.
//
// Hot path: ParseGoFloat runs per sample (IsValidUtf8 per non-ASCII label
// value); the rest is cold (errors). Thread-safety: pure functions;
// thread-safe.

#ifndef FEDGATE_SCRAPER_EXPOSITION_EXPOSITION_SCAN_H_
#define FEDGATE_SCRAPER_EXPOSITION_EXPOSITION_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "config/quote.h"  // GoQuote(), for the parsers' error messages.
#include "config/utf8.h"   // IsValidUtf8(), for label values and help.
#include "merge/labels.h"

namespace fedgate {

// The name bits of the byte class tables that the text lexer (text_lexer.h)
// and the OpenMetrics parser build at compile time; each adds its own bits
// from kFirstFreeByteClass up.
inline constexpr uint8_t kMetricStart = 1 << 0;  // [a-zA-Z_:]
inline constexpr uint8_t kMetricChar = 1 << 1;   // [a-zA-Z0-9_:]
inline constexpr uint8_t kLabelStart = 1 << 2;   // [a-zA-Z_]
inline constexpr uint8_t kLabelChar = 1 << 3;    // [a-zA-Z0-9_]
inline constexpr int kFirstFreeByteClass = 4;

// Returns the name bits of byte `c` (0 to 255).
constexpr uint8_t NameByteClasses(int c) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  const bool digit = c >= '0' && c <= '9';
  uint8_t f = 0;
  if (alpha || c == '_' || c == ':') f |= kMetricStart | kMetricChar;
  if (digit) f |= kMetricChar | kLabelChar;
  if (alpha || c == '_') f |= kLabelStart | kLabelChar;
  return f;
}

// The normal NaN Prometheus stores for any exposed NaN (value.NormalNaN), so
// that an exposed value can never carry the staleness marker's bit pattern.
inline constexpr uint64_t kNormalNaNBits = 0x7ff8000000000001ULL;

// Parses a sample value as Prometheus's text and OpenMetrics parsers do: `p`,
// `P` and `_` are refused ("unsupported character in float"), then Go's
// strconv.ParseFloat(s, 64) decides: decimal `[+-]?(d+.?d*|.d+)([eE][+-]?d+)?`,
// `[+-]?inf`, `[+-]?infinity` and `nan` (case-insensitive, NaN unsigned),
// correctly rounded, underflow to ±0, overflow an error. NaN becomes
// kNormalNaNBits. Errors carry Go's wording, e.g.
// `strconv.ParseFloat: parsing "1z": invalid syntax`.
// Common shapes (`16455`, `2.4117248e+07`) take a one-pass fast path whose
// results are bit-identical to the general path's.
absl::Status ParseGoFloat(absl::string_view s, double* value);

namespace exposition_scan_internal {
// ParseGoFloat without its fast path: the reference the tests compare it
// against.
absl::Status ParseGoFloatSlow(absl::string_view s, double* value);
}  // namespace exposition_scan_internal

// Returns InvalidArgument "line L, column C: <reason> in "<line text>"" for
// the byte at offset `at` of `body`, where `line_start` is the offset of the
// first byte of the line numbered `line` (1-based) and `at` >= line_start.
// Newlines between them advance the line. Long lines are quoted as a window
// of 100 bytes around the column.
absl::Status LineError(absl::string_view body, size_t line_start, int line,
                       size_t at, absl::string_view reason);

// Byte scanners for the lexers' token loops. Each returns the offset of the
// first byte of b[i, n) outside its class, or `n`. Why SSE2:
// tokens are short (`code`, `"200"`), so a byte loop costs a mispredicted
// exit per token; one 16-byte compare and a count of trailing zeros finds
// the end of most tokens without a data-dependent branch. SSE2 is part of
// x86-64; other targets take the byte loops.

namespace exposition_scan_internal {

#if defined(__SSE2__)
inline __m128i Load16(const char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// 0xFF in each byte of `v` within [lo, lo + span] (unsigned, span < 127),
// else 0. The add moves `lo` to -128, so that one signed compare tells the
// range apart (an unsigned min and an equality compare took one more
// instruction and a register copy).
inline __m128i InRange(__m128i v, char lo, char span) {
  const __m128i d = _mm_add_epi8(
      v,
      _mm_set1_epi8(static_cast<char>(0x80 - static_cast<unsigned char>(lo))));
  return _mm_cmplt_epi8(d, _mm_set1_epi8(static_cast<char>(-128 + span + 1)));
}

// The byte constants of NameBytes() and of the AVX2 label-block masks
// (ClassifyLabelBytes32()), 32 copies of each. Defined in
// exposition_scan.cc, out of the compiler's sight, so that loops read them
// from memory or keep them in registers: in code compiled for AVX2, GCC 12
// rebuilds each known constant where it is used from an immediate (mov,
// vmovd, vpbroadcastb), 40 instructions per 64-byte label block.
struct LabelBytesConstants {
  alignas(32) char quote[32];       // `"`
  alignas(32) char backslash[32];   // `\`
  alignas(32) char newline[32];     // `\n`
  alignas(32) char underscore[32];  // `_`
  alignas(32) char lower[32];       // 0x20: OR maps A-Z onto a-z.
  // InRange(): the add that moves `a` and `0` to -128, and the limits
  // (digit_colon_limit: `0` to `:`, which follows `9`).
  alignas(32) char alpha_shift[32];
  alignas(32) char alpha_limit[32];
  alignas(32) char digit_shift[32];
  alignas(32) char digit_limit[32];
  alignas(32) char digit_colon_limit[32];
};
extern const LabelBytesConstants kLabelBytesConstants;

// 0xFF in each byte of `v` that is [a-zA-Z0-9_] (with `colon`, also `:`):
// InRange(v | 0x20, 'a', 25), InRange(v, '0', colon ? 10 : 9) and `_`.
inline __m128i NameBytes(__m128i v, bool colon) {
  const LabelBytesConstants& k = kLabelBytesConstants;
  const __m128i alpha = _mm_cmplt_epi8(
      _mm_add_epi8(_mm_or_si128(v, Load16(k.lower)), Load16(k.alpha_shift)),
      Load16(k.alpha_limit));
  const __m128i digit =
      _mm_cmplt_epi8(_mm_add_epi8(v, Load16(k.digit_shift)),
                     Load16(colon ? k.digit_colon_limit : k.digit_limit));
  const __m128i underscore = _mm_cmpeq_epi8(v, Load16(k.underscore));
  return _mm_or_si128(_mm_or_si128(alpha, digit), underscore);
}

// Moves `*i` to the first byte whose bit is set in `stops(window)` (a
// movemask of a 16-byte window) and returns true; returns false with `*i` at
// the first window that does not fit before `n`, for the byte loop.
template <typename Stops>
inline bool FindInWindows(const char* b, size_t* i, size_t n, Stops stops) {
  while (*i + 16 <= n) {
    const unsigned mask = stops(Load16(b + *i));
    if (mask != 0) {
      *i += static_cast<size_t>(__builtin_ctz(mask));
      return true;
    }
    *i += 16;
  }
  return false;
}
#endif

inline bool IsNameByte(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || (colon && c == ':');
}

// Skips [a-zA-Z0-9_] bytes (with kColon, also `:`); a template so that
// each caller's loop tests a constant.
template <bool kColon>
inline size_t SkipNameBytes(const char* b, size_t i, size_t n) {
#if defined(__SSE2__)
  if (FindInWindows(b, &i, n, [](__m128i v) {
        return ~static_cast<unsigned>(_mm_movemask_epi8(NameBytes(v, kColon))) &
               0xFFFFu;
      })) {
    return i;
  }
#endif
  while (i < n && IsNameByte(b[i], kColon)) ++i;
  return i;
}

}  // namespace exposition_scan_internal

// [a-zA-Z0-9_:], a metric name byte.
inline size_t SkipMetricNameBytes(const char* b, size_t i, size_t n) {
  return exposition_scan_internal::SkipNameBytes</*kColon=*/true>(b, i, n);
}

// [a-zA-Z0-9_], a label name byte.
inline size_t SkipLabelNameBytes(const char* b, size_t i, size_t n) {
  return exposition_scan_internal::SkipNameBytes</*kColon=*/false>(b, i, n);
}

// Any ASCII byte but `"`, `\` and `\n`: the plain bytes of a text-format
// label value (which may hold raw newlines; the caller counts them).
inline size_t SkipQuotedPlainBytes(const char* b, size_t i, size_t n) {
  namespace esi = exposition_scan_internal;
#if defined(__SSE2__)
  if (esi::FindInWindows(b, &i, n, [](__m128i v) {
        // A byte >= 0x80 has its top bit set already.
        const __m128i stops = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                         _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')), v));
        return static_cast<unsigned>(_mm_movemask_epi8(stops));
      })) {
    return i;
  }
#endif
  while (i < n && static_cast<unsigned char>(b[i]) < 0x80 && b[i] != '"' &&
         b[i] != '\\' && b[i] != '\n') {
    ++i;
  }
  return i;
}

// [^\0\t\n {], a text-format sample value byte.
inline size_t SkipSampleValueBytes(const char* b, size_t i, size_t n) {
  namespace esi = exposition_scan_internal;
#if defined(__SSE2__)
  if (esi::FindInWindows(b, &i, n, [](__m128i v) {
        // `\t` and `\n` are adjacent: one range check covers both.
        const __m128i stops =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_setzero_si128()),
                                      esi::InRange(v, '\t', 1)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
                                      _mm_cmpeq_epi8(v, _mm_set1_epi8('{'))));
        return static_cast<unsigned>(_mm_movemask_epi8(stops));
      })) {
    return i;
  }
#endif
  while (i < n && b[i] != '\0' && b[i] != '\t' && b[i] != '\n' && b[i] != ' ' &&
         b[i] != '{') {
    ++i;
  }
  return i;
}

// Bitmasks of the 64 bytes at p[0..64) (bit k describes p[k]), for
// checking a text-format label set a block at a time instead of a token at
// a time: the token scanners above chain each token's end into the next
// token's load (about 15 cycles of latency per token, 40 per label), while
// these masks depend only on the block's address.
struct LabelBlockMasks {
  uint64_t quote = 0;     // `"`.
  uint64_t stop = 0;      // `\`, `\n` and bytes >= 0x80.
  uint64_t non_name = 0;  // Neither [a-zA-Z0-9_] nor `"`.
};

namespace exposition_scan_internal {
// ClassifyLabelBlock() one byte at a time: the reference of the tests and
// the code for targets without SSE2.
LabelBlockMasks ClassifyLabelBlockBytes(const char* p);
}  // namespace exposition_scan_internal

namespace exposition_scan_internal {
#if defined(__SSE2__)
// The masks of p[0..16), with name bytes and quotes where LabelBlockMasks
// has the others (inverted once per block, not per 16 bytes).
struct LabelBytes16 {
  unsigned quote;
  unsigned stop;
  unsigned name_or_quote;
};

// The same for 32 bytes (ClassifyLabelBlockAvx2()).
struct LabelBytes32 {
  uint32_t quote;
  uint32_t stop;
  uint32_t name_or_quote;
};

inline LabelBytes16 ClassifyLabelBytes16(const char* p) {
  const __m128i v = Load16(p);
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  // A byte >= 0x80 has its top bit set already.
  const __m128i stop =
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
                   v);
  const __m128i name_or_quote = _mm_or_si128(NameBytes(v, false), quote);
  return {static_cast<unsigned>(_mm_movemask_epi8(quote)),
          static_cast<unsigned>(_mm_movemask_epi8(stop)),
          static_cast<unsigned>(_mm_movemask_epi8(name_or_quote))};
}
#endif
}  // namespace exposition_scan_internal

// Returns the masks of p[0..64); all 64 bytes must be readable.
inline LabelBlockMasks ClassifyLabelBlock(const char* p) {
  namespace esi = exposition_scan_internal;
#if defined(__SSE2__)
  const esi::LabelBytes16 m0 = esi::ClassifyLabelBytes16(p);
  const esi::LabelBytes16 m1 = esi::ClassifyLabelBytes16(p + 16);
  const esi::LabelBytes16 m2 = esi::ClassifyLabelBytes16(p + 32);
  const esi::LabelBytes16 m3 = esi::ClassifyLabelBytes16(p + 48);
  auto join = [](uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    return a | b << 16 | c << 32 | d << 48;
  };
  LabelBlockMasks m;
  m.quote = join(m0.quote, m1.quote, m2.quote, m3.quote);
  m.stop = join(m0.stop, m1.stop, m2.stop, m3.stop);
  m.non_name = ~join(m0.name_or_quote, m1.name_or_quote, m2.name_or_quote,
                     m3.name_or_quote);
  return m;
#else
  return esi::ClassifyLabelBlockBytes(p);
#endif
}

// Returns `x` with bit k the xor of its bits 0..k. Of a block's quote mask:
// the bytes inside strings, opening quotes included, closing ones not.
inline uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// The AVX2 versions of ClassifyLabelBlock() and PrefixXor(), same results:
// the 64 bytes in two 32-byte halves instead of four 16-byte quarters (about
// 45 instructions per block fewer), and the prefix xor as one carry-less
// multiply by all ones instead of six shifts and xors. Callable only where
// CpuHasLabelBlocksAvx2(); text_parser.cc compiles its label-set walk a
// second time around them (target attributes, no -mavx2, so that nothing
// else in the binary needs the CPU to have AVX2).
//
// Returns whether the CPU (and the OS, which must save the AVX state) has
// AVX2, BMI1, BMI2, PCLMULQDQ and POPCNT: Intel since Haswell (2013), AMD
// since Excavator (2015).
inline bool CpuHasLabelBlocksAvx2() {
  // The detection runs as a constructor of libgcc; callers may run in other
  // constructors (tests' globals), so make sure it ran.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("pclmul") &&
         __builtin_cpu_supports("popcnt");
}

namespace exposition_scan_internal {

__attribute__((target("avx2"))) inline __m256i Load32(const char* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// ClassifyLabelBytes16() for p[0..32).
__attribute__((target("avx2"))) inline LabelBytes32 ClassifyLabelBytes32(
    const char* p) {
  const LabelBytesConstants& k = kLabelBytesConstants;
  const __m256i v = Load32(p);
  const __m256i quote = _mm256_cmpeq_epi8(v, Load32(k.quote));
  // A byte >= 0x80 has its top bit set already.
  const __m256i stop =
      _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, Load32(k.backslash)),
                                      _mm256_cmpeq_epi8(v, Load32(k.newline))),
                      v);
  // NameBytes(), 32 bytes wide.
  const __m256i alpha =
      _mm256_cmpgt_epi8(Load32(k.alpha_limit),
                        _mm256_add_epi8(_mm256_or_si256(v, Load32(k.lower)),
                                        Load32(k.alpha_shift)));
  const __m256i digit = _mm256_cmpgt_epi8(
      Load32(k.digit_limit), _mm256_add_epi8(v, Load32(k.digit_shift)));
  const __m256i underscore = _mm256_cmpeq_epi8(v, Load32(k.underscore));
  const __m256i name_or_quote = _mm256_or_si256(
      _mm256_or_si256(alpha, digit), _mm256_or_si256(underscore, quote));
  return {static_cast<uint32_t>(_mm256_movemask_epi8(quote)),
          static_cast<uint32_t>(_mm256_movemask_epi8(stop)),
          static_cast<uint32_t>(_mm256_movemask_epi8(name_or_quote))};
}
}  // namespace exposition_scan_internal

__attribute__((target("avx2"))) inline LabelBlockMasks ClassifyLabelBlockAvx2(
    const char* p) {
  namespace esi = exposition_scan_internal;
  const esi::LabelBytes32 lo = esi::ClassifyLabelBytes32(p);
  const esi::LabelBytes32 hi = esi::ClassifyLabelBytes32(p + 32);
  LabelBlockMasks m;
  m.quote = lo.quote | uint64_t{hi.quote} << 32;
  m.stop = lo.stop | uint64_t{hi.stop} << 32;
  m.non_name = ~(lo.name_or_quote | uint64_t{hi.name_or_quote} << 32);
  return m;
}

__attribute__((target("pclmul"))) inline uint64_t PrefixXorClmul(uint64_t x) {
  // Bit k of x * 0xFF..FF without carries is the xor of x's bits 0..k.
  return static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_clmulepi64_si128(
      _mm_cvtsi64_si128(static_cast<int64_t>(x)), _mm_set1_epi8(-1), 0)));
}
#endif

using LabelViews = std::vector<std::pair<absl::string_view, absl::string_view>>;

// Returns the index of the first label whose name is `__name__` or repeats an
// earlier one, or -1. Prometheus's TSDB rejects both as
// `label name "b" is not unique: invalid sample`.
int FindNonUniqueLabel(const LabelViews& labels);

// Returns that rejection's message for the label name `name`.
std::string NonUniqueLabelMessage(absl::string_view name);

// Appends `raw` to `*out` (after clearing it) with `\\`, `\n` and, if
// `quotes`, `\"` unescaped; other backslashes are kept, as Go's
// strings.Replacer does.
void UnescapeLabelText(absl::string_view raw, bool quotes, std::string* out);

// Replaces `*labels` with `__name__`=`metric_name` followed by `views`, whose
// values are unescaped with `\\`, `\n` and `\"` (both text formats' label
// values). resize() keeps the strings' buffers, so a reused vector rarely
// allocates.
void BuildSeriesLabels(absl::string_view metric_name, const LabelViews& views,
                       std::vector<Label>* labels);

// Returns GoQuote(body[at, end)) for an error message, cut to 24 bytes with
// `...` when longer.
std::string QuoteExcerpt(absl::string_view body, size_t at, size_t end);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_EXPOSITION_SCAN_H_
