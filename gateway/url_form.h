// gateway/url_form.h
//
// application/x-www-form-urlencoded decoding: the query of every request URL
// and the form bodies of /api/v1 POSTs, one decoder for both (Go's r.Form
// reads them the same way).
//
// Called once per request by the HTTP server; input is untrusted (fuzzed by
// tests/fuzz/url_form_fuzzer.cc).
//
// Thread-safety: pure function; thread-safe.

#ifndef FEDGATE_GATEWAY_URL_FORM_H_
#define FEDGATE_GATEWAY_URL_FORM_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace fedgate {

// Parses `text` (a URL query without the `?`, or a form body) into name/value
// pairs in order: pairs are separated by `&`, a pair without `=` has an empty
// value, empty pairs are skipped, `+` is a space and `%XX` a byte. A
// malformed escape (`%zz`, a `%` near the end) is kept as it is, where Go
// would reject the whole form.
std::vector<std::pair<std::string, std::string>> ParseUrlEncoded(
    absl::string_view text);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_URL_FORM_H_
