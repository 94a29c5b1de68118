// scraper/request_authorization.h
//
// The `Authorization` header of a scrape request from the scrape config's
// `authorization` (credentials or credentials_file) or `basic_auth`
// (password or password_file), as prometheus/common's round trippers build
// it. Files are read for every request, so rotated credentials are used on
// the next scrape without a reload. Called by the HTTP client when it sets
// up a transfer: once per scrape, not per sample.
//
// Thread-safety: pure function (reads files); thread-safe.

#ifndef FEDGATE_SCRAPER_REQUEST_AUTHORIZATION_H_
#define FEDGATE_SCRAPER_REQUEST_AUTHORIZATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace fedgate {

// Returns the `Authorization` header value for `config` ("" for none),
// reading credentials and password files now (trimmed of surrounding
// whitespace, as Prometheus does). Errors are Unavailable and name the file,
// never its content: `unable to read authorization credentials file <path>:
// open <path>: no such file or directory`.
absl::StatusOr<std::string> AuthorizationValue(const HttpClientConfig& config);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_REQUEST_AUTHORIZATION_H_
