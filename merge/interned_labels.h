// merge/interned_labels.h
//
// Interned, immutable label sets: how the series store holds the identity of
// every series. A `InternedLabels` is an 8-byte handle to a shared
// representation that stores each label as two symbol ids (names and values are
// interned once per process in a symbol table), varint-encoded, so a series
// with 13 labels costs ~60-70 bytes however long its label text is, instead of
// ~900 bytes as a `Labels` vector of strings.
//
// Label sets are hash-consed: `InternedLabels::Intern` returns the same
// representation for equal content, whichever target or thread asks. So two
// handles are equal exactly when they point to the same representation
// (equality and hashing are a pointer compare), members of a dedup group share
// their series' memory, and a read can drop duplicate series with a pointer
// set instead of hashing label text. Symbols and representations are
// reference counted and freed when the last handle goes, so label churn
// (pods coming and going for months) does not grow the tables.
//
// Cost model: `Intern` (a new series: hash, one lock per shard, one for the
// symbol table) is the cold path, ~1 µs. Copying a handle (once per sample
// per scrape) is one atomic increment; reading a label is a lock-free table
// lookup.
//
// `Labels` (merge/labels.h) stays the mutable builder: target labels, the
// relabel engine and parsers work on it, and the result is interned once.
//
// Thread-safety: thread-safe. Handles are values (thread-compatible); the
// tables behind them are shared and locked internally.

#ifndef FEDGATE_MERGE_INTERNED_LABELS_H_
#define FEDGATE_MERGE_INTERNED_LABELS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <string>

#include "absl/strings/string_view.h"
#include "merge/labels.h"

namespace fedgate {

// One label of a InternedLabels, borrowed: valid while a handle to the set
// lives. Converts from a `Label`, so that code taking a LabelView serves both.
struct LabelView {
  LabelView() = default;
  LabelView(absl::string_view n, absl::string_view v) : name(n), value(v) {}
  LabelView(absl::string_view n, absl::string_view v, bool p)
      : name(n), value(v), plain(p) {}
  LabelView(const Label& label)  // NOLINT: implicit on purpose.
      : name(label.name), value(label.value) {}

  absl::string_view name;
  absl::string_view value;
  // Known to hold no `\`, `"` or line feed, the characters the exposition
  // formats escape in label values: writers copy it as it is. False when
  // unknown (a view of a `Label`).
  bool plain = false;
};

namespace interned_labels_internal {
// The shared representation: a header followed by `bytes` bytes holding,
// for each label in name order, its name id and value id as LEB128 varints
// (1 byte below 128, 2 below 16384, 3 below 2^21): ~4 bytes per label
// instead of 8. Allocated once per distinct label set.
struct Rep {
  std::atomic<uint32_t> refs;
  uint16_t size;     // Labels.
  uint16_t bytes;    // Of the encoded ids.
  uint16_t name_at;  // Offset of __name__'s value id, or kNoName.
  uint16_t padding;

  static constexpr uint16_t kNoName = 0xffff;
  const uint8_t* data() const {
    return reinterpret_cast<const uint8_t*>(this + 1);
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
};

// Decodes the varint at `p` into `*id`; returns the byte after it.
inline const uint8_t* DecodeId(const uint8_t* p, uint32_t* id) {
  uint32_t v = *p & 0x7f;
  int shift = 7;
  while (*p++ & 0x80) {
    v |= static_cast<uint32_t>(*p & 0x7f) << shift;
    shift += 7;
  }
  *id = v;
  return p;
}

// One interned string: a header and its bytes, allocated together.
struct SymbolData {
  uint32_t refs;       // Guarded by the symbol table's mutex.
  uint32_t size : 31;  // Immutable, like `plain` and the bytes.
  uint32_t plain : 1;  // See LabelView::plain.
  const char* chars() const { return reinterpret_cast<const char*>(this + 1); }
  char* chars() { return reinterpret_cast<char*>(this + 1); }
  absl::string_view text() const { return absl::string_view(chars(), size); }
};

// Ids index a two-level directory: readers find a symbol with two loads and
// no lock, and the directory never moves (chunks are added, not resized).
constexpr int kChunkBits = 12;
constexpr uint32_t kChunkSize = 1u << kChunkBits;
constexpr uint32_t kMaxChunks = 1u << 16;  // 2^28 live symbols at most.
struct Chunk {
  std::atomic<SymbolData*> slots[kChunkSize] = {};
};
extern std::atomic<Chunk*> g_chunks[kMaxChunks];

// Returns symbol `id` (lock-free). `id` must be held by a live
// representation or an InternedName.
inline const SymbolData* Symbol(uint32_t id) {
  const Chunk* chunk =
      g_chunks[id >> kChunkBits].load(std::memory_order_acquire);
  return chunk->slots[id & (kChunkSize - 1)].load(std::memory_order_acquire);
}
inline absl::string_view SymbolText(uint32_t id) { return Symbol(id)->text(); }
// Drops one reference; frees the representation (and its symbols) with the
// last one.
void Unref(Rep* rep);
}  // namespace interned_labels_internal

// A label name held interned while this object lives, for lookups by id
// (`InternedLabels::Get(const InternedName&)`: an integer compare per label
// instead of a string compare). Move-only.
class InternedName {
 public:
  explicit InternedName(absl::string_view name);
  InternedName(InternedName&& other) noexcept
      : id_(other.id_), held_(other.held_) {
    other.held_ = false;
  }
  InternedName& operator=(InternedName&& other) noexcept {
    std::swap(id_, other.id_);
    std::swap(held_, other.held_);
    return *this;
  }
  InternedName(const InternedName&) = delete;
  InternedName& operator=(const InternedName&) = delete;
  ~InternedName();

