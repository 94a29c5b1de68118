// scraper/exposition/text_parser.cc
//
// The text format 0.0.4 parser behind every scrape. It accepts exactly what
// Prometheus 2.42 accepts: the rules of its golex lexer
// (model/textparse/promlex.l), its parser (promparse.go), and the two checks
// its scrape loop makes right after parsing a series (the metric name must be
// valid, label names must be unique). Each rule below was checked against the
// real 2.42 binary; text_parser_test.cc pins them.
//
// The lexer's odd corners are kept on purpose, because a body that Prometheus
// scrapes must not fail here, and the other way round:
//  * Commas between labels are optional (`a{b="1" c="2"}`), blanks are allowed
//    around every token, and a label value may contain raw newlines.
//  * Only a series line may not start with blanks; blank-led `#` lines and
//    blank lines are fine.
//  * HELP/TYPE text is the rest of the line minus its first byte, so
//    `# TYPE a counter ` (trailing blank) is the unknown type "counter ".
//  * NUL bytes: one at the start of a line, or in a `#` comment that is not
//    followed by a blank, ends the body (golex reports EOF). Inside label
//    values, HELP text and `# ` comments they are skipped over like text, and
//    NULs right after a label value's closing quote become part of the value.
//
// Cost: one pass; token bodies are scanned with SSE2 (exposition_scan.h), the
// label-name uniqueness check runs while lexing (a two-word Bloom filter of
// names seen, exact comparisons only on a filter hit), and raw newlines in
// label values are counted on the way for the next line number. Lines of the
// shape client libraries write take ParseClassifiedSeriesLine() past the
// corners above, which checks a label set 64 bytes at a time with bitmasks
// (SSE2, or AVX2 with BMI and PCLMULQDQ where the CPU has them: a second
// copy compiled with target attributes, picked once per process), and hands
// label sets over 1 KiB to the token-by-token ParseSimpleSeriesLine(), and
// their values of up to 7 digits ParseShortInteger(); any other line, and
// any error, the general lexer. Next() allocates nothing (it reuses
// label_views_) except when a series has more than 64 labels (the duplicate
// check then sorts a copy of the names). Unescaping happens only in
// GetLabels() and help(). Errors are cold and may rescan their line.

#include "scraper/exposition/text_parser.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/casts.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "scraper/exposition/exposition_scan.h"

namespace fedgate {
namespace {

// Byte classes of the lexer, as bit flags in one table (token bodies are
// scanned 16 bytes at a time by exposition_scan.h's Skip*Bytes).
constexpr uint8_t kMetricStart = 1 << 0;  // [a-zA-Z_:]
constexpr uint8_t kMetricChar = 1 << 1;   // [a-zA-Z0-9_:]
constexpr uint8_t kLabelStart = 1 << 2;   // [a-zA-Z_]
constexpr uint8_t kValueChar = 1 << 4;    // [^\0\t\n {], a sample value byte

constexpr std::array<uint8_t, 256> MakeByteClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    uint8_t f = 0;
    if (alpha || c == '_' || c == ':') f |= kMetricStart | kMetricChar;
    if (digit) f |= kMetricChar;
    if (alpha || c == '_') f |= kLabelStart;
    if (c != 0 && c != '\t' && c != '\n' && c != ' ' && c != '{') {
      f |= kValueChar;
    }
    t[c] = f;
  }
  return t;
}

constexpr std::array<uint8_t, 256> kByteClass = MakeByteClasses();

inline bool Is(char c, uint8_t cls) {
  return (kByteClass[static_cast<unsigned char>(c)] & cls) != 0;
}

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Describes what the lexer found at `at` for "expected X, got Y" messages.
std::string Got(absl::string_view body, size_t at) {
  if (at >= body.size() || body[at] == '\n') return "end of line";
  const char c = body[at];
  size_t end = at + 1;
  if (Is(c, kMetricChar)) {
    while (end < body.size() && Is(body[end], kMetricChar)) ++end;
  } else if (c != '{' && c != '}' && c != '=' && c != ',' && c != '"') {
    while (end < body.size() && !IsBlank(body[end]) && body[end] != '\n') {
      ++end;
    }
  }
  return QuoteExcerpt(body, at, end);
}

// The entry being parsed, for bounds-safe peeking and for error messages.
struct Cursor {
  absl::string_view body;
  size_t entry_start;  // First byte of the entry's line.
  int entry_line;      // 1-based line number of entry_start.

  // Returns the byte at `i`; the end of the body reads as the newline that
  // Prometheus appends to every body before lexing it.
  char At(size_t i) const { return i < body.size() ? body[i] : '\n'; }

  size_t SkipBlanks(size_t i) const {
    while (i < body.size() && IsBlank(body[i])) ++i;
    return i;
  }

  size_t SkipNuls(size_t i) const {
    while (i < body.size() && body[i] == '\0') ++i;
    return i;
  }

  // Returns the offset of the newline ending the line that contains `i`.
  size_t LineEnd(size_t i) const {
    if (i >= body.size()) return body.size();
    const void* nl = std::memchr(body.data() + i, '\n', body.size() - i);
    return nl == nullptr ? body.size()
                         : static_cast<const char*>(nl) - body.data();
  }

  // Returns the offset just past the line that ends at `eol`.
  size_t NextLine(size_t eol) const { return std::min(eol + 1, body.size()); }

  // Returns InvalidArgument "line N, column M: <reason> in "<line>"" for the
  // byte at offset `at`.
  absl::Status Error(size_t at, absl::string_view reason) const {
    return LineError(body, entry_start, entry_line, at, reason);
  }
};

