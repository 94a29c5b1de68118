#include "scraper/exposition/exposition_format.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {
namespace {

TEST(ExpositionFormatTest, ChoosesLikePrometheus242) {
  const std::map<ExpositionFormat, std::vector<std::string>> content_types = {
      {ExpositionFormat::kText,
       {"", "text/plain; version=0.0.4; charset=utf-8", "text/plain",
        "application/json", "garbage",
        // mime.ParseMediaType errors fall back to text.
        "application/openmetrics-text; version",
        "application/openmetrics-text; a=1; a=2",
        "application/openmetrics-text; a=\"unterminated",
        "application/openmetrics-text-x"}},
      {ExpositionFormat::kOpenMetrics,
       {"application/openmetrics-text; version=1.0.0; charset=utf-8",
        "application/openmetrics-text;version=0.0.1",
        "Application/OpenMetrics-Text", " application/openmetrics-text ;",
        "application/openmetrics-text; charset=\"utf-8\""}},
      {ExpositionFormat::kProtobuf,
       {"application/vnd.google.protobuf; "
        "proto=io.prometheus.client.MetricFamily; encoding=delimited",
        // Only the media type matters to 2.42, not proto= or encoding=.
        "application/vnd.google.protobuf; encoding=text"}},
  };
  for (const auto& [want, types] : content_types) {
    for (const std::string& content_type : types) {
      SCOPED_TRACE(content_type);
      EXPECT_EQ(ExpositionFormatForContentType(content_type), want);
    }
  }
}

TEST(ExpositionFormatTest, CreatesAParserOfTheChosenFormat) {
  // The same bytes are valid text but invalid OpenMetrics (no `# EOF`).
  const std::string body = "a 1\n";
  std::unique_ptr<ExpositionParser> text = CreateExpositionParser("", body);
  absl::StatusOr<ParseEntry> entry = text->Next();
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(*entry, ParseEntry::kSeries);
  EXPECT_TRUE(text->Next().ok());

  std::unique_ptr<ExpositionParser> om = CreateExpositionParser(
      "application/openmetrics-text; version=1.0.0", body);
  ASSERT_TRUE(om->Next().ok());
  EXPECT_FALSE(om->Next().ok());

  std::unique_ptr<ExpositionParser> proto =
      CreateExpositionParser("application/vnd.google.protobuf", body);
  EXPECT_FALSE(proto->Next().ok());
}

TEST(ExpositionFormatTest, AcceptHeaderIsPrometheus242s) {
  EXPECT_EQ(kPrometheusScrapeAcceptHeader,
            "application/openmetrics-text;version=1.0.0,application/"
            "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
            "q=0.5,*/*;q=0.1");
}

}  // namespace
}  // namespace fedgate
