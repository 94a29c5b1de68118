// tests/exposition_roundtrip_test.cc
//
// Round trips across the scrape and serve stages: a text body is parsed
// (scraper/exposition/text_parser.h), written by /federate's writers in each
// format (gateway/: text 0.0.4, OpenMetrics 1.0, delimited protobuf) and parsed
// back with the matching scraper parser; every series must come back with
// the same labels and the same value.

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gateway/writers/exposition_writer.h"
#include "gateway/writers/openmetrics_writer.h"
#include "gateway/writers/protobuf_writer.h"
#include "gateway/writers/text_writer.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "merge/query/series_query.h"
#include "merge/series_store.h"
#include "scraper/exposition/exposition_format.h"
#include "scraper/exposition/exposition_parser.h"
#include "scraper/exposition/text_parser.h"

namespace fedgate {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in("scraper/exposition/testdata/exposition/valid/" + name,
                   std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

// A scraped body as the store would hold it: samples with their family.
struct Scraped {
  std::vector<Sample> samples;
  std::vector<int64_t> timestamps;    // Per sample.
  std::vector<std::string> families;  // Per sample.
  std::map<std::string, FamilyMetadata> metadata;
};

// Parses `body` with `parser`; samples belong to the last TYPE/HELP family
// whose name prefixes theirs, else to a family of their own name.
absl::StatusOr<Scraped> Parse(ExpositionParser& parser) {
  Scraped out;
  std::string family;
  std::vector<Label> labels;
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok()) return entry.status();
    switch (*entry) {
      case ParseEntry::kEof:
        return out;
      case ParseEntry::kType:
      case ParseEntry::kHelp:
      case ParseEntry::kUnit: {
        family = std::string(parser.family_name());
        FamilyMetadata& m = out.metadata[family];
        m.name = family;
        if (*entry == ParseEntry::kType) m.type = parser.type();
        if (*entry == ParseEntry::kHelp) m.help = parser.help();
        if (*entry == ParseEntry::kUnit) m.unit = std::string(parser.unit());
        break;
      }
      case ParseEntry::kComment:
        break;
      case ParseEntry::kSeries: {
        parser.GetLabels(&labels);
        Sample sample;
        sample.labels = InternedLabels::Intern(Labels(labels));
        sample.value = parser.value();
        out.timestamps.push_back(parser.timestamp_ms().value_or(0));
        const std::string name(parser.metric_name());
        out.families.push_back(
            !family.empty() && absl::StartsWith(name, family) ? family : name);
        out.samples.push_back(std::move(sample));
        break;
      }
    }
  }
}

// Returns "labels value" per sample, for comparing as multisets.
std::multiset<std::string> Keys(const Scraped& scraped) {
  std::multiset<std::string> keys;
  for (const Sample& s : scraped.samples) {
    keys.insert(absl::StrCat(s.labels.ToString(), " ", s.value));
  }
  return keys;
}

// Writes `scraped` family by family with `writer`.
std::string Write(const Scraped& scraped, ExpositionWriter& writer) {
  std::vector<SelectedSeries> rows;
  for (size_t i = 0; i < scraped.samples.size(); ++i) {
    auto it = scraped.metadata.find(scraped.families[i]);
    rows.push_back(
        SelectedSeries{scraped.families[i],
                       it == scraped.metadata.end() ? nullptr : &it->second,
                       &scraped.samples[i], scraped.timestamps[i]});
  }
  std::string out;
  size_t begin = 0;
  while (begin < rows.size()) {
    size_t end = begin + 1;
    while (end < rows.size() && rows[end].family == rows[begin].family) ++end;
    FamilyView view;
    view.name = rows[begin].family;
    view.metadata = rows[begin].metadata;
    view.series = absl::MakeConstSpan(rows).subspan(begin, end - begin);
    writer.BeginFamily(view, &out);
    for (size_t k = 0; k < end - begin; ++k) writer.AppendSeries(k, &out);
    writer.EndFamily(&out);
    begin = end;
  }
  writer.Finish(&out);
  return out;
}

class ExpositionRoundTripTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    body_ = ReadTestdata(GetParam());
    ASSERT_FALSE(body_.empty());
    TextParser parser(body_);
    absl::StatusOr<Scraped> scraped = Parse(parser);
    ASSERT_TRUE(scraped.ok()) << scraped.status();
    scraped_ = std::move(*scraped);
    ASSERT_GT(scraped_.samples.size(), 10u);
  }

  void ExpectRoundTrip(absl::string_view content_type,
                       const std::string& written) {
    std::unique_ptr<ExpositionParser> parser =
        CreateExpositionParser(content_type, written);
    absl::StatusOr<Scraped> back = Parse(*parser);
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << written;
    EXPECT_EQ(Keys(*back), Keys(scraped_));
  }

  std::string body_;
  Scraped scraped_;
  ExternalLabels external_{{}};
};

TEST_P(ExpositionRoundTripTest, TextWriterOutputParsesBack) {
  std::string out;
  for (const Sample& s : scraped_.samples) {
    std::vector<Label> labels;
    for (const LabelView l : s.labels) {
      if (l.name != kMetricNameLabel) {
        labels.push_back(Label{std::string(l.name), std::string(l.value)});
      }
    }
    AppendSampleLine(s.labels.MetricName(), labels, {}, s.value, std::nullopt,
                     &out);
  }
  ExpectRoundTrip("text/plain; version=0.0.4", out);
}

TEST_P(ExpositionRoundTripTest, OpenMetricsWriterOutputParsesBack) {
  OpenMetricsWriter writer(&external_);
  ExpectRoundTrip("application/openmetrics-text; version=1.0.0",
                  Write(scraped_, writer));
}

TEST_P(ExpositionRoundTripTest, ProtobufWriterOutputParsesBack) {
  ProtobufWriter writer(ProtobufEncoding::kDelimited, &external_);
  ExpectRoundTrip(
      "application/vnd.google.protobuf; "
      "proto=io.prometheus.client.MetricFamily; encoding=delimited",
      Write(scraped_, writer));
}

INSTANTIATE_TEST_SUITE_P(Bodies, ExpositionRoundTripTest,
                         testing::Values("client_golang.prom",
                                         "linkerd_proxy.prom"));

}  // namespace
}  // namespace fedgate