// Parses a timestamp the lexer found (`[0-9]+`) like strconv.ParseInt(s, 10,
// 64).
absl::Status ParseTimestamp(absl::string_view s, int64_t* ms) {
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  uint64_t v = 0;
  for (const char c : s) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (kMax - d) / 10) {
      return absl::InvalidArgumentError(absl::StrCat(
          "strconv.ParseInt: parsing ", GoQuote(s), ": value out of range"));
    }
    v = v * 10 + d;
  }
  *ms = static_cast<int64_t>(v);
  return absl::OkStatus();
}

}  // namespace

namespace text_parser_internal {

// The fields of a sample line.
struct SeriesLine {
  absl::string_view series_text;
  absl::string_view metric_name;
  int newlines = 0;  // Raw newlines in label values of series_text.
  double value = 0;
  std::optional<int64_t> timestamp_ms;
  size_t end = 0;  // Offset just past the line.
};

}  // namespace text_parser_internal

namespace {

using text_parser_internal::SeriesLine;

// Up to this many labels, ParseSeriesLine checks label-name uniqueness while
// lexing; beyond, FindNonUniqueLabel() (which sorts) does, so that many
// labels never make the check quadratic.
constexpr size_t kMaxLexedUniquenessCheck = 32;

constexpr std::array<uint64_t, 64> MakeBitMasks() {
  std::array<uint64_t, 64> masks{};
  for (int k = 0; k < 64; ++k) masks[k] = uint64_t{1} << k;
  return masks;
}

// kBitMasks[k] is 1 << k.
constexpr std::array<uint64_t, 64> kBitMasks = MakeBitMasks();

// The label names of one series seen so far, as a Bloom filter of two
// 64-bit words (one bit in each per name), for the uniqueness check while
// lexing: a name whose two bits are both set already may repeat an earlier
// one and is compared with the earlier names exactly. Why two words: with
// one bit per name in one word, names collide somewhere in about half of the
// random sets of 10 names (the birthday bound; 73% of those of 13), and a
// Linkerd proxy's `target_addr` and `srv_group` did in a third of its lines;
// each hit costs a mispredicted branch and a compare per earlier label. With
// two words, random sets of 10 names hit in 6% (13 names: 13%). Which bits
// of the product make the two made no difference on random names; bits
// 58-63 and 40-45 keep the proxy's 15 names apart in all its lines with
// NameFilterAdd()'s key and in 98% with WalkLabelQuotes()' (bits 58-63 and
// 52-57: 76%).
//
// FilterAdd() adds the name whose key is `key` to the filter `*seen_a`,
// `*seen_b` and returns true if it may have been added before; FilterMark()
// only adds it, leaving the test to SurelyUniqueNames() once per label set.
// The key must be a function of the name alone (the same name, the same
// key, wherever it is) that tells the names of a label set apart as far as
// it can: NameFilterAdd() uses the length and the first two and last bytes,
// so that names that share a prefix or a suffix (`target_ip`,
// `target_port`) still differ.
inline void FilterMark(uint64_t key, uint64_t* seen_a, uint64_t* seen_b) {
  const uint64_t h = key * 0x9E3779B97F4A7C15u;
  // Masks from a table: shifts by a variable count go through %cl on
  // x86-64, and two of them kept one of the filter words on the stack.
  *seen_a |= kBitMasks[h >> 58];
  *seen_b |= kBitMasks[(h >> 40) & 63];
}

inline bool FilterAdd(uint64_t key, uint64_t* seen_a, uint64_t* seen_b) {
  uint64_t a = 0;
  uint64_t b = 0;
  FilterMark(key, &a, &b);
  const bool hit = ((*seen_a & a) != 0) & ((*seen_b & b) != 0);
  *seen_a |= a;
  *seen_b |= b;
  return hit;
}

// Returns true if FilterMark() of `count` names set `count` bits in either
// word: then no two names share a key, so no name repeats (a repeated name
// sets its bit again). False says nothing: two names may share a bit.
inline bool SurelyUniqueNames(size_t count, uint64_t seen_a, uint64_t seen_b) {
  return static_cast<size_t>(__builtin_popcountll(seen_a)) == count ||
         static_cast<size_t>(__builtin_popcountll(seen_b)) == count;
}

// FilterAdd() with a key of `name` (not empty) alone.
inline bool NameFilterAdd(absl::string_view name, uint64_t* seen_a,
                          uint64_t* seen_b) {
  auto byte = [](char c) { return uint64_t{static_cast<unsigned char>(c)}; };
  return FilterAdd(uint64_t{name.size()} << 24 | byte(name[0]) << 16 |
                       byte(name[name.size() > 1 ? 1 : 0]) << 8 |
                       byte(name.back()),
                   seen_a, seen_b);
}

// Parses the sample line whose metric name starts at `name_start`, filling
// `labels` with raw label views.
absl::Status ParseSeriesLine(const Cursor& cur, size_t name_start,
                             LabelViews* labels, SeriesLine* out) {
  const absl::string_view body = cur.body;
  const size_t n = body.size();
  const char* const b = body.data();
  size_t i = SkipMetricNameBytes(b, name_start + 1, n);
  out->metric_name = body.substr(name_start, i - name_start);
  size_t series_end = i;
  out->newlines = 0;
  // Label-name uniqueness (FindNonUniqueLabel's rule), found while lexing:
  // the first `__name__` and the first name repeating an earlier one, each
  // by index. Reported after the value and timestamp, in Prometheus's order.
  int reserved = -1;
  int repeated = -1;
  uint64_t seen_a = 0;  // NameFilterAdd() of the earlier names.
  uint64_t seen_b = 0;

  i = cur.SkipBlanks(i);
  if (cur.At(i) == '{') {
    ++i;
    for (;;) {
      i = cur.SkipBlanks(i);
      const char c = cur.At(i);
      if (c == '}') {
        ++i;
        break;
      }
      if (!Is(c, kLabelStart)) {
        return cur.Error(
            i, absl::StrCat("expected label name, got ", Got(body, i)));
      }
      const size_t label_start = i;
      i = SkipLabelNameBytes(b, i + 1, n);
      const absl::string_view name(b + label_start, i - label_start);
      const size_t index = labels->size();
      if (index < kMaxLexedUniquenessCheck) {
        if (reserved < 0 && name == kMetricNameLabel) {
          reserved = static_cast<int>(index);
        }
        if (repeated < 0 && NameFilterAdd(name, &seen_a, &seen_b)) {
          for (size_t j = 0; j < index; ++j) {
            if ((*labels)[j].first == name) {
              repeated = static_cast<int>(index);
              break;
            }
          }
        }
      }
      i = cur.SkipBlanks(i);
      if (cur.At(i) != '=') {
        return cur.Error(i, absl::StrCat("expected equal, got ", Got(body, i)));
      }
      ++i;
      // Blanks before the value; once past the first one the lexer is inside
      // the value state, which skips NULs.
      if (IsBlank(cur.At(i))) {
        ++i;
        while (i < n && (IsBlank(b[i]) || b[i] == '\0')) ++i;
      }
      if (cur.At(i) != '"') {
        return cur.Error(
            i, absl::StrCat("expected label value, got ", Got(body, i)));
      }
      const size_t open = i++;
      bool ascii = true;
      for (;;) {
        i = SkipQuotedPlainBytes(b, i, n);
        if (i >= n) {
          return cur.Error(open,
                           "expected label value, got unterminated string");
        }
        const char c2 = b[i];
        if (c2 == '"') break;
        if (c2 == '\n') {  // Plain too, but counted for line numbers.
          ++out->newlines;
          ++i;
          continue;
        }
        if (c2 == '\\') {
          // An escape takes the next byte but a newline, NULs skipped.
          i = cur.SkipNuls(i + 1);
          if (cur.At(i) == '\n') {
            return cur.Error(
                i, "expected label value, got backslash at end of line");
          }
          if (static_cast<unsigned char>(b[i]) >= 0x80) ascii = false;
          ++i;
          continue;
        }
        ascii = false;  // A byte >= 0x80.
        ++i;
      }
      // NULs after the closing quote end up inside the value, as in
      // Prometheus, which strips one byte from each end of the token.
      const size_t token_end = cur.SkipNuls(i + 1);
      if (!ascii && !IsValidUtf8(body.substr(open, token_end - open))) {
        return cur.Error(open, "invalid UTF-8 label value");
      }
      // Field by field: built as one pair, the value's view went through
      // the stack as two 8-byte stores and one 16-byte load, a failed
      // store-to-load forward per label (a fifth of the parse time).
      auto& label = labels->emplace_back();
      label.first = name;
      label.second = absl::string_view(b + open + 1, token_end - open - 2);
      i = cur.SkipBlanks(token_end);
      if (cur.At(i) == ',') ++i;
    }
    series_end = i;
    i = cur.SkipBlanks(i);
  }
  out->series_text = body.substr(name_start, series_end - name_start);

  if (!Is(cur.At(i), kValueChar)) {
    return cur.Error(
        i, absl::StrCat("expected value after metric, got ", Got(body, i)));
  }
  const size_t value_start = i;
  i = SkipSampleValueBytes(b, i, n);
  if (absl::Status s =
          ParseGoFloat(body.substr(value_start, i - value_start), &out->value);
      !s.ok()) {
    return cur.Error(value_start, s.message());
  }

  i = cur.SkipBlanks(i);
  char c = cur.At(i);
  out->timestamp_ms.reset();
  if (c >= '0' && c <= '9') {
    const size_t ts_start = i;
    while (i < n && b[i] >= '0' && b[i] <= '9') ++i;
    int64_t ts = 0;
    if (absl::Status s =
            ParseTimestamp(body.substr(ts_start, i - ts_start), &ts);
        !s.ok()) {
      return cur.Error(ts_start, s.message());
    }
    out->timestamp_ms = ts;
    i = cur.SkipBlanks(i);
    c = cur.At(i);
    if (c != '\n') {
      return cur.Error(i, absl::StrCat("expected next entry after timestamp, "
                                       "got ",
                                       Got(body, i)));
    }
  } else if (c != '\n') {
    return cur.Error(i, absl::StrCat("expected timestamp or new record, got ",
                                     Got(body, i)));
  }
  out->end = cur.NextLine(i);

  // Checks of Prometheus's scrape loop and TSDB, in their order: a line with
  // leading blanks parses, but its metric name then includes the blanks.
  if (name_start != cur.entry_start) {
    return cur.Error(cur.entry_start, "invalid metric name");
  }
  const int k = labels->size() > kMaxLexedUniquenessCheck
                    ? FindNonUniqueLabel(*labels)
                    : (reserved >= 0 ? reserved : repeated);
  if (k >= 0) {
    const absl::string_view name = (*labels)[k].first;
    return SampleRejectedError(absl::StrCat("label name ", GoQuote(name),
                                            " is not unique: invalid sample"));
  }
  return absl::OkStatus();
}

// Parses the sample value at b[start] as ParseGoFloat() does if it is 1 to 7
// decimal digits (`0`, `909085`: most values of counters and histogram
// buckets) followed by a space or a newline, and b[start, start + 8) lies in
// the body `b[0, n)`: returns the offset just past the digits, or 0 (for
// anything else, changing nothing). Why: the digits are found, checked and
// converted 8 bytes at a time (SWAR), without the token scan, the call and
// the loop per digit, whose exit depends on each value's length. The result
// is the integer's double, as ParseGoFloat()'s (exact: below 2^53).
inline size_t ParseShortInteger(const char* b, size_t start, size_t n,
                                double* value) {
  if (start + 8 > n) return 0;
  uint64_t w = 0;
  std::memcpy(&w, b + start, 8);  // Byte k is b[start + k].
  // Bit 7 of byte k: b[start + k] is no digit. A digit's high nibble is 3
  // and stays 3 when 6 is added; a carry out of a byte >= 0xFA reaches only
  // later bytes, which are past a non-digit then.
  constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0u;
  constexpr uint64_t kThrees = 0x3030303030303030u;
  const uint64_t off =
      ((w & kHigh) ^ kThrees) | (((w + 0x0606060606060606u) & kHigh) ^ kThrees);
  const uint64_t off_bits =
      (off | off << 1 | off << 2 | off << 3) & 0x8080808080808080u;
  if (off_bits == 0) return 0;  // 8 digits or more.
  const unsigned length = static_cast<unsigned>(__builtin_ctzll(off_bits)) / 8;
  const char after = b[start + length];
  if (length == 0 || (after != ' ' && after != '\n')) return 0;
  // The digits' values, most significant first, moved up to end in byte 7
  // with zeros (leading zero digits) before them; the shift is 8 to 56.
  uint64_t v = (w - kThrees) << (8 * (8 - length));
  v = v * 10 + (v >> 8);  // Byte 2k + 1: the pair of digits 2k, 2k + 1.
  v = ((v & 0x000000FF000000FFu) * (100 + (uint64_t{1000000} << 32)) +
       ((v >> 16) & 0x000000FF000000FFu) * (1 + (uint64_t{10000} << 32))) >>
      32;
  *value = static_cast<double>(v);
  return start + length;
}

// ParseSimpleSampleTail() from the value on, which starts at
// body[value_start]; not inlined, so that the common case there takes no
// call and saves no registers.
ABSL_ATTRIBUTE_NOINLINE bool ParseSampleValueAndTimestamp(
    absl::string_view body, size_t value_start, SeriesLine* out) {
  const char* const b = body.data();
  const size_t n = body.size();
  // The end of the body reads as a newline, as in Cursor::At().
  auto at = [b, n](size_t i) { return i < n ? b[i] : '\n'; };
  size_t i = ParseShortInteger(b, value_start, n, &out->value);
  if (i == 0) {
    i = SkipSampleValueBytes(b, value_start, n);
    if (i == value_start ||
        !ParseGoFloat(body.substr(value_start, i - value_start), &out->value)
             .ok()) {
      return false;
    }
  }
  out->timestamp_ms.reset();
  if (at(i) == ' ') {
    const size_t ts_start = ++i;
    while (i < n && b[i] >= '0' && b[i] <= '9') ++i;
    int64_t ts = 0;
    if (i == ts_start ||
        !ParseTimestamp(body.substr(ts_start, i - ts_start), &ts).ok()) {
      return false;
    }
    out->timestamp_ms = ts;
  }
  if (at(i) != '\n') return false;
  out->newlines = 0;
  out->end = std::min(i + 1, n);
  return true;
}

// Parses the rest of a sample line of the shape client libraries write,
// ` value[ timestamp]` and the newline, after a series text that spans
// body[name_start, i). Returns false if the rest has another shape or does
// not parse. Inlined: a value of up to 7 digits followed by the newline,
// most lines, is done here.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ParseSimpleSampleTail(
    absl::string_view body, size_t name_start, size_t i, SeriesLine* out) {
  const char* const b = body.data();
  const size_t n = body.size();
  out->series_text = body.substr(name_start, i - name_start);
  if (i >= n || b[i] != ' ') return false;
  // ParseShortInteger() reads 8 bytes from i + 1, so `end` is in the body.
  const size_t end = ParseShortInteger(b, i + 1, n, &out->value);
  if (end != 0 && b[end] == '\n') {
    out->timestamp_ms.reset();
    out->newlines = 0;
    out->end = end + 1;
    return true;
  }
  return ParseSampleValueAndTimestamp(body, i + 1, out);
}

