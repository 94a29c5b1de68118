#include "merge/float_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

struct FloatCase {
  const char* name;
  double value;
  const char* want;
};

TEST(FloatFormatTest, FormatsLikePrometheus) {
  const FloatCase kCases[] = {
      {"Zero", 0.0, "0"},
      {"NegativeZero", -0.0, "0"},
      {"One", 1.0, "1"},
      {"MinusOne", -1.0, "-1"},
      {"OneAndAHalf", 1.5, "1.5"},
      {"NegativeFraction", -2.25, "-2.25"},
      {"Ten", 10.0, "10"},
      {"LargestPlainInteger", 999999.0, "999999"},
      {"HundredThousand", 100000.0, "100000"},
      {"PlainWithFraction", 999999.5, "999999.5"},
      {"Million", 1e6, "1e+06"},
      {"NegativeMillion", -1e6, "-1e+06"},
      {"ManyDigits", 123456789.0, "1.23456789e+08"},
      {"SevenDigits", 1234567.0, "1.234567e+06"},
      {"TenThousandth", 0.0001, "0.0001"},
      {"SmallPlain", 0.00012345, "0.00012345"},
      {"HundredThousandth", 1e-5, "1e-05"},
      {"NegativeSmall", -1.5e-5, "-1.5e-05"},
      {"UnixSecondsWithMillis", 1600000000.123, "1.600000000123e+09"},
      {"ScientificInput", 2.4117248e+07, "2.4117248e+07"},
      {"TwentyDigitInteger", 1e20, "1e+20"},
      {"TwentyOneDigitInteger", 1e21, "1e+21"},
      {"ThreeDigitExponent", 1e100, "1e+100"},
      {"TinyThreeDigitExponent", 1e-300, "1e-300"},
      {"PointOnePlusPointTwo", 0.1 + 0.2, "0.30000000000000004"},
      {"PointOne", 0.1, "0.1"},
      {"TwoToThe53", 9007199254740992.0, "9.007199254740992e+15"},
      {"MaxDouble", std::numeric_limits<double>::max(),
       "1.7976931348623157e+308"},
      {"LowestDouble", std::numeric_limits<double>::lowest(),
       "-1.7976931348623157e+308"},
      {"MinNormal", std::numeric_limits<double>::min(),
       "2.2250738585072014e-308"},
      {"MinDenormal", std::numeric_limits<double>::denorm_min(), "5e-324"},
      {"NegativeMinDenormal", -std::numeric_limits<double>::denorm_min(),
       "-5e-324"},
      {"MaxDenormal", 2.225073858507201e-308, "2.225073858507201e-308"},
      {"Denormal", 1e-310, "1e-310"},
      {"NaN", std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {"NegativeNaN", -std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {"PlusInf", std::numeric_limits<double>::infinity(), "+Inf"},
      {"MinusInf", -std::numeric_limits<double>::infinity(), "-Inf"},
  };
  for (const FloatCase& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(FormatGoFloat(c.value), c.want);
  }
}

TEST(FloatFormatTest, AppendsToExistingText) {
  std::string out = "x ";
  AppendGoFloat(1e6, &out);
  out.push_back(' ');
  AppendGoFloat(-0.0, &out);
  EXPECT_EQ(out, "x 1e+06 0");
}

uint64_t Bits(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return bits;
}

// Returns the decimal exponent of the first significant digit of `text`,
// which must be a plain or scientific decimal number.
int LeadingExponent(const std::string& text) {
  size_t e = text.find('e');
  if (e != std::string::npos) return std::atoi(text.c_str() + e + 1);
  const std::string mantissa = text[0] == '-' ? text.substr(1) : text;
  size_t point = mantissa.find('.');
  if (point == std::string::npos) point = mantissa.size();
  size_t first = mantissa.find_first_not_of("0.");
  return first < point ? static_cast<int>(point - first) - 1
                       : -static_cast<int>(first - point);
}

// Counts significant digits (no leading zeros, no trailing integer zeros).
int SignificantDigits(const std::string& text) {
  std::string digits;
  for (char ch : text.substr(0, text.find('e'))) {
    if (ch >= '0' && ch <= '9') digits.push_back(ch);
  }
  digits.erase(0, digits.find_first_not_of('0'));
  digits.erase(digits.find_last_not_of('0') + 1);
  return static_cast<int>(digits.size());
}

TEST(FloatFormatTest, RandomDoublesRoundTripInGoLayout) {
  std::mt19937_64 rng(20240613);
  std::uniform_real_distribution<double> magnitude(-12.0, 12.0);
  for (int i = 0; i < 200000; ++i) {
    double v;
    if (i % 2 == 0) {
      // Any bit pattern: covers denormals and huge exponents.
      uint64_t bits = rng();
      std::memcpy(&v, &bits, sizeof(v));
      if (!std::isfinite(v) || v == 0) continue;
    } else {
      // Values near the plain/scientific boundaries, the common case.
      v = std::pow(10.0, magnitude(rng)) * (rng() % 2 ? 1 : -1);
    }
    const std::string text = FormatGoFloat(v);
    SCOPED_TRACE(text);
    // Parses back to the same bits.
    ASSERT_EQ(Bits(std::strtod(text.c_str(), nullptr)), Bits(v));
    // Go's layout: scientific iff the exponent is < -4 or >= 6.
    const int exp = LeadingExponent(text);
    ASSERT_EQ(text.find('e') != std::string::npos, exp < -4 || exp >= 6);
    // Shortest: as many digits as the shortest round-trip form.
    char shortest[64];
    const std::to_chars_result r =
        std::to_chars(shortest, shortest + sizeof(shortest), v,
                      std::chars_format::scientific);
    ASSERT_EQ(SignificantDigits(text),
              SignificantDigits(std::string(shortest, r.ptr)));
  }
}

TEST(FloatFormatTest, LayoutChosenByTheCallerAsStrconvWritesIt) {
  struct Case {
    double v;
    bool fixed;
    std::string want;
  };
  const Case kCases[] = {
      {1e20, true, "100000000000000000000"},
      {123456789.125, true, "123456789.125"},
      {0.000001, true, "0.000001"},
      {-2.5e-5, true, "-0.000025"},
      {0.0, true, "0"},
      {-0.0, true, "-0"},
      {1e21, false, "1e+21"},
      {1.5e-7, false, "1.5e-07"},
      {-123.0, false, "-1.23e+02"},
      {1e88, true, "1" + std::string(88, '0')},
      {-1.7976931348623157e308, true,
       "-17976931348623157" + std::string(292, '0')},
      {5e-324, true, "0." + std::string(323, '0') + "5"},
  };
  for (const Case& c : kCases) {
    std::string out = "x";
    AppendGoFloatLayout(c.v, c.fixed, &out);
    EXPECT_EQ(out, std::string("x") + c.want) << c.v;
  }
}

}  // namespace
}  // namespace fedgate
