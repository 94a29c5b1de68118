// tests/fuzz/match_params_fuzzer.cc
//
// libFuzzer target: a request's set of `match[]` parameters
// (merge/query/match_params.h). The input is split at newlines into the
// values, which are parsed with the default MatchLimits and again with tight
// ones. Checks: a success gives one selector per value, each with a matcher
// that does not match ""; more values than max_params, or a value longer
// than max_selector_bytes, is refused with the limit's reason; a refusal by
// the default limits is also a refusal by the tight ones.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "merge/query/match_params.h"
#include "merge/query/selector_parser.h"
#include "tests/fuzz/fuzz_checks.h"

namespace fedgate {
namespace {

// Parses `values` under `limits` and checks the outcome.
bool ParseAndCheck(const std::vector<absl::string_view>& values,
                   const MatchLimits& limits) {
  absl::StatusOr<std::vector<Selector>> selectors =
      ParseMatchParams(values, limits);
  if (limits.max_params != 0 && values.size() > limits.max_params) {
    FuzzCheck(MatchLimitReason(selectors.status()) == "too_many_match_params",
              "too many match[] values were not refused for it");
  }
  bool too_long = false;
  for (absl::string_view value : values) {
    too_long |= limits.max_selector_bytes != 0 &&
                value.size() > limits.max_selector_bytes;
  }
  if (too_long) {
    FuzzCheck(!selectors.ok(), "a selector past the length limit was taken");
  }
  if (!selectors.ok()) {
    FuzzCheck(!selectors.status().message().empty(), "an error without text");
    return false;
  }
  FuzzCheck(selectors->size() == values.size(),
            "not one selector per match[] value");
  for (const Selector& selector : *selectors) {
    FuzzCheck(HasNonEmptyMatcher(selector),
              "a selector whose matchers all match \"\" was taken");
  }
  return true;
}

}  // namespace
}  // namespace fedgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<absl::string_view> values = absl::StrSplit(input, '\n');
  const bool ok = fedgate::ParseAndCheck(values, fedgate::MatchLimits());
  fedgate::MatchLimits tight;
  tight.max_params = 4;
  tight.max_selector_bytes = 64;
  tight.max_regex_program_size = 200;
  const bool tight_ok = fedgate::ParseAndCheck(values, tight);
  fedgate::FuzzCheck(ok || !tight_ok,
                     "tighter limits took what the default ones refused");
  return 0;
}
