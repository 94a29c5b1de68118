// scraper/text_parser.cc
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
// Cost: one pass with table-driven scanning; Next() allocates nothing (it
// reuses label_views_) except when a series has more than 64 labels (the
// duplicate check then sorts a copy of the names). Unescaping happens only in
// GetLabels() and help(). Errors are cold and may rescan their line.

#include "scraper/text_parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/casts.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fedgate {
namespace {

// Byte classes of the lexer, as bit flags in one table.
constexpr uint8_t kMetricStart = 1 << 0;  // [a-zA-Z_:]
constexpr uint8_t kMetricChar = 1 << 1;   // [a-zA-Z0-9_:]
constexpr uint8_t kLabelStart = 1 << 2;   // [a-zA-Z_]
constexpr uint8_t kLabelChar = 1 << 3;    // [a-zA-Z0-9_]
constexpr uint8_t kValueChar = 1 << 4;    // [^\0\t\n {], a sample value byte
constexpr uint8_t kQuotedPlain = 1 << 5;  // ASCII but `"` and `\`

constexpr std::array<uint8_t, 256> MakeByteClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    uint8_t f = 0;
    if (alpha || c == '_' || c == ':') f |= kMetricStart | kMetricChar;
    if (digit) f |= kMetricChar | kLabelChar;
    if (alpha || c == '_') f |= kLabelStart | kLabelChar;
    if (c != 0 && c != '\t' && c != '\n' && c != ' ' && c != '{') {
      f |= kValueChar;
    }
    if (c < 0x80 && c != '"' && c != '\\') f |= kQuotedPlain;
    t[c] = f;
  }
  return t;
}

constexpr std::array<uint8_t, 256> kByteClass = MakeByteClasses();

inline bool Is(char c, uint8_t cls) {
  return (kByteClass[static_cast<unsigned char>(c)] & cls) != 0;
}

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// The normal NaN Prometheus stores for any exposed NaN (value.NormalNaN), so
// that an exposed value can never carry the staleness marker's bit pattern.
constexpr uint64_t kNormalNaNBits = 0x7ff8000000000001ULL;

