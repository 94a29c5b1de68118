// scraper/scrape_cache.h
//
// A target's scrape cache: the raw text of every series line the target
// exposed in its latest scrape (by 96 bits of its SeriesTextKey), mapped to
// the series' interned labels, built once when the text first appears:
// after target labels and metric_relabel_configs, so a steady-state scrape
// does no labelling or relabeling work; a text relabeling drops maps to
// "dropped". It also keeps the latest scrape's metadata, which the next one
// shares if its families come out the same.
//
// An entry does not hold its labels (8 bytes more per series, at the
// table's load ~16): it holds the position of its text's sample in the
// reference batch (the latest batch that a body was parsed into), which
// holds them anyway. A scrape moves each entry it meets to its sample's
// position in the new batch and flips the entry's epoch, so during a scrape
// an entry of the current epoch points into the batch being built and one
// of the other epoch into the reference batch; after the scrape
// (FinishScrape() or FinishFailedScrape()) every entry is of the current
// epoch again and points into the new batch, which the caller then makes
// the reference (SetReference()).
//
// Several texts can name one series (`m{a="1",b="2"}` and `m{b="2",a="1"}`,
// or two texts relabeled alike), and the second sample of a series in one
// scrape is a duplicate: FinishScrape() drops it. (The chance that two
// lines of a target share the 96 key bits is ~n^2/2^97: 6e-20 for 1e5
// lines; see SeriesTextKey.)
//
// Used by the scrape loop (scrape_loop.h) while it parses a body, and by
// the parsers through SeriesTextCache. Hot path: Find() and AppendSample()
// run per sample and are inline; nothing is allocated per sample of a
// known text.
//
// Thread-safety: thread-compatible; owned by the scrape in flight of its
// loop (ScrapeLoop hands it from scrape to scrape).

#ifndef FEDGATE_SCRAPER_SCRAPE_CACHE_H_
#define FEDGATE_SCRAPER_SCRAPE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "merge/interned_labels.h"
#include "merge/metric_metadata.h"
#include "merge/series_store.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {

class ScrapeCache final : public SeriesTextCache {
 public:
  // One cached text: 16 bytes.
  class Entry {
   public:
    // Returns whether metric_relabel_configs dropped the text's series.
    bool dropped() const { return position_ == kDropped; }

   private:
    friend class ScrapeCache;
    static constexpr uint32_t kDropped = (uint32_t{1} << 31) - 1;

    Entry(const SeriesTextKey& key, uint32_t position, uint32_t epoch)
        : key_a_(key.a),
          key_b_(static_cast<uint32_t>(key.b)),
          position_(position),
          epoch_(epoch) {}

    uint64_t key_a_;
    uint32_t key_b_;
    // Not part of the key: changed in place (set elements are const).
    // The sample's position, or kDropped.
    mutable uint32_t position_ : 31;
    mutable uint32_t epoch_ : 1;
  };

  // The most samples one scrape may have (positions are 31 bits).
  static constexpr size_t kMaxSamples = Entry::kDropped;

  ScrapeCache() = default;
  ScrapeCache(ScrapeCache&&) = default;
  ScrapeCache& operator=(ScrapeCache&&) = default;

  // Starts a scrape: every text becomes unseen by it.
  void BeginScrape() {
    epoch_ ^= 1;
    seen_ = 0;
  }

  // Returns the entry of the text with `key`, or null when it is unknown.
  // Valid until the next Insert().
  Entry* Find(const SeriesTextKey& key) {
    auto it = texts_.find(key);
    return it == texts_.end() ? nullptr : const_cast<Entry*>(&*it);
  }
  // SeriesTextCache: the Entry of `series_text`, or null.
  void* Find(absl::string_view series_text) const override {
    auto it = texts_.find(SeriesTextKeyOf(series_text));
    return it == texts_.end() ? nullptr : const_cast<Entry*>(&*it);
  }

