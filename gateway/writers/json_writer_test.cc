#include "gateway/writers/json_writer.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

std::string JsonString(absl::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

// What `append` writes for `v` into an empty string.
template <typename T>
std::string Written(void (*append)(T, std::string*), T v) {
  std::string out;
  append(v, &out);
  return out;
}

std::string JsonFloat(double v) { return Written(AppendJsonFloat, v); }

std::string SampleValue(double v) { return Written(AppendJsonSampleValue, v); }

std::string Timestamp(int64_t ms) { return Written(AppendJsonTimestamp, ms); }

TEST(JsonWriterTest, StringsAreEscapedAsGoWithHtmlEscaping) {
  struct Case {
    const char* name;
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {"plain", "abc", R"("abc")"},
      {"empty", "", R"("")"},
      {"html", "x<y>&z", R"("x\u003cy\u003e\u0026z")"},
      {"quote and backslash", "a\"b\\c", R"("a\"b\\c")"},
      {"short escapes", "\n\r\t", R"("\n\r\t")"},
      {"other controls", std::string("\x00\x01\b\f\x1f", 5),
       R"("\u0000\u0001\u0008\u000c\u001f")"},
      {"del is kept", "\x7f", "\"\x7f\""},
      {"line separators", "a\u2028b\u2029c", R"("a\u2028b\u2029c")"},
      {"valid utf8 kept", "h\u00e9 \u4e16 \U0001F600",
       "\"h\u00e9 \u4e16 \U0001F600\""},
      {"invalid byte",
       "a\xff"
       "b",
       R"("a\ufffdb")"},
      {"truncated sequence", "\xe2\x80", R"("\ufffd\ufffd")"},
      {"surrogate", "\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},
      {"overlong", "\xc0\xaf", R"("\ufffd\ufffd")"},
      {"above max", "\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(JsonString(c.in), c.want);
  }
}

TEST(JsonWriterTest, StringsKeepHtmlCharactersWhenAsked) {
  // As Prometheus 2.42 with --log.format=json logs a --config.file name
  // holding these bytes: `<&>` kept, U+2028 and controls escaped, the
  // invalid byte 0xff as \ufffd, DEL and a literal U+FFFD kept.
  std::string out;
  AppendJsonString(
      "a\rb\\c<&>\xe2\x80\xa8"
      "d\xff"
      "e=f\"g\th\x01i\x7fj\xef\xbf\xbdk",
      &out, JsonHtml::kKeep);
  EXPECT_EQ(
      out,
      "\"a\\rb\\\\c<&>\\u2028d\\ufffde=f\\\"g\\th\\u0001i\x7fj\xef\xbf\xbdk\"");
}

TEST(JsonWriterTest, FloatsAreEncodedAsGoEncodingJson) {
  struct Case {
    double in;
    const char* want;
  };
  const Case cases[] = {
      {0, "0"},
      {-0.0, "-0"},
      {1, "1"},
      {0.000441667, "0.000441667"},
      {0.001643227, "0.001643227"},
      {1e-6, "0.000001"},
      {1e-7, "1e-7"},
      {1.5e-10, "1.5e-10"},
      {1e20, "100000000000000000000"},
      {1e21, "1e+21"},
      {123456789, "123456789"},
      {1152921504606846976.0, "1152921504606847000"},
      {-2.5, "-2.5"},
      {std::nan(""), "null"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(JsonFloat(c.in), c.want);
  }
}

TEST(JsonWriterTest, SampleValuesAreStringsAsPrometheusJsonutil) {
  struct Case {
    double in;
    const char* want;
  };
  const Case cases[] = {
      {1, R"("1")"},
      {1e6, R"("1000000")"},
      {-0.0, R"("-0")"},
      {1e-7, R"("1e-07")"},
      {1e21, R"("1e+21")"},
      {0.1, R"("0.1")"},
      {std::nan(""), R"("NaN")"},
      {std::numeric_limits<double>::infinity(), R"("+Inf")"},
      {-std::numeric_limits<double>::infinity(), R"("-Inf")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(SampleValue(c.in), c.want);
  }
}

TEST(JsonWriterTest, TimestampsAreSecondsWithMilliseconds) {
  EXPECT_EQ(Timestamp(1795630035864), "1795630035.864");
  EXPECT_EQ(Timestamp(1795630035900), "1795630035.900");
  EXPECT_EQ(Timestamp(1795630035005), "1795630035.005");
  EXPECT_EQ(Timestamp(1795630035000), "1795630035");
  EXPECT_EQ(Timestamp(0), "0");
  EXPECT_EQ(Timestamp(-1005), "-1.005");
}

TEST(JsonWriterTest, WriterInsertsCommasAndColons) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
  w.BeginArray();
  w.BeginObject();
  w.Key("a");
  w.Int(1);
  w.Key("b");
  w.Bool(false);
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.SamplePair(1500, 2);
  w.Float(0.5);
  w.Null();
  w.Raw("{}");
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(out, R"({"status":"success","data":[{"a":1,"b":false},[],)"
                 R"([1.500,"2"],0.5,null,{}]})");
}

}  // namespace
}  // namespace fedgate
