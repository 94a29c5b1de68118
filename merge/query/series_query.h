// merge/query/series_query.h
//
// Selects stored series for a read request: every series of a store snapshot
// that matches any of the request's selectors (OR), each label set once (the
// first batch in snapshot order wins: a dedup group's leader, else the lowest
// target id; label sets are interned, so this is a pointer set), grouped into
// families with the scraped TYPE/HELP/UNIT, sorted by family, metric name and
// labels. Shared by /federate in every format, /api/v1 and the gRPC API, so
// that they agree.
//
// Read hot path. Per batch (one target's scrape), a matcher on a label that
// every series of the batch carries with one value is decided once for the
// batch, and `__name__="x"` visits only the series named `x`
// (ScrapeBatch::Index(), built by the first read of a batch, or adopted from
// the previous batch of a steady target); other matchers
// are evaluated per series. The pointer set that keeps each label set once is
// skipped when every contributing batch carries a common `instance` of its
// own (then no two batches can share a label set), and metadata is looked up
// for the answer's few names only, not merged from every target. A narrow
// selector over 1M series costs ~1-60 ms instead of ~150-300 ms
// (docs/performance.md). The result holds pointers into the snapshot (no copies
// of labels).
//
// A read sees a series only if its sample lies in the read's SampleWindow:
// Prometheus answers an instant read at `now` (/federate, /api/v1/query)
// with each series' newest sample in [now - 5m, now], so a sample exposed
// with an old or a future timestamp is not served.
//
// A series the snapshot's HiddenSeries hides (the input of an aggregation
// rule with `keep_inputs: false`) is never selected; the check costs one set
// lookup per distinct metric name, and a call per series of a hidden name.
//
// Thread-safety: pure functions over an immutable snapshot; thread-safe.

#ifndef FEDGATE_MERGE_QUERY_SERIES_QUERY_H_
#define FEDGATE_MERGE_QUERY_SERIES_QUERY_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "merge/metric_metadata.h"
#include "merge/query/label_matcher.h"
#include "merge/series_store.h"

namespace fedgate {

// One selected series. Views and pointers are valid while the snapshot is.
struct SelectedSeries {
  absl::string_view family;        // The family the series belongs to.
  const FamilyMetadata* metadata;  // Null: nothing scraped (untyped).
  const Sample* sample;
  int64_t timestamp_ms;  // The sample's (ScrapeBatch::TimestampOf).
};

// The sample timestamps a read may see, [min_ms, max_ms], both inclusive.
// The default admits every sample.
struct SampleWindow {
  int64_t min_ms = std::numeric_limits<int64_t>::min();
  int64_t max_ms = std::numeric_limits<int64_t>::max();

  bool Contains(int64_t t) const { return t >= min_ms && t <= max_ms; }
};

// Returns the window of an instant read at `now_ms` (kLookbackDeltaMs, in
// merge/series_store.h): [now - 5m, now], both
// ends inclusive as in Prometheus 2.42 (web/federate.go queries
// [now - lookback, now] and takes the newest sample at or before now;
// promql's vectorSelectorSingle drops a sample only if t < now - lookback).
inline SampleWindow LookbackWindow(int64_t now_ms) {
  return SampleWindow{now_ms - kLookbackDeltaMs, now_ms};
}

// Returns the time of an instant read of `snapshot` at `now` that has no
// time of its own (/federate, and /api/v1/query and gRPC without one): `now`,
// or the newest scrape in the snapshot when that is later. A read sees every
// scrape published before it: a scrape's timestamp can be ahead of the
// reader's clock, as it is its ideal tick time when the scheduler started it
// early (ScrapeScheduler), or as the reader's thread read the clock, lost
// the CPU and took the snapshot after a scrape had been published. Only the
// store's latest sample of a series is kept, so leaving such a scrape out
// would leave its series out, not serve their previous samples.
inline int64_t ReadTimeMs(const StoreSnapshot& snapshot, absl::Time now) {
  return std::max(absl::ToUnixMillis(now), snapshot.newest_scrape_ms);
}

// The order of SelectSeries' result.
enum class SeriesOrder {
  // By (family, metric name, labels).
  kSorted,
  // By (family, metric name); series of one name in store order (target id,
  // then scrape order). Prometheus's /federate sorts by name only, so this is
  // all /federate needs, and it avoids comparing label sets (a full dump of
  // 1M series: O(n) instead of ~20M label-set comparisons).
  kByFamilyAndName,
};

// Returns the series of `snapshot` that match any of `selectors` and whose
// sample lies in `window`, each label set once, in `order`: each family
// contiguous either way.
std::vector<SelectedSeries> SelectSeries(
    const StoreSnapshot& snapshot, absl::Span<const Selector> selectors,
    SeriesOrder order = SeriesOrder::kSorted, SampleWindow window = {});

}  // namespace fedgate

#endif  // FEDGATE_MERGE_QUERY_SERIES_QUERY_H_
