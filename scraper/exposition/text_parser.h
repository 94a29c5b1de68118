// scraper/exposition/text_parser.h
//
// A streaming parser for the Prometheus text exposition format 0.0.4, with
// exactly the acceptance rules of Prometheus 2.42's scraper
// (model/textparse/promparse.go): what Prometheus rejects fails the scrape
// with an error naming the line, the column and the offending text.
//
// Hot path: runs over every scraped byte. The parser walks the body in place
// and hands out views into it; nothing is allocated per sample except by
// GetLabels(), which callers use only for series they have not seen before.
//
// Thread-safety: thread-compatible; one parser per scrape body. Views are
// valid while the body is alive (and series_text()/metric_name() until the
// next Next()).

#ifndef FEDGATE_SCRAPER_EXPOSITION_TEXT_PARSER_H_
#define FEDGATE_SCRAPER_EXPOSITION_TEXT_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {

// The instructions the text parser checks label sets of the client shape
// with, 64 bytes at a time (text_series_shortcut.h): SSE2,
// which every x86-64 CPU has (other CPUs: a byte loop), or AVX2 with BMI1,
// BMI2, PCLMULQDQ and POPCNT (exposition_scan.h CpuHasLabelBlocksAvx2),
// which take a fifth (k3s) to a quarter (mesh proxy) fewer instructions per
// sample. Each process uses the widest its CPU has. Results are the same.
enum class TextParserSimd { kBaseline, kAvx2 };

// Returns "baseline" or "avx2" (fedgate_build_info's text_parser_simd label).
absl::string_view TextParserSimdName(TextParserSimd simd);

namespace text_parser_internal {
struct SeriesLine;  // text_lexer.h
// Returns the level parsers constructed from now on use.
TextParserSimd ActiveSimd();
// Makes parsers constructed from now on use `simd` and returns true, or
// returns false (changing nothing) if the CPU does not have it. For tests,
// benchmarks and fuzzers, which compare the levels; not thread-safe with
// parsers being constructed on other threads.
bool SetActiveSimd(TextParserSimd simd);
}  // namespace text_parser_internal

// Implements ExpositionParser; `final`, so that callers holding a TextParser
// (benchmarks, tests) call its accessors without virtual dispatch.
class TextParser final : public ExpositionParser {
 public:
  explicit TextParser(absl::string_view body);

  // Advances to the next entry. Blank lines are skipped. A syntax error
  // returns InvalidArgument, e.g.
  // `line 3, column 9: invalid label name "1a" in "m{1a="x"} 1"`;
  // the parser must not be used after an error.
  absl::StatusOr<ParseEntry> Next() override;

  void SetSeriesTextCache(const SeriesTextCache* cache) override {
    cache_ = cache;
  }
  void* cached_series() const override { return cached_; }

  // kSeries: the raw bytes of the metric name and label set as exposed
  // (`m{a="1"}`), the key for a scrape cache.
  absl::string_view series_text() const override { return series_text_; }
  // kSeries: the metric name.
  absl::string_view metric_name() const override;
  // kSeries: replaces `*labels` with the series' labels in exposition order,
  // `__name__` first, values unescaped. Empty values are kept (callers drop
  // them when building a Labels).
  void GetLabels(std::vector<Label>* labels) const override;
  // kSeries: the sample value.
  double value() const override { return value_; }
  // kSeries: the sample's timestamp in milliseconds, if the line has one.
  std::optional<int64_t> timestamp_ms() const override { return timestamp_ms_; }

  // kType, kHelp: the family name.
  absl::string_view family_name() const override { return family_name_; }
  // kType: the declared type.
  MetricType type() const override { return type_; }
  // kHelp: the help text, unescaped (`\\` and `\n`).
  absl::string_view help_text(std::string* storage) const override;
  // The text format has no units: always empty.
  absl::string_view unit() const override { return {}; }

  // Returns the 1-based line number of the current entry.
  int line() const { return line_; }

 private:
  // Next() of a line at pos_ that starts with a metric name byte and is
  // numbered `line`, through NextCachedSeries() or the client-shape shortcut
  // (text_series_shortcut.h). Returns false when neither
  // takes the line, leaving only label_views_ changed (NextEntry() then
  // rebuilds it).
  bool NextShapedSeries(int line);
  // Makes `series` (just parsed, ending the entry) the current entry.
  void TakeSeries(const text_parser_internal::SeriesLine& series);
  // Next() in full: blank lines, comments, HELP, TYPE, errors, and series
  // lines the shortcuts do not take (`shortcuts_failed`: the line at pos_
  // is one; NextShapedSeries() tried them).
  absl::StatusOr<ParseEntry> NextEntry(bool shortcuts_failed);
  // The steady-state path: recognises the line at pos_ (which starts with a
  // metric name byte) through cache_ and parses only its value and
  // timestamp. Returns false, changing nothing, when it cannot.
  bool NextCachedSeries();

  // Implementation state; see text_parser.cc.
  const TextParserSimd simd_;
  const SeriesTextCache* cache_ = nullptr;
  void* cached_ = nullptr;
  // The label views are filled lazily after NextCachedSeries().
  mutable bool labels_pending_ = false;
  absl::string_view body_;
  size_t pos_ = 0;
  int line_ = 0;
  absl::string_view series_text_;
  int series_newlines_ = 0;  // Raw newlines inside series_text_.
  mutable absl::string_view metric_name_;
  // Label name/raw value views of the current series (values still escaped).
  mutable std::vector<std::pair<absl::string_view, absl::string_view>>
      label_views_;
  double value_ = 0;
  std::optional<int64_t> timestamp_ms_;
  absl::string_view family_name_;
  MetricType type_ = MetricType::kUntyped;
  absl::string_view raw_help_;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_TEXT_PARSER_H_
