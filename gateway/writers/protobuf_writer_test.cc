#include "gateway/writers/protobuf_writer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "gateway/writers/test_families.h"
#include "gtest/gtest.h"
#include "merge/series_store.h"
#include "proto/metrics.pb.h"

namespace fedgate {
namespace {

using ::io::prometheus::client::MetricFamily;
using ::io::prometheus::client::MetricType;

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Write(ProtobufEncoding encoding,
                  const std::vector<TestFamily>& families,
                  const std::map<std::string, std::string>& external = {}) {
  ExternalLabels external_labels(external);
  ProtobufWriter writer(encoding, &external_labels);
  return WriteTestFamilies(writer, families);
}

// Splits a delimited answer into its messages; fails the test on bad framing.
std::vector<MetricFamily> Decode(const std::string& bytes) {
  google::protobuf::io::ArrayInputStream array(bytes.data(),
                                               static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&array);
  std::vector<MetricFamily> families;
  uint32_t size = 0;
  while (in.ReadVarint32(&size)) {
    const auto limit = in.PushLimit(static_cast<int>(size));
    MetricFamily family;
    EXPECT_TRUE(family.ParseFromCodedStream(&in));
    EXPECT_TRUE(in.ConsumedEntireMessage());
    in.PopLimit(limit);
    families.push_back(family);
  }
  EXPECT_EQ(in.CurrentPosition(), static_cast<int>(bytes.size()));
  return families;
}

const FamilyMetadata kCounter{"http_requests_total",
                              fedgate::MetricType::kCounter, "Requests.", ""};
const FamilyMetadata kGauge{"temperature_celsius", fedgate::MetricType::kGauge,
                            "", "celsius"};
const FamilyMetadata kHistogram{"rpc_seconds", fedgate::MetricType::kHistogram,
                                "RPC latency.", "seconds"};

std::vector<TestFamily> Families() {
  return {
      {"http_requests_total",
       &kCounter,
       {{Labels({{"__name__", "http_requests_total"},
                 {"code", "200"},
                 {"instance", "a:1"}}),
         1027, 1700000000123}}},
      {"rpc_seconds",
       &kHistogram,
       {{Labels({{"__name__", "rpc_seconds_bucket"}, {"le", "+Inf"}}), 7, 5},
        {Labels({{"__name__", "rpc_seconds_bucket"}, {"le", "0.1"}}), 5, 5},
        {Labels({{"__name__", "rpc_seconds_count"}}), 7, 5}}},
      {"temperature_celsius",
       &kGauge,
       {{Labels({{"__name__", "temperature_celsius"},
                 {"instance", "a:1"},
                 {"v", "q\"b\\s\nn\ttab \xC3\xA9"}}),
         -0.0, 6}}},
      {"weird",
       nullptr,
       {{Labels({{"__name__", "weird"}, {"instance", "a"}}), NAN, 7},
        {Labels({{"__name__", "weird"}, {"instance", "b"}}), kInf, 7},
        {Labels({{"__name__", "weird"}, {"instance", "c"}}), -kInf, 7},
        {Labels({{"__name__", "weird"}, {"instance", "d"}}), 1e6, 7}}},
  };
}

TEST(ProtobufWriterTest, CompactTextIsGolangCompactTextString) {
  EXPECT_EQ(
      Write(ProtobufEncoding::kCompactText, Families()),
      "name:\"http_requests_total\" help:\"Requests.\" type:COUNTER "
      "metric:<label:<name:\"code\" value:\"200\" > label:<name:\"instance\" "
      "value:\"a:1\" > counter:<value:1027 > timestamp_ms:1700000000123 > \n"
      "name:\"rpc_seconds_bucket\" type:UNTYPED metric:<label:<name:\"le\" "
      "value:\"+Inf\" > label:<name:\"instance\" value:\"\" > untyped:<value:7 "
      "> timestamp_ms:5 > metric:<label:<name:\"le\" value:\"0.1\" > "
      "label:<name:\"instance\" value:\"\" > untyped:<value:5 > "
      "timestamp_ms:5 > \n"
      "name:\"rpc_seconds_count\" type:UNTYPED metric:<label:<name:"
      "\"instance\" value:\"\" > untyped:<value:7 > timestamp_ms:5 > \n"
      "name:\"temperature_celsius\" type:GAUGE metric:<label:<name:"
      "\"instance\" value:\"a:1\" > label:<name:\"v\" value:\"q\\\"b\\\\s\\nn"
      "\\ttab \\303\\251\" > gauge:<value:-0 > timestamp_ms:6 > "
      "unit:\"celsius\" \n"
      "name:\"weird\" type:UNTYPED "
      "metric:<label:<name:\"instance\" value:\"a\" > untyped:<value:nan > "
      "timestamp_ms:7 > "
      "metric:<label:<name:\"instance\" value:\"b\" > untyped:<value:inf > "
      "timestamp_ms:7 > "
      "metric:<label:<name:\"instance\" value:\"c\" > untyped:<value:-inf > "
      "timestamp_ms:7 > "
      "metric:<label:<name:\"instance\" value:\"d\" > untyped:<value:1e+06 > "
      "timestamp_ms:7 > \n");
}

TEST(ProtobufWriterTest, TextIsGolangMarshalTextStringPlusNewline) {
  const TestFamily up{
      "up",
      nullptr,
      {{Labels({{"__name__", "up"}, {"instance", "127.0.0.1:19477"}}), 1,
        1795630023016}}};
  EXPECT_EQ(Write(ProtobufEncoding::kText, {up}, {{"zone", "ie"}}),
            "name: \"up\"\n"
            "type: UNTYPED\n"
            "metric: <\n"
            "  label: <\n"
            "    name: \"instance\"\n"
            "    value: \"127.0.0.1:19477\"\n"
            "  >\n"
            "  label: <\n"
            "    name: \"zone\"\n"
            "    value: \"ie\"\n"
            "  >\n"
            "  untyped: <\n"
            "    value: 1\n"
            "  >\n"
            "  timestamp_ms: 1795630023016\n"
            ">\n"
            "\n");
  const TestFamily counter{
      "http_requests_total",
      &kCounter,
      {{Labels({{"__name__", "http_requests_total"}, {"instance", "a"}}), 2,
        3}}};
  EXPECT_EQ(Write(ProtobufEncoding::kText, {counter}),
            "name: \"http_requests_total\"\n"
            "help: \"Requests.\"\n"
            "type: COUNTER\n"
            "metric: <\n"
            "  label: <\n"
            "    name: \"instance\"\n"
            "    value: \"a\"\n"
            "  >\n"
            "  counter: <\n"
            "    value: 2\n"
            "  >\n"
            "  timestamp_ms: 3\n"
            ">\n"
            "\n");
}

TEST(ProtobufWriterTest, DelimitedDecodesToTheSameFamilies) {
  const std::vector<MetricFamily> families =
      Decode(Write(ProtobufEncoding::kDelimited, Families(), {{"zone", "ie"}}));
  ASSERT_EQ(families.size(), 5u);
  struct Want {
    const char* name;
    const char* help;
    MetricType type;
    int metrics;
    const char* unit;
  };
  const Want kWant[] = {
      {"http_requests_total", "Requests.", io::prometheus::client::COUNTER, 1,
       ""},
      {"rpc_seconds_bucket", "", io::prometheus::client::UNTYPED, 2, ""},
      {"rpc_seconds_count", "", io::prometheus::client::UNTYPED, 1, ""},
      {"temperature_celsius", "", io::prometheus::client::GAUGE, 1, "celsius"},
      {"weird", "", io::prometheus::client::UNTYPED, 4, ""},
  };
  for (size_t i = 0; i < families.size(); ++i) {
    SCOPED_TRACE(kWant[i].name);
    EXPECT_EQ(families[i].name(), kWant[i].name);
    EXPECT_EQ(families[i].help(), kWant[i].help);
    EXPECT_EQ(families[i].type(), kWant[i].type);
    EXPECT_EQ(families[i].metric_size(), kWant[i].metrics);
    EXPECT_EQ(families[i].unit(), kWant[i].unit);
  }
  EXPECT_EQ(families[0].metric(0).ShortDebugString(),
            "label { name: \"code\" value: \"200\" } label { name: "
            "\"instance\" value: \"a:1\" } label { name: \"zone\" value: "
            "\"ie\" } counter { value: 1027 } timestamp_ms: 1700000000123");
  EXPECT_EQ(families[1].metric(1).ShortDebugString(),
            "label { name: \"le\" value: \"0.1\" } label { name: \"instance\" "
            "value: \"\" } label { name: \"zone\" value: \"ie\" } untyped { "
            "value: 5 } timestamp_ms: 5");
  EXPECT_EQ(families[3].metric(0).label(1).value(), "q\"b\\s\nn\ttab \xC3\xA9");
  EXPECT_TRUE(std::signbit(families[3].metric(0).gauge().value()));
  EXPECT_TRUE(std::isnan(families[4].metric(0).untyped().value()));
  EXPECT_EQ(families[4].metric(1).untyped().value(), kInf);
  EXPECT_EQ(families[4].metric(3).untyped().value(), 1e6);
  EXPECT_EQ(families[4].metric(3).timestamp_ms(), 7);
}

TEST(ProtobufWriterTest, DelimitedMatchesTheProtobufLibraryByteForByte) {
  // The same family serialized by the protobuf library.
  MetricFamily want;
  want.set_name("up");
  want.set_type(io::prometheus::client::UNTYPED);
  auto* metric = want.add_metric();
  auto* label = metric->add_label();
  label->set_name("instance");
  label->set_value("");
  metric->mutable_untyped()->set_value(1);
  metric->set_timestamp_ms(1795630023016);
  std::string want_bytes;
  google::protobuf::io::StringOutputStream stream(&want_bytes);
  {
    google::protobuf::io::CodedOutputStream out(&stream);
    out.WriteVarint32(static_cast<uint32_t>(want.ByteSizeLong()));
    want.SerializeToCodedStream(&out);
  }
  EXPECT_EQ(Write(ProtobufEncoding::kDelimited,
                  {{"up",
                    nullptr,
                    {{Labels({{"__name__", "up"}}), 1, 1795630023016}}}}),
            want_bytes);
}

}  // namespace
}  // namespace fedgate
