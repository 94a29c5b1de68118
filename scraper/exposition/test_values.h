// scraper/exposition/test_values.h
//
// Test-only: sample values spelled for the expectations of the parser tests
// (text, OpenMetrics, protobuf), so that a value reads the same in each.
// Test code only, never on a hot path.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_SCRAPER_EXPOSITION_TEST_VALUES_H_
#define FEDGATE_SCRAPER_EXPOSITION_TEST_VALUES_H_

#include <string>

namespace fedgate {

// Returns `NaN`, `+Inf`, `-Inf`, or the shortest text that reads back as `v`
// (std::to_chars: `-0`, `1.5`, `1e+21`).
std::string FormatTestValue(double v);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_TEST_VALUES_H_
