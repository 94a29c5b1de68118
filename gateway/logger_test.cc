#include "gateway/logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

// A value holding every byte class the encoders treat apart: a carriage
// return, a backslash, `<&>`, U+2028, an invalid byte (0xff), `=`, `"`, a
// tab, a control character, DEL and a literal U+FFFD.
constexpr char kAwkward[] =
    "a\rb\\c<&>\xe2\x80\xa8"
    "d\xff"
    "e=f\"g\th\x01i\x7fj\xef\xbf\xbdk";

TEST(LoggerTest, FormatsLogfmtAsPrometheus) {
  EXPECT_EQ(FormatLogLine(LogFormat::kLogfmt, "2026-11-25T17:00:00.000Z",
                          "main.cc:97", LogLevel::kInfo,
                          "Server is ready to receive web requests.",
                          {{"web", 9099}, {"tls", false}}),
            "ts=2026-11-25T17:00:00.000Z caller=main.cc:97 level=info "
            "msg=\"Server is ready to receive web requests.\" web=9099 "
            "tls=false");
}

TEST(LoggerTest, QuotesLogfmtValuesAsGoLogfmt) {
  struct Case {
    const char* name;
    std::string value;
    std::string want;
  };
  const Case cases[] = {
      {"plain", "15d", "v=15d"},
      {"empty is written as nothing", "", "v="},
      {"the word null", "null", "v=\"null\""},
      {"backslash alone stays bare", "a\\b", "v=a\\b"},
      {"space", "a b", "v=\"a b\""},
      {"equals", "a=b", "v=\"a=b\""},
      {"newline", "a\nb", "v=\"a\\nb\""},
      // Prometheus 2.42 logging a --config.file of these bytes, checked
      // byte for byte.
      {"every class", kAwkward,
       "v=\"a\\rb\\\\c<&>\xe2\x80\xa8"
       "d\\ufffde=f\\\"g\\th\\u0001i\x7fj\\ufffdk\""},
      {"U+FFFD alone is quoted", "\xef\xbf\xbd", "v=\"\\ufffd\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string line =
        FormatLogLine(LogFormat::kLogfmt, "T", "c.cc:1", LogLevel::kWarn, "m",
                      {{"v", c.value}});
    EXPECT_EQ(line,
              absl::StrCat("ts=T caller=c.cc:1 level=warn msg=m ", c.want));
  }
}

TEST(LoggerTest, FormatsJsonAsPrometheus) {
  // Keys sorted as Go writes a map; integers and booleans unquoted.
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, "2026-11-25T17:00:00.000Z",
                          "gateway.cc:466", LogLevel::kError,
                          "Error reloading config",
                          {{"err", "fedgate.yml:3: field foo not found"},
                           {"attempt", int64_t{2}},
                           {"http2", false},
                           {"zone", ""}}),
            "{\"attempt\":2,\"caller\":\"gateway.cc:466\","
            "\"err\":\"fedgate.yml:3: field foo not found\",\"http2\":false,"
            "\"level\":\"error\",\"msg\":\"Error reloading config\","
            "\"ts\":\"2026-11-25T17:00:00.000Z\",\"zone\":\"\"}");
  // Strings as go-kit's JSON logger writes them (no HTML escaping), checked
  // against Prometheus 2.42's line for the same bytes.
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, "T", "c.cc:1", LogLevel::kDebug,
                          "m", {{"filename", kAwkward}}),
            "{\"caller\":\"c.cc:1\",\"filename\":\"a\\rb\\\\c<&>\\u2028"
            "d\\ufffde=f\\\"g\\th\\u0001i\x7fj\xef\xbf\xbdk\",\"level\":"
            "\"debug\",\"msg\":\"m\",\"ts\":\"T\"}");
  // A key given twice keeps its last value, as in a Go map.
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, "T", "c.cc:1", LogLevel::kInfo, "m",
                          {{"k", "first"}, {"k", "second"}}),
            "{\"caller\":\"c.cc:1\",\"k\":\"second\",\"level\":\"info\","
            "\"msg\":\"m\",\"ts\":\"T\"}");
}

// Reads what Log() wrote into a pipe.
class LogCapture {
 public:
  LogCapture() {
    EXPECT_EQ(pipe2(fds_, O_NONBLOCK), 0);
    SetLogFdForTest(fds_[1]);
  }
  ~LogCapture() {
    SetLogFdForTest(-1);
    SetLogLevel(LogLevel::kInfo);
    SetLogFormat(LogFormat::kLogfmt);
    close(fds_[0]);
    close(fds_[1]);
  }
  std::string Read() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds_[0], buf, sizeof(buf))) > 0) out.append(buf, n);
    return out;
  }

 private:
  int fds_[2] = {-1, -1};
};

TEST(LoggerTest, LogWritesTheCallersLineAtTheLevelAndFormatSet) {
  LogCapture capture;
  SetLogLevel(LogLevel::kWarn);
  SetLogFormat(LogFormat::kJson);
  Log(LogLevel::kInfo, "not written");
  const int line = __LINE__ + 1;
  Log(LogLevel::kWarn, "Written", {{"n", 3}});
  const std::string out = capture.Read();
  const std::string caller = absl::StrCat("\"caller\":\"logger_test.cc:", line,
                                          "\",\"level\":\"warn\",");
  EXPECT_NE(out.find(caller), std::string::npos) << out;
  EXPECT_NE(out.find("\"msg\":\"Written\",\"n\":3,\"ts\":\""),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("not written"), std::string::npos) << out;
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front(), '{');
  EXPECT_EQ(out.substr(out.size() - 4), "Z\"}\n");
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "one line";

  SetLogFormat(LogFormat::kLogfmt);
  Log(LogLevel::kError, "Written again");
  const std::string logfmt = capture.Read();
  EXPECT_EQ(logfmt.rfind("ts=", 0), 0u) << logfmt;
  EXPECT_NE(logfmt.find(" caller=logger_test.cc:"), std::string::npos);
  EXPECT_NE(logfmt.find(" level=error msg=\"Written again\"\n"),
            std::string::npos)
      << logfmt;
}

}  // namespace
}  // namespace fedgate
