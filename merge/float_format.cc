#include "merge/float_format.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <system_error>

namespace fedgate {
namespace {

// Longest shortest-round-trip scientific form of a double:
// "-2.2250738585072014e-308" is 24 characters.
constexpr int kMaxScientificChars = 24;
// A finite double in Go's shortest digits, as std::to_chars writes it in
// scientific form without a precision: the shortest digits that round-trip
// (closest to `v` on ties), the same digits as Go's shortest mode, already
// laid out like Go's %e: "d[.ddd]e±XX[X]".
struct ShortestDigits {
  char text[kMaxScientificChars + 8];
  const char* end;       // End of `text`.
  const char* digits;    // The first digit (past the sign).
  const char* exponent;  // The 'e'.
  bool negative;
  int exp;  // Decimal exponent of the first digit.
};

inline void ToShortestDigits(double v, ShortestDigits* s) {
  const std::to_chars_result r = std::to_chars(
      s->text, s->text + sizeof(s->text), v, std::chars_format::scientific);
  // Cannot fail: the buffer fits every double.
  s->end = r.ptr;
  const char* p = s->text;
  s->negative = *p == '-';
  if (s->negative) ++p;
  s->digits = p;
  s->exponent = static_cast<const char*>(std::memchr(p, 'e', s->end - p));
  int exp = 0;
  const char* q = s->exponent + 1;
  const bool exp_negative = *q == '-';
  ++q;  // to_chars always writes the exponent sign.
  for (; q < s->end; ++q) exp = exp * 10 + (*q - '0');
  s->exp = exp_negative ? -exp : exp;
}

// Appends `s` in Go's 'f' layout (fmtF with prec = max(nd - dp, 0)).
inline void AppendFixedLayout(const ShortestDigits& s, std::string* out) {
  char digits[20];
  int nd = 0;
  for (const char* q = s.digits; q < s.exponent; ++q) {
    if (*q != '.') digits[nd++] = *q;
  }
  if (nd == 1 && digits[0] == '0') nd = 0;  // Zero: no significant digit.
  const int dp = nd == 0 ? 1 : s.exp + 1;   // Digits before the point.

  // Written in place: up to 309 digits before the point (1e308) or 323
  // after it (5e-324).
  const size_t length =
      (s.negative ? 1 : 0) + (dp > 0 ? dp : 1) + (nd > dp ? 1 + (nd - dp) : 0);
  const size_t start = out->size();
  out->resize(start + length);
  char* w = &(*out)[start];
  if (s.negative) *w++ = '-';
  if (dp > 0) {
    for (int i = 0; i < dp; ++i) *w++ = i < nd ? digits[i] : '0';
  } else {
    *w++ = '0';
  }
  if (nd > dp) {
    *w++ = '.';
    for (int i = dp; i < nd; ++i) *w++ = i < 0 ? '0' : digits[i];
  }
}

}  // namespace

void AppendGoFloat(double v, std::string* out) {
  // expfmt.writeFloat special-cases these; `v == 0` also covers -0, which
  // Prometheus writes as "0" (strconv alone would write "-0").
  if (v == 0) {
    out->push_back('0');
    return;
  }
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  ShortestDigits s;
  ToShortestDigits(v, &s);
  // 'g' with the shortest precision: a fixed 6, not the digit count.
  if (s.exp < -4 || s.exp >= 6) {
    out->append(s.text, s.end - s.text);
  } else {
    AppendFixedLayout(s, out);
  }
}

void AppendGoFloatLayout(double v, bool fixed, std::string* out) {
  ShortestDigits s;
  ToShortestDigits(v, &s);
  if (fixed) {
    AppendFixedLayout(s, out);
  } else {
    out->append(s.text, s.end - s.text);
  }
}

std::string FormatGoFloat(double v) {
  std::string out;
  AppendGoFloat(v, &out);
  return out;
}

}  // namespace fedgate
