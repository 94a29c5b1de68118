// tests/fuzz/selector_parser_fuzzer.cc
//
// libFuzzer target: the match[] series selector parser over arbitrary bytes;
// a selector that parses must also answer HasNonEmptyMatcher().

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/query/match_params.h"
#include "merge/query/selector_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  // With the default regex limit, as every caller parses: without it a short
  // regex (`\pL{283}`) costs a second of RE2 compile, a fuzzer timeout.
  absl::StatusOr<fedgate::Selector> selector = fedgate::ParseSelector(
      input, fedgate::MatchLimits().max_regex_program_size);
  if (selector.ok()) (void)fedgate::HasNonEmptyMatcher(*selector);
  return 0;
}
