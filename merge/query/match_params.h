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
// Thread-safety: pure function; thread-safe.

#ifndef FEDGATE_MERGE_QUERY_MATCH_PARAMS_H_
#define FEDGATE_MERGE_QUERY_MATCH_PARAMS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "merge/query/label_matcher.h"

namespace fedgate {

// Parses `values` into one selector each. Returns InvalidArgument with the
// selector parser's text (`1:4: parse error: ...`) for the first value that
// does not parse, else "match[] must contain at least one non-empty matcher"
// when some selector only has matchers that accept "". No values give no
// selectors (callers decide what that means).
absl::StatusOr<std::vector<Selector>> ParseMatchParams(
    absl::Span<const absl::string_view> values);

}  // namespace fedgate

#endif  // FEDGATE_MERGE_QUERY_MATCH_PARAMS_H_