// Parses the sample line starting at `name_start` (a metric name byte at the
// start of its line) if it has the shape client libraries write, with none
// of the lexer's corners: `name{l="v",...} value[ timestamp]`, labels
// separated by single commas (one may trail), single spaces, label values
// of ASCII without escapes or newlines, at most 32 labels, none `__name__`
// or repeated. Returns false otherwise, or on any error, leaving `*out`
// unspecified and `labels` with extra entries; ParseSeriesLine() then
// decides. Why: most lines have this shape, and checking it skips the
// blank, NUL and escape handling that ParseSeriesLine does around every
// token. Whatever this accepts, ParseSeriesLine accepts with the same
// views, value, timestamp and end.
bool ParseSimpleSeriesLine(absl::string_view body, size_t name_start,
                           LabelViews* labels, SeriesLine* out) {
  const char* const b = body.data();
  const size_t n = body.size();
  // The end of the body reads as a newline, as in Cursor::At().
  auto at = [b, n](size_t i) { return i < n ? b[i] : '\n'; };
  size_t i = SkipMetricNameBytes(b, name_start + 1, n);
  out->metric_name = body.substr(name_start, i - name_start);
  if (at(i) == '{') {
    ++i;
    uint64_t seen_a = 0;  // NameFilterAdd() of the earlier names.
    uint64_t seen_b = 0;
    for (;;) {
      const size_t label_start = i;
      if (!Is(at(i), kLabelStart)) return false;
      i = SkipLabelNameBytes(b, i + 1, n);
      if (at(i) != '=' || at(i + 1) != '"') return false;
      const absl::string_view name(b + label_start, i - label_start);
      const size_t value_start = i + 2;
      i = SkipQuotedPlainBytes(b, value_start, n);
      if (at(i) != '"') return false;  // An escape, a newline, non-ASCII.
      if (labels->size() >= kMaxLexedUniquenessCheck ||
          name == kMetricNameLabel) {
        return false;
      }
      if (NameFilterAdd(name, &seen_a, &seen_b)) {
        for (const auto& earlier : *labels) {
          if (earlier.first == name) return false;
        }
      }
      auto& label = labels->emplace_back();
      label.first = name;
      label.second = absl::string_view(b + value_start, i - value_start);
      ++i;
      char c = at(i);
      if (c == ',') c = at(++i);
      if (c == '}') {
        ++i;
        break;
      }
      // No comma before the next label (`{a="1"b="2"}`) is rare: the
      // general lexer's business.
      if (b[i - 1] != ',') return false;
    }
  }
  return ParseSimpleSampleTail(body, name_start, i, out);
}