// Returns the length of the valid UTF-8 sequence at p[0..len), or 0 if the
// bytes there are not one (the rules of Go's utf8.Valid: no overlong forms,
// no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(const unsigned char* p, size_t len) {
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c == 0xE0) {
    need = 2;
    lo = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    need = 2;
  } else if (c == 0xED) {
    need = 2;
    hi = 0x9F;
  } else if (c == 0xF0) {
    need = 3;
    lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    need = 3;
  } else if (c == 0xF4) {
    need = 3;
    hi = 0x8F;
  } else {
    return 0;
  }
  if (len - 1 < need) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k <= need; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
  }
  return need + 1;
}

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t len = s.size();
  size_t i = 0;
  while (i < len) {
    if (i + 8 <= len) {
      uint64_t word;
      std::memcpy(&word, p + i, sizeof(word));
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const size_t n = Utf8SequenceLength(p + i, len - i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Returns `s` as a double-quoted string with Go's %q escapes for quotes,
// backslashes, control bytes and invalid UTF-8, so error messages stay on one
// line and show exactly which bytes were exposed.
std::string Quote(absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = p[i];
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(p + i, s.size() - i);
      if (n > 0) {
        out.append(s.data() + i, n);
        i += n;
        continue;
      }
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
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
      default:
        if (c < 0x20 || c >= 0x7F) {
          out.append("\\x");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

// Lines longer than this are quoted in error messages as a window around the
// offending column.
constexpr size_t kMaxQuotedLine = 100;

std::string QuoteLine(absl::string_view line, size_t column0) {
  if (line.size() <= kMaxQuotedLine) return Quote(line);
  size_t from = column0 > 40 ? column0 - 40 : 0;
  from = std::min(from, line.size() - kMaxQuotedLine);
  const size_t to = from + kMaxQuotedLine;
  std::string quoted = Quote(line.substr(from, to - from));
  if (from > 0) quoted.insert(1, "...");
  if (to < line.size()) quoted.insert(quoted.size() - 1, "...");
  return quoted;
}

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
  constexpr size_t kMaxExcerpt = 24;
  if (end - at <= kMaxExcerpt) return Quote(body.substr(at, end - at));
  std::string quoted = Quote(body.substr(at, kMaxExcerpt));
  quoted.insert(quoted.size() - 1, "...");
  return quoted;
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
    at = std::min(at, body.size());
    int line = entry_line;
    size_t line_start = entry_start;
    for (size_t k = entry_start; k < at; ++k) {
      if (body[k] == '\n') {
        ++line;
        line_start = k + 1;
      }
    }
    const size_t column0 = at - line_start;
    const absl::string_view text =
        body.substr(line_start, LineEnd(line_start) - line_start);
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line, ", column ", column0 + 1, ": ", reason,
                     " in ", QuoteLine(text, column0)));
  }
};

bool EqualsIgnoreCase(absl::string_view s, absl::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

constexpr double kExactPowersOfTen[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// Parses a sample value as promparse.go does: `p`, `P` and `_` are refused,
// then Go's strconv.ParseFloat(s, 64) decides. That accepts decimal
// `[+-]?(d+.?d*|.d+)([eE][+-]?d+)?`, `[+-]?inf`, `[+-]?infinity` and `nan`
// (case-insensitive, NaN unsigned), rounds correctly, turns underflow into
// ±0 and fails on overflow. Hex floats need `p`, so they all fail.
absl::Status ParseValue(absl::string_view s, double* value) {
  for (const char c : s) {
    if (c == 'p' || c == 'P' || c == '_') {
      return absl::InvalidArgumentError("unsupported character in float");
    }
  }
  auto syntax_error = [s] {
    return absl::InvalidArgumentError(absl::StrCat(
        "strconv.ParseFloat: parsing ", Quote(s), ": invalid syntax"));
  };
  size_t i = 0;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    i = 1;
  }
  const absl::string_view digits = s.substr(i);
  if (digits.empty()) return syntax_error();
  const char first = digits[0];
  if (first == 'i' || first == 'I') {
    if (!EqualsIgnoreCase(digits, "inf") &&
        !EqualsIgnoreCase(digits, "infinity")) {
      return syntax_error();
    }
    *value = negative ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
    return absl::OkStatus();
  }
  if (first == 'n' || first == 'N') {
    if (i != 0 || !EqualsIgnoreCase(digits, "nan")) return syntax_error();
    *value = absl::bit_cast<double>(kNormalNaNBits);
    return absl::OkStatus();
  }

  // Validate the decimal syntax, collecting up to 15 significant digits for
  // the exact fast path (m * 10^e with m < 2^53 and |e| <= 22 rounds once).
  uint64_t mantissa = 0;
  int significant = 0;      // Digits in `mantissa` from the first non-zero.
  bool truncated = false;   // More significant digits than the fast path takes.
  int64_t point_shift = 0;  // Fraction digits consumed into `mantissa`.
  int64_t magnitude = 0;    // Decimal exponent of the first non-zero digit.
  bool seen_digit = false;
  bool seen_nonzero = false;
  bool seen_point = false;
  size_t k = 0;
  for (; k < digits.size(); ++k) {
    const char c = digits[k];
    if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (c != '0' && !seen_nonzero) seen_nonzero = true;
      if (seen_nonzero && !seen_point) ++magnitude;
      if (!seen_nonzero && seen_point) --magnitude;
      if (significant < 15) {
        mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
        if (mantissa != 0) ++significant;
        if (seen_point) ++point_shift;
      } else {
        truncated = true;
      }
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!seen_digit) return syntax_error();
  int64_t exponent = 0;
  if (k < digits.size() && (digits[k] == 'e' || digits[k] == 'E')) {
    ++k;
    bool negative_exponent = false;
    if (k < digits.size() && (digits[k] == '+' || digits[k] == '-')) {
      negative_exponent = digits[k] == '-';
      ++k;
    }
    if (k >= digits.size() || digits[k] < '0' || digits[k] > '9') {
      return syntax_error();
    }
    for (; k < digits.size() && digits[k] >= '0' && digits[k] <= '9'; ++k) {
      if (exponent < 100000) exponent = exponent * 10 + (digits[k] - '0');
    }
    if (negative_exponent) exponent = -exponent;
  }
  if (k != digits.size()) return syntax_error();

  double result;
  const int64_t scale = exponent - point_shift;
  if (!truncated && scale >= -22 && scale <= 22) {
    result = static_cast<double>(mantissa);
    if (scale >= 0) {
      result *= kExactPowersOfTen[scale];
    } else {
      result /= kExactPowersOfTen[-scale];
    }
  } else {
    const std::from_chars_result r =
        std::from_chars(digits.data(), digits.data() + digits.size(), result,
                        std::chars_format::general);
    if (r.ptr != digits.data() + digits.size()) return syntax_error();
    if (r.ec == std::errc::result_out_of_range) {
      // Go fails on overflow but returns zero on underflow.
      if (magnitude + exponent > 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "strconv.ParseFloat: parsing ", Quote(s), ": value out of range"));
      }
      result = 0;
    } else if (r.ec != std::errc()) {
      return syntax_error();
    }
  }
  *value = negative ? -result : result;
  return absl::OkStatus();
}

