// scraper/exposition/exposition_format.h
//
// Picks the exposition parser for a scrape response by its Content-Type,
// exactly as Prometheus 2.42's textparse.New does: the media type (Go's
// mime.ParseMediaType: lowercased, parameters checked)
// `application/openmetrics-text` selects OpenMetrics,
// `application/vnd.google.protobuf` selects the delimited protobuf format
// (whatever its `proto=`/`encoding=` parameters say), and anything else — a
// missing, unknown or unparsable Content-Type included — the text format
// 0.0.4. (Prometheus 3.x fails such scrapes instead; 2.42 does not.)
//
// Also: the Accept header Prometheus 2.42 sends with every scrape.
//
// Hot path: once per scrape, allocation-free but for the parser itself.
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_SCRAPER_EXPOSITION_EXPOSITION_FORMAT_H_
#define FEDGATE_SCRAPER_EXPOSITION_EXPOSITION_FORMAT_H_

#include <memory>

#include "absl/strings/string_view.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {

// Prometheus 2.42's scrape `Accept` header (scrape/scrape.go
// scrapeAcceptHeader): OpenMetrics preferred, text 0.0.4 next.
inline constexpr absl::string_view kPrometheusScrapeAcceptHeader =
    "application/openmetrics-text;version=1.0.0,"
    "application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

enum class ExpositionFormat { kText, kOpenMetrics, kProtobuf };

// Returns the format 2.42 parses a response with `content_type` in.
ExpositionFormat ExpositionFormatForContentType(absl::string_view content_type);

// Returns `text`, `openmetrics` or `protobuf`.
absl::string_view ExpositionFormatName(ExpositionFormat format);

// Returns a parser over `body` (which must outlive it) for `content_type`.
std::unique_ptr<ExpositionParser> CreateExpositionParser(
    absl::string_view content_type, absl::string_view body);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_EXPOSITION_FORMAT_H_
