// scraper/exposition/exposition_scan.cc
//
// Helpers shared by the text and OpenMetrics parsers; see the header. The
// float parser follows Go's strconv.ParseFloat, which both Prometheus parsers
// call after refusing `p`, `P` and `_`.

#include "scraper/exposition/exposition_scan.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

#include "absl/base/casts.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "merge/labels.h"

namespace fedgate {

namespace {

// Lines longer than this are quoted in error messages as a window around the
// offending column.
constexpr size_t kMaxQuotedLine = 100;

std::string QuoteLine(absl::string_view line, size_t column0) {
  if (line.size() <= kMaxQuotedLine) return GoQuote(line);
  size_t from = column0 > 40 ? column0 - 40 : 0;
  from = std::min(from, line.size() - kMaxQuotedLine);
  const size_t to = from + kMaxQuotedLine;
  std::string quoted = GoQuote(line.substr(from, to - from));
  if (from > 0) quoted.insert(1, "...");
  if (to < line.size()) quoted.insert(quoted.size() - 1, "...");
  return quoted;
}

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

// Returns 10^scale * mantissa for mantissa < 2^53 and |scale| <= 22: both
// operands are exact doubles, so the one multiplication or division rounds
// once and the result is correctly rounded (Clinger's fast path).
inline double ExactScale(uint64_t mantissa, int64_t scale) {
  const double m = static_cast<double>(mantissa);
  return scale >= 0 ? m * kExactPowersOfTen[scale]
                    : m / kExactPowersOfTen[-scale];
}

inline bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// The common shapes of exposed values, `[+-]?d+(.d*)?([eE][+-]?d{1,3})?` with
// at most 15 digits and a scale within ±22 (`0`, `16455`, `1144.645041`,
// `2.4117248e+07`), in one pass. Returns false, changing nothing, for
// anything else, which ParseGoFloatSlow() then decides. Where it returns true
// the slow path collects the same mantissa (leading zeros add nothing to it)
// and the same scale and computes ExactScale() from them too, so the result
// is bit-identical; exposition_scan_test.cc compares both.
inline bool ParseSimpleDecimal(absl::string_view s, double* value) {
  const char* p = s.data();
  const char* const end = p + s.size();
  bool negative = false;
  if (p < end && (*p == '-' || *p == '+')) {
    negative = *p == '-';
    ++p;
  }
  const char* const int_start = p;
  uint64_t mantissa = 0;
  // 16 digits or more may wrap `mantissa` but are refused below.
  while (p < end && IsDigit(*p)) {
    mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
    ++p;
  }
  if (p == int_start) return false;  // `.5`, `Inf`, `NaN`, junk.
  int64_t digits = p - int_start;
  int64_t fraction = 0;
  if (p < end && *p == '.') {
    const char* const fraction_start = ++p;
    while (p < end && IsDigit(*p)) {
      mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
      ++p;
    }
    fraction = p - fraction_start;
    digits += fraction;
  }
  if (digits > 15) return false;
  int64_t exponent = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool negative_exponent = false;
    if (p < end && (*p == '+' || *p == '-')) {
      negative_exponent = *p == '-';
      ++p;
    }
    const char* const exponent_start = p;
    while (p < end && IsDigit(*p) && p - exponent_start < 3) {
      exponent = exponent * 10 + (*p - '0');
      ++p;
    }
    if (p == exponent_start) return false;
    if (negative_exponent) exponent = -exponent;
  }
  if (p != end) return false;
  const int64_t scale = exponent - fraction;
  if (scale < -22 || scale > 22) return false;
  const double result = ExactScale(mantissa, scale);
  *value = negative ? -result : result;
  return true;
}

}  // namespace

absl::Status ParseGoFloat(absl::string_view s, double* value) {
  if (ParseSimpleDecimal(s, value)) return absl::OkStatus();
  return exposition_scan_internal::ParseGoFloatSlow(s, value);
}

namespace exposition_scan_internal {

absl::Status ParseGoFloatSlow(absl::string_view s, double* value) {
  for (const char c : s) {
    if (c == 'p' || c == 'P' || c == '_') {
      return absl::InvalidArgumentError("unsupported character in float");
    }
  }
  auto syntax_error = [s] {
    return absl::InvalidArgumentError(absl::StrCat(
        "strconv.ParseFloat: parsing ", GoQuote(s), ": invalid syntax"));
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
    result = ExactScale(mantissa, scale);
  } else {
    const std::from_chars_result r =
        std::from_chars(digits.data(), digits.data() + digits.size(), result,
                        std::chars_format::general);
    if (r.ptr != digits.data() + digits.size()) return syntax_error();
    if (r.ec == std::errc::result_out_of_range) {
      // Go fails on overflow but returns zero on underflow.
      if (magnitude + exponent > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("strconv.ParseFloat: parsing ", GoQuote(s),
                         ": value out of range"));
      }
      result = 0;
    } else if (r.ec != std::errc()) {
      return syntax_error();
    }
  }
  *value = negative ? -result : result;
  return absl::OkStatus();
}

