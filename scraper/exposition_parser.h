// scraper/exposition_parser.h
//
// The entry model every exposition parser hands to the scrape loop, so that
// text 0.0.4 (text_parser.h), OpenMetrics 1.0 (openmetrics_parser.h) and the
// delimited protobuf format (protobuf_parser.h) are appended alike. The shape
// is Prometheus's textparse.Parser: Next() moves to the next entry, and the
// accessors describe it. exposition_format.h picks the parser for a
// response's Content-Type.
//
// Hot path: one virtual Next() and a few accessor calls per sample. Views
// point into the scrape body (or, for protobuf, into the parser) and are
// valid until the next Next(); nothing is allocated per sample except by
// GetLabels(), which callers use only for series new to their scrape cache.
//
// Thread-safety: implementations are thread-compatible; one parser per body.

#ifndef FEDGATE_SCRAPER_EXPOSITION_PARSER_H_
#define FEDGATE_SCRAPER_EXPOSITION_PARSER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"

namespace fedgate {

enum class ParseEntry {
  kSeries,   // A sample.
  kType,     // `# TYPE name type`
  kHelp,     // `# HELP name text`
  kUnit,     // `# UNIT name unit` (OpenMetrics; protobuf's `unit` field)
  kComment,  // Any other `#` line (text format only; ignored by callers).
  kEof,      // End of the body; Next() keeps returning kEof.
};

// The scrape cache's key for a series line: two independent 64-bit hashes
// of its raw text (absl's, seeded per process, and libstdc++'s murmur2)
// instead of the text itself, which is ~330 bytes per series on mesh
// proxies and would be the largest part of a stored series. The chance that
// two distinct lines of one target share both is ~n^2/2^129 (1e-29 for
// 1e5 lines); and since a scrape cache is per target, a collision could
// only give a sample another series of the same target, never another
// target's labels.
struct SeriesTextKey {
  uint64_t a;
  uint64_t b;
  friend bool operator==(const SeriesTextKey& x, const SeriesTextKey& y) {
    return x.a == y.a && x.b == y.b;
  }
};
struct SeriesTextKeyHash {
  size_t operator()(const SeriesTextKey& key) const { return key.a; }
};
inline SeriesTextKey SeriesTextKeyOf(absl::string_view text) {
  return SeriesTextKey{absl::Hash<absl::string_view>()(text),
                       std::hash<std::string_view>()(
                           std::string_view(text.data(), text.size()))};
}

// A scrape cache the parser may consult to recognise a series line from its
// raw bytes (Prometheus's scrape cache does the same): for a known series
// text, only the value and timestamp need parsing. Find() returns the
// caller's entry for `series_text`, or null when the text is unknown.
class SeriesTextCache {
 public:
  virtual ~SeriesTextCache() = default;
  virtual void* Find(absl::string_view series_text) const = 0;
};

class ExpositionParser {
 public:
  virtual ~ExpositionParser() = default;

  // Lets the parser skip the label syntax of lines whose series text
  // `cache` knows (texts it knows were fully parsed before, so the result is
  // the same). Parsers without such a path ignore it.
  virtual void SetSeriesTextCache(const SeriesTextCache* cache) {}
  // kSeries: the cache entry of the series text, when the line was
  // recognised through the cache; null when it was parsed in full (look it
  // up yourself then).
  virtual void* cached_series() const { return nullptr; }

  // Advances to the next entry. A syntax error returns InvalidArgument whose
  // message names the position and quotes the offending input; the parser
  // must not be used after an error.
  virtual absl::StatusOr<ParseEntry> Next() = 0;

  // kSeries: bytes that identify the series within this format, the key of a
  // scrape cache: the raw `m{a="1"}` text for the text formats.
  virtual absl::string_view series_text() const = 0;
  // kSeries: the metric name (with any `_bucket`, `_total`... suffix).
  virtual absl::string_view metric_name() const = 0;
  // kSeries: replaces `*labels` with the series' labels, `__name__` first,
  // values unescaped. Empty values are kept (Labels drops them).
  virtual void GetLabels(std::vector<Label>* labels) const = 0;
  // kSeries: the sample value (an exposed NaN is Prometheus's normal NaN).
  virtual double value() const = 0;
  // kSeries: the sample's own timestamp in milliseconds, if it has one.
  virtual std::optional<int64_t> timestamp_ms() const = 0;

  // kType, kHelp, kUnit: the family name as declared.
  virtual absl::string_view family_name() const = 0;
  // kType: the declared type.
  virtual MetricType type() const = 0;
  // kHelp: the help text, unescaped.
  virtual std::string help() const = 0;
  // kUnit: the unit.
  virtual absl::string_view unit() const = 0;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_PARSER_H_
