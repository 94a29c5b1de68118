// scraper/exposition/text_lexer.h
//
// The general lexer of the text format 0.0.4, for TextParser (text_parser.h)
// alone: the byte classes, the bounds-safe cursor and the "expected X, got Y"
// wording every part of the parser shares, the series-line and `#`-line
// parsers that take every corner of Prometheus 2.42's golex lexer, and the
// Bloom filter of label names that checks label-name uniqueness while lexing.
//
// Hot path: the byte classes, the filter and ParseTimestamp() run per sample
// (inlined into the client-shape shortcut, text_series_shortcut.h, and into
// TextParser's steady-state path), so they are defined here. ParseSeriesLine()
// runs for the lines the shortcut does not take (a few per scrape on the
// bodies client libraries write) and, cold, for series first seen through
// the scrape cache.
//
// Thread-safety: stateless functions; safe from any thread.

#ifndef FEDGATE_SCRAPER_EXPOSITION_TEXT_LEXER_H_
#define FEDGATE_SCRAPER_EXPOSITION_TEXT_LEXER_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "merge/metric_metadata.h"
#include "scraper/exposition/exposition_parser.h"
#include "scraper/exposition/exposition_scan.h"

namespace fedgate {
namespace text_parser_internal {

// Byte classes of the lexer, as bit flags in one table: the name bits of
// exposition_scan.h (kMetricStart, kMetricChar, kLabelStart) and kValueChar
// (token bodies are scanned 16 bytes at a time by exposition_scan.h's
// Skip*Bytes). kValueChar is [^\0\t\n {], a value byte.
inline constexpr uint8_t kValueChar = 1 << kFirstFreeByteClass;

constexpr std::array<uint8_t, 256> MakeTextByteClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = NameByteClasses(c);
    if (c != 0 && c != '\t' && c != '\n' && c != ' ' && c != '{') {
      t[c] |= kValueChar;
    }
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> kTextByteClass =
    MakeTextByteClasses();

// Returns true if `c` is in the byte class `cls`.
inline bool Is(char c, uint8_t cls) {
  return (kTextByteClass[static_cast<unsigned char>(c)] & cls) != 0;
}

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Describes what the lexer found at `at` for "expected X, got Y" messages.
std::string Got(absl::string_view body, size_t at);

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
inline absl::Status ParseTimestamp(absl::string_view s, int64_t* ms) {
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

// The fields of a sample line.
struct SeriesLine {
  absl::string_view series_text;
  absl::string_view metric_name;
  int newlines = 0;  // Raw newlines in label values of series_text.
  double value = 0;
  std::optional<int64_t> timestamp_ms;
  size_t end = 0;  // Offset just past the line.
};

// Sets out->metric_name to the metric name at `name_start` (whose first byte
// the caller checked) and returns the offset just past it.
inline size_t TakeMetricName(absl::string_view body, size_t name_start,
                             SeriesLine* out) {
  const size_t end =
      SkipMetricNameBytes(body.data(), name_start + 1, body.size());
  out->metric_name = body.substr(name_start, end - name_start);
  return end;
}

// Up to this many labels, the parsers check label-name uniqueness while
// lexing; beyond, FindNonUniqueLabel() (which sorts) does, so that many
// labels never make the check quadratic.
inline constexpr size_t kMaxLexedUniquenessCheck = 32;

constexpr std::array<uint64_t, 64> MakeBitMasks() {
  std::array<uint64_t, 64> masks{};
  for (int k = 0; k < 64; ++k) masks[k] = uint64_t{1} << k;
  return masks;
}

// kBitMasks[k] is 1 << k.
inline constexpr std::array<uint64_t, 64> kBitMasks = MakeBitMasks();

// The label names of one series seen so far, as a Bloom filter of two
// 64-bit words (one bit in each per name), for the uniqueness check while
// lexing: a name whose two bits are both set already may repeat an earlier
// one and is compared with the earlier names exactly. Each hit costs a
// mispredicted branch and a compare per earlier label, so the filter must
// rarely hit on the label sets of real targets: with one word, names collide
// somewhere in about half of the random sets of 10 names (the birthday
// bound); with two, in 6%. Bits 58-63 and 40-45 of the product keep the 15
// label names of a Linkerd proxy, the longest label sets of the benchmark
// bodies, apart in all its lines with NameFilterAdd()'s key.
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
  // x86-64, and two of them keep one of the filter words on the stack.
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

// Parses the sample line whose metric name starts at `name_start`, appending
// its raw label views to `*labels` (values still escaped), with every corner
// of the 2.42 lexer: optional commas, blanks around every token, raw
// newlines and NULs in label values. Then makes the checks of Prometheus's
// scrape loop and TSDB: a line with leading blanks fails as "invalid metric
// name", a `__name__` label or a repeated label name as a sample the storage
// rejects (exposition_parser.h SampleRejectedError()).
absl::Status ParseSeriesLine(const Cursor& cur, size_t name_start,
                             LabelViews* labels, SeriesLine* out);

// The fields of a `#` line.
struct HashLine {
  ParseEntry entry = ParseEntry::kComment;
  absl::string_view family_name;
  MetricType type = MetricType::kUntyped;
  absl::string_view raw_help;  // Still escaped.
  size_t end = 0;              // Offset just past the line.
};

// Parses the line whose `#` is at `hash`: `# HELP`, `# TYPE`, any other
// comment, or the end of the body where a NUL makes golex report EOF.
absl::Status ParseHashLine(const Cursor& cur, size_t hash, HashLine* out);

}  // namespace text_parser_internal
}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_TEXT_LEXER_H_
