// merge/query/match_params.h
//
// The `match[]` parameters of /api/v1/series, /api/v1/labels and
// /api/v1/label/<name>/values and of their gRPC twins, parsed as Prometheus
// 2.42's parseMatchersParam (web/api/v1/api.go) parses them: every selector
// is parsed first, in order, and the first parse error wins; only then must
// each selector have a matcher that does not match the empty string. Called
// once per request by gateway/api_handler.cc and gateway/grpc_service.cc;
// not on a hot path.
//
// MatchLimits bounds what one request's selectors may cost (how many, how
// long, how complex their regexes); /federate (gateway/federate_handler.h)
// applies the same checks, so HTTP and gRPC refuse the same requests with
// the same text (docs/reliability.md).
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_MERGE_QUERY_MATCH_PARAMS_H_
#define FEDGATE_MERGE_QUERY_MATCH_PARAMS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "merge/query/label_matcher.h"

namespace fedgate {

// What one request's `match[]` selectors may cost; 0 turns a bound off.
// Every selector is evaluated against every stored series it cannot skip,
// so the work of a request grows with their number and their regexes.
struct MatchLimits {
  // `match[]` values in one request (--query.max-match-params): more than a
  // GET request line can carry (64 KiB at 10 bytes or more per
  // `match[]=x&`: 6,553), so like max_selector_bytes it binds only POST
  // bodies (10 MiB: up to a million selectors, each evaluated per series).
  size_t max_params = 10000;
  // Bytes of one `match[]` value (--query.max-selector-length): 64 KiB, the
  // most a GET request line can carry (HttpLimits::max_header_bytes), so
  // only POST bodies can pass it.
  size_t max_selector_bytes = 64 << 10;
  // RE2 program size of one regex matcher, anchored
  // (--query.max-regex-program-size): about one instruction per literal
  // byte, so any selector within max_selector_bytes that lists values
  // (`instance=~"host-1|...|host-300"`: 45,000 bytes, 45,485) fits; only
  // repetitions blow a short regex up (`\pL{100}`, 11 bytes: 119,302, each
  // matched value walking up to that many instructions).
  int max_regex_program_size = 100000;
};

// Returns InvalidArgument when `values` are more than `limits.max_params`
// (`too many match[] parameters: 10001 (limit 10000,
// --query.max-match-params)`)
// or one is longer than `limits.max_selector_bytes`; called before parsing.
absl::Status CheckMatchParamSizes(absl::Span<const absl::string_view> values,
                                  const MatchLimits& limits);

// Returns InvalidArgument (`invalid regular expression "a|b": too complex
// ...`) when a regex matcher of `selector` compiles to a program larger than
// `limits.max_regex_program_size`.
absl::Status CheckRegexComplexity(const Selector& selector,
                                  const MatchLimits& limits);

// MatchLimitReason() (merge/query/label_matcher.h) tells which bound refused
// a request from the status of the checks above, of ParseMatchParams and of
// ParseSelector under a regex limit.

// Parses `values` into one selector each, with the checks every match[] set
// gets, in this order: the sizes (CheckMatchParamSizes), then per value its
// syntax and its regexes' complexity (CheckRegexComplexity). Returns
// InvalidArgument with the first failure's text. /federate calls this
// directly: there a selector whose matchers all accept "" is allowed.
absl::StatusOr<std::vector<Selector>> ParseSelectorValues(
    absl::Span<const absl::string_view> values, const MatchLimits& limits);

// ParseSelectorValues for /api/v1 and gRPC reads. Returns InvalidArgument
// with the selector parser's text (`1:4: parse error: ...`) for the first value
// that does not parse, else "match[] must contain at least one non-empty
// matcher" when some selector only has matchers that accept "", or the texts of
// the two checks above when `limits` are passed. No values give no selectors
// (callers decide what that means).
absl::StatusOr<std::vector<Selector>> ParseMatchParams(
    absl::Span<const absl::string_view> values,
    const MatchLimits& limits = MatchLimits());

}  // namespace fedgate

#endif  // FEDGATE_MERGE_QUERY_MATCH_PARAMS_H_
