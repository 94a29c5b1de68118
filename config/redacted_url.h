// config/redacted_url.h
//
// A URL with its password hidden, as Go's url.URL.Redacted() shows it
// (`http://user:xxxxx@proxy:3128/`): the one place that hides the userinfo
// password of a proxy_url or api_server, for /api/v1/status/config
// (config_printer.h) and for the loaders' errors, which quote the URL they
// reject (a password never reaches a log line).
//
// Thread-safety: pure function; thread-safe.

#ifndef FEDGATE_CONFIG_REDACTED_URL_H_
#define FEDGATE_CONFIG_REDACTED_URL_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {

// Returns `url` with the password of its userinfo (between the first `:` and
// the last `@` of the authority) replaced by `xxxxx`; `url` unchanged when it
// has no password. The authority follows `://`, or starts the string when
// there is none (a string that does not parse as a URL is redacted all the
// same).
std::string RedactedUrl(absl::string_view url);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_REDACTED_URL_H_
