#include "scraper/exposition/test_refusals.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {

void ExpectRefusal(const absl::Status& status, const RefusedBody& refused) {
  if (refused.line == 0) {
    EXPECT_TRUE(IsSampleRejected(status)) << status;
    EXPECT_EQ(status.message(), refused.message);
    return;
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::string prefix =
      absl::StrCat("line ", refused.line, ", column ", refused.column, ": ");
  EXPECT_TRUE(absl::StartsWith(status.message(), prefix)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), refused.message)) << status;
}

const std::vector<RefusedBody>& RefusedByBothTextFormats() {
  static const auto* const kRefused = new std::vector<RefusedBody>{
      // Each failed a scrape by Prometheus 2.42 as text/plain.
      {"CrlfLineEnd", "a 1\r\nb 2\r\n", 1, 3,
       "strconv.ParseFloat: parsing \"1\\r\": invalid syntax in \"a 1\\r\""},
      {"CrlfBlankLine", "\r\n", 1, 1,
       "expected a valid start token, got \"\\r\""},
      {"NameInsideBraces", "{__name__=\"b\"} 1\n", 1, 1,
       "expected a valid start token, got \"{\""},
      {"DigitStartsName", "1a 1\n", 1, 1,
       "expected a valid start token, got \"1a\""},
      {"NoValue", "a\n", 1, 2, "expected value after metric, got end of line"},
      {"SecondBraces", "a{b=\"c\"}{d=\"e\"} 1\n", 1, 9,
       "expected value after metric, got \"{\""},
      {"DuplicateLabel", "a{b=\"c\",b=\"d\"} 1\n", 0, 0,
       "label name \"b\" is not unique: invalid sample"},
      {"DuplicateLabelFarApart", "a{b=\"1\",c=\"2\",d=\"3\",c=\"4\"} 1\n", 0, 0,
       "label name \"c\" is not unique: invalid sample"},
      {"NameLabelInsideBraces", "a{__name__=\"b\"} 1\n", 0, 0,
       "label name \"__name__\" is not unique: invalid sample"},
      {"ColonInLabelName", "a{b:c=\"d\"} 1\n", 1, 4,
       "expected equal, got \":c\""},
      {"DoubleComma", "a{b=\"c\",,d=\"e\"} 1\n", 1, 9,
       "expected label name, got \",\""},
      {"MissingEqual", "a{b} 1\n", 1, 4, "expected equal, got \"}\""},
      {"UnquotedLabelValue", "a{b=c} 1\n", 1, 5,
       "expected label value, got \"c\""},
      {"UnterminatedLabelValue", "a{b=\"c} 1\nd 2\n", 1, 5,
       "expected label value, got unterminated string"},
      {"InvalidUtf8LabelValue", "a{b=\"\xff\"} 1\n", 1, 5,
       "invalid UTF-8 label value in \"a{b=\\\"\\xff\\\"} 1\""},
      {"SurrogateInLabelValue", "a{b=\"\xed\xa0\x80\"} 1\n", 1, 5,
       "invalid UTF-8 label value"},
      {"OverlongInLabelValue", "a{b=\"\xc0\xaf\"} 1\n", 1, 5,
       "invalid UTF-8 label value"},
      {"TruncatedUtf8InLabelValue", "a{b=\"\xe2\x82\"} 1\n", 1, 5,
       "invalid UTF-8 label value"},
      {"HexValue", "a 0x10\n", 1, 3,
       "strconv.ParseFloat: parsing \"0x10\": invalid syntax"},
      {"HexFloatValue", "a 0x1p4\n", 1, 3, "unsupported character in float"},
      {"UnderscoreValue", "a 1_000\n", 1, 3, "unsupported character in float"},
      {"ExponentWithoutDigits", "a 1e\n", 1, 3,
       "strconv.ParseFloat: parsing \"1e\": invalid syntax"},
      {"TwoPoints", "a 1.2.3\n", 1, 3,
       "strconv.ParseFloat: parsing \"1.2.3\": invalid syntax"},
      {"TwoSigns", "a +-1\n", 1, 3,
       "strconv.ParseFloat: parsing \"+-1\": invalid syntax"},
      {"OnlyPoint", "a .\n", 1, 3,
       "strconv.ParseFloat: parsing \".\": invalid syntax"},
      {"InfWithSuffix", "a inf1\n", 1, 3,
       "strconv.ParseFloat: parsing \"inf1\": invalid syntax"},
      {"TruncatedInfinity", "a infin\n", 1, 3,
       "strconv.ParseFloat: parsing \"infin\": invalid syntax"},
      {"SignedNaN", "a -nan\n", 1, 3,
       "strconv.ParseFloat: parsing \"-nan\": invalid syntax"},
      {"PlusNaN", "a +NaN\n", 1, 3,
       "strconv.ParseFloat: parsing \"+NaN\": invalid syntax"},
      {"ValueOverflow", "a 1e400\n", 1, 3,
       "strconv.ParseFloat: parsing \"1e400\": value out of range"},
      {"ValueJustAboveMax", "a -1.7976931348623159e308\n", 1, 3,
       "value out of range"},
      {"QuoteInValue", "a 1\"\n", 1, 3,
       "strconv.ParseFloat: parsing \"1\\\"\": invalid syntax"},
      {"UnknownType", "# TYPE a foo\n", 1, 10, "invalid metric type \"foo\""},
      {"TypeWithTrailingBlank", "# TYPE a counter \n", 1, 10,
       "invalid metric type \"counter \""},
      {"TypeAfterTwoBlanks", "# TYPE a  counter\n", 1, 10,
       "invalid metric type \" counter\""},
      {"UppercaseType", "# TYPE a Counter\n", 1, 10,
       "invalid metric type \"Counter\""},
      {"HelpWithoutName", "# HELP \n", 1, 8,
       "expected metric name after HELP, got end of line"},
      {"TypeWithoutName", "# TYPE \n", 1, 8,
       "expected metric name after TYPE, got end of line"},
      {"HelpWithInvalidName", "# HELP 1a x\n", 1, 8,
       "expected metric name after HELP, got \"1a\""},
      {"InvalidUtf8Help", "# HELP a \xff\n", 1, 10,
       "help text is not a valid utf8 string"},
      // From Prometheus 2.42's openmetricsparse_test.go.
      {"DigitStart", "9\n", 1, 1, "expected a valid start token, got \"9\""},
      {"LabelValueToEndOfLine", "a{b=\n", 1, 5,
       "expected label value, got end of line"},
      {"BooleanValue", "a true\n", 1, 3,
       "strconv.ParseFloat: parsing \"true\": invalid syntax"},
      {"UnterminatedLabelValueAtEndOfLine", "something_weird{problem=\"\n", 1,
       25, "expected label value, got unterminated string"},
  };
  return *kRefused;
}

}  // namespace fedgate
