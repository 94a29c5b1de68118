#include "merge/metric_metadata.h"

#include <algorithm>
#include <utility>

namespace fedgate {

namespace {

// Every type with its spelling in each format. Parsing takes the first row
// with the word, so the types a format can name come before those it folds
// (histogram before gaugehistogram, untyped before info and stateset).
struct MetricTypeSpelling {
  MetricType type;
  absl::string_view text;
  absl::string_view openmetrics;
};

constexpr MetricTypeSpelling kSpellings[] = {
    {MetricType::kCounter, "counter", "counter"},
    {MetricType::kGauge, "gauge", "gauge"},
    {MetricType::kHistogram, "histogram", "histogram"},
    {MetricType::kGaugeHistogram, "histogram", "gaugehistogram"},
    {MetricType::kSummary, "summary", "summary"},
    {MetricType::kUntyped, "untyped", "unknown"},
    {MetricType::kInfo, "untyped", "info"},
    {MetricType::kStateset, "untyped", "stateset"},
};

constexpr size_t kUntypedRow = 5;
static_assert(kSpellings[kUntypedRow].type == MetricType::kUntyped);

const MetricTypeSpelling& SpellingOf(MetricType type) {
  for (const MetricTypeSpelling& s : kSpellings) {
    if (s.type == type) return s;
  }
  return kSpellings[kUntypedRow];  // Not reached for a valid MetricType.
}

bool ParseTypeName(absl::string_view word,
                   absl::string_view MetricTypeSpelling::*format,
                   MetricType* type) {
  for (const MetricTypeSpelling& s : kSpellings) {
    if (s.*format == word) {
      *type = s.type;
      return true;
    }
  }
  return false;
}

}  // namespace

absl::string_view TextTypeName(MetricType type) {
  return SpellingOf(type).text;
}

bool ParseTextTypeName(absl::string_view word, MetricType* type) {
  return ParseTypeName(word, &MetricTypeSpelling::text, type);
}

absl::string_view OpenMetricsTypeName(MetricType type) {
  return SpellingOf(type).openmetrics;
}

bool ParseOpenMetricsTypeName(absl::string_view word, MetricType* type) {
  return ParseTypeName(word, &MetricTypeSpelling::openmetrics, type);
}

FamilyMetadataList::FamilyMetadataList(std::vector<FamilyMetadata> families)
    : families_(std::make_shared<const std::vector<FamilyMetadata>>(
          std::move(families))) {}

const std::vector<FamilyMetadata>& FamilyMetadataList::families() const {
  static const std::vector<FamilyMetadata>* const kNone =
      new std::vector<FamilyMetadata>();
  return families_ != nullptr ? *families_ : *kNone;
}

FamilyMetadataBuilder::FamilyMetadataBuilder(FamilyMetadataList previous)
    : previous_(std::move(previous)) {}

template <typename Field, typename Value>
void FamilyMetadataBuilder::Set(absl::string_view family,
                                Field FamilyMetadata::*field, Value value,
                                SeenField seen) {
  if (const FamilyMetadata* p = Matching(family); p != nullptr) {
    if (p->*field == value) {
      seen_ |= seen;
      return;
    }
    Diverge();
  }
  Entry(family).*field = Field(value);
}

void FamilyMetadataBuilder::SetType(absl::string_view family, MetricType type) {
  Set(family, &FamilyMetadata::type, type, kTypeSeen);
}

void FamilyMetadataBuilder::SetHelp(absl::string_view family,
                                    absl::string_view help) {
  Set(family, &FamilyMetadata::help, help, kHelpSeen);
}

void FamilyMetadataBuilder::SetUnit(absl::string_view family,
                                    absl::string_view unit) {
  Set(family, &FamilyMetadata::unit, unit, kUnitSeen);
}

FamilyMetadataList FamilyMetadataBuilder::Finish() && {
  if (!diverged_ && CurrentComplete() && matched_ == previous_.size()) {
    return std::move(previous_);
  }
  if (!diverged_) Diverge();
  if (fresh_.size() == previous_.size() &&
      std::equal(fresh_.begin(), fresh_.end(), previous_.begin())) {
    return std::move(previous_);  // Came out the same by another way.
  }
  return FamilyMetadataList(std::move(fresh_));
}

const FamilyMetadata* FamilyMetadataBuilder::Matching(
    absl::string_view family) {
  if (diverged_) return nullptr;
  if (matched_ > 0 && previous_[matched_ - 1].name == family) {
    return &previous_[matched_ - 1];
  }
  if (CurrentComplete() && matched_ < previous_.size() &&
      previous_[matched_].name == family) {
    seen_ = 0;
    return &previous_[matched_++];
  }
  Diverge();
  return nullptr;
}

bool FamilyMetadataBuilder::CurrentComplete() const {
  if (matched_ == 0) return true;
  const FamilyMetadata& p = previous_[matched_ - 1];
  return (p.type == MetricType::kUntyped || (seen_ & kTypeSeen) != 0) &&
         (p.help.empty() || (seen_ & kHelpSeen) != 0) &&
         (p.unit.empty() || (seen_ & kUnitSeen) != 0);
}

void FamilyMetadataBuilder::Diverge() {
  diverged_ = true;
  fresh_.reserve(matched_ + 8);
  for (size_t i = 0; i + 1 < matched_; ++i) {
    fresh_.push_back(previous_[i]);
  }
  if (matched_ > 0) {
    // The current family holds only what this scrape said so far.
    const FamilyMetadata& p = previous_[matched_ - 1];
    FamilyMetadata& m = fresh_.emplace_back();
    m.name = p.name;
    if ((seen_ & kTypeSeen) != 0) m.type = p.type;
    if ((seen_ & kHelpSeen) != 0) m.help = p.help;
    if ((seen_ & kUnitSeen) != 0) m.unit = p.unit;
  }
  for (size_t i = 0; i < fresh_.size(); ++i) index_.emplace(fresh_[i].name, i);
}

FamilyMetadata& FamilyMetadataBuilder::Entry(absl::string_view family) {
  auto [it, inserted] = index_.try_emplace(family, fresh_.size());
  if (inserted) fresh_.emplace_back().name = std::string(family);
  return fresh_[it->second];
}

}  // namespace fedgate