// Up to this many 64-byte blocks after `{` (1 KiB),
// ParseClassifiedSeriesLine() keeps a label set's masks on the stack; longer
// label sets take ParseSimpleSeriesLine().
constexpr int kMaxLabelBlocks = 16;

// Walks the quotes of a label set that starts at b[base]
// (ParseClassifiedSeriesLine()'s second pass), replacing `*labels` with its
// labels. quotes[k] is the quote mask of the block at b[base + 64 * k]; the
// blocks end with the one holding `stop`, followed by a sentinel block of all
// ones: its quotes lie past `stop`, where the walk fails, and are too many to
// run out of within a label, so that next_quote() needs no bound (nor a
// branch per block boundary). Returns the offset of the closing `}`, or 0 if
// the quotes do not pair up into at most 32 unique labels of the client shape
// (`*labels` is then unspecified).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t WalkLabelQuotes(
    const char* b, size_t base, size_t stop, const uint64_t* quotes,
    LabelViews* labels) {
  const uint64_t* next_block = quotes + 1;
  size_t block_base = base;      // The byte of bit 0 of the walked block.
  uint64_t pending = quotes[0];  // The quotes not yet walked in it.
  auto next_quote = [&]() {
    while (pending == 0) {
      block_base += 64;
      pending = *next_block++;
    }
    const size_t quote =
        block_base + static_cast<uint32_t>(__builtin_ctzll(pending));
    pending &= pending - 1;
    return quote;
  };
  // `*labels` keeps the previous line's labels: overwritten in place,
  // they cost no size update and no zeroing per label (a vector's
  // emplace_back() does both).
  auto* views = labels->data();
  auto* view = views;  // The next label's.
  // Up to here without growing `*labels` or passing the label limit.
  auto* room = views + std::min(labels->size(), kMaxLexedUniquenessCheck);
  // FilterMark() of the names, in registers.
  uint64_t seen_a = 0;
  uint64_t seen_b = 0;
  // Ends the label set at `end` (its `}`) unless a name repeats: a test
  // once per line, not one per label (a filter test and its branch).
  auto finish = [&](size_t end) -> size_t {
    const size_t count = static_cast<size_t>(view - views);
    if (!SurelyUniqueNames(count, seen_a, seen_b)) {
      for (size_t i = 1; i < count; ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (views[i].first == views[j].first) return 0;
        }
      }
    }
    labels->resize(count);
    return end;
  };
  size_t name_begin = base;
  for (;;) {
    const size_t open = next_quote();
    const size_t close = next_quote();
    // Before `stop`, b[close + 1] is in the body (the body's end reads as
    // a stop byte). (open >= name_begin: `""` or `",="` fail below.)
    if (close + 1 >= stop || b[open - 1] != '=' ||
        !Is(b[name_begin], kLabelStart)) {
      // A comma before the `}` (`{a="1",}`) ends the set too.
      if (view != views && name_begin < stop && b[name_begin] == '}') {
        return finish(name_begin);
      }
      return 0;
    }
    const char* const name = b + name_begin;
    // 32 bits (a label set here is at most 1 KiB): a string_view's length
    // then needs no check against its maximum (two instructions per view).
    const uint32_t name_size = static_cast<uint32_t>(open - 1 - name_begin);
    if (view == room) {
      const size_t count = static_cast<size_t>(view - views);
      if (count == kMaxLexedUniquenessCheck) return 0;
      // More labels than the previous line's.
      labels->emplace_back();
      views = labels->data();
      view = views + count;
      room = view + 1;
    }
    if (name_size == kMetricNameLabel.size() &&
        std::memcmp(name, kMetricNameLabel.data(), name_size) == 0) {
      return 0;
    }
    // The name's first two and last two bytes, counting the `=` after
    // it: two loads, where NameFilterAdd() takes three and a select.
    uint16_t head = 0;
    uint16_t tail_bytes = 0;
    std::memcpy(&head, name, 2);
    std::memcpy(&tail_bytes, b + open - 2, 2);
    FilterMark(uint64_t{name_size} << 32 | uint64_t{tail_bytes} << 16 | head,
               &seen_a, &seen_b);
    view->first = absl::string_view(name, name_size);
    view->second = absl::string_view(b + open + 1,
                                     static_cast<uint32_t>(close - open - 1));
    ++view;
    const char after = b[close + 1];
    if (after == '}') return finish(close + 1);
    if (after != ',') return 0;
    name_begin = close + 2;
  }
}

