// config/duration.h
//
// Prometheus duration strings (`30s`, `1m30s`, `2w`, `1y`, `0`), parsed and
// printed exactly as Prometheus 2.42 does (prometheus/common v0.39
// `model.ParseDuration` and `model.Duration.String()`). absl::ParseDuration
// is not a substitute: it has no d/w/y units and accepts fractions, signs and
// any unit order. Called by the config loader for every interval and timeout,
// and by the scraper for `__scrape_interval__`/`__scrape_timeout__` labels.
// Not on a hot path.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_CONFIG_DURATION_H_
#define FEDGATE_CONFIG_DURATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace fedgate {

// Parses a Prometheus duration: `0`, or one or more `<digits><unit>` terms
// with units in the order y (365d), w (7d), d (24h), h, m, s, ms, each unit at
// most once (the regex
// `^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$`).
// No sign, fraction, space or upper case. Errors (all InvalidArgument), with
// Prometheus's wording:
//   ""                -> `empty duration string`
//   "5 m", "1s1m"     -> `not a valid duration string: "5 m"`
//   above ~292y       -> `duration out of range: "300y"` (the total must fit
//                        in int64 nanoseconds, as Go's time.Duration)
absl::StatusOr<absl::Duration> ParsePrometheusDuration(absl::string_view s);

// Returns the Prometheus form of `d`, truncated to whole milliseconds: the
// largest units first, zero units omitted (`1m`, `1h30m`, `1d`, `2w`, `1y`,
// `1y2w3d4h5m6s7ms`, `500ms`); `0s` for less than 1ms. Round-trips with
// ParsePrometheusDuration. Prometheus prints "" for negative durations; this
// prints `-` followed by the form of the magnitude (`-1m30s`) instead.
// Infinite durations saturate at int64 milliseconds.
std::string FormatPrometheusDuration(absl::Duration d);

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_DURATION_H_