  absl::string_view text() const {
    return held_ ? interned_labels_internal::SymbolText(id_)
                 : absl::string_view();
  }

 private:
  friend class InternedLabels;
  uint32_t id_ = 0;
  bool held_ = false;
};

class InternedLabels {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = LabelView;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = LabelView;

    Iterator(const uint8_t* p) : p_(p) {}  // NOLINT
    LabelView operator*() const {
      uint32_t name, value;
      interned_labels_internal::DecodeId(
          interned_labels_internal::DecodeId(p_, &name), &value);
      const interned_labels_internal::SymbolData* v =
          interned_labels_internal::Symbol(value);
      return LabelView(interned_labels_internal::SymbolText(name), v->text(),
                       v->plain);
    }
    Iterator& operator++() {
      for (int ids = 0; ids < 2; ++ids) {
        while (*p_++ & 0x80) {
        }
      }
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(Iterator a, Iterator b) { return a.p_ == b.p_; }
    friend bool operator!=(Iterator a, Iterator b) { return a.p_ != b.p_; }

   private:
    const uint8_t* p_;
  };

  // The empty label set.
  InternedLabels() = default;
  InternedLabels(const InternedLabels& other) : rep_(other.rep_) { Ref(); }
  InternedLabels(InternedLabels&& other) noexcept : rep_(other.rep_) {
    other.rep_ = nullptr;
  }
  InternedLabels& operator=(const InternedLabels& other) {
    InternedLabels copy(other);
    std::swap(rep_, copy.rep_);
    return *this;
  }
  InternedLabels& operator=(InternedLabels&& other) noexcept {
    std::swap(rep_, other.rep_);
    return *this;
  }
  ~InternedLabels() {
    if (rep_ != nullptr) interned_labels_internal::Unref(rep_);
  }

  // The most labels a set may have (a scrape with a larger series fails,
  // see scraper/): keeps the encoding's offsets in 16 bits.
  static constexpr size_t kMaxLabels = 4096;

  // Returns the interned set with the content of `labels`: the same
  // representation as every other live set with that content. `labels` has
  // at most kMaxLabels labels.
  static InternedLabels Intern(const Labels& labels);

  // Returns the value of `name`, or "" when the label is absent.
  absl::string_view Get(absl::string_view name) const;
  bool Has(absl::string_view name) const { return !Get(name).empty(); }
  // The same, by interned name: cheaper when one name is looked up in many
  // sets.
  absl::string_view Get(const InternedName& name) const;
  bool Has(const InternedName& name) const { return !Get(name).empty(); }
  // Returns the metric name (the `__name__` label's value); O(1).
  absl::string_view MetricName() const;

  size_t size() const;
  bool empty() const { return rep_ == nullptr; }
  Iterator begin() const;
  Iterator end() const;

  // Returns a mutable copy, e.g. to relabel or to serve through the API.
  Labels ToLabels() const;
  // Returns the Prometheus string form, e.g. `{__name__="up", job="x"}`.
  std::string ToString() const;

  // An identity of the content, stable while any handle to it lives: equal
  // sets have equal ids. For pointer sets on the read path.
  const void* id() const { return rep_; }

  friend bool operator==(const InternedLabels& a, const InternedLabels& b) {
    return a.rep_ == b.rep_;
  }
  friend bool operator!=(const InternedLabels& a, const InternedLabels& b) {
    return a.rep_ != b.rep_;
  }
  // Orders label sets as Prometheus does (labels.Compare), by content.
  friend bool operator<(const InternedLabels& a, const InternedLabels& b);
  friend bool SameLabels(const InternedLabels& a, const Labels& b);

  template <typename H>
  friend H AbslHashValue(H h, const InternedLabels& l) {
    return H::combine(std::move(h), l.rep_);
  }

 private:
  explicit InternedLabels(interned_labels_internal::Rep* rep) : rep_(rep) {}
  void Ref() const {
    if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }

  interned_labels_internal::Rep* rep_ = nullptr;
};

// Returns whether `a` and `b` have the same labels, comparing content.
bool SameLabels(const InternedLabels& a, const Labels& b);

// Counts of the shared tables, for self-metrics and tests.
struct InternedLabelsStats {
  size_t label_sets = 0;  // Distinct live label sets.
  size_t symbols = 0;     // Distinct live names and values.
  size_t symbol_bytes = 0;
};
InternedLabelsStats GetInternedLabelsStats();

}  // namespace fedgate

#endif  // FEDGATE_MERGE_INTERNED_LABELS_H_
