// tests/fuzz/text_parser_fuzzer.cc
//
// libFuzzer target: the text format 0.0.4 parser over arbitrary bytes. Where
// the CPU has AVX2, each input is parsed with the label-set checks of both
// instruction sets (text_parser.h TextParserSimd), and every entry and error
// must be the same.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "scraper/exposition/exposition_scan.h"
#include "scraper/exposition/text_parser.h"
#include "tests/fuzz/exposition_fuzz_driver.h"

namespace {

// The transcript of parsing `body` at `simd` (which the CPU has).
std::string Transcript(absl::string_view body, fedgate::TextParserSimd simd) {
  fedgate::FuzzCheck(fedgate::text_parser_internal::SetActiveSimd(simd));
  fedgate::TextParser parser(body);
  std::string transcript;
  fedgate::DriveExpositionParser(parser, body, /*views_in_body=*/true,
                                 &transcript);
  return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string baseline =
      Transcript(body, fedgate::TextParserSimd::kBaseline);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (fedgate::CpuHasLabelBlocksAvx2()) {
    fedgate::FuzzCheck(Transcript(body, fedgate::TextParserSimd::kAvx2) ==
                       baseline);
  }
#endif
  return 0;
}
