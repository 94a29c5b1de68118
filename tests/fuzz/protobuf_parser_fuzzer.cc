// tests/fuzz/protobuf_parser_fuzzer.cc
//
// libFuzzer target: the delimited protobuf parser over arbitrary bytes.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/logging.h"
#include "scraper/exposition/protobuf_parser.h"
#include "tests/fuzz/exposition_fuzz_driver.h"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // Debug builds of protobuf log every invalid UTF-8 string they decode;
  // the parser reports those itself.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  fedgate::ProtobufParser parser(body);
  fedgate::DriveExpositionParser(parser, body, /*views_in_body=*/false);
  return 0;
}
