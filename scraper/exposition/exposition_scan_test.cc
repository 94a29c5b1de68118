#include "scraper/exposition/exposition_scan.h"

#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(ExpositionScanTest, ParsesFloatsAsGoDoes) {
  struct Case {
    const char* text;
    double value;
  };
  const Case valid[] = {
      {"1", 1},      {"-0", -0.0},       {"1.", 1},           {".5", 0.5},
      {"1e3", 1000}, {"+Inf", INFINITY}, {"-inf", -INFINITY}, {"1e-400", 0}};
  for (const Case& c : valid) {
    SCOPED_TRACE(c.text);
    double v = 7;
    ASSERT_TRUE(ParseGoFloat(c.text, &v).ok());
    EXPECT_EQ(v, c.value);
  }
  double nan = 0;
  ASSERT_TRUE(ParseGoFloat("NaN", &nan).ok());
  uint64_t bits;
  std::memcpy(&bits, &nan, sizeof(bits));
  EXPECT_EQ(bits, kNormalNaNBits);
  for (const char* bad : {"", "1e", "0x10", "1_000", "0x1p3", "+-1", "1.2.3"}) {
    SCOPED_TRACE(bad);
    double v;
    EXPECT_FALSE(ParseGoFloat(bad, &v).ok());
  }
}

// Expects ParseGoFloat (with its fast path) to give exactly what its general
// path gives for `text`: the same bits or the same error.
void ExpectSameAsSlowPath(const std::string& text) {
  double fast = 7;
  double slow = 7;
  const absl::Status fast_status = ParseGoFloat(text, &fast);
  const absl::Status slow_status =
      exposition_scan_internal::ParseGoFloatSlow(text, &slow);
  ASSERT_EQ(fast_status, slow_status) << GoQuote(text);
  uint64_t fast_bits;
  uint64_t slow_bits;
  std::memcpy(&fast_bits, &fast, sizeof(fast));
  std::memcpy(&slow_bits, &slow, sizeof(slow));
  ASSERT_EQ(fast_bits, slow_bits) << GoQuote(text);
}

TEST(ExpositionScanTest, FloatFastPathMatchesTheGeneralPath) {
  // Shapes of the fast path and their neighbours.
  const char* const short_literals[] = {
      "0",     "-0",     "+0",    "00",    "0.0",    "-0.0",   "1",
      "-1",    "+1",     "1.",    "-1.",   ".5",     "-.5",    "+.5",
      "0.1",   "0.5",    "1e+06", "1e-06", "1E6",    "1e6",    "1.e2",
      "1e",    "1e+",    "1e-",   "e5",    ".",      "-",      "+",
      "",      " 1",     "1 ",    "1e0",   "1e007",  "1e0007", "1e22",
      "1e23",  "1e-22",  "1e-23", "9e22",  "5e-324", "2e-324", "1e-400",
      "1e400", "-1e400", "16455", "NaN",   "nan",    "Nan",    "-NaN",
      "+Inf",  "-Inf",   "Inf",   "inf",   "infin",  "0x1p3",  "0x10",
      "1_000", "1p3",    "1P3",   "+-1",   "1.2.3",  "1e1.5",  "1ee5",
      "1e+-5", "--1",    "1,5",   "1e+0x"};
  const char* const long_literals[] = {
      "123456789012345",
      "1234567890123456",
      "999999999999999",
      "9999999999999999",
      "9007199254740993",
      "123456789012345678901234567890",
      "0.000000000000001",
      "0.0000000000000001",
      "1.23456789012345",
      "1.234567890123456",
      "1.7976931348623157e308",
      "1.7976931348623159e308",
      "2.2250738585072014e-308",
      "2.2250738585072011e-308",
      "4.9e-324",
      "-1e-400",
      "0e99999999",
      "2.4117248e+07",
      "1144.645041",
      "1.948201952e+09",
      "7.689368882420941e-07",
      "12.580718437000003",
      "0001.500",
      "Infinity",
      "-infinity",
  };
  std::vector<const char*> literals(std::begin(short_literals),
                                    std::end(short_literals));
  literals.insert(literals.end(), std::begin(long_literals),
                  std::end(long_literals));
  for (const char* text : literals) {
    SCOPED_TRACE(text);
    ExpectSameAsSlowPath(text);
  }
  ExpectSameAsSlowPath(std::string("1\0", 2));
  ExpectSameAsSlowPath(std::string(1, '\0') + "1");
  // Every shape the fast path may take, around its limits: digit counts
  // 1-17, the point anywhere, exponents around ±22 and beyond.
  std::mt19937_64 random(20261205);
  for (int digits = 1; digits <= 17; ++digits) {
    for (int point = -1; point <= digits; ++point) {
      for (int exponent = -30; exponent <= 30; ++exponent) {
        for (int trial = 0; trial < 4; ++trial) {
          std::string text;
          if (trial & 1) text.push_back('-');
          for (int k = 0; k < digits; ++k) {
            if (k == point) text.push_back('.');
            text.push_back(static_cast<char>('0' + random() % 10));
          }
          if (point == digits) text.push_back('.');
          if (exponent != 0 || trial >= 2) {
            text.append(trial >= 2 ? "E" : "e");
            if (exponent >= 0 && trial >= 2) text.push_back('+');
            text.append(std::to_string(exponent));
          }
          ExpectSameAsSlowPath(text);
        }
      }
    }
  }
  // Doubles printed as exporters print them.
  for (int k = 0; k < 100000; ++k) {
    const uint64_t bits = random();
    double v;
    std::memcpy(&v, &bits, sizeof(v));
    if (std::isnan(v)) continue;
    const double small = static_cast<double>(random() % 100000000) /
                         static_cast<double>(1 + random() % 100000);
    char buf[64];
    for (const double x : {v, small}) {
      for (const char* format : {"%.17g", "%g", "%.6e", "%.3f", "%.15g"}) {
        std::snprintf(buf, sizeof(buf), format, x);
        ExpectSameAsSlowPath(buf);
      }
    }
    std::snprintf(buf, sizeof(buf), "%" PRIu64, bits >> (random() % 64));
    ExpectSameAsSlowPath(buf);
  }
  // Random strings over the bytes of float syntax and near misses.
  static constexpr char kAlphabet[] = "0123456789012345.eE+-_pPxnaifINF \t";
  for (int k = 0; k < 300000; ++k) {
    std::string text(random() % 12, ' ');
    for (char& c : text) c = kAlphabet[random() % (sizeof(kAlphabet) - 1)];
    ExpectSameAsSlowPath(text);
  }
}

