// config/go_regexp.h
//
// Compiles a regular expression with RE2, accepting what Go's regexp.Compile
// accepts (Prometheus's regexes are Go's) and reporting errors in Go's words:
// `error parsing regexp: missing closing ): `^(?:()$``. RE2 and Go's
// regexp/syntax are siblings, but RE2 also accepts `\C` and encoded
// surrogates, and words its errors differently. Used at config load
// (relabel rules) and for selector matchers (merge/query/label_matcher.h).
//
// Thread-safety: pure function; the returned RE2 is immutable and shareable.

#ifndef FEDGATE_CONFIG_GO_REGEXP_H_
#define FEDGATE_CONFIG_GO_REGEXP_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"

namespace fedgate {

// Compiles `pattern` as given (callers anchor it, e.g. `^(?:re)$`). Fails
// with InvalidArgument and Go's error text. `max_mem` bounds RE2's memory for
// the program (RE2::Options::set_max_mem; 0 keeps RE2's 8 MiB): past it the
// compile stops early with Go's "expression too large".
absl::StatusOr<std::shared_ptr<const RE2>> CompileGoRegexp(
    absl::string_view pattern, int64_t max_mem = 0);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_GO_REGEXP_H_
