#include "merge/interned_labels.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace fedgate {
namespace interned_labels_internal {

std::atomic<Chunk*> g_chunks[kMaxChunks];

namespace {

// ---- Symbols
// -----------------------------------------------------------------

class SymbolTable {
 public:
  // Returns the id of `text`, adding a reference.
  uint32_t Ref(absl::string_view text) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = ids_.find(text);
    if (it != ids_.end()) {
      SymbolData* data = Data(it->second);
      ++data->refs;
      return it->second;
    }
    uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      if (next_ == kMaxChunks * kChunkSize) {
        // 2^28 distinct live names and values would take >10 GiB; memory
        // runs out long before.
        std::fprintf(stderr, "fedgate: symbol table full (%u symbols)\n",
                     next_);
        std::abort();
      }
      id = next_++;
      if ((id & (kChunkSize - 1)) == 0) {
        g_chunks[id >> kChunkBits].store(new Chunk(),
                                         std::memory_order_release);
      }
    }
    if (text.size() >= (1u << 31)) {
      // The size field has 31 bits; a 2 GiB label would have needed a body
      // of more than 2 GiB held in memory first.
      std::fprintf(stderr, "fedgate: symbol of %zu bytes\n", text.size());
      std::abort();
    }
    void* memory = ::operator new(sizeof(SymbolData) + text.size());
    auto* data = new (memory) SymbolData;
    data->refs = 1;
    data->size = static_cast<uint32_t>(text.size());
    data->plain = text.find_first_of("\\\"\n") == absl::string_view::npos;
    if (!text.empty()) std::memcpy(data->chars(), text.data(), text.size());
    Slot(id).store(data, std::memory_order_release);
    ids_.emplace(data->text(), id);
    bytes_ += text.size();
    return id;
  }

  // Drops a reference of `id`; frees the symbol with the last one.
  void Unref(uint32_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    SymbolData* data = Data(id);
    if (--data->refs != 0) return;
    ids_.erase(data->text());
    bytes_ -= data->size;
    Slot(id).store(nullptr, std::memory_order_release);
    data->~SymbolData();
    ::operator delete(data);
    free_.push_back(id);
  }

  static std::atomic<SymbolData*>& Slot(uint32_t id) {
    Chunk* chunk = g_chunks[id >> kChunkBits].load(std::memory_order_acquire);
    return chunk->slots[id & (kChunkSize - 1)];
  }
  static SymbolData* Data(uint32_t id) {
    return Slot(id).load(std::memory_order_acquire);
  }

  absl::Mutex mu_;

  size_t size() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ids_.size(); }
  size_t bytes() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return bytes_; }

 private:
  absl::flat_hash_map<absl::string_view, uint32_t> ids_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> free_ ABSL_GUARDED_BY(mu_);
  uint32_t next_ ABSL_GUARDED_BY(mu_) = 0;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

SymbolTable& Symbols() {
  static SymbolTable* const table = new SymbolTable;
  return *table;
}

// ---- Label sets
// ----------------------------------------------------------------

// The content of a label set, hashed the same way whether it comes from a
// `Labels` or a representation, so that a lookup by `Labels` finds it.
struct LabelsContent {
  const Labels* labels;
  template <typename H>
  friend H AbslHashValue(H h, const LabelsContent& c) {
    for (const Label& label : *c.labels) {
      h = H::combine(std::move(h), absl::string_view(label.name),
                     absl::string_view(label.value));
    }
    return H::combine(std::move(h), c.labels->size());
  }
};
// Calls `f(name_id, value_id)` for each label of `rep`, in order.
template <typename F>
void ForEachId(const Rep* rep, F f) {
  const uint8_t* p = rep->data();
  const uint8_t* const end = p + rep->bytes;
  while (p < end) {
    uint32_t name, value;
    p = DecodeId(DecodeId(p, &name), &value);
    f(name, value);
  }
}

struct RepContent {
  const Rep* rep;
  template <typename H>
  friend H AbslHashValue(H h, const RepContent& c) {
    ForEachId(c.rep, [&h](uint32_t name, uint32_t value) {
      h = H::combine(std::move(h), SymbolText(name), SymbolText(value));
    });
    return H::combine(std::move(h), static_cast<size_t>(c.rep->size));
  }
};

size_t HashOf(const Labels& labels) {
  return absl::Hash<LabelsContent>()(LabelsContent{&labels});
}
size_t HashOf(const Rep* rep) {
  return absl::Hash<RepContent>()(RepContent{rep});
}

bool ContentEquals(const Rep* rep, const Labels& labels) {
  if (rep->size != labels.size()) return false;
  const uint8_t* p = rep->data();
  for (const Label& label : labels) {
    uint32_t name, value;
    p = DecodeId(DecodeId(p, &name), &value);
    if (SymbolText(name) != label.name || SymbolText(value) != label.value) {
      return false;
    }
  }
  return true;
}

