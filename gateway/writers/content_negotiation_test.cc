#include "gateway/writers/content_negotiation.h"

#include "gtest/gtest.h"

namespace fedgate {
namespace {

constexpr char kProtoPrefix[] =
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;";

TEST(ContentNegotiationTest, FormatFollowsExpfmtNegotiatePlusOpenMetrics) {
  struct Case {
    const char* name;
    std::string accept;
    ExpositionFormat want;
  };
  const std::string p = kProtoPrefix;
  const Case kCases[] = {
      {"NoHeader", "", ExpositionFormat::kText},
      {"Star", "*/*", ExpositionFormat::kText},
      {"Json", "application/json", ExpositionFormat::kText},
      {"Text", "text/plain", ExpositionFormat::kText},
      {"Text004", "text/plain;version=0.0.4", ExpositionFormat::kText},
      {"TextOtherVersionFallsBack", "text/plain;version=1.0.0",
       ExpositionFormat::kText},
      {"Delimited", p + "encoding=delimited",
       ExpositionFormat::kProtoDelimited},
      {"ProtoText", p + "encoding=text", ExpositionFormat::kProtoText},
      {"Compact", p + "encoding=compact-text",
       ExpositionFormat::kProtoCompactText},
      {"SpacesAroundParams",
       "application/vnd.google.protobuf; proto=io.prometheus.client."
       "MetricFamily; encoding=delimited",
       ExpositionFormat::kProtoDelimited},
      {"UnknownEncodingFallsThrough", p + "encoding=json",
       ExpositionFormat::kText},
      {"WrongProto", "application/vnd.google.protobuf;proto=x;encoding=text",
       ExpositionFormat::kText},
      {"OpenMetrics100", "application/openmetrics-text;version=1.0.0",
       ExpositionFormat::kOpenMetrics100},
      {"OpenMetrics001", "application/openmetrics-text; version=0.0.1",
       ExpositionFormat::kOpenMetrics001},
      {"OpenMetricsNoVersion", "application/openmetrics-text",
       ExpositionFormat::kOpenMetrics001},
      {"OpenMetricsOtherVersion", "application/openmetrics-text;version=2.0.0",
       ExpositionFormat::kText},
      // Prometheus 2.42's scrape Accept header.
      {"PrometheusScraper",
       "application/openmetrics-text;version=1.0.0,application/"
       "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
       "*/*;q=0.1",
       ExpositionFormat::kOpenMetrics100},
      {"HigherQWins", "text/plain;q=0.5," + p + "encoding=delimited;q=0.7",
       ExpositionFormat::kProtoDelimited},
      {"FirstOfEqualQWins", "text/plain," + p + "encoding=delimited",
       ExpositionFormat::kText},
      {"ProtoBeforeText", p + "encoding=delimited,text/plain",
       ExpositionFormat::kProtoDelimited},
      {"UnparsableQIsZero", "text/plain;q=x," + p + "encoding=text;q=0.1",
       ExpositionFormat::kProtoText},
      {"QWithSpaceIsZero", "text/plain;q= 0.9," + p + "encoding=text;q=0.1",
       ExpositionFormat::kProtoText},
      {"WildcardSortsAfterConcrete", "*/*;q=0.5,text/plain;q=0.5",
       ExpositionFormat::kText},
      {"MalformedClauseSkipped", "a/b/c," + p + "encoding=text",
       ExpositionFormat::kProtoText},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(NegotiateFormat(c.accept), c.want) << c.accept;
  }
}

TEST(ContentNegotiationTest, ContentTypesAreExact) {
  EXPECT_EQ(ContentTypeOf(ExpositionFormat::kText),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(ContentTypeOf(ExpositionFormat::kOpenMetrics100),
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(ContentTypeOf(ExpositionFormat::kOpenMetrics001),
            "application/openmetrics-text; version=0.0.1; charset=utf-8");
  EXPECT_EQ(ContentTypeOf(ExpositionFormat::kProtoDelimited),
            "application/vnd.google.protobuf; "
            "proto=io.prometheus.client.MetricFamily; encoding=delimited");
  EXPECT_EQ(ContentTypeOf(ExpositionFormat::kProtoText),
            "application/vnd.google.protobuf; "
            "proto=io.prometheus.client.MetricFamily; encoding=text");
  EXPECT_EQ(ContentTypeOf(ExpositionFormat::kProtoCompactText),
            "application/vnd.google.protobuf; "
            "proto=io.prometheus.client.MetricFamily; encoding=compact-text");
}

TEST(ContentNegotiationTest, FirstExactGzipOrDeflateTokenWins) {
  struct Case {
    const char* name;
    const char* header;
    ContentEncoding want;
  };
  const Case kCases[] = {
      {"None", "", ContentEncoding::kIdentity},
      {"Gzip", "gzip", ContentEncoding::kGzip},
      {"Deflate", "deflate", ContentEncoding::kDeflate},
      {"GzipWithQDoesNotMatch", "gzip;q=1", ContentEncoding::kIdentity},
      {"BrThenGzip", "br, gzip", ContentEncoding::kGzip},
      {"DeflateFirst", "deflate, gzip", ContentEncoding::kDeflate},
      {"Spaces", "  gzip  ", ContentEncoding::kGzip},
      {"Identity", "identity", ContentEncoding::kIdentity},
      {"CaseMatters", "GZIP", ContentEncoding::kIdentity},
      {"XGzip", "x-gzip", ContentEncoding::kIdentity},
      {"QThenPlain", "gzip;q=0.5, deflate", ContentEncoding::kDeflate},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(NegotiateEncoding(c.header), c.want);
  }
  EXPECT_EQ(ContentEncodingName(ContentEncoding::kGzip), "gzip");
  EXPECT_EQ(ContentEncodingName(ContentEncoding::kDeflate), "deflate");
  EXPECT_EQ(ContentEncodingName(ContentEncoding::kIdentity), "");
}

}  // namespace
}  // namespace fedgate
