// merge/metric_metadata.h
//
// TYPE, HELP and UNIT of a metric family, as scraped from a target and served
// through /federate. Parsers (scraper/) produce it, the store (merge/) keeps
// it per target batch (a FamilyMetadataList, shared between a target's
// scrapes while it does not change), writers (gateway/) emit it.
//
// Thread-safety: FamilyMetadata and FamilyMetadataList are value types
// (thread-compatible; a list's shared contents are immutable, so copies may
// be used from any thread); FamilyMetadataBuilder is thread-compatible.

#ifndef FEDGATE_MERGE_METRIC_METADATA_H_
#define FEDGATE_MERGE_METRIC_METADATA_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace fedgate {

// The family types of the text and OpenMetrics formats. kUntyped is the text
// format's `untyped` and OpenMetrics' `unknown`.
enum class MetricType {
  kUntyped,
  kCounter,
  kGauge,
  kHistogram,
  kSummary,
  kGaugeHistogram,
  kInfo,
  kStateset,
};

// Returns the text-format spelling (`counter`, `gauge`, `histogram`,
// `summary`, `untyped`); OpenMetrics-only types map to `untyped` except
// gaugehistogram, which Prometheus writes as `histogram`.
absl::string_view TextTypeName(MetricType type);

// Parses a text-format TYPE word; returns false for an unknown word.
bool ParseTextTypeName(absl::string_view word, MetricType* type);

// Returns the OpenMetrics 1.0 spelling (`counter`, `gaugehistogram`, `info`,
// `stateset`, `unknown` for untyped, ...).
absl::string_view OpenMetricsTypeName(MetricType type);

// Parses an OpenMetrics TYPE word; returns false for an unknown word.
bool ParseOpenMetricsTypeName(absl::string_view word, MetricType* type);

struct FamilyMetadata {
  std::string name;  // The family name (without _bucket/_sum/_count...).
  MetricType type = MetricType::kUntyped;
  std::string help;  // Unescaped.
  std::string unit;

  friend bool operator==(const FamilyMetadata& a, const FamilyMetadata& b) {
    return a.name == b.name && a.type == b.type && a.help == b.help &&
           a.unit == b.unit;
  }
};

// The families of one scrape, in the order they first appeared. Immutable;
// copies share the families, so a target whose metadata did not change
// keeps one copy for all its scrapes (FamilyMetadataBuilder).
class FamilyMetadataList {
 public:
  using const_iterator = std::vector<FamilyMetadata>::const_iterator;

  FamilyMetadataList() = default;
  FamilyMetadataList(std::initializer_list<FamilyMetadata> families)
      : FamilyMetadataList(std::vector<FamilyMetadata>(families)) {}
  explicit FamilyMetadataList(std::vector<FamilyMetadata> families);

  const_iterator begin() const { return families().begin(); }
  const_iterator end() const { return families().end(); }
  size_t size() const { return families().size(); }
  bool empty() const { return families().empty(); }
  const FamilyMetadata& operator[](size_t i) const { return families()[i]; }
  // Whether both hold the same shared families (not merely equal ones).
  bool SharesWith(const FamilyMetadataList& other) const {
    return families_ == other.families_;
  }

 private:
  const std::vector<FamilyMetadata>& families() const;

  std::shared_ptr<const std::vector<FamilyMetadata>> families_;  // May be null.
};

// Builds a scrape's FamilyMetadataList from its TYPE, HELP and UNIT entries:
// a family's entries fill one FamilyMetadata (a later entry of a field
// replaces an earlier one), families in the order they first appear. When
// the result equals `previous` (the target's last list) it returns
// `previous` itself: while the entries come as they did in the previous
// scrape the builder only compares them, and copies and allocates only
// from the first difference, so a steady target costs no allocation.
class FamilyMetadataBuilder {
 public:
  explicit FamilyMetadataBuilder(FamilyMetadataList previous);

  void SetType(absl::string_view family, MetricType type);
  void SetHelp(absl::string_view family, absl::string_view help);
  void SetUnit(absl::string_view family, absl::string_view unit);

  // Returns the list; the builder is spent.
  FamilyMetadataList Finish() &&;

 private:
  enum SeenField : uint8_t { kTypeSeen = 1, kHelpSeen = 2, kUnitSeen = 4 };

  // SetType/SetHelp/SetUnit: keeps matching while `value` equals the
  // previous list's `field` (marking it `seen`), else diverges and sets it.
  template <typename Field, typename Value>
  void Set(absl::string_view family, Field FamilyMetadata::*field, Value value,
           SeenField seen);

  // While matching: returns the previous list's entry for `family` (the
  // current one, or the next one once the current one is complete). Else,
  // or if `family` breaks the match, returns null (and stops matching).
  const FamilyMetadata* Matching(absl::string_view family);
  // Whether every field the current previous entry has was seen.
  bool CurrentComplete() const;
  // Stops matching: copies what matched so far into `fresh_`.
  void Diverge();
  // After Diverge(): the entry of `family` in `fresh_`, added if new.
  FamilyMetadata& Entry(absl::string_view family);

  FamilyMetadataList previous_;
  bool diverged_ = false;
  size_t matched_ = 0;  // Entries of `previous_` entered so far.
  uint8_t seen_ = 0;    // SeenField bits of entry matched_ - 1.
  std::vector<FamilyMetadata> fresh_;
  absl::flat_hash_map<std::string, size_t> index_;  // Name -> fresh_ index.
};

}  // namespace fedgate

#endif  // FEDGATE_MERGE_METRIC_METADATA_H_
