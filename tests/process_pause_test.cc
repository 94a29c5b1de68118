// End-to-end: the real fedgate binary, scraping a loopback target every
// second, is stopped (SIGSTOP) for three scrape intervals and continued
// (SIGCONT), as a debugger, `kill -STOP` or CPU throttling under a cgroup
// limit do. It must survive the ticks it missed and go on scraping: a
// scrape newer than the SIGCONT shows in /federate. fedgate is stopped by
// its PID.

#include <signal.h>
#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// Returns the timestamp (ms) of fedgate's `up` 1 sample in /federate, or 0.
int64_t UpTimestampMs(int port) {
  const std::string text = FederateText(port, "{job=\"pause\"}");
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, "up{")) continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t ms = 0;
    if (fields.size() == 3 && fields[1] == "1" &&
        absl::SimpleAtoi(fields[2], &ms)) {
      return ms;
    }
  }
  return 0;
}

TEST(ProcessPauseTest, KeepsScrapingAfterSigstopLongerThanAnInterval) {
  LoopbackTarget target("# TYPE paused_metric gauge\npaused_metric 1\n");
  const std::string dir = TestTempDir() + "/process_pause";
  mkdir(dir.c_str(), 0755);
  const std::string config_path = dir + "/fedgate.yml";
  ASSERT_TRUE(WriteFile(
      config_path, absl::StrCat("global:\n"
                                "  scrape_interval: 1s\n"
                                "scrape_configs:\n",
                                StaticScrapeJob("pause", target.address()))));
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  const int port = fedgate->web_port;
  const pid_t pid = fedgate->process->pid();

  // Two scrapes, so the loop is in its steady schedule.
  int64_t first = 0;
  ASSERT_TRUE(WaitUntil([&] { return (first = UpTimestampMs(port)) > 0; },
                        absl::Seconds(30)))
      << fedgate->process->Stderr();
  ASSERT_TRUE(WaitUntil([&] { return UpTimestampMs(port) > first; },
                        absl::Seconds(30)));

  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  // The fault itself: three intervals stopped (no condition to wait for).
  absl::SleepFor(absl::Seconds(3));
  const int64_t continued_ms = absl::ToUnixMillis(absl::Now());
  ASSERT_EQ(kill(pid, SIGCONT), 0);

  // Still running, and scraping: a scrape that started after SIGCONT.
  int64_t after = 0;
  const bool scraped =
      WaitUntil([&] { return (after = UpTimestampMs(port)) >= continued_ms; },
                absl::Seconds(30));
  const std::optional<int> exit_code =
      fedgate->process->WaitFor(absl::ZeroDuration());
  ASSERT_FALSE(exit_code.has_value())
      << "fedgate exited with " << *exit_code << " after SIGCONT\n"
      << fedgate->process->Stderr();
  EXPECT_TRUE(scraped) << "last up timestamp " << after << " < SIGCONT at "
                       << continued_ms;
  // And on: the next one, an interval later.
  EXPECT_TRUE(WaitUntil([&] { return UpTimestampMs(port) > after; },
                        absl::Seconds(30)));
  EXPECT_EQ(fedgate->process->Stop(), 0) << fedgate->process->Stderr();
}

}  // namespace
}  // namespace fedgate
