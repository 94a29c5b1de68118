// merge/query/selector_parser.h
//
// The parser for `match[]` series selectors (`up{job=~"api|web",}`), as
// Prometheus 2.42's `parser.ParseMetricSelector` parses them: same grammar
// (optional metric name, `{}` with `=`, `!=`, `=~`, `!~`, trailing comma,
// whitespace and `# comments` between tokens), same string escapes and the
// same first error, byte for byte (`1:8: parse error: unterminated quoted
// string`), because /federate and /api/v1 return that text in their 400
// bodies. Called once per `match[]` parameter by the HTTP handlers; not on the
// per-sample path (a selector costs one pass over its bytes plus one RE2
// compile per regex matcher).
//
// The tokens are merge/query/promql_lexer.h's; ParseSelectorRest parses a
// selector met inside a PromQL expression (merge/promql/expr_parser.h) with
// the same rules and errors.
//
// Thread-safety: pure functions; safe to call concurrently.

#ifndef FEDGATE_MERGE_QUERY_SELECTOR_PARSER_H_
#define FEDGATE_MERGE_QUERY_SELECTOR_PARSER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/query/label_matcher.h"
#include "merge/query/promql_lexer.h"

namespace fedgate {

// Parses one series selector. The matchers come in the order written; a metric
// name (`up{...}`) adds `__name__="up"` after them. `{}` yields an empty
// selector. Regexes are fully anchored (`^(?:re)$`). On error returns
// InvalidArgument with Prometheus 2.42's text, e.g.
// `1:4: parse error: unexpected <op:->` (line and byte column of the token).
// `max_regex_program_size` (--query.max-regex-program-size, 0: none) stops a
// regex far past the limit while it compiles, with RegexTooComplexError
// (merge/query/label_matcher.h) as the error, not a parse error.
absl::StatusOr<Selector> ParseSelector(absl::string_view input,
                                       int max_regex_program_size = 0);

// Parses the rest of a selector whose first token `lexer` has returned: the
// metric name `metric_name` ("" when the selector starts with '{'), and
// `braces` when the '{' has been taken (the matchers follow, through '}').
// Leaves `lexer` after the selector. Errors as ParseSelector's.
absl::StatusOr<Selector> ParseSelectorRest(PromqlLexer& lexer,
                                           absl::string_view metric_name,
                                           bool braces,
                                           int max_regex_program_size = 0);

// Returns whether some matcher of `selector` does not match the empty string:
// the "at least one non-empty matcher" rule of /api/v1/series, /labels and
// /label/<name>/values (not applied by /federate).
bool HasNonEmptyMatcher(const Selector& selector);

}  // namespace fedgate

#endif  // FEDGATE_MERGE_QUERY_SELECTOR_PARSER_H_