// Does what ParseSimpleSeriesLine() does, with its contract (same lines, same
// results), except that it replaces `*labels` (reusing its entries) instead
// of appending to an empty vector, checking the label set 64 bytes at a time.
// Why: token by token, each token's end is the address of the next token's
// load, a chain of about 15 cycles per token; the masks of a block (quotes,
// stop bytes, non-name bytes: exposition_scan.h ClassifyLabelBlock) depend only
// on its address, and the walk over them chains only a bit clear per quote.
//
// Two passes over the label set `{...}`:
//  1. Classify each block up to the first stop byte (`\`, newline,
//     >= 0x80; the line's newline is one). The prefix xor of the quotes
//     gives the bytes inside strings. Outside them, every byte that is not a
//     name byte must be right before an opening quote or right after a
//     closing one (`=`, `,`), or it is "unexplained".
//  2. Walk the quotes in pairs: each opening quote follows `=` and a label
//     name that starts with [a-zA-Z_]; each closing quote is followed by
//     `,` or `}` (`,}` ends it too). The label set is valid if it ends
//     before the first stop byte and none of its bytes is unexplained.
//
// Compiled twice, with each LabelBlocks below: `Classify` is
// ClassifyLabelBlock() and `PrefixXor` PrefixXor() in some instruction set.
// Always inlined, so that the whole walk of each copy gets its instructions.
template <typename LabelBlocks>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ParseClassifiedSeriesLine(
    absl::string_view body, size_t name_start, LabelViews* labels,
    SeriesLine* out) {
  const char* const b = body.data();
  const size_t n = body.size();
  auto at = [b, n](size_t i) { return i < n ? b[i] : '\n'; };
  size_t i = SkipMetricNameBytes(b, name_start + 1, n);
  out->metric_name = body.substr(name_start, i - name_start);
  if (at(i) == '{') {
    const size_t base = i + 1;  // The byte of bit 0 of block 0.
    uint64_t quotes[kMaxLabelBlocks + 1];
    uint64_t unexplained[kMaxLabelBlocks];
    int blocks = 0;
    size_t stop = 0;           // The first stop byte.
    uint64_t in_string = 0;    // All ones if the block starts inside a string.
    uint64_t quote_carry = 0;  // A quote ended the previous block.
    char tail[64];
    for (;;) {
      if (blocks == kMaxLabelBlocks) {
        labels->clear();
        return ParseSimpleSeriesLine(body, name_start, labels, out);
      }
      const size_t s = base + 64 * static_cast<size_t>(blocks);
      const char* block = b + s;
      if (s + 64 > n) {  // The body's end reads as newlines.
        std::memset(tail, '\n', sizeof(tail));
        if (s < n) std::memcpy(tail, b + s, n - s);
        block = tail;
      }
      const LabelBlockMasks m = LabelBlocks::Classify(block);
      const uint64_t inside = LabelBlocks::PrefixXor(m.quote) ^ in_string;
      in_string = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
      // Right before or after any quote: the bytes right after an opening
      // quote and right before a closing one are inside the string or a
      // quote, so opening and closing quotes need no telling apart.
      unexplained[blocks] = m.non_name & ~inside & ~(m.quote >> 1) &
                            ~((m.quote << 1) | quote_carry);
      if (blocks > 0) unexplained[blocks - 1] &= ~(m.quote << 63);
      quote_carry = m.quote >> 63;
      quotes[blocks++] = m.quote;
      if (m.stop != 0) {
        stop = s + static_cast<size_t>(__builtin_ctzll(m.stop));
        break;
      }
    }
    quotes[blocks] = ~uint64_t{0};  // WalkLabelQuotes()'s sentinel.
    const size_t end = WalkLabelQuotes(b, base, stop, quotes, labels);
    if (end == 0 || end >= stop) return false;
    const size_t length = end - base;
    for (size_t k = 0; k < length / 64; ++k) {
      if (unexplained[k] != 0) return false;
    }
    if ((unexplained[length / 64] & ((uint64_t{1} << (length % 64)) - 1)) !=
        0) {
      return false;
    }
    i = end + 1;
  } else {
    labels->clear();
  }
  return ParseSimpleSampleTail(body, name_start, i, out);
}

