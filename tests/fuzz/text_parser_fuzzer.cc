// tests/fuzz/text_parser_fuzzer.cc
//
// libFuzzer target: the text format 0.0.4 parser over arbitrary bytes.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "scraper/text_parser.h"
#include "tests/fuzz/exposition_fuzz_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  fedgate::TextParser parser(body);
  fedgate::DriveExpositionParser(parser, body, /*views_in_body=*/true);
  return 0;
}