  // Adds the text with `key`, new to the cache and not yet seen by this
  // scrape; `dropped` when relabeling dropped its series. Its first
  // AppendSample() then gives its labels. Valid until the next Insert().
  Entry* Insert(const SeriesTextKey& key, bool dropped) {
    if (!dropped) may_alias_ = true;
    auto inserted =
        texts_.insert(Entry(key, dropped ? Entry::kDropped : 0, epoch_ ^ 1u));
    return const_cast<Entry*>(&*inserted.first);
  }

  // Marks the dropped text of `entry` seen by this scrape.
  void SeeDropped(Entry& entry) {
    if (entry.epoch_ != epoch_) {
      entry.epoch_ = epoch_;
      ++seen_;
    }
  }

  // Appends to `batch` (the scrape's) the sample of the kept text of
  // `entry` with `value` at `sample_ms`: with the text's labels from the
  // reference batch, or `new_labels` for a text just inserted. The second
  // line of a text in one scrape gets the labels of its first (a
  // duplicate series).
  void AppendSample(Entry& entry, InternedLabels new_labels, double value,
                    int64_t sample_ms, ScrapeBatch& batch) {
    if (entry.epoch_ == epoch_) {
      batch.Add(batch.samples[entry.position_].labels, value, sample_ms);
      return;
    }
    const uint32_t position = static_cast<uint32_t>(batch.samples.size());
    batch.Add(new_labels.empty() ? reference_->samples[entry.position_].labels
                                 : std::move(new_labels),
              value, sample_ms);
    entry.position_ = position;
    entry.epoch_ = epoch_;
    ++seen_;
  }

  // Ends a scrape whose body parsed into `batch` (before its synthetic
  // series): keeps its metadata for the next scrape, forgets the texts it
  // did not have, and removes the second and later samples of a series
  // from `batch` (the first value wins, as in Prometheus 2.42's TSDB).
  // Returns the number of samples removed.
  size_t FinishScrape(ScrapeBatch& batch);
  // Ends a scrape that failed into `batch` (parse error or a limit): keeps
  // every text, as Prometheus does; those the scrape did not reach get
  // their labels appended to `batch` (value 0), which becomes the
  // reference batch though it is never published.
  void FinishFailedScrape(ScrapeBatch& batch);

  // Returns the batch the entries point into (null before the first
  // parsed body).
  const ScrapeBatch* reference() const { return reference_.get(); }
  // Makes `batch` (the one the last Finish*() was given) the reference.
  void SetReference(std::shared_ptr<const ScrapeBatch> batch) {
    reference_ = std::move(batch);
  }
  // Returns the metadata of the latest successful scrape.
  const FamilyMetadataList& metadata() const { return metadata_; }

  // Returns the number of cached texts.
  size_t size() const { return texts_.size(); }

 private:
  struct EntryHash {
    using is_transparent = void;
    size_t operator()(const Entry& e) const { return e.key_a_; }
    size_t operator()(const SeriesTextKey& k) const { return k.a; }
  };
  struct EntryEq {
    using is_transparent = void;
    bool operator()(const Entry& x, const Entry& y) const {
      return x.key_a_ == y.key_a_ && x.key_b_ == y.key_b_;
    }
    bool operator()(const Entry& x, const SeriesTextKey& k) const {
      return x.key_a_ == k.a && x.key_b_ == static_cast<uint32_t>(k.b);
    }
    bool operator()(const SeriesTextKey& k, const Entry& x) const {
      return (*this)(x, k);
    }
  };

  // FinishScrape()'s duplicate removal; returns the count.
  size_t DropDuplicateSeries(ScrapeBatch& batch);

  absl::flat_hash_set<Entry, EntryHash, EntryEq> texts_;
  uint32_t epoch_ = 0;  // Of the latest scrape.
  size_t seen_ = 0;     // Texts seen by the latest scrape.
  // Whether two cached texts may map to one label set: set when a text is
  // added, cleared by a successful scrape that had no duplicate series.
  bool may_alias_ = false;
  std::shared_ptr<const ScrapeBatch> reference_;
  FamilyMetadataList metadata_;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SCRAPE_CACHE_H_