// A lookup key: a `Labels` with its hash computed once.
struct LabelsKey {
  const Labels* labels;
  size_t hash;
};

struct RepHash {
  using is_transparent = void;
  size_t operator()(const Rep* rep) const { return HashOf(rep); }
  size_t operator()(const LabelsKey& key) const { return key.hash; }
};
// A representation equals only itself: the table holds one live
// representation per content, and a dying one is replaced, not matched.
struct RepEq {
  using is_transparent = void;
  bool operator()(const Rep* a, const Rep* b) const { return a == b; }
  bool operator()(const Rep* a, const LabelsKey& b) const {
    return ContentEquals(a, *b.labels);
  }
  bool operator()(const LabelsKey& a, const Rep* b) const {
    return ContentEquals(b, *a.labels);
  }
};

// Sharded so that parse workers meeting new series do not queue on one lock.
constexpr int kShardBits = 4;
struct alignas(64) Shard {
  absl::Mutex mu;
  absl::flat_hash_set<Rep*, RepHash, RepEq> reps ABSL_GUARDED_BY(mu);
};

Shard& ShardFor(size_t hash) {
  static Shard* const shards = new Shard[1 << kShardBits];
  return shards[hash >> (sizeof(size_t) * 8 - kShardBits)];
}

// Appends `id` as a LEB128 varint; returns the byte after it.
uint8_t* EncodeId(uint32_t id, uint8_t* p) {
  while (id >= 0x80) {
    *p++ = static_cast<uint8_t>(id | 0x80);
    id >>= 7;
  }
  *p++ = static_cast<uint8_t>(id);
  return p;
}

Rep* NewRep(const Labels& labels) {
  // Ids first (at most 5 bytes each), then one allocation of the exact size.
  uint8_t buffer[2 * 5 * InternedLabels::kMaxLabels];
  uint8_t* p = buffer;
  uint16_t name_at = Rep::kNoName;
  {
    SymbolTable& symbols = Symbols();
    absl::MutexLock lock(&symbols.mu_);
    for (const Label& label : labels) {
      p = EncodeId(symbols.Ref(label.name), p);
      if (label.name == kMetricNameLabel) {
        name_at = static_cast<uint16_t>(p - buffer);
      }
      p = EncodeId(symbols.Ref(label.value), p);
    }
  }
  const size_t bytes = static_cast<size_t>(p - buffer);
  void* memory = ::operator new(sizeof(Rep) + bytes);
  Rep* rep = new (memory) Rep;
  rep->refs.store(1, std::memory_order_relaxed);
  rep->size = static_cast<uint16_t>(labels.size());
  rep->bytes = static_cast<uint16_t>(bytes);
  rep->name_at = name_at;
  rep->padding = 0;
  std::memcpy(rep->data(), buffer, bytes);
  return rep;
}

void DeleteRep(Rep* rep) {
  {
    SymbolTable& symbols = Symbols();
    absl::MutexLock lock(&symbols.mu_);
    // A plain loop, not ForEachId: clang's thread-safety analysis does not
    // see the lock from inside a lambda.
    const uint8_t* p = rep->data();
    const uint8_t* const end = p + rep->bytes;
    while (p < end) {
      uint32_t name, value;
      p = DecodeId(DecodeId(p, &name), &value);
      symbols.Unref(name);
      symbols.Unref(value);
    }
  }
  rep->~Rep();
  ::operator delete(rep);
}

}  // namespace

