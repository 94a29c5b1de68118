// scraper/exposition/exposition_parser.h
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

#ifndef FEDGATE_SCRAPER_EXPOSITION_EXPOSITION_PARSER_H_
#define FEDGATE_SCRAPER_EXPOSITION_EXPOSITION_PARSER_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"

namespace fedgate {

// An error that Prometheus 2.42's parsers let through and its storage rejects
// when the parsed sample is appended (a repeated label name, `__name__`
// inside the braces): the scrape fails as after a parse error, but the
// sample counts in `scrape_samples_scraped`, and the message is the
// storage's, without a position. Parsers return such errors with this code.
inline absl::Status SampleRejectedError(absl::string_view message) {
  return absl::FailedPreconditionError(message);
}
inline bool IsSampleRejected(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition;
}

// What a parser counts over a body, for the scraper's self-metrics; read once
// the parser has returned kEof.
struct ParserStatistics {
  // Native histograms flattened to their classic series (protobuf only; see
  // protobuf_parser.h): fedgate_scrape_native_histograms_flattened_total.
  int native_histograms = 0;
};

enum class ParseEntry {
  kSeries,   // A sample.
  kType,     // `# TYPE name type`
  kHelp,     // `# HELP name text`
  kUnit,     // `# UNIT name unit` (OpenMetrics; protobuf's `unit` field)
  kComment,  // Any other `#` line (text format only; ignored by callers).
  kEof,      // End of the body; Next() keeps returning kEof.
};

// The scrape cache's key for a series line: a 128-bit hash of its raw text
// instead of the text itself, which is ~330 bytes per series on mesh proxies
// and would be the largest part of a stored series. The two halves are two
// independent 64-bit hashes computed in one pass over the text (see
// SeriesTextKeyOf), each seeded per process; the scrape cache keeps all of
// `a` and 32 bits of `b`. The chance that two distinct lines of one target
// share both halves is ~n^2/2^129 (1e-29 for 1e5 lines); and since a scrape
// cache is per target, a collision could only give a sample another series
// of the same target, never another target's labels.
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

namespace series_text_key_internal {

// Random constants (drawn once from a CSPRNG): the chains' start values and
// secrets.
inline constexpr uint64_t kSecret[14] = {
    0x2ad0a0aa179c6532ULL, 0x9ce943aae1b67f46ULL, 0x04c388e686f31fa1ULL,
    0x482061c2f3acfa11ULL, 0x6aebb5ac5771ea71ULL, 0x23ef86c7ccc974cdULL,
    0xaa09e222da09f2a2ULL, 0xec3d1300bc7ee255ULL, 0x2729349399ac8ed3ULL,
    0x96b285909f831106ULL, 0x0a15dca1d1543892ULL, 0x00cbf0767ca40d72ULL,
    0xf51f248d9c3bb8dbULL, 0x08f4e7e06a2c1797ULL};

// Its address differs between processes (ASLR); the per-process seed, as
// absl's hash seeds itself, so that a target cannot precompute texts whose
// keys collide. Keys are never stored outside the process.
inline constexpr char kSeedAnchor = 0;

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The 128-bit product of `x` and `y` folded to 64 bits (wyhash's "mum").
inline uint64_t Mix(uint64_t x, uint64_t y) {
  const absl::uint128 product = absl::uint128(x) * y;
  return absl::Uint128Low64(product) ^ absl::Uint128High64(product);
}

}  // namespace series_text_key_internal

// Returns the key of `text`. Why this shape: the two 64-bit hashes it used to
// be (absl's and libstdc++'s murmur2) each walked the text, 8 bytes per
// dependent step, and took ~30% of a steady-state scrape. Here one pass reads
// 32 bytes per step and feeds them to four wyhash-style chains
// (`c = Mix(word ^ secret, word ^ c)`): `a0`/`a1` make the `a` half and
// `b0`/`b1` the `b` half, with their own secrets and the chain value on the
// other operand, so the halves are as independent as two seeds of one hash
// function; the four chains run in parallel in the multiplier. The last 1-32
// bytes are read as overlapping words (every byte is covered and texts of
// one length split alike), and the length is mixed in at the end.
inline SeriesTextKey SeriesTextKeyOf(absl::string_view text) {
  namespace st = series_text_key_internal;
  const uint64_t seed =
      st::Mix(reinterpret_cast<uintptr_t>(&st::kSeedAnchor) ^ st::kSecret[0],
              st::kSecret[1]);
  const uint64_t ka0 = seed ^ st::kSecret[4];
  const uint64_t ka1 = seed ^ st::kSecret[5];
  const uint64_t kb0 = seed ^ st::kSecret[12];
  const uint64_t kb1 = seed ^ st::kSecret[13];
  uint64_t a0 = seed ^ st::kSecret[2];
  uint64_t a1 = seed ^ st::kSecret[3];
  uint64_t b0 = seed ^ st::kSecret[6];
  uint64_t b1 = seed ^ st::kSecret[7];
  auto round = [&](uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3) {
    a0 = st::Mix(w0 ^ ka0, w1 ^ a0);
    a1 = st::Mix(w2 ^ ka1, w3 ^ a1);
    b0 = st::Mix(w0 ^ b0, w1 ^ kb0);
    b1 = st::Mix(w2 ^ b1, w3 ^ kb1);
  };
  const char* p = text.data();
  size_t n = text.size();
  while (n > 32) {
    round(st::Load64(p), st::Load64(p + 8), st::Load64(p + 16),
          st::Load64(p + 24));
    p += 32;
    n -= 32;
  }
  uint64_t w[4] = {0, 0, 0, 0};
  if (n > 16) {
    w[0] = st::Load64(p);
    w[1] = st::Load64(p + 8);
    w[2] = st::Load64(p + n - 16);
    w[3] = st::Load64(p + n - 8);
  } else if (n >= 8) {
    w[0] = st::Load64(p);
    w[1] = st::Load64(p + n - 8);
  } else if (n >= 4) {
    w[0] = st::Load32(p);
    w[1] = st::Load32(p + n - 4);
  } else if (n > 0) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    w[0] = (uint64_t{u[0]} << 16) | (uint64_t{u[n / 2]} << 8) | u[n - 1];
  }
  round(w[0], w[1], w[2], w[3]);
  const uint64_t length = text.size();
  return SeriesTextKey{
      st::Mix(a0 ^ st::kSecret[8], a1 ^ length ^ st::kSecret[9]),
      st::Mix(b0 ^ length ^ st::kSecret[10], b1 ^ st::kSecret[11])};
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
  // kHelp: the help text, unescaped, without a copy where it can: a view of
  // the body, or of `*storage` (where the text is unescaped into) when it has
  // escapes.
  virtual absl::string_view help_text(std::string* storage) const = 0;
  // kHelp: help_text() as a copy.
  std::string help() const {
    std::string storage;
    return std::string(help_text(&storage));
  }
  // kUnit: the unit.
  virtual absl::string_view unit() const = 0;

  // Returns what the parser counted so far; all zero for formats that count
  // nothing (text, OpenMetrics).
  virtual ParserStatistics statistics() const { return {}; }
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_EXPOSITION_PARSER_H_