// The byte loops the Skip*Bytes scanners replace.
bool IsMetricNameByte(unsigned char c) {
  return std::isalnum(c) != 0 || c == '_' || c == ':';
}
bool IsLabelNameByte(unsigned char c) {
  return std::isalnum(c) != 0 || c == '_';
}
bool IsQuotedPlainByte(unsigned char c) {
  return c < 0x80 && c != '"' && c != '\\' && c != '\n';
}
bool IsSampleValueByte(unsigned char c) {
  return c != 0 && c != '\t' && c != '\n' && c != ' ' && c != '{';
}

TEST(ExpositionScanTest, ByteScannersStopWhereByteLoopsStop) {
  struct Scanner {
    const char* name;
    size_t (*skip)(const char*, size_t, size_t);
    bool (*in_class)(unsigned char);
    char filler;  // A byte of the class.
  };
  const Scanner scanners[] = {
      {"metric name", SkipMetricNameBytes, IsMetricNameByte, 'a'},
      {"label name", SkipLabelNameBytes, IsLabelNameByte, 'Z'},
      {"quoted plain", SkipQuotedPlainBytes, IsQuotedPlainByte, '\t'},
      {"sample value", SkipSampleValueBytes, IsSampleValueByte, '\xff'},
  };
  auto reference = [](const Scanner& s, const std::string& text, size_t i,
                      size_t n) {
    while (i < n && s.in_class(static_cast<unsigned char>(text[i]))) ++i;
    return i;
  };
  for (const Scanner& scanner : scanners) {
    SCOPED_TRACE(scanner.name);
    // Every byte at every position of a 40-byte run of the class, from
    // every start and with every end.
    for (int c = 0; c < 256; ++c) {
      for (size_t at = 0; at < 40; ++at) {
        std::string text(40, scanner.filler);
        text[at] = static_cast<char>(c);
        for (size_t i = 0; i <= 20; ++i) {
          for (size_t n = i; n <= text.size(); n += 3) {
            ASSERT_EQ(scanner.skip(text.data(), i, n),
                      reference(scanner, text, i, n))
                << "byte " << c << " at " << at << " from " << i << " to " << n;
          }
        }
      }
    }
    // Random bytes, mostly of the class.
    std::mt19937_64 random(7);
    for (int k = 0; k < 20000; ++k) {
      std::string text(random() % 70, scanner.filler);
      for (char& c : text) {
        if (random() % 8 == 0) c = static_cast<char>(random());
      }
      const size_t i = text.empty() ? 0 : random() % text.size();
      ASSERT_EQ(scanner.skip(text.data(), i, text.size()),
                reference(scanner, text, i, text.size()));
    }
  }
}

