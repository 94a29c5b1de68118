#include "scraper/scrape_cache.h"

#include <vector>

#include "absl/container/flat_hash_map.h"

namespace fedgate {

static_assert(sizeof(ScrapeCache::Entry) == 16);

size_t ScrapeCache::FinishScrape(ScrapeBatch& batch) {
  metadata_ = batch.metadata;
  // Texts the scrape did not have are forgotten: O(cache), only when
  // something is gone (a steady target skips it). Before the duplicates are
  // removed, so that every entry left points into `batch`.
  if (texts_.size() > seen_) {
    absl::erase_if(texts_, [epoch = epoch_](const Entry& entry) {
      return entry.epoch_ != epoch;
    });
  }
  return DropDuplicateSeries(batch);
}

size_t ScrapeCache::DropDuplicateSeries(ScrapeBatch& batch) {
  // A scrape whose texts were all in the cache, which holds the previous
  // successful scrape's texts only (FinishScrape) and was found free of
  // aliases then, cannot have a duplicate: the steady state pays nothing.
  // Otherwise one pass over the scrape's label sets (interned: equal sets
  // are one pointer), in a table that lives for this call only.
  if (!may_alias_) return 0;
  // Label set -> its kept sample's position.
  absl::flat_hash_map<const void*, uint32_t> kept_at;
  kept_at.reserve(batch.samples.size());
  std::vector<uint32_t> moved_to(batch.samples.size());
  uint32_t kept = 0;
  for (size_t i = 0; i < batch.samples.size(); ++i) {
    // The same series twice in one scrape: the first value wins, as the
    // TSDB of Prometheus 2.42 keeps it.
    auto [it, inserted] =
        kept_at.try_emplace(batch.samples[i].labels.id(), kept);
    moved_to[i] = it->second;
    if (!inserted) continue;
    if (kept != i) {
      batch.samples[kept] = std::move(batch.samples[i]);
      if (!batch.timestamps.empty()) {
        batch.timestamps[kept] = batch.timestamps[i];
      }
    }
    ++kept;
  }
  const size_t duplicates = batch.samples.size() - kept;
  batch.samples.resize(kept);
  if (!batch.timestamps.empty()) batch.timestamps.resize(kept);
  if (duplicates > 0) {
    // The cache follows its samples; a text whose line was the duplicate
    // now points to the kept sample of its series (same labels).
    for (const Entry& text : texts_) {
      if (!text.dropped()) text.position_ = moved_to[text.position_];
    }
  }
  may_alias_ = duplicates > 0;
  return duplicates;
}

void ScrapeCache::FinishFailedScrape(ScrapeBatch& batch) {
  // The texts the scrape did not reach still point into the old reference
  // batch, which the failed batch replaces; their labels move to the failed
  // batch's end.
  if (texts_.size() == seen_) return;
  if (batch.samples.size() + texts_.size() >= kMaxSamples) {
    texts_.clear();  // Cannot happen below 2^31 lines of body.
    return;
  }
  for (const Entry& text : texts_) {
    if (text.epoch_ == epoch_) continue;
    text.epoch_ = epoch_;
    if (text.dropped()) continue;
    const uint32_t from = text.position_;
    text.position_ = static_cast<uint32_t>(batch.samples.size());
    batch.Add(reference_->samples[from].labels, 0, batch.timestamp_ms);
  }
  seen_ = texts_.size();
}

}  // namespace fedgate
