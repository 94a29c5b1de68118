// config/quote.h
//
// Go's quoting of text (strconv.Quote, QuoteRune, Unquote, IsPrint and fmt's
// %#U), so that error messages quote user input exactly as Prometheus does
// (`"1x" is not a valid label name`, `not a valid duration string: "5 m"`,
// `unexpected character: '\x00'`) and PromQL string literals decode as
// Prometheus's strutil.Unquote decodes them. Used by every error message of
// every stage and by the selector parser. Not on a hot path (errors and
// `match[]` parameters only).
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_CONFIG_QUOTE_H_
#define FEDGATE_CONFIG_QUOTE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {

// Returns `s` in double quotes as Go's strconv.Quote formats it: `"` and `\`
// are backslash-escaped; \a \b \f \n \r \t \v use their short escapes; other
// ASCII controls and bytes that are not valid UTF-8 become `\xNN`; runes that
// Go's strconv.IsPrint rejects become `\uNNNN` or `\UNNNNNNNN`; all other
// text is copied as is.
std::string GoQuote(absl::string_view s);

// Returns `r` in single quotes as strconv.QuoteRune formats it; invalid runes
// (including -1, Go's end-of-input) print as U+FFFD.
std::string GoQuoteRune(int32_t r);

// Returns `r` as fmt's %#U prints it: `U+0071 'q'`, or just `U+0000` when
// the rune is not printable.
std::string GoUnicodeRune(int32_t r);

// Returns whether Go 1.19/1.20's strconv.IsPrint accepts `r` (the Go of
// Prometheus 2.42): Unicode 13.0 letters, marks, numbers, punctuation,
// symbols and U+0020.
bool IsGoPrint(int32_t r);

// Appends the two-byte backslash escape of `c` if it has one that Go's
// strconv.Quote, encoding/json and golang/protobuf's text format all write
// (`\"` `\\` `\n` `\r` `\t`) and returns true; returns false, appending
// nothing, for every other byte. Used by the writers whose formats differ
// only in the other bytes (JSON, protobuf text, log lines).
bool AppendShortEscape(char c, std::string* out);

// Returns the value of a quoted literal as Prometheus's strutil.Unquote
// decodes it (Go's strconv.Unquote, except that '...' may hold any number of
// runes): "..." and '...' with Go's escapes, `...` raw. Returns nullopt when
// `quoted` is not one valid literal.
std::optional<std::string> GoUnquote(absl::string_view quoted);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_QUOTE_H_
