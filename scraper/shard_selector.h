// scraper/shard_selector.h
//
// Which targets one replica of a sharded fedgate scrapes (--shard.count,
// --shard.index; docs/sharding.md). A target belongs to shard
// `hashmod(key, count)`, Prometheus's relabel hashmod (merge/relabel.h: MD5,
// last 8 bytes big-endian, modulo), where the key is the target's final
// `__address__` (after relabel_configs, the default port added: the host and
// port fedgate scrapes) or, for a member of a dedup group, the group's key,
// so that every member of a group lands on the same shard and the group
// still deduplicates. A target of another shard is dropped as a `hashmod` +
// `keep` relabel rule would drop it: listed in /api/v1/targets
// `droppedTargets`, not scraped.
//
// Called by the gateway at start (FromFlags(), with the pod name of a
// StatefulSet) and by the scrape manager once per target at every apply.
// Not on a hot path: one MD5 of a short string per target and apply.
//
// Thread-safety: an immutable value; safe to share.

#ifndef FEDGATE_SCRAPER_SHARD_SELECTOR_H_
#define FEDGATE_SCRAPER_SHARD_SELECTOR_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "scraper/scrape_settings.h"

namespace fedgate {

class ShardSelector {
 public:
  // One shard: keeps every target.
  ShardSelector() = default;

  // Returns the selector of shard `index` of `count`. InvalidArgument when
  // `count` is 0 or `index` is not below it.
  static absl::StatusOr<ShardSelector> Create(uint64_t index, uint64_t count);

  // Resolves the flags: `count` shards (1: no sharding), this replica being
  // `index`, or when `index` is unset and `count` > 1, the ordinal of the
  // StatefulSet pod name `pod_name` (`<name>-<ordinal>`; `pod_name_source`
  // says where it came from, for the error). InvalidArgument naming the
  // flags, e.g. `--shard.index is not set and the pod name "web" (from
  // HOSTNAME) does not end in a StatefulSet ordinal`, or `shard index 3 (from
  // the pod name "fedgate-3") is not below --shard.count=3`.
  static absl::StatusOr<ShardSelector> FromFlags(
      std::optional<uint64_t> index, uint64_t count, absl::string_view pod_name,
      absl::string_view pod_name_source);

  // Returns the value a target is sharded by: the key of its dedup group
  // when it is in one, else the `__address__` of `target_labels` (the
  // target's labels after relabel_configs, as ScrapeTarget::labels()).
  static absl::string_view ShardKey(const Labels& target_labels,
                                    const DedupSettings& dedup);

  // Returns whether this shard scrapes the target (see ShardKey()).
  bool Keeps(const Labels& target_labels, const DedupSettings& dedup) const;

  uint64_t index() const { return index_; }
  uint64_t count() const { return count_; }

 private:
  ShardSelector(uint64_t index, uint64_t count)
      : index_(index), count_(count) {}

  uint64_t index_ = 0;
  uint64_t count_ = 1;
};

// Returns the ordinal of a StatefulSet pod name (`fedgate-2` → 2): the
// decimal digits after its last `-`. InvalidArgument when there are none.
absl::StatusOr<uint64_t> StatefulSetOrdinal(absl::string_view pod_name);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SHARD_SELECTOR_H_
