// scraper/exposition/test_refusals.h
//
// Test-only: bodies the exposition parsers must refuse, with where and why,
// and the check of a parser's error against them. The text format and
// OpenMetrics share most of their line syntax (names, label sets, sample
// values, # HELP and # TYPE), and both parsers refuse a broken line of it
// alike: those cases are kept once, in
// testdata/refused_by_both_text_formats.tsv, for the tests of both; each test
// keeps the cases of its own format.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_SCRAPER_EXPOSITION_TEST_REFUSALS_H_
#define FEDGATE_SCRAPER_EXPOSITION_TEST_REFUSALS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace fedgate {

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

// Returns the bodies that the text and OpenMetrics parsers refuse with the
// same position and message, read from
// testdata/refused_by_both_text_formats.tsv (a broken file is a test
// failure). Each is a whole text-format body; the OpenMetrics test ends it
// with `# EOF\n`.
std::vector<RefusedBody> RefusedByBothTextFormats();

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_TEST_REFUSALS_H_
