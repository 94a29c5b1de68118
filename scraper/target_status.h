// scraper/target_status.h
//
// What /api/v1/targets and gRPC show about the targets of the scrape
// manager: the status of every scraped target (TargetStatus, built by its
// scrape loop) and the targets relabel_configs dropped (DroppedTarget).
//
// Thread-safety: value types.

#ifndef FEDGATE_SCRAPER_TARGET_STATUS_H_
#define FEDGATE_SCRAPER_TARGET_STATUS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/series_store.h"

namespace fedgate {

enum class TargetHealth { kUnknown, kUp, kDown };

// Returns `unknown`, `up` or `down`, as /api/v1/targets spells health.
absl::string_view TargetHealthName(TargetHealth health);

// What /api/v1/targets shows about one target.
struct TargetStatus {
  TargetId id = 0;          // The target's key in the SeriesStore.
  std::string scrape_pool;  // The job_name of its scrape config.
  std::string scrape_url;
  Labels labels;             // Public labels (attached to its series).
  InternedLabels discovered_labels;  // Before relabeling, incl. `__`.
  TargetHealth health = TargetHealth::kUnknown;   // Unknown until scraped.
  std::string last_error;                         // "" after a success.
  absl::Time last_scrape = absl::InfinitePast();  // Start of the last scrape.
  absl::Duration last_scrape_duration;
  absl::Duration scrape_interval;
  absl::Duration scrape_timeout;
  std::string dedup_group;    // `<name>/<key>`; "" when in no dedup group.
  bool dedup_leader = false;  // Its series win inside the group.
};

// What /api/v1/targets shows about a target that relabel_configs dropped.
struct DroppedTarget {
  std::string scrape_pool;   // The job_name of its scrape config.
  InternedLabels discovered_labels;  // Before relabeling, incl. `__`.
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_TARGET_STATUS_H_