struct BaselineLabelBlocks {
  static LabelBlockMasks Classify(const char* p) {
    return ClassifyLabelBlock(p);
  }
  static uint64_t PrefixXor(uint64_t x) { return fedgate::PrefixXor(x); }
};

bool ParseClassifiedSeriesLineBaseline(absl::string_view body,
                                       size_t name_start, LabelViews* labels,
                                       SeriesLine* out) {
  return ParseClassifiedSeriesLine<BaselineLabelBlocks>(body, name_start,
                                                        labels, out);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
struct Avx2LabelBlocks {
  __attribute__((target("avx2"))) static LabelBlockMasks Classify(
      const char* p) {
    return ClassifyLabelBlockAvx2(p);
  }
  __attribute__((target("pclmul"))) static uint64_t PrefixXor(uint64_t x) {
    return PrefixXorClmul(x);
  }
};

// The walk compiled for AVX2 CPUs: besides the wider masks, BMI1 and BMI2
// clear and count bits and shift by variable counts in one instruction each.
__attribute__((target("avx2,bmi,bmi2,pclmul,popcnt"))) bool
ParseClassifiedSeriesLineAvx2(absl::string_view body, size_t name_start,
                              LabelViews* labels, SeriesLine* out) {
  return ParseClassifiedSeriesLine<Avx2LabelBlocks>(body, name_start, labels,
                                                    out);
}

TextParserSimd WidestSimd() {
  return CpuHasLabelBlocksAvx2() ? TextParserSimd::kAvx2
                                 : TextParserSimd::kBaseline;
}
#else
TextParserSimd WidestSimd() { return TextParserSimd::kBaseline; }
#endif

// ParseClassifiedSeriesLine() with the instructions of `simd`.
inline bool ParseClassifiedSeriesLine(TextParserSimd simd,
                                      absl::string_view body, size_t name_start,
                                      LabelViews* labels, SeriesLine* out) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (simd == TextParserSimd::kAvx2) {
    return ParseClassifiedSeriesLineAvx2(body, name_start, labels, out);
  }
#endif
  return ParseClassifiedSeriesLineBaseline(body, name_start, labels, out);
}

std::atomic<TextParserSimd>& ActiveSimdLevel() {
  static std::atomic<TextParserSimd> level{WidestSimd()};
  return level;
}

