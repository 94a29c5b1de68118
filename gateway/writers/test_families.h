// gateway/writers/test_families.h
//
// Test-only: families written by hand (labels, value and timestamp per
// series, in the order given) and driven through an ExpositionWriter as the
// /federate driver drives it. Shared by the OpenMetrics and protobuf
// writers' tests. Test code only, never on a hot path.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_GATEWAY_WRITERS_TEST_FAMILIES_H_
#define FEDGATE_GATEWAY_WRITERS_TEST_FAMILIES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gateway/writers/exposition_writer.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"

namespace fedgate {

// One series of a test family.
struct TestSeries {
  Labels labels;
  double value;
  int64_t timestamp_ms;
};

// One family of the answer; `metadata` may be null (nothing scraped).
struct TestFamily {
  absl::string_view name;
  const FamilyMetadata* metadata;
  std::vector<TestSeries> series;
};

// Writes `families` with `writer` (BeginFamily, AppendSeries for each series
// in order, EndFamily), then Finish(), and returns the answer.
std::string WriteTestFamilies(ExpositionWriter& writer,
                              const std::vector<TestFamily>& families);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WRITERS_TEST_FAMILIES_H_
