// scraper/exposition/test_values.h
//
// Test-only: how the parser tests (text, OpenMetrics, protobuf) spell what a
// parser returned, so that a value or a series reads the same in each:
// sample values, control bytes, series and HELP entries.
// Test code only, never on a hot path.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_SCRAPER_EXPOSITION_TEST_VALUES_H_
#define FEDGATE_SCRAPER_EXPOSITION_TEST_VALUES_H_

#include <string>

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

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_TEST_VALUES_H_
