// scraper/label_limits.h
//
// The label limits of a scrape config (label_limit, label_name_length_limit,
// label_value_length_limit) as Prometheus 2.42's verifyLabelLimits checks
// them, with its messages. The scrape loop checks each series new to its
// scrape cache, after target labels and metric relabeling; a series that
// breaks a limit fails the scrape (`up` 0, counted as limit_exceeded).
//
// Off the steady-state hot path: once per new series.
//
// Thread-safety: pure functions.

#ifndef FEDGATE_SCRAPER_LABEL_LIMITS_H_
#define FEDGATE_SCRAPER_LABEL_LIMITS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "scraper/scrape_settings.h"

namespace fedgate {

// Returns the first `n` runes of `s`, as Go's `%.50s` prints them; a rune
// starts at every byte that is not a UTF-8 continuation byte.
absl::string_view TruncateRunes(absl::string_view s, size_t n);

// Returns ResourceExhausted with Prometheus 2.42's message when `labels`
// break a label limit of `settings` (zero: no limit), e.g. `label_limit
// exceeded (metric: up, number of labels: 4, limit: 3)`; OK otherwise.
absl::Status VerifyLabelLimits(const Labels& labels,
                               const ScrapeSettings& settings);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_LABEL_LIMITS_H_