// The fields of a `#` line.
struct HashLine {
  ParseEntry entry = ParseEntry::kComment;
  absl::string_view family_name;
  MetricType type = MetricType::kUntyped;
  absl::string_view raw_help;
  size_t end = 0;  // Offset just past the line.
};

// Matches `keyword` followed by blanks at `*i`, skipping NULs after every
// byte as the lexer does in its comment state; on success moves `*i` past
// the blanks.
bool MatchKeyword(const Cursor& cur, absl::string_view keyword, size_t* i) {
  size_t j = *i;
  for (const char k : keyword) {
    if (cur.At(j) != k) return false;
    j = cur.SkipNuls(j + 1);
  }
  if (!IsBlank(cur.At(j))) return false;
  do {
    j = cur.SkipNuls(j + 1);
  } while (IsBlank(cur.At(j)));
  *i = j;
  return true;
}

// Parses the line whose `#` is at `hash`.
absl::Status ParseHashLine(const Cursor& cur, size_t hash, HashLine* out) {
  const absl::string_view body = cur.body;
  size_t i = hash + 1;
  if (!IsBlank(cur.At(i))) {
    // `#foo`: a comment, lexed outside the comment state, so a NUL is EOF.
    const size_t eol = cur.LineEnd(i);
    if (i < eol && std::memchr(body.data() + i, '\0', eol - i) != nullptr) {
      out->entry = ParseEntry::kEof;
      out->end = body.size();
      return absl::OkStatus();
    }
    out->entry = ParseEntry::kComment;
    out->end = cur.NextLine(eol);
    return absl::OkStatus();
  }
  i = cur.SkipBlanks(i);
  if (cur.At(i) == '\0') {
    out->entry = ParseEntry::kEof;
    out->end = body.size();
    return absl::OkStatus();
  }
  absl::string_view keyword;
  if (MatchKeyword(cur, "HELP", &i)) {
    out->entry = ParseEntry::kHelp;
    keyword = "HELP";
  } else if (MatchKeyword(cur, "TYPE", &i)) {
    out->entry = ParseEntry::kType;
    keyword = "TYPE";
  } else {
    out->entry = ParseEntry::kComment;
    out->end = cur.NextLine(cur.LineEnd(i));
    return absl::OkStatus();
  }

  if (!Is(cur.At(i), kMetricStart)) {
    return cur.Error(i, absl::StrCat("expected metric name after ", keyword,
                                     ", got ", Got(body, i)));
  }
  const size_t name_start = i++;
  while (i < body.size() && Is(body[i], kMetricChar)) ++i;
  out->family_name = body.substr(name_start, i - name_start);

  // The text token is the rest of the line; Prometheus drops its first byte
  // (normally the separating blank). Blanks alone are no text.
  const size_t eol = cur.LineEnd(i);
  const absl::string_view rest = body.substr(i, eol - i);
  size_t text_start = i;
  if (!rest.empty()) {
    if (rest[0] == '\0') {
      return cur.Error(i, absl::StrCat("linebreak expected after metadata, "
                                       "got ",
                                       GoQuote(rest.substr(0, 1))));
    }
    text_start = eol;
    if (!IsBlank(rest[0])) {
      text_start = i + 1;
    } else {
      for (const char c : rest) {
        if (!IsBlank(c) && c != '\0') {
          text_start = i + 1;
          break;
        }
      }
    }
  }
  const absl::string_view text = body.substr(text_start, eol - text_start);
  if (out->entry == ParseEntry::kType) {
    if (!ParseTextTypeName(text, &out->type)) {
      return cur.Error(text_start,
                       absl::StrCat("invalid metric type ", GoQuote(text)));
    }
  } else {
    if (!IsValidUtf8(text)) {
      return cur.Error(text_start, "help text is not a valid utf8 string");
    }
    out->raw_help = text;
  }
  out->end = cur.NextLine(eol);
  return absl::OkStatus();
}

}  // namespace

absl::string_view TextParserSimdName(TextParserSimd simd) {
  return simd == TextParserSimd::kAvx2 ? "avx2" : "baseline";
}

namespace text_parser_internal {

TextParserSimd ActiveSimd() {
  return ActiveSimdLevel().load(std::memory_order_relaxed);
}

bool SetActiveSimd(TextParserSimd simd) {
  if (simd == TextParserSimd::kAvx2 && WidestSimd() != TextParserSimd::kAvx2) {
    return false;
  }
  ActiveSimdLevel().store(simd, std::memory_order_relaxed);
  return true;
}

}  // namespace text_parser_internal

TextParser::TextParser(absl::string_view body)
    : simd_(text_parser_internal::ActiveSimd()), body_(body) {}

absl::StatusOr<ParseEntry> TextParser::Next() {
  // Most lines are series of the client shape: they take the shortcuts in a
  // small frame; NextEntry()'s locals for its rare paths (comments, blank
  // lines, errors) cost about 25 instructions of prologue per call.
  const bool series_line = pos_ < body_.size() && Is(body_[pos_], kMetricStart);
  // The line at pos_: one past the previous entry's, plus any newlines its
  // label values held.
  if (series_line && NextShapedSeries(line_ + 1 + series_newlines_)) {
    return ParseEntry::kSeries;
  }
  return NextEntry(/*shortcuts_failed=*/series_line);
}

// Inlined into both callers: as a call it took 22 instructions more per line.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool TextParser::NextShapedSeries(
    int line) {
  if (cache_ != nullptr && NextCachedSeries()) {
    line_ = line;
    series_newlines_ = 0;
    return true;
  }
  SeriesLine series;
  if (!ParseClassifiedSeriesLine(simd_, body_, pos_, &label_views_, &series)) {
    return false;
  }
  line_ = line;
  TakeSeries(series);
  return true;
}

