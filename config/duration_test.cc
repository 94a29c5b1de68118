#include "config/duration.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(ParsePrometheusDurationTest, AcceptsWhatPrometheusAccepts) {
  const struct {
    const char* name;
    const char* input;
    absl::Duration want;
  } kCases[] = {
      {"unitless zero", "0", absl::ZeroDuration()},
      {"zero seconds", "0s", absl::ZeroDuration()},
      {"zero with every unit", "0y0w0d0h0m0s0ms", absl::ZeroDuration()},
      {"milliseconds", "500ms", absl::Milliseconds(500)},
      {"seconds", "15s", absl::Seconds(15)},
      {"minutes", "1m", absl::Minutes(1)},
      {"hours", "2h", absl::Hours(2)},
      {"day is 24h", "1d", absl::Hours(24)},
      {"week is 7d", "1w", absl::Hours(7 * 24)},
      {"year is 365d", "1y", absl::Hours(365 * 24)},
      {"minutes and seconds", "1m30s", absl::Seconds(90)},
      {"seconds and milliseconds", "1s500ms", absl::Milliseconds(1500)},
      {"minutes and milliseconds", "5m10ms", absl::Milliseconds(300010)},
      {"every unit", "1y2w3d4h5m6s7ms",
       absl::Hours((365 + 14 + 3) * 24 + 4) + absl::Minutes(5) +
           absl::Seconds(6) + absl::Milliseconds(7)},
      {"no normalisation", "90s", absl::Seconds(90)},
      {"large count", "1000ms", absl::Seconds(1)},
      {"leading zeros", "01m", absl::Minutes(1)},
      {"many leading zeros", "0000000000000000000000001s", absl::Seconds(1)},
      {"largest whole days", "106751d", absl::Hours(106751 * 24)},
      {"292 years", "292y", absl::Hours(292 * 365 * 24)},
      {"largest milliseconds", "9223372036854ms",
       absl::Milliseconds(9223372036854)},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<absl::Duration> got = ParsePrometheusDuration(c.input);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c.want);
  }
}

TEST(ParsePrometheusDurationTest, RejectsWhatPrometheusRejects) {
  // Messages checked against promtool 2.42 (`promtool check config`).
  const struct {
    const char* name;
    std::string input;
    const char* want_message;
  } kCases[] = {
      {"empty", "", "empty duration string"},
      {"unitless non-zero", "30", "not a valid duration string: \"30\""},
      {"double zero", "00", "not a valid duration string: \"00\""},
      {"unit without count", "s", "not a valid duration string: \"s\""},
      {"unit repeated", "1h1h", "not a valid duration string: \"1h1h\""},
      {"units out of order", "1s1m", "not a valid duration string: \"1s1m\""},
      {"ms before s", "1ms1s", "not a valid duration string: \"1ms1s\""},
      {"fraction", "1.5s", "not a valid duration string: \"1.5s\""},
      {"negative", "-1s", "not a valid duration string: \"-1s\""},
      {"plus sign", "+1s", "not a valid duration string: \"+1s\""},
      {"inner space", "1m 1s", "not a valid duration string: \"1m 1s\""},
      {"leading space", " 1s", "not a valid duration string: \" 1s\""},
      {"trailing space", "1s ", "not a valid duration string: \"1s \""},
      {"upper case unit", "1M", "not a valid duration string: \"1M\""},
      {"go microseconds", "1us", "not a valid duration string: \"1us\""},
      {"go nanoseconds", "1ns", "not a valid duration string: \"1ns\""},
      {"trailing digits", "1m30", "not a valid duration string: \"1m30\""},
      {"unknown unit", "1x", "not a valid duration string: \"1x\""},
      {"quoted in go syntax", std::string("1s\n", 3),
       "not a valid duration string: \"1s\\n\""},
      {"embedded nul", std::string("1s\0", 3),
       "not a valid duration string: \"1s\\x00\""},
      {"syntax wins over range", "300y1x",
       "not a valid duration string: \"300y1x\""},
      {"years overflow", "300y", "duration out of range: \"300y\""},
      {"days overflow", "106752d", "duration out of range: \"106752d\""},
      {"milliseconds overflow", "9223372036855ms",
       "duration out of range: \"9223372036855ms\""},
      {"int64 max milliseconds", "9223372036854775807ms",
       "duration out of range: \"9223372036854775807ms\""},
      {"beyond int64", "99999999999999999999s",
       "duration out of range: \"99999999999999999999s\""},
      {"sum overflows", "292y52w", "duration out of range: \"292y52w\""},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<absl::Duration> got = ParsePrometheusDuration(c.input);
    ASSERT_FALSE(got.ok()) << *got;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), c.want_message);
  }
}

TEST(FormatPrometheusDurationTest, PrintsLargestUnitsFirstWithoutZeroUnits) {
  const struct {
    const char* name;
    absl::Duration input;
    const char* want;
  } kCases[] = {
      {"zero", absl::ZeroDuration(), "0s"},
      {"below a millisecond", absl::Microseconds(999), "0s"},
      {"milliseconds", absl::Milliseconds(500), "500ms"},
      {"truncates to milliseconds", absl::Microseconds(1999), "1ms"},
      {"seconds", absl::Seconds(2), "2s"},
      {"seconds and milliseconds", absl::Milliseconds(1500), "1s500ms"},
      {"minute", absl::Minutes(1), "1m"},
      {"ninety seconds", absl::Seconds(90), "1m30s"},
      {"hour and a half", absl::Minutes(90), "1h30m"},
      {"hour and a second", absl::Seconds(3601), "1h1s"},
      {"day", absl::Hours(24), "1d"},
      {"two weeks", absl::Hours(14 * 24), "2w"},
      {"year", absl::Hours(365 * 24), "1y"},
      {"leap year is a year and a day", absl::Hours(366 * 24), "1y1d"},
      {"every unit",
       absl::Hours((365 + 14 + 3) * 24 + 4) + absl::Minutes(5) +
           absl::Seconds(6) + absl::Milliseconds(7),
       "1y2w3d4h5m6s7ms"},
      {"negative", -absl::Seconds(90), "-1m30s"},
      {"infinite", absl::InfiniteDuration(), "292471208y35w2d7h12m55s807ms"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(FormatPrometheusDuration(c.input), c.want);
  }
}

TEST(FormatPrometheusDurationTest, RoundTripsThroughParse) {
  const char* const kInputs[] = {
      "0s",  "1ms",  "59s", "1m",   "1h30m",
      "1d",  "1w6d", "1y",  "5y1s", "1y2w3d4h5m6s7ms",
      "292y"};
  for (const char* input : kInputs) {
    SCOPED_TRACE(input);
    absl::StatusOr<absl::Duration> parsed = ParsePrometheusDuration(input);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(FormatPrometheusDuration(*parsed), input);
  }
}

}  // namespace
}  // namespace fedgate