// Parses a timestamp the lexer found (`[0-9]+`) like strconv.ParseInt(s, 10,
// 64).
absl::Status ParseTimestamp(absl::string_view s, int64_t* ms) {
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  uint64_t v = 0;
  for (const char c : s) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (kMax - d) / 10) {
      return absl::InvalidArgumentError(absl::StrCat(
          "strconv.ParseInt: parsing ", Quote(s), ": value out of range"));
    }
    v = v * 10 + d;
  }
  *ms = static_cast<int64_t>(v);
  return absl::OkStatus();
}

using LabelViews = std::vector<std::pair<absl::string_view, absl::string_view>>;

// Returns the index of the first label whose name is `__name__` or repeats an
// earlier one, or -1. Prometheus's TSDB rejects both as "not unique".
int FindNonUniqueLabel(const LabelViews& labels) {
  const int n = static_cast<int>(labels.size());
  for (int k = 0; k < n; ++k) {
    if (labels[k].first == kMetricNameLabel) return k;
  }
  if (n <= 32) {
    for (int k = 1; k < n; ++k) {
      for (int j = 0; j < k; ++j) {
        if (labels[k].first == labels[j].first) return k;
      }
    }
    return -1;
  }
  absl::InlinedVector<std::pair<absl::string_view, int>, 64> names;
  names.reserve(labels.size());
  for (int k = 0; k < n; ++k) names.emplace_back(labels[k].first, k);
  std::sort(names.begin(), names.end());
  int found = -1;
  for (size_t k = 1; k < names.size(); ++k) {
    if (names[k].first == names[k - 1].first &&
        (found < 0 || names[k].second < found)) {
      found = names[k].second;
    }
  }
  return found;
}

// The fields of a sample line.
struct SeriesLine {
  absl::string_view series_text;
  absl::string_view metric_name;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
  size_t end = 0;  // Offset just past the line.
};

