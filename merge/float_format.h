// merge/float_format.h
//
// Formats sample values exactly as Prometheus writes them in the text 0.0.4
// exposition format (`expfmt.writeFloat`): Go's
// `strconv.FormatFloat(v, 'g', -1, 64)` with `NaN`, `+Inf`, `-Inf`, and `0`
// for negative zero. Used by every text writer (/federate, /metrics); it is on
// the serialize hot path, so it appends into the caller's buffer and never
// allocates on its own (one `std::string::append` of at most 24 bytes).
//
// Layout (Go `strconv/ftoa.go`, `formatDigits`, shortest case): the shortest
// digits that parse back to the same double; with `exp` the decimal exponent
// of the first digit, scientific notation iff `exp < -4 || exp >= 6` (a fixed
// 6 for the shortest precision, not the digit count), e.g. `100000`,
// `1e+06`, `1.23456789e+08`, `0.0001`, `1e-05`. The exponent has a sign and
// at least two digits.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_MERGE_FLOAT_FORMAT_H_
#define FEDGATE_MERGE_FLOAT_FORMAT_H_

#include <string>

namespace fedgate {

// Appends `v` to `out` formatted as Prometheus's text format writes it.
void AppendGoFloat(double v, std::string* out);

// Appends finite `v` with Go's shortest digits in the 'f' layout when `fixed`
// (`strconv.FormatFloat(v, 'f', -1, 64)`, any finite value: 1e308 is 309
// digits), else in the 'e' layout ("d.ddde±XX"), for formats that choose the
// layout themselves (JSON, PromQL's scalar answers and count_values labels).
// Zero is "0" or "-0" ('f') as strconv writes it.
void AppendGoFloatLayout(double v, bool fixed, std::string* out);

// Returns `v` formatted as Prometheus's text format writes it.
std::string FormatGoFloat(double v);

}  // namespace fedgate

#endif  // FEDGATE_MERGE_FLOAT_FORMAT_H_
