#include "merge/metric_metadata.h"

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(MetricMetadataTest, TextTypeNamesRoundTrip) {
  for (MetricType type :
       {MetricType::kCounter, MetricType::kGauge, MetricType::kHistogram,
        MetricType::kSummary, MetricType::kUntyped}) {
    MetricType parsed;
    ASSERT_TRUE(ParseTextTypeName(TextTypeName(type), &parsed));
    EXPECT_EQ(parsed, type);
  }
}

TEST(MetricMetadataTest, OpenMetricsOnlyTypesMapToTextTypes) {
  EXPECT_EQ(TextTypeName(MetricType::kGaugeHistogram), "histogram");
  EXPECT_EQ(TextTypeName(MetricType::kInfo), "untyped");
  EXPECT_EQ(TextTypeName(MetricType::kStateset), "untyped");
}

TEST(MetricMetadataTest, RejectsUnknownTypeWords) {
  MetricType type = MetricType::kGauge;
  EXPECT_FALSE(ParseTextTypeName("foo", &type));
  EXPECT_FALSE(ParseTextTypeName("Counter", &type));
  EXPECT_FALSE(ParseTextTypeName("gaugehistogram", &type));
  EXPECT_EQ(type, MetricType::kGauge);
}

// One TYPE, HELP or UNIT entry of a scrape.
struct MetadataEntry {
  enum Field { kType, kHelp, kUnit } field;
  std::string family;
  MetricType type = MetricType::kUntyped;
  std::string text;  // HELP or UNIT.
};

// What FamilyMetadataBuilder must produce, built the plain way.
std::vector<FamilyMetadata> Reference(
    const std::vector<MetadataEntry>& entries) {
  std::vector<FamilyMetadata> families;
  for (const MetadataEntry& e : entries) {
    auto it = std::find_if(
        families.begin(), families.end(),
        [&](const FamilyMetadata& m) { return m.name == e.family; });
    if (it == families.end()) {
      families.emplace_back().name = e.family;
      it = families.end() - 1;
    }
    switch (e.field) {
      case MetadataEntry::kType:
        it->type = e.type;
        break;
      case MetadataEntry::kHelp:
        it->help = e.text;
        break;
      case MetadataEntry::kUnit:
        it->unit = e.text;
        break;
    }
  }
  return families;
}

FamilyMetadataList Build(FamilyMetadataList previous,
                         const std::vector<MetadataEntry>& entries) {
  FamilyMetadataBuilder builder(std::move(previous));
  for (const MetadataEntry& e : entries) {
    switch (e.field) {
      case MetadataEntry::kType:
        builder.SetType(e.family, e.type);
        break;
      case MetadataEntry::kHelp:
        builder.SetHelp(e.family, e.text);
        break;
      case MetadataEntry::kUnit:
        builder.SetUnit(e.family, e.text);
        break;
    }
  }
  return std::move(builder).Finish();
}

std::vector<FamilyMetadata> Contents(const FamilyMetadataList& list) {
  return std::vector<FamilyMetadata>(list.begin(), list.end());
}

TEST(MetricMetadataTest, OpenMetricsTypeNamesRoundTrip) {
  const std::pair<MetricType, absl::string_view> kCases[] = {
      {MetricType::kCounter, "counter"},
      {MetricType::kGauge, "gauge"},
      {MetricType::kHistogram, "histogram"},
      {MetricType::kGaugeHistogram, "gaugehistogram"},
      {MetricType::kSummary, "summary"},
      {MetricType::kInfo, "info"},
      {MetricType::kStateset, "stateset"},
      {MetricType::kUntyped, "unknown"},
  };
  for (const auto& [type, word] : kCases) {
    EXPECT_EQ(OpenMetricsTypeName(type), word);
    MetricType parsed = MetricType::kCounter;
    ASSERT_TRUE(ParseOpenMetricsTypeName(word, &parsed)) << word;
    EXPECT_EQ(parsed, type) << word;
  }
  MetricType parsed;
  EXPECT_FALSE(ParseOpenMetricsTypeName("untyped", &parsed));
  EXPECT_FALSE(ParseOpenMetricsTypeName("Counter", &parsed));
  EXPECT_FALSE(ParseTextTypeName("unknown", &parsed));
  EXPECT_FALSE(ParseTextTypeName("gaugehistogram", &parsed));
}

