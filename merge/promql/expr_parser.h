// merge/promql/expr_parser.h
//
// Parses a PromQL expression into the tree of merge/promql/expr.h, with
// Prometheus 2.42's grammar for what fedgate evaluates: literals (`0x1f`,
// `Inf`, `NaN`, strings), selectors (merge/query/selector_parser.h's, the
// one selector grammar), `( )`, unary `+`/`-`, the binary operators with
// 2.42's precedence (`^` right-associative and above unary minus), `bool`,
// `on`/`ignoring`, `group_left`/`group_right`, aggregations with `by` or
// `without` before or after their arguments, and function calls, type
// checked as 2.42 checks them (`expected type instant vector in call to
// function "abs", got scalar`). Errors are InvalidArgument in PromQL's shape,
// `1:5: parse error: ...`. What needs samples older than the latest ones —
// range selectors, subqueries, `offset`, `@`, and the functions over ranges —
// is refused with InvalidArgument `1:4: ... fedgate evaluates instant queries
// over the latest sample of each series ...`, naming why.
//
// A tree taller than 256 levels (`((((…1…))))`, `1+1+…+1`) is refused, as
// its evaluation recurses per level.
//
// Called once per /api/v1/query request (and, later, per recording rule at
// load); a query costs one pass over its bytes plus one RE2 compile per regex
// matcher.
//
// Thread-safety: pure functions; safe to call concurrently.

#ifndef FEDGATE_MERGE_PROMQL_EXPR_PARSER_H_
#define FEDGATE_MERGE_PROMQL_EXPR_PARSER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/promql/expr.h"

namespace fedgate {

// Parses `input`. `max_regex_program_size` is the selector parser's
// (--query.max-regex-program-size, 0: none), applied to every selector.
absl::StatusOr<std::unique_ptr<PromqlExpr>> ParsePromqlExpr(
    absl::string_view input, int max_regex_program_size = 0);

}  // namespace fedgate

#endif  // FEDGATE_MERGE_PROMQL_EXPR_PARSER_H_
