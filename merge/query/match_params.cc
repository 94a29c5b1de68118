#include "merge/query/match_params.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "merge/query/selector_parser.h"

namespace fedgate {

absl::Status CheckMatchParamSizes(absl::Span<const absl::string_view> values,
                                  const MatchLimits& limits) {
  if (limits.max_params != 0 && values.size() > limits.max_params) {
    return MatchLimitError(
        "too_many_match_params",
        absl::StrCat("too many match[] parameters: ", values.size(), " (limit ",
                     limits.max_params, ", --query.max-match-params)"));
  }
  if (limits.max_selector_bytes == 0) return absl::OkStatus();
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].size() > limits.max_selector_bytes) {
      return MatchLimitError(
          "selector_too_long",
          absl::StrCat("match[] parameter ", i + 1,
                       " is too long: ", values[i].size(), " bytes (limit ",
                       limits.max_selector_bytes,
                       ", --query.max-selector-length)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRegexComplexity(const Selector& selector,
                                  const MatchLimits& limits) {
  if (limits.max_regex_program_size <= 0) return absl::OkStatus();
  for (const LabelMatcher& matcher : selector) {
    const int size = matcher.RegexProgramSize();
    if (size > limits.max_regex_program_size) {
      return RegexTooComplexError(
          matcher.value(), absl::StrCat("RE2 program size ", size, ", limit ",
                                        limits.max_regex_program_size));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Selector>> ParseSelectorValues(
    absl::Span<const absl::string_view> values, const MatchLimits& limits) {
  if (absl::Status s = CheckMatchParamSizes(values, limits); !s.ok()) return s;
  std::vector<Selector> selectors;
  selectors.reserve(values.size());
  for (absl::string_view value : values) {
    absl::StatusOr<Selector> selector =
        ParseSelector(value, limits.max_regex_program_size);
    if (!selector.ok()) return selector.status();
    if (absl::Status s = CheckRegexComplexity(*selector, limits); !s.ok()) {
      return s;
    }
    selectors.push_back(*std::move(selector));
  }
  return selectors;
}

absl::StatusOr<std::vector<Selector>> ParseMatchParams(
    absl::Span<const absl::string_view> values, const MatchLimits& limits) {
  absl::StatusOr<std::vector<Selector>> selectors =
      ParseSelectorValues(values, limits);
  if (!selectors.ok()) return selectors.status();
  for (const Selector& selector : *selectors) {
    if (!HasNonEmptyMatcher(selector)) {
      return absl::InvalidArgumentError(
          "match[] must contain at least one non-empty matcher");
    }
  }
  return selectors;
}

}  // namespace fedgate
