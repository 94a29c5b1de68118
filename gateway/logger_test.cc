#include "gateway/logger.h"

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(LoggerTest, FormatsLogfmtAndQuotesWhenNeeded) {
  EXPECT_EQ(FormatLogLine(LogLevel::kInfo, "2026-11-25T17:00:00.000Z",
                          "Server is ready", {{"port", "9099"}}),
            "ts=2026-11-25T17:00:00.000Z level=info msg=\"Server is ready\" "
            "port=9099");
  EXPECT_EQ(FormatLogLine(LogLevel::kError, "T", "failed",
                          {{"err", "a \"b\"\nc"}, {"empty", ""}}),
            "ts=T level=error msg=failed err=\"a \\\"b\\\"\\nc\" empty=\"\"");
}

}  // namespace
}  // namespace fedgate
