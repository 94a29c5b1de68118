// scraper/exposition_scan.h
//
// Byte-level pieces shared by the text-based exposition parsers (text 0.0.4
// in text_parser.cc, OpenMetrics 1.0 in openmetrics_parser.cc): Go's
// strconv.ParseFloat as Prometheus's parsers call it, Go's utf8.Valid and %q
// quoting, the "line N, column M: reason in "line"" error shape, and the
// TSDB's label-uniqueness check.
//
// Hot path: ParseGoFloat and IsValidUtf8 run per sample; the rest is cold
// (errors). Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_SCRAPER_EXPOSITION_SCAN_H_
#define FEDGATE_SCRAPER_EXPOSITION_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"

namespace fedgate {

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

// Returns the length of the valid UTF-8 sequence at p[0..len), or 0 if the
// bytes there are not one (Go's utf8 rules: no overlong forms, no
// surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(const unsigned char* p, size_t len);

// Returns whether `s` is valid UTF-8 (Go's utf8.ValidString); 8 ASCII bytes
// per step.
bool IsValidUtf8(absl::string_view s);

// Returns `s` double-quoted with Go's %q escapes for quotes, backslashes,
// control bytes and invalid UTF-8, so messages stay on one line.
std::string GoQuote(absl::string_view s);

// Returns InvalidArgument "line L, column C: <reason> in "<line text>"" for
// the byte at offset `at` of `body`, where `line_start` is the offset of the
// first byte of the line numbered `line` (1-based) and `at` >= line_start.
// Newlines between them advance the line. Long lines are quoted as a window
// of 100 bytes around the column.
absl::Status LineError(absl::string_view body, size_t line_start, int line,
                       size_t at, absl::string_view reason);

using LabelViews = std::vector<std::pair<absl::string_view, absl::string_view>>;

// Returns the index of the first label whose name is `__name__` or repeats an
// earlier one, or -1. Prometheus's TSDB rejects both as
// `label name "b" is not unique: invalid sample`.
int FindNonUniqueLabel(const LabelViews& labels);

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

#endif  // FEDGATE_SCRAPER_EXPOSITION_SCAN_H_
