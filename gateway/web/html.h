// gateway/web/html.h
//
// The one HTML escaper of fedgate's web pages (targets_page.h): every value
// that reaches a page (job names, URLs, label names and values, scrape
// errors) comes from targets or their configuration and is written through
// it, in text and in double-quoted attribute values alike. `&`, `<`, `>`,
// `"` and `'` become character references (as Go's html.EscapeString
// writes them), and every byte that is not part of valid UTF-8 becomes
// U+FFFD (config/utf8.h's decoding), so a page is always valid UTF-8 and a
// value can never close an element or an attribute.
//
// Also the SHA-256 source expression (`'sha256-…'`) by which a
// Content-Security-Policy allows one inline <script> or <style> element.
//
// Not on a hot path: a page view escapes each target's labels once.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_GATEWAY_WEB_HTML_H_
#define FEDGATE_GATEWAY_WEB_HTML_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {

// Appends `s` escaped for HTML text or a double-quoted attribute value.
void AppendHtmlEscaped(absl::string_view s, std::string* out);

// Returns `s` escaped as AppendHtmlEscaped does.
std::string HtmlEscape(absl::string_view s);

// Returns the CSP source expression that allows an inline element whose
// content is exactly `content`: `'sha256-<base64 of its SHA-256>'`.
std::string CspSha256Source(absl::string_view content);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WEB_HTML_H_
