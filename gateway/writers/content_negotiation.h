// gateway/writers/content_negotiation.h
//
// Chooses the /federate answer's format from the request's `Accept` header
// and its compression from `Accept-Encoding`, exactly as Prometheus 2.42
// does (prometheus-semantics.md §1.1, §1.4), plus OpenMetrics, which
// Prometheus never offers on /federate:
//   * `Accept` is parsed like goautoneg (prometheus/common's copy): clauses
//     split on `,`, parameters on `;`, `q` parsed as a 32-bit float (0 when
//     unparsable), clauses ordered by goautoneg's comparison with Go's
//     insertion sort (what `sort.Sort` does for up to 12 clauses). The first
//     clause that names a format wins:
//       - `application/vnd.google.protobuf` with
//         `proto=io.prometheus.client.MetricFamily` and `encoding=delimited`,
//         `text` or `compact-text` (any other encoding falls through);
//       - `application/openmetrics-text` with `version` `1.0.0`, `0.0.1` or
//         none (fedgate's addition, as expfmt.NegotiateIncludingOpenMetrics);
//       - `text/plain` with `version` `0.0.4` or none.
//     Anything else (`*/*`, no header) is text 0.0.4.
//   * `Accept-Encoding` (its first header): split on `,`, each token trimmed;
//     the first token that is exactly `gzip` or `deflate` wins. `gzip;q=1`
//     is not `gzip`, so it gets an uncompressed answer, as from Prometheus.
//
// Called once per /federate request; not a hot path.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_GATEWAY_WRITERS_CONTENT_NEGOTIATION_H_
#define FEDGATE_GATEWAY_WRITERS_CONTENT_NEGOTIATION_H_

#include "absl/strings/string_view.h"

namespace fedgate {

enum class ExpositionFormat {
  kText,              // text/plain; version=0.0.4
  kOpenMetrics100,    // application/openmetrics-text; version=1.0.0
  kOpenMetrics001,    // application/openmetrics-text; version=0.0.1
  kProtoDelimited,    // protobuf, encoding=delimited
  kProtoText,         // protobuf, encoding=text
  kProtoCompactText,  // protobuf, encoding=compact-text
};

enum class ContentEncoding { kIdentity, kGzip, kDeflate };

// Returns the format for an `Accept` header value ("" when absent).
ExpositionFormat NegotiateFormat(absl::string_view accept);

// Returns the exact Content-Type header of `format`, e.g.
// `text/plain; version=0.0.4; charset=utf-8`.
absl::string_view ContentTypeOf(ExpositionFormat format);

// Returns the compression for an `Accept-Encoding` header value.
ContentEncoding NegotiateEncoding(absl::string_view accept_encoding);

// Returns the Content-Encoding header value (`gzip`, `deflate`, or "").
absl::string_view ContentEncodingName(ContentEncoding encoding);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WRITERS_CONTENT_NEGOTIATION_H_
