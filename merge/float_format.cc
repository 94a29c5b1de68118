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
// Longest plain form (exponent in [-4, 5]): sign, "0.0000", 17 digits.
constexpr int kMaxFixedChars = 1 + 6 + 17;

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

  // std::to_chars in scientific form without a precision yields the shortest
  // digits that round-trip (closest to `v` on ties), the same digits as Go's
  // shortest mode, already laid out like Go's %e: "d[.ddd]e±XX[X]".
  char sci[kMaxScientificChars + 8];
  const std::to_chars_result r =
      std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific);
  // Cannot fail: the buffer fits every double.
  const char* const end = r.ptr;

  const char* p = sci;
  const bool negative = *p == '-';
  if (negative) ++p;
  const char* const e = static_cast<const char*>(std::memchr(p, 'e', end - p));

  // Decimal exponent of the first digit.
  int exp = 0;
  {
    const char* q = e + 1;
    const bool exp_negative = *q == '-';
    ++q;  // to_chars always writes the exponent sign.
    for (; q < end; ++q) exp = exp * 10 + (*q - '0');
    if (exp_negative) exp = -exp;
  }

  if (exp < -4 || exp >= 6) {
    out->append(sci, end - sci);
    return;
  }

  // Plain decimal (Go's fmtF with prec = max(nd - dp, 0)).
  char digits[20];
  int nd = 0;
  for (const char* q = p; q < e; ++q) {
    if (*q != '.') digits[nd++] = *q;
  }
  const int dp = exp + 1;  // Digits before the decimal point.

  char buf[kMaxFixedChars + 8];
  char* w = buf;
  if (negative) *w++ = '-';
  if (dp > 0) {
    for (int i = 0; i < dp; ++i) *w++ = i < nd ? digits[i] : '0';
  } else {
    *w++ = '0';
  }
  if (nd > dp) {
    *w++ = '.';
    for (int i = dp; i < nd; ++i) *w++ = i < 0 ? '0' : digits[i];
  }
  out->append(buf, w - buf);
}

std::string FormatGoFloat(double v) {
  std::string out;
  AppendGoFloat(v, &out);
  return out;
}

}  // namespace fedgate
