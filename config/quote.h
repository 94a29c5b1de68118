// config/quote.h
//
// Go's `%q` string quoting (strconv.Quote), so that error messages quote user
// input exactly as Prometheus does: `"1x" is not a valid label name`,
// `not a valid duration string: "5 m"`. Used by every config error message and
// available to later stages for Prometheus-compatible error text. Not on a hot
// path (errors only).
//
// Thread-safety: pure function; thread-safe.

#ifndef FEDGATE_CONFIG_QUOTE_H_
#define FEDGATE_CONFIG_QUOTE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {

// Returns `s` in double quotes as Go's strconv.Quote formats it: `"` and `\`
// are backslash-escaped; \a \b \f \n \r \t \v use their short escapes; other
// ASCII controls and bytes that are not valid UTF-8 become `\xNN`; valid
// non-printable code points become `\uNNNN` or `\UNNNNNNNN`; all other text
// is copied as is. "Non-printable" follows Go's unicode.IsPrint for control,
// space (other than U+0020), format and private-use characters; unassigned
// code points, which Go also escapes, are copied as is (no Unicode tables).
std::string GoQuote(absl::string_view s);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_QUOTE_H_