// Parses the sample line whose metric name starts at `name_start`, filling
// `labels` with raw label views.
absl::Status ParseSeriesLine(const Cursor& cur, size_t name_start,
                             LabelViews* labels, SeriesLine* out) {
  const absl::string_view body = cur.body;
  const size_t n = body.size();
  const char* const b = body.data();
  size_t i = name_start + 1;
  while (i < n && Is(b[i], kMetricChar)) ++i;
  out->metric_name = body.substr(name_start, i - name_start);
  size_t series_end = i;

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
      const size_t label_start = i++;
      while (i < n && Is(b[i], kLabelChar)) ++i;
      const absl::string_view name = body.substr(label_start, i - label_start);
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
        while (i < n && Is(b[i], kQuotedPlain)) ++i;
        if (i >= n) {
          return cur.Error(open,
                           "expected label value, got unterminated string");
        }
        const char c2 = b[i];
        if (c2 == '"') break;
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
      labels->emplace_back(name, body.substr(open + 1, token_end - open - 2));
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
  while (i < n && Is(b[i], kValueChar)) ++i;
  if (absl::Status s =
          ParseValue(body.substr(value_start, i - value_start), &out->value);
      !s.ok()) {
    return cur.Error(value_start, s.message());
  }

  i = cur.SkipBlanks(i);
  char c = cur.At(i);
  out->timestamp_ms.reset();
  if (c >= '0' && c <= '9') {
    const size_t ts_start = i;
    while (i < n && b[i] >= '0' && b[i] <= '9') ++i;
    int64_t ts;
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
  if (const int k = FindNonUniqueLabel(*labels); k >= 0) {
    const absl::string_view name = (*labels)[k].first;
    return cur.Error(static_cast<size_t>(name.data() - body.data()),
                     absl::StrCat("label name ", Quote(name),
                                  " is not unique: invalid "
                                  "sample"));
  }
  return absl::OkStatus();
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
                                       Quote(rest.substr(0, 1))));
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
                       absl::StrCat("invalid metric type ", Quote(text)));
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

// Appends `raw` to `out` with the escapes of a label value (`\\`, `\"`,
// `\n`) or, if `quotes` is false, of HELP text (`\\`, `\n`) undone. Other
// backslashes are kept, as Go's strings.Replacer does.
void Unescape(absl::string_view raw, bool quotes, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < raw.size()) {
    const void* bs = std::memchr(raw.data() + i, '\\', raw.size() - i);
    if (bs == nullptr) {
      out->append(raw.data() + i, raw.size() - i);
      return;
    }
    const size_t k = static_cast<const char*>(bs) - raw.data();
    out->append(raw.data() + i, k - i);
    const char next = k + 1 < raw.size() ? raw[k + 1] : '\0';
    if (next == '\\' || (quotes && next == '"')) {
      out->push_back(next);
      i = k + 2;
    } else if (next == 'n') {
      out->push_back('\n');
      i = k + 2;
    } else {
      out->push_back('\\');
      i = k + 1;
    }
  }
}

int CountNewlines(absl::string_view s) {
  int count = 0;
  const char* p = s.data();
  const char* const end = s.data() + s.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', end - p);
    if (nl == nullptr) break;
    ++count;
    p = static_cast<const char*>(nl) + 1;
  }
  return count;
}

}  // namespace

TextParser::TextParser(absl::string_view body) : body_(body) {}

absl::StatusOr<ParseEntry> TextParser::Next() {
  const size_t n = body_.size();
  if (pos_ >= n) return ParseEntry::kEof;
  // The line at pos_: one past the previous entry's, plus any newlines its
  // label values held.
  int line = line_ + 1 + CountNewlines(series_text_);
  series_text_ = absl::string_view();
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
      label_views_.clear();
      SeriesLine series;
      if (absl::Status s = ParseSeriesLine(cur, i, &label_views_, &series);
          !s.ok()) {
        return s;
      }
      series_text_ = series.series_text;
      metric_name_ = series.metric_name;
      value_ = series.value;
      timestamp_ms_ = series.timestamp_ms;
      pos_ = series.end;
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

void TextParser::GetLabels(std::vector<Label>* labels) const {
  // resize() keeps the strings' buffers, so a reused vector rarely allocates.
  labels->resize(label_views_.size() + 1);
  Label& name = (*labels)[0];
  name.name.assign(kMetricNameLabel.data(), kMetricNameLabel.size());
  name.value.assign(metric_name_.data(), metric_name_.size());
  for (size_t k = 0; k < label_views_.size(); ++k) {
    Label& label = (*labels)[k + 1];
    label.name.assign(label_views_[k].first.data(),
                      label_views_[k].first.size());
    Unescape(label_views_[k].second, /*quotes=*/true, &label.value);
  }
}

std::string TextParser::help() const {
  std::string text;
  Unescape(raw_help_, /*quotes=*/false, &text);
  return text;
}

}  // namespace fedgate
