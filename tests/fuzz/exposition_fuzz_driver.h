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

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {

// Aborts (a fuzzer finding) unless `condition` holds.
inline void FuzzCheck(bool condition) {
  if (!condition) std::abort();
}

// Parses to the end; returns the number of series. With
// `views_in_body`, checks that series_text() points into `body`. With
// `transcript`, appends every entry's kind and accessors, and the error, to
// it (for fuzz targets that compare two ways of parsing the same input).
inline int DriveExpositionParser(ExpositionParser& parser,
                                 absl::string_view body, bool views_in_body,
                                 std::string* transcript = nullptr) {
  std::string scratch;
  std::string& out = transcript != nullptr ? *transcript : scratch;
  out.clear();
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
      absl::StrAppend(&out, "error ", entry.status().message(), "\n");
      return series;
    }
    absl::StrAppend(&out, static_cast<int>(*entry), " ");
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
        const double value = parser.value();
        const std::optional<int64_t> timestamp = parser.timestamp_ms();
        uint64_t bits = 0;
        std::memcpy(&bits, &value, sizeof(bits));
        absl::StrAppend(&out, text, " ", bits, " ",
                        timestamp.has_value() ? *timestamp : -1, " ",
                        timestamp.has_value());
        for (const Label& label : labels) {
          absl::StrAppend(&out, " ", label.name, "=", label.value);
        }
        break;
      }
      case ParseEntry::kType:
        FuzzCheck(!parser.family_name().empty());
        absl::StrAppend(&out, parser.family_name(), " ",
                        static_cast<int>(parser.type()));
        break;
      case ParseEntry::kHelp:
        FuzzCheck(!parser.family_name().empty());
        absl::StrAppend(&out, parser.family_name(), " ", parser.help());
        break;
      case ParseEntry::kUnit:
        absl::StrAppend(&out, parser.unit());
        break;
      case ParseEntry::kComment:
        break;
    }
    out.push_back('\n');
  }
  FuzzCheck(false);  // Did not terminate.
  return series;
}

}  // namespace fedgate

#endif  // FEDGATE_TESTS_FUZZ_EXPOSITION_FUZZ_DRIVER_H_