void TextParser::TakeSeries(const SeriesLine& series) {
  cached_ = nullptr;
  labels_pending_ = false;
  series_text_ = series.series_text;
  series_newlines_ = series.newlines;
  metric_name_ = series.metric_name;
  value_ = series.value;
  timestamp_ms_ = series.timestamp_ms;
  pos_ = series.end;
}

absl::StatusOr<ParseEntry> TextParser::NextEntry(bool shortcuts_failed) {
  const size_t n = body_.size();
  if (pos_ >= n) return ParseEntry::kEof;
  // The line at pos_: one past the previous entry's, plus any newlines its
  // label values held.
  int line = line_ + 1 + series_newlines_;
  series_text_ = absl::string_view();
  series_newlines_ = 0;
  while (pos_ < n) {
    const Cursor cur{body_, pos_, line};
    const size_t i = cur.SkipBlanks(pos_);
    const char c = cur.At(i);
    if (c == '\n') {  // A blank line.
      pos_ = cur.NextLine(i);
      ++line;
      continue;
    }
    line_ = line;
    if (Is(c, kMetricStart)) {
      // The shortcuts take lines that start at pos_ (no leading blanks). At
      // the first line, Next() tried them already (`shortcuts_failed`).
      if (i == pos_ && !shortcuts_failed && NextShapedSeries(line)) {
        return ParseEntry::kSeries;
      }
      label_views_.clear();
      SeriesLine series;
      if (absl::Status s = ParseSeriesLine(cur, i, &label_views_, &series);
          !s.ok()) {
        return s;
      }
      TakeSeries(series);
      return ParseEntry::kSeries;
    }
    if (c == '#') {
      HashLine hash_line;
      if (absl::Status s = ParseHashLine(cur, i, &hash_line); !s.ok()) {
        return s;
      }
      pos_ = hash_line.end;
      if (hash_line.entry == ParseEntry::kHelp ||
          hash_line.entry == ParseEntry::kType) {
        family_name_ = hash_line.family_name;
        type_ = hash_line.type;
        raw_help_ = hash_line.raw_help;
      }
      return hash_line.entry;
    }
    if (c == '\0') {  // The lexer reads a NUL at a line start as EOF.
      pos_ = n;
      return ParseEntry::kEof;
    }
    return cur.Error(
        i, absl::StrCat("expected a valid start token, got ", Got(body_, i)));
  }
  line_ = line;
  return ParseEntry::kEof;
}

bool TextParser::NextCachedSeries() {
  const char* const b = body_.data();
  const size_t n = body_.size();
  const char* nl =
      static_cast<const char*>(std::memchr(b + pos_, '\n', n - pos_));
  const size_t end = nl == nullptr ? n : static_cast<size_t>(nl - b);
  const absl::string_view line = body_.substr(pos_, end - pos_);
  // `<series> <value>` or `<series> <value> <timestamp>`, single spaces:
  // what every client library writes. Anything else takes the full parser.
  // (A value token is checked by ParseGoFloat alone: the bytes that would
  // end it early, blanks, NUL and `{`, are no float syntax either.)
  auto last_space = [&line](size_t end) -> size_t {
    const void* p = memrchr(line.data(), ' ', end);
    return p == nullptr
               ? 0
               : static_cast<size_t>(static_cast<const char*>(p) - line.data());
  };
  const size_t last = last_space(line.size());
  if (last == 0) return false;  // No space, or a blank at the line start.
  double value = 0;
  std::optional<int64_t> timestamp;
  absl::string_view text = line.substr(0, last);
  void* entry = nullptr;
  const absl::string_view tail = line.substr(last + 1);
  if (ParseGoFloat(tail, &value).ok()) entry = cache_->Find(text);
  if (entry == nullptr) {
    // With a timestamp: the value is the token before.
    const size_t before = last_space(last);
    if (before == 0 || tail.empty() || tail.size() > 19) return false;
    for (char c : tail) {
      if (c < '0' || c > '9') return false;
    }
    const absl::string_view v = line.substr(before + 1, last - before - 1);
    int64_t ts = 0;
    if (!ParseGoFloat(v, &value).ok() || !ParseTimestamp(tail, &ts).ok()) {
      return false;
    }
    text = line.substr(0, before);
    entry = cache_->Find(text);
    if (entry == nullptr) return false;
    timestamp = ts;
  }
  // A known text was fully parsed before: the same bytes parse the same.
  // The metric name and labels are found when asked for.
  series_text_ = text;
  metric_name_ = absl::string_view();
  value_ = value;
  timestamp_ms_ = timestamp;
  cached_ = entry;
  labels_pending_ = true;
  pos_ = nl == nullptr ? n : end + 1;
  return true;
}

absl::string_view TextParser::metric_name() const {
  if (labels_pending_ && metric_name_.empty()) {
    size_t end = 1;
    while (end < series_text_.size() && Is(series_text_[end], kMetricChar)) {
      ++end;
    }
    metric_name_ = series_text_.substr(0, end);
  }
  return metric_name_;
}

void TextParser::GetLabels(std::vector<Label>* labels) const {
  if (labels_pending_) {
    // Recognised through the cache: parse the labels now, rarely needed.
    metric_name();
    labels_pending_ = false;
    label_views_.clear();
    const size_t start =
        static_cast<size_t>(series_text_.data() - body_.data());
    const Cursor cur{body_, start, line_};
    SeriesLine series;
    ParseSeriesLine(cur, start, &label_views_, &series).IgnoreError();
  }
  BuildSeriesLabels(metric_name(), label_views_, labels);
}

absl::string_view TextParser::help_text(std::string* storage) const {
  if (raw_help_.find('\\') == absl::string_view::npos) return raw_help_;
  UnescapeLabelText(raw_help_, /*quotes=*/false, storage);
  return *storage;
}

std::string TextParser::help() const {
  std::string text;
  UnescapeLabelText(raw_help_, /*quotes=*/false, &text);
  return text;
}

}  // namespace fedgate
