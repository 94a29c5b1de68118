// scraper/exposition/text_series_shortcut.h
//
// The shortcut of TextParser (text_parser.h) for the series lines client
// libraries write, `name{l="v",...} value[ timestamp]`: labels separated by
// single commas (one may trail), single spaces, label values of ASCII
// without escapes or newlines, at most 32 labels, none `__name__` or
// repeated. Most lines of every scrape have this shape, and checking it
// skips the blank, NUL and escape handling that the general lexer
// (text_lexer.h) does around every token.
//
// Hot path: one call per sample line; see text_series_shortcut.cc for the
// 64-byte label-set walk and the two instruction sets it is compiled for.
//
// Thread-safety: stateless functions; safe from any thread.

#ifndef FEDGATE_SCRAPER_EXPOSITION_TEXT_SERIES_SHORTCUT_H_
#define FEDGATE_SCRAPER_EXPOSITION_TEXT_SERIES_SHORTCUT_H_

#include <cstddef>

#include "absl/strings/string_view.h"
#include "scraper/exposition/exposition_scan.h"
#include "scraper/exposition/text_lexer.h"

namespace fedgate {
namespace text_parser_internal {

// Parses the sample line starting at `name_start` (a metric name byte at the
// start of its line) if it has the client shape, replacing `*labels` (and
// reusing its entries) with its raw label views. Returns false otherwise, or
// on any error, leaving `*out` and `*labels` unspecified; ParseSeriesLine()
// then decides. Whatever this accepts, ParseSeriesLine() accepts with the
// same views, value, timestamp and end. Uses SSE2 (a byte loop on other
// CPUs).
bool ParseClassifiedSeriesLineBaseline(absl::string_view body,
                                       size_t name_start, LabelViews* labels,
                                       SeriesLine* out);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// ParseClassifiedSeriesLineBaseline() with AVX2, BMI1, BMI2, PCLMULQDQ and
// POPCNT; call it only where CpuHasLabelBlocksAvx2() (exposition_scan.h).
__attribute__((target("avx2,bmi,bmi2,pclmul,popcnt"))) bool
ParseClassifiedSeriesLineAvx2(absl::string_view body, size_t name_start,
                              LabelViews* labels, SeriesLine* out);
#endif

}  // namespace text_parser_internal
}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_TEXT_SERIES_SHORTCUT_H_
