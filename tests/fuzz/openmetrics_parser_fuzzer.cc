// tests/fuzz/openmetrics_parser_fuzzer.cc
//
// libFuzzer target: the OpenMetrics 1.0 parser over arbitrary bytes.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "scraper/exposition/openmetrics_parser.h"
#include "tests/fuzz/exposition_fuzz_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  fedgate::OpenMetricsParser parser(body);
  fedgate::DriveExpositionParser(parser, body, /*views_in_body=*/true);
  return 0;
}