TEST(ExpositionScanTest, LabelBlockMasksMatchTheByteLoop) {
  // ClassifyLabelBlock() and, where the CPU has AVX2,
  // ClassifyLabelBlockAvx2().
  auto expect_same = [](const char* p) {
    const LabelBlockMasks slow =
        exposition_scan_internal::ClassifyLabelBlockBytes(p);
    const LabelBlockMasks fast = ClassifyLabelBlock(p);
    ASSERT_EQ(fast.quote, slow.quote);
    ASSERT_EQ(fast.stop, slow.stop);
    ASSERT_EQ(fast.non_name, slow.non_name);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (CpuHasLabelBlocksAvx2()) {
      const LabelBlockMasks wide = ClassifyLabelBlockAvx2(p);
      ASSERT_EQ(wide.quote, slow.quote);
      ASSERT_EQ(wide.stop, slow.stop);
      ASSERT_EQ(wide.non_name, slow.non_name);
    }
#endif
  };
  // Every byte at every position of a block of name bytes.
  for (int c = 0; c < 256; ++c) {
    for (int at = 0; at < 64; ++at) {
      std::string block(64, 'a');
      block[at] = static_cast<char>(c);
      SCOPED_TRACE(testing::Message() << "byte " << c << " at " << at);
      expect_same(block.data());
    }
  }
  // Random blocks.
  std::mt19937_64 random(9);
  for (int k = 0; k < 20000; ++k) {
    char block[64];
    for (char& c : block) c = static_cast<char>(random());
    expect_same(block);
  }
  // The reference itself, on one block.
  const std::string block =
      "a=\"x\\\n\xc3\"_,Z9:} \t{" + std::string(64 - 17, '0');
  const LabelBlockMasks m =
      exposition_scan_internal::ClassifyLabelBlockBytes(block.data());
  EXPECT_EQ(m.quote, 0b10000100u);
  EXPECT_EQ(m.stop, 0b1110000u);
  EXPECT_EQ(m.non_name, 0b11111001001110010u);
}

TEST(ExpositionScanTest, PrefixXorsMatchTheBitLoop) {
  auto slow = [](uint64_t x) {
    uint64_t out = 0;
    bool odd = false;
    for (int k = 0; k < 64; ++k) {
      odd ^= ((x >> k) & 1) != 0;
      if (odd) out |= uint64_t{1} << k;
    }
    return out;
  };
  std::mt19937_64 random(3);
  std::vector<uint64_t> words = {0, 1, uint64_t{1} << 63, ~uint64_t{0},
                                 0x8000000000000001u};
  for (int k = 0; k < 10000; ++k) words.push_back(random() & random());
  for (const uint64_t x : words) {
    SCOPED_TRACE(x);
    ASSERT_EQ(PrefixXor(x), slow(x));
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (CpuHasLabelBlocksAvx2()) {
      ASSERT_EQ(PrefixXorClmul(x), slow(x));
    }
#endif
  }
  // Quotes at 2 and 5: bytes 2-4 are inside the string.
  EXPECT_EQ(PrefixXor(0b100100), 0b011100u);
}

TEST(ExpositionScanTest, QuotesExcerptsUpTo24Bytes) {
  const std::string body = "abc\"def 0123456789012345678901234567890";
  EXPECT_EQ(QuoteExcerpt(body, 0, 7), "\"abc\\\"def\"");
  EXPECT_EQ(QuoteExcerpt(body, 8, body.size()),
            "\"012345678901234567890123...\"");
}

TEST(ExpositionScanTest, BuildsSeriesLabelsWithTheNameFirst) {
  const LabelViews views = {{"path", "a\\\\b\\n\\\"c\\q"}, {"code", "200"}};
  std::vector<Label> labels = {
      {"stale", "x"}, {"a", "b"}, {"c", "d"}, {"e", "f"}};
  BuildSeriesLabels("http_requests_total", views, &labels);
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0], (Label{"__name__", "http_requests_total"}));
  EXPECT_EQ(labels[1], (Label{"path", "a\\b\n\"c\\q"}));
  EXPECT_EQ(labels[2], (Label{"code", "200"}));
}

TEST(ExpositionScanTest, FindsRepeatedAndReservedLabelNames) {
  EXPECT_EQ(FindNonUniqueLabel({{"a", "1"}, {"b", "2"}}), -1);
  EXPECT_EQ(FindNonUniqueLabel({{"a", "1"}, {"b", "2"}, {"a", "3"}}), 2);
  EXPECT_EQ(FindNonUniqueLabel({{"a", "1"}, {"__name__", "m"}}), 1);
}

TEST(ExpositionScanTest, ValidatesUtf8AndQuotesLikeGo) {
  EXPECT_TRUE(IsValidUtf8("plain ascii, ünïcödé"));
  EXPECT_FALSE(IsValidUtf8("bad \xff byte"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // An encoded surrogate.
  EXPECT_EQ(GoQuote("a\"b\n\x01"), "\"a\\\"b\\n\\x01\"");
}

}  // namespace
}  // namespace fedgate
