#include "gateway/process_metrics.h"

#include <time.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace fedgate {
namespace {

// A /proc/<pid>/stat of a process named with a space and a parenthesis,
// /proc/stat and /proc/<pid>/limits as Linux 6.1 writes them.
constexpr char kStat[] =
    "4242 (fed gate) (x) S 1 4242 4242 0 -1 4194560 12345 0 0 0 250 130 0 0 "
    "20 0 12 0 98765 734003200 5120 18446744073709551615 1 1 0 0 0 0 0 4096 "
    "17926 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
constexpr char kProcStat[] =
    "cpu  1 2 3 4 5 6 7 0 0 0\nintr 123\nctxt 456\nbtime 1765000000\n"
    "processes 789\n";
constexpr char kLimits[] =
    "Limit                     Soft Limit           Hard Limit           "
    "Units     \n"
    "Max cpu time              unlimited            unlimited            "
    "seconds   \n"
    "Max open files            1024                 1048576              "
    "files     \n"
    "Max address space         unlimited            unlimited            "
    "bytes     \n";

TEST(ProcessMetricsTest, ParsesProcAsProcfsDoes) {
  absl::StatusOr<ProcessStats> stats =
      ParseProcessStats(kStat, kProcStat, kLimits, 100, 4096);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 3.8);  // (250 + 130) / 100
  EXPECT_DOUBLE_EQ(stats->virtual_memory_bytes, 734003200);
  EXPECT_DOUBLE_EQ(stats->resident_memory_bytes, 5120.0 * 4096);
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1765000000 + 987.65);
  EXPECT_DOUBLE_EQ(stats->max_fds, 1024);
  EXPECT_DOUBLE_EQ(stats->virtual_memory_max_bytes, -1);
}

TEST(ProcessMetricsTest, RejectsWhatIsNotProc) {
  EXPECT_FALSE(ParseProcessStats("", kProcStat, kLimits, 100, 4096).ok());
  EXPECT_FALSE(
      ParseProcessStats("1 (a) S 1 2", kProcStat, kLimits, 100, 4096).ok());
  EXPECT_FALSE(ParseProcessStats(kStat, "cpu 1\n", kLimits, 100, 4096).ok());
  EXPECT_FALSE(ParseProcessStats(kStat, kProcStat, kLimits, 0, 4096).ok());
}

double Value(const std::vector<prometheus::MetricFamily>& families,
             const std::string& name) {
  for (const prometheus::MetricFamily& f : families) {
    if (f.name != name || f.metric.empty()) continue;
    const prometheus::ClientMetric& m = f.metric[0];
    return f.type == prometheus::MetricType::Counter ? m.counter.value
                                                     : m.gauge.value;
  }
  return -12345;
}

TEST(ProcessMetricsTest, ThisProcessIsMeasured) {
  prometheus::Registry registry;
  ProcessMetrics metrics(registry);
  // Some CPU, so that the counter has something to count.
  volatile double sink = 0;
  for (int i = 0; i < 20000000; ++i) sink = sink + i * 0.5;
  metrics.Update();
  const std::vector<prometheus::MetricFamily> families = registry.Collect();
  EXPECT_GT(Value(families, "process_cpu_seconds_total"), 0);
  EXPECT_GT(Value(families, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Value(families, "process_virtual_memory_bytes"),
            Value(families, "process_resident_memory_bytes"));
  EXPECT_GE(Value(families, "process_open_fds"), 3);
  EXPECT_GE(Value(families, "process_max_fds"),
            Value(families, "process_open_fds"));
  EXPECT_GT(Value(families, "process_virtual_memory_max_bytes"), 0);
  const double now = static_cast<double>(time(nullptr));
  const double start = Value(families, "process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600);
  // The counter never goes down between scrapes.
  const double cpu = Value(families, "process_cpu_seconds_total");
  metrics.Update();
  EXPECT_GE(Value(registry.Collect(), "process_cpu_seconds_total"), cpu);
}

}  // namespace
}  // namespace fedgate
