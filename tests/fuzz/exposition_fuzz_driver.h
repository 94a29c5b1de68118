// tests/fuzz/exposition_fuzz_driver.h
//
// Walks an exposition parser to its end the way the scrape loop does (every
// accessor of every entry), so the fuzz targets of the three parsers share
// one driver. Checks the invariants a caller relies on: after an error or
// kEof nothing is read; series entries have a `__name__` label equal to
// metric_name(); the text formats' series_text() views lie inside the body.
//
// Thread-safety: stateless; used from fuzz targets only.

#ifndef FEDGATE_TESTS_FUZZ_EXPOSITION_FUZZ_DRIVER_H_
#define FEDGATE_TESTS_FUZZ_EXPOSITION_FUZZ_DRIVER_H_

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "scraper/exposition_parser.h"

namespace fedgate {

// Aborts (a fuzzer finding) unless `condition` holds.
inline void FuzzCheck(bool condition) {
  if (!condition) std::abort();
}

// Parses to the end; returns the number of series. With
// `views_in_body`, checks that series_text() points into `body`.
inline int DriveExpositionParser(ExpositionParser& parser,
                                 absl::string_view body, bool views_in_body) {
  std::vector<Label> labels;
  int series = 0;
  // Each entry consumes at least one byte, or is a protobuf sample (bounded
  // by the samples a message can encode); 64 per byte is a generous cap
  // that still catches a parser stuck in a loop.
  const size_t max_entries = 64 * body.size() + 16;
  for (size_t n = 0; n < max_entries; ++n) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok()) {
      FuzzCheck(!entry.status().message().empty());
      return series;
    }
    switch (*entry) {
      case ParseEntry::kEof:
        FuzzCheck(parser.Next().ok());
        return series;
      case ParseEntry::kSeries: {
        ++series;
        parser.GetLabels(&labels);
        FuzzCheck(!labels.empty() && labels[0].name == kMetricNameLabel);
        FuzzCheck(labels[0].value == parser.metric_name());
        const absl::string_view text = parser.series_text();
        FuzzCheck(!text.empty());
        if (views_in_body) {
          FuzzCheck(text.data() >= body.data() &&
                    text.data() + text.size() <= body.data() + body.size());
        }
        (void)parser.value();
        (void)parser.timestamp_ms();
        break;
      }
      case ParseEntry::kType:
        (void)parser.type();
        FuzzCheck(!parser.family_name().empty());
        break;
      case ParseEntry::kHelp:
        (void)parser.help();
        FuzzCheck(!parser.family_name().empty());
        break;
      case ParseEntry::kUnit:
        (void)parser.unit();
        break;
      case ParseEntry::kComment:
        break;
    }
  }
  FuzzCheck(false);  // Did not terminate.
  return series;
}

}  // namespace fedgate

#endif  // FEDGATE_TESTS_FUZZ_EXPOSITION_FUZZ_DRIVER_H_
