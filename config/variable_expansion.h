// config/variable_expansion.h
//
// `$VAR` and `${VAR}` references in a string replaced by values, with the
// rules of Go's os.Expand, which Prometheus 2.42 applies to the values of
// `global.external_labels` under `--enable-feature=expand-external-labels`.
// Called by config_loader.cc when it loads a config file (startup and every
// reload); not on a hot path.
//
// Thread-safety: pure functions; thread-safe (the environment is only read).

#ifndef FEDGATE_CONFIG_VARIABLE_EXPANSION_H_
#define FEDGATE_CONFIG_VARIABLE_EXPANSION_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace fedgate {

// Returns `s` with each variable reference replaced by `mapping(name)`, as
// Go's os.Expand:
//   - `$name`: the longest run of ASCII letters, digits and `_`;
//   - `${name}`: anything up to the first `}` (`${a.b}` names `a.b`);
//   - `$c` and `${c}` for one of Go's special characters
//     `* # $ @ ! ? - 0-9`: the one-character name `c` (so `$$` calls
//     `mapping("$")` and `$12` is `mapping("1")` then `2`);
//   - a `$` followed by nothing that starts a name (`$ `, `$.`, a `$` that
//     ends `s`) stays as it is;
//   - `${}` and an unterminated `${` are dropped (`x${}y` is `xy`, `${ab`
//     is `ab`), and `mapping` is not called for them.
// `mapping` is called once per reference, left to right.
std::string ExpandVariables(
    absl::string_view s,
    absl::FunctionRef<std::string(absl::string_view name)> mapping);

// Returns the value of the environment variable `name`, "" when it is unset,
// as Go's os.Getenv: a name that is empty or holds `=` or a NUL byte is never
// set (`${a=b}` does not read the variable `a`).
std::string GetEnvironmentVariable(absl::string_view name);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_VARIABLE_EXPANSION_H_