#if defined(__SSE2__)
namespace {

// InRange(v, lo, span)'s two constants: the add and the limit.
constexpr char RangeShift(char lo) {
  return static_cast<char>(0x80 - static_cast<unsigned char>(lo));
}
constexpr char RangeLimit(char span) {
  return static_cast<char>(-128 + span + 1);
}

constexpr LabelBytesConstants MakeLabelBytesConstants() {
  LabelBytesConstants k{};
  for (int i = 0; i < 32; ++i) {
    k.quote[i] = '"';
    k.backslash[i] = '\\';
    k.newline[i] = '\n';
    k.underscore[i] = '_';
    k.lower[i] = 0x20;
    k.alpha_shift[i] = RangeShift('a');
    k.alpha_limit[i] = RangeLimit(25);
    k.digit_shift[i] = RangeShift('0');
    k.digit_limit[i] = RangeLimit(9);
    k.digit_colon_limit[i] = RangeLimit(10);
  }
  return k;
}

}  // namespace

const LabelBytesConstants kLabelBytesConstants = MakeLabelBytesConstants();
#endif

LabelBlockMasks ClassifyLabelBlockBytes(const char* p) {
  LabelBlockMasks m;
  for (int k = 0; k < 64; ++k) {
    const char c = p[k];
    const uint64_t bit = uint64_t{1} << k;
    if (c == '"') m.quote |= bit;
    if (c == '\\' || c == '\n' || static_cast<unsigned char>(c) >= 0x80) {
      m.stop |= bit;
    }
    if (c != '"' && !IsNameByte(c, /*colon=*/false)) m.non_name |= bit;
  }
  return m;
}

}  // namespace exposition_scan_internal

absl::Status LineError(absl::string_view body, size_t line_start, int line,
                       size_t at, absl::string_view reason) {
  at = std::min(at, body.size());
  for (size_t k = line_start; k < at; ++k) {
    if (body[k] == '\n') {
      ++line;
      line_start = k + 1;
    }
  }
  const size_t column0 = at - line_start;
  const void* nl = line_start < body.size()
                       ? std::memchr(body.data() + line_start, '\n',
                                     body.size() - line_start)
                       : nullptr;
  const size_t line_end =
      nl == nullptr ? body.size() : static_cast<const char*>(nl) - body.data();
  const absl::string_view text = body.substr(line_start, line_end - line_start);
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line, ", column ", column0 + 1, ": ", reason,
                   " in ", QuoteLine(text, column0)));
}

namespace {

// Label names are short and mostly differ in length or first byte; checking
// those before memcmp keeps the quadratic check below out of libc (it was a
// fifth of the text parser's time on Linkerd bodies).
inline bool SameName(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && (a.empty() || a[0] == b[0]) &&
         std::memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string NonUniqueLabelMessage(absl::string_view name) {
  return absl::StrCat("label name ", GoQuote(name),
                      " is not unique: invalid sample");
}

int FindNonUniqueLabel(const LabelViews& labels) {
  const int n = static_cast<int>(labels.size());
  for (int k = 0; k < n; ++k) {
    if (SameName(labels[k].first, kMetricNameLabel)) return k;
  }
  if (n <= 32) {
    for (int k = 1; k < n; ++k) {
      for (int j = 0; j < k; ++j) {
        if (SameName(labels[k].first, labels[j].first)) return k;
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

void UnescapeLabelText(absl::string_view raw, bool quotes, std::string* out) {
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

void BuildSeriesLabels(absl::string_view metric_name, const LabelViews& views,
                       std::vector<Label>* labels) {
  labels->resize(views.size() + 1);
  Label& name = (*labels)[0];
  name.name.assign(kMetricNameLabel.data(), kMetricNameLabel.size());
  name.value.assign(metric_name.data(), metric_name.size());
  for (size_t k = 0; k < views.size(); ++k) {
    Label& label = (*labels)[k + 1];
    label.name.assign(views[k].first.data(), views[k].first.size());
    UnescapeLabelText(views[k].second, /*quotes=*/true, &label.value);
  }
}

std::string QuoteExcerpt(absl::string_view body, size_t at, size_t end) {
  constexpr size_t kMaxExcerpt = 24;
  if (end - at <= kMaxExcerpt) return GoQuote(body.substr(at, end - at));
  std::string quoted = GoQuote(body.substr(at, kMaxExcerpt));
  quoted.insert(quoted.size() - 1, "...");
  return quoted;
}

}  // namespace fedgate