TEST(FamilyMetadataBuilderTest, SharesThePreviousListWhenNothingChanged) {
  const std::vector<MetadataEntry> scrape = {
      {MetadataEntry::kHelp, "a", MetricType::kUntyped, "A things."},
      {MetadataEntry::kType, "a", MetricType::kCounter, ""},
      {MetadataEntry::kType, "b", MetricType::kGauge, ""},
      {MetadataEntry::kUnit, "c_seconds", MetricType::kUntyped, "seconds"},
      {MetadataEntry::kHelp, "c_seconds", MetricType::kUntyped, "C."},
  };
  const FamilyMetadataList first = Build(FamilyMetadataList(), scrape);
  EXPECT_EQ(Contents(first), Reference(scrape));
  const FamilyMetadataList second = Build(first, scrape);
  EXPECT_TRUE(second.SharesWith(first));
}

TEST(FamilyMetadataBuilderTest, CopiesFromTheFirstDifference) {
  const std::vector<MetadataEntry> before = {
      {MetadataEntry::kHelp, "a", MetricType::kUntyped, "A."},
      {MetadataEntry::kType, "a", MetricType::kCounter, ""},
      {MetadataEntry::kType, "b", MetricType::kGauge, ""},
      {MetadataEntry::kHelp, "b", MetricType::kUntyped, "B."},
  };
  const FamilyMetadataList previous = Build(FamilyMetadataList(), before);
  // Each changes one thing: a field's value, a field gone (b's HELP, a's
  // TYPE), a family gone or added, the order of families.
  const std::vector<std::vector<MetadataEntry>> afters = {
      {before[0],
       before[1],
       before[2],
       {MetadataEntry::kHelp, "b", MetricType::kUntyped, "B2."}},
      {before[0], before[1], before[2]},
      {before[0], before[2], before[3]},
      {before[0], before[1]},
      {before[0],
       before[1],
       before[2],
       before[3],
       {MetadataEntry::kType, "c", MetricType::kSummary, ""}},
      {before[2], before[3], before[0], before[1]},
      {before[0],
       before[1],
       before[2],
       {MetadataEntry::kUnit, "b", MetricType::kUntyped, "bytes"},
       before[3]},
  };
  for (size_t i = 0; i < afters.size(); ++i) {
    const FamilyMetadataList got = Build(previous, afters[i]);
    EXPECT_EQ(Contents(got), Reference(afters[i])) << i;
    EXPECT_FALSE(got.SharesWith(previous)) << i;
    EXPECT_EQ(Contents(previous), Reference(before)) << i;  // Untouched.
  }
}

TEST(FamilyMetadataBuilderTest, MatchesThePlainBuildOnRandomScrapes) {
  // Small alphabets so that scrapes often repeat, revisit families, repeat
  // fields and come out equal to the previous list by another way.
  std::mt19937 rng(7);
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  const std::vector<std::string> texts = {"", "x", "y"};
  auto random_entry = [&] {
    MetadataEntry e;
    e.field = static_cast<MetadataEntry::Field>(rng() % 3);
    e.family = names[rng() % names.size()];
    e.type = static_cast<MetricType>(rng() % 3);
    e.text = texts[rng() % texts.size()];
    return e;
  };
  auto random_scrape = [&] {
    std::vector<MetadataEntry> entries(rng() % 7);
    for (MetadataEntry& e : entries) e = random_entry();
    return entries;
  };
  FamilyMetadataList previous;
  std::vector<MetadataEntry> scrape = random_scrape();
  size_t shared = 0;
  for (int i = 0; i < 20000; ++i) {
    // Mostly the same scrape again, sometimes changed by one entry.
    if (rng() % 3 == 0) {
      scrape = random_scrape();
    } else if (!scrape.empty() && rng() % 2 == 0) {
      scrape[rng() % scrape.size()] = random_entry();
    }
    const std::vector<FamilyMetadata> want = Reference(scrape);
    const FamilyMetadataList got = Build(previous, scrape);
    ASSERT_EQ(Contents(got), want) << i;
    ASSERT_EQ(got.SharesWith(previous), want == Contents(previous)) << i;
    shared += got.SharesWith(previous) ? 1 : 0;
    previous = got;
  }
  EXPECT_GT(shared, 1000u);
}

}  // namespace
}  // namespace fedgate
