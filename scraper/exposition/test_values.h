// scraper/exposition/test_values.h
//
// Test-only: how the parser tests (text, OpenMetrics, protobuf) spell what a
// parser returned, so that a value, a series or a refusal reads the same in
// each: sample values, control bytes, series and HELP entries, and the check
// of a refused body against its expected position and message.
// Test code only, never on a hot path.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_SCRAPER_EXPOSITION_TEST_VALUES_H_
#define FEDGATE_SCRAPER_EXPOSITION_TEST_VALUES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {

// Returns `NaN`, `+Inf`, `-Inf`, or the shortest text that reads back as `v`
// (std::to_chars: `-0`, `1.5`, `1e+21`).
std::string FormatTestValue(double v);

// Returns `s` with control bytes spelled out (`<LF>`, `<TAB>`, `<CR>`,
// `<NUL>`, `<x01>`) and everything else, quotes and backslashes included, as
// is.
std::string ShowControlBytes(absl::string_view s);

// Renders the parser's current kSeries entry as
// `a{b="c"} [__name__="a" b="c"] 1 @5`: the series text, the labels with
// their unescaped values, the value and the timestamp if there is one.
std::string RenderTestSeries(const ExpositionParser& parser);

// Renders the parser's current kHelp entry as `a "text"`, followed by
// ` (help_text differs)` if help_text() does not say what help() says.
std::string RenderTestHelp(const ExpositionParser& parser);

// A body a parser must refuse, and how.
struct RefusedBody {
  std::string name;
  std::string body;
  // Where the error is, as `line N, column M: ` opens its message; 0 and 0
  // for a sample that Prometheus refuses when it appends it, without a
  // position (IsSampleRejected()).
  int line;
  int column;
  // A substring of the message after the position; with line 0, all of it.
  std::string message;
};

// Expects `status` to be the parser's refusal of `refused.body`.
void ExpectRefusal(const absl::Status& status, const RefusedBody& refused);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_TEST_VALUES_H_