void Unref(Rep* rep) {
  if (rep->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Only the thread that took the count to zero gets here (Intern never
  // revives a zero count), so `rep` is ours to free. The table may already
  // hold a newer representation of the same content: erase ours only.
  const size_t hash = HashOf(rep);
  Shard& shard = ShardFor(hash);
  {
    absl::MutexLock lock(&shard.mu);
    shard.reps.erase(rep);
  }
  DeleteRep(rep);
}

}  // namespace interned_labels_internal

using interned_labels_internal::Rep;
using interned_labels_internal::SymbolText;

InternedLabels InternedLabels::Intern(const Labels& labels) {
  if (labels.empty()) return InternedLabels();
  if (labels.size() > kMaxLabels) {
    // The scraper fails such a series first (scrape_loop.cc); a larger
    // set here is a bug in the caller.
    std::fprintf(stderr, "fedgate: label set of %zu labels\n", labels.size());
    std::abort();
  }
  const interned_labels_internal::LabelsKey key{
      &labels, interned_labels_internal::HashOf(labels)};
  interned_labels_internal::Shard& shard =
      interned_labels_internal::ShardFor(key.hash);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.reps.find(key);
  if (it != shard.reps.end()) {
    Rep* rep = *it;
    uint32_t refs = rep->refs.load(std::memory_order_relaxed);
    while (refs != 0) {
      if (rep->refs.compare_exchange_weak(refs, refs + 1,
                                          std::memory_order_relaxed)) {
        return InternedLabels(rep);
      }
    }
    // Its last handle is going away (Unref is waiting for this lock): make
    // a new one and let Unref free the old one.
    shard.reps.erase(it);
  }
  Rep* rep = interned_labels_internal::NewRep(labels);
  shard.reps.insert(rep);
  return InternedLabels(rep);
}

absl::string_view InternedLabels::Get(absl::string_view name) const {
  if (rep_ == nullptr) return "";
  const uint8_t* p = rep_->data();
  const uint8_t* const end = p + rep_->bytes;
  while (p < end) {
    uint32_t id;
    p = interned_labels_internal::DecodeId(p, &id);
    const absl::string_view n = SymbolText(id);
    if (n == name) {
      interned_labels_internal::DecodeId(p, &id);
      return SymbolText(id);
    }
    if (name < n) break;   // Sorted by name.
    while (*p++ & 0x80) {  // Skip the value.
    }
  }
  return "";
}

absl::string_view InternedLabels::Get(const InternedName& name) const {
  if (rep_ == nullptr || !name.held_) return "";
  const uint8_t* p = rep_->data();
  const uint8_t* const end = p + rep_->bytes;
  while (p < end) {
    uint32_t id;
    p = interned_labels_internal::DecodeId(p, &id);
    if (id == name.id_) {
      interned_labels_internal::DecodeId(p, &id);
      return SymbolText(id);
    }
    while (*p++ & 0x80) {  // Skip the value.
    }
  }
  return "";
}

InternedName::InternedName(absl::string_view name) : held_(true) {
  interned_labels_internal::SymbolTable& symbols =
      interned_labels_internal::Symbols();
  absl::MutexLock lock(&symbols.mu_);
  id_ = symbols.Ref(name);
}

InternedName::~InternedName() {
  if (!held_) return;
  interned_labels_internal::SymbolTable& symbols =
      interned_labels_internal::Symbols();
  absl::MutexLock lock(&symbols.mu_);
  symbols.Unref(id_);
}

absl::string_view InternedLabels::MetricName() const {
  if (rep_ == nullptr || rep_->name_at == Rep::kNoName) return "";
  uint32_t id;
  interned_labels_internal::DecodeId(rep_->data() + rep_->name_at, &id);
  return SymbolText(id);
}

size_t InternedLabels::size() const { return rep_ == nullptr ? 0 : rep_->size; }

InternedLabels::Iterator InternedLabels::begin() const {
  return Iterator(rep_ == nullptr ? nullptr : rep_->data());
}

InternedLabels::Iterator InternedLabels::end() const {
  return Iterator(rep_ == nullptr ? nullptr : rep_->data() + rep_->bytes);
}

Labels InternedLabels::ToLabels() const {
  std::vector<Label> labels;
  labels.reserve(size());
  for (const LabelView label : *this) {
    labels.push_back(Label{std::string(label.name), std::string(label.value)});
  }
  return Labels(std::move(labels));
}

std::string InternedLabels::ToString() const { return ToLabels().ToString(); }

bool operator<(const InternedLabels& a, const InternedLabels& b) {
  if (a.rep_ == b.rep_) return false;
  InternedLabels::Iterator x = a.begin(), xe = a.end();
  InternedLabels::Iterator y = b.begin(), ye = b.end();
  for (; x != xe && y != ye; ++x, ++y) {
    const LabelView l = *x;
    const LabelView r = *y;
    if (l.name != r.name) return l.name < r.name;
    if (l.value != r.value) return l.value < r.value;
  }
  return a.size() < b.size();
}

bool SameLabels(const InternedLabels& a, const Labels& b) {
  if (a.empty()) return b.empty();
  return interned_labels_internal::ContentEquals(a.rep_, b);
}

InternedLabelsStats GetInternedLabelsStats() {
  InternedLabelsStats stats;
  for (size_t i = 0; i < (1u << interned_labels_internal::kShardBits); ++i) {
    interned_labels_internal::Shard& shard = interned_labels_internal::ShardFor(
        i << (sizeof(size_t) * 8 - interned_labels_internal::kShardBits));
    absl::MutexLock lock(&shard.mu);
    stats.label_sets += shard.reps.size();
  }
  interned_labels_internal::SymbolTable& symbols =
      interned_labels_internal::Symbols();
  absl::MutexLock lock(&symbols.mu_);
  stats.symbols = symbols.size();
  stats.symbol_bytes = symbols.bytes();
  return stats;
}

}  // namespace fedgate
