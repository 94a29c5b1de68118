// scraper/exposition/openmetrics_parser.h
//
// A streaming parser for OpenMetrics 1.0 text, with exactly the acceptance
// rules of Prometheus 2.42's scraper (model/textparse/openmetricslex.l and
// openmetricsparse.go, plus the TSDB's label-uniqueness check): the body must
// end with `# EOF` and nothing may follow it, there are no blank lines and no
// free-form comments, tokens are separated by exactly one space, timestamps
// are float seconds (converted with Go's int64(ts*1000)), and `# UNIT` must
// be a `_unit` suffix of its metric. Like 2.42, every sample line is a series
// of its own: `foo_total`, `foo_created`, `h_bucket`, `gh_gcount`,
// `st{st="a"}` and `i_info` are stored as exposed. Exemplars
// (` # {labels} value [ts]` after a `_total` or `_bucket` sample) are
// validated and skipped, as 2.42 does without exemplar storage.
//
// Hot path: runs over every byte of an OpenMetrics scrape; Next() hands out
// views into the body and allocates nothing (GetLabels() and help() do).
//
// Thread-safety: thread-compatible; one parser per body. Views are valid
// while the body is alive (series_text()/metric_name() until the next
// Next()).

#ifndef FEDGATE_SCRAPER_EXPOSITION_OPENMETRICS_PARSER_H_
#define FEDGATE_SCRAPER_EXPOSITION_OPENMETRICS_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {

class OpenMetricsParser final : public ExpositionParser {
 public:
  explicit OpenMetricsParser(absl::string_view body);

  // Advances to the next entry; returns kEof once `# EOF` was read. Errors
  // are InvalidArgument with 2.42's wording, the position and the line, e.g.
  // `line 4, column 9: expected label name, got "}" in "a{b=\"c\",} 1"`, or
  // `data does not end with # EOF`.
  absl::StatusOr<ParseEntry> Next() override;

  // kSeries: the raw `m{a="1"}` bytes.
  absl::string_view series_text() const override { return series_text_; }
  absl::string_view metric_name() const override { return metric_name_; }
  void GetLabels(std::vector<Label>* labels) const override;
  double value() const override { return value_; }
  std::optional<int64_t> timestamp_ms() const override { return timestamp_ms_; }
  // kSeries: whether the sample carried an exemplar (validated, not kept).
  bool has_exemplar() const { return has_exemplar_; }

  // kType, kHelp, kUnit.
  absl::string_view family_name() const override { return family_name_; }
  // kType: counter, gauge, histogram, gaugehistogram, summary, info,
  // stateset or unknown (kUntyped).
  MetricType type() const override { return type_; }
  // kHelp: the text with `\\`, `\"` and `\n` unescaped.
  absl::string_view help_text(std::string* storage) const override;
  absl::string_view unit() const override { return unit_; }

  // Returns the 1-based line number of the current entry.
  int line() const { return line_; }

 private:
  absl::Status ParseMetadataLine(size_t start, ParseEntry* entry);
  absl::Status ParseSeriesLine(size_t start);
  // Parses `{...}` at `*i` (just past the brace) into `labels`; for an
  // exemplar, label values may not contain NUL bytes.
  absl::Status ParseLabelSet(
      size_t line_start, size_t* i, bool exemplar,
      std::vector<std::pair<absl::string_view, absl::string_view>>* labels);
  absl::Status ParseExemplar(size_t line_start, size_t i);
  // Parses the value or timestamp token at `at` with ParseGoFloat() and sets
  // `*end` just past it; a timestamp (`timestamp_error` not empty) that is
  // NaN or infinite is refused with that reason.
  absl::Status ParseFloatToken(size_t line_start, size_t at,
                               absl::string_view timestamp_error, size_t* end,
                               double* value) const;
  absl::Status Error(size_t line_start, size_t at,
                     absl::string_view reason) const;

  absl::string_view body_;
  size_t pos_ = 0;
  int line_ = 0;
  bool done_ = false;
  absl::string_view series_text_;
  absl::string_view metric_name_;
  std::vector<std::pair<absl::string_view, absl::string_view>> label_views_;
  std::vector<std::pair<absl::string_view, absl::string_view>> exemplar_views_;
  double value_ = 0;
  std::optional<int64_t> timestamp_ms_;
  bool has_exemplar_ = false;
  absl::string_view family_name_;
  MetricType type_ = MetricType::kUntyped;
  absl::string_view raw_help_;
  absl::string_view unit_;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_OPENMETRICS_PARSER_H_
