#include "gateway/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "config/file_contents.h"

namespace fedgate {
namespace {

// The soft limit of the /proc/<pid>/limits line named `name`: -1 for
// `unlimited`, nullopt when absent.
std::optional<double> SoftLimit(absl::string_view limits,
                                absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(limits, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.empty()) return std::nullopt;
    if (fields[0] == "unlimited") return -1;
    double value;
    if (!absl::SimpleAtod(fields[0], &value)) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::string ReadSmallFile(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileContents(
      path,
      [](absl::string_view call, int) { return absl::InternalError(call); },
      /*max_bytes=*/1 << 20);
  return contents.ok() ? *std::move(contents) : std::string();
}

double OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

}  // namespace

absl::StatusOr<ProcessStats> ParseProcessStats(absl::string_view stat,
                                               absl::string_view proc_stat,
                                               absl::string_view limits,
                                               long clock_ticks,
                                               long page_size) {
  // `pid (comm) state ...`: the command may hold spaces and parentheses.
  const size_t close = stat.rfind(')');
  if (close == absl::string_view::npos || clock_ticks <= 0) {
    return absl::InvalidArgumentError("not a /proc/<pid>/stat");
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(stat.substr(close + 1), ' ', absl::SkipEmpty());
  // Field N of proc(5) is fields[N - 3].
  constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kStart = 22 - 3,
                   kVsize = 23 - 3, kRss = 24 - 3;
  double utime, stime, start, vsize, rss;
  if (fields.size() <= kRss || !absl::SimpleAtod(fields[kUtime], &utime) ||
      !absl::SimpleAtod(fields[kStime], &stime) ||
      !absl::SimpleAtod(fields[kStart], &start) ||
      !absl::SimpleAtod(fields[kVsize], &vsize) ||
      !absl::SimpleAtod(fields[kRss], &rss)) {
    return absl::InvalidArgumentError("not a /proc/<pid>/stat");
  }
  double boot_time = -1;
  for (absl::string_view line : absl::StrSplit(proc_stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ") &&
        absl::SimpleAtod(line, &boot_time)) {
      break;
    }
  }
  if (boot_time < 0)
    return absl::InvalidArgumentError("no btime in /proc/stat");
  ProcessStats stats;
  stats.cpu_seconds = (utime + stime) / static_cast<double>(clock_ticks);
  stats.virtual_memory_bytes = vsize;
  stats.resident_memory_bytes = rss * static_cast<double>(page_size);
  stats.start_time_seconds =
      boot_time + start / static_cast<double>(clock_ticks);
  stats.max_fds = SoftLimit(limits, "Max open files").value_or(-1);
  stats.virtual_memory_max_bytes =
      SoftLimit(limits, "Max address space").value_or(-1);
  return stats;
}

ProcessMetrics::ProcessMetrics(prometheus::Registry& registry) {
  auto gauge = [&registry](const char* name, const char* help) {
    return &prometheus::BuildGauge()
                .Name(name)
                .Help(help)
                .Register(registry)
                .Add({});
  };
  cpu_ = &prometheus::BuildCounter()
              .Name("process_cpu_seconds_total")
              .Help("Total user and system CPU time spent in seconds.")
              .Register(registry)
              .Add({});
  open_fds_ = gauge("process_open_fds", "Number of open file descriptors.");
  max_fds_ =
      gauge("process_max_fds", "Maximum number of open file descriptors.");
  virtual_memory_ =
      gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  virtual_memory_max_ =
      gauge("process_virtual_memory_max_bytes",
            "Maximum amount of virtual memory available in bytes.");
  resident_memory_ =
      gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  start_time_ = gauge("process_start_time_seconds",
                      "Start time of the process since unix epoch in seconds.");
  Update();
}

void ProcessMetrics::Update() {
  absl::StatusOr<ProcessStats> stats = ParseProcessStats(
      ReadSmallFile("/proc/self/stat"), ReadSmallFile("/proc/stat"),
      ReadSmallFile("/proc/self/limits"), sysconf(_SC_CLK_TCK),
      sysconf(_SC_PAGESIZE));
  if (!stats.ok()) return;
  absl::MutexLock lock(&mu_);
  // A counter only grows: it takes the difference since the last report.
  if (stats->cpu_seconds > cpu_reported_) {
    cpu_->Increment(stats->cpu_seconds - cpu_reported_);
    cpu_reported_ = stats->cpu_seconds;
  }
  open_fds_->Set(OpenFds());
  // Go reports an unlimited soft limit as the largest uint64.
  constexpr double kUnlimited = 18446744073709551615.0;
  max_fds_->Set(stats->max_fds < 0 ? kUnlimited : stats->max_fds);
  virtual_memory_max_->Set(stats->virtual_memory_max_bytes < 0
                               ? kUnlimited
                               : stats->virtual_memory_max_bytes);
  virtual_memory_->Set(stats->virtual_memory_bytes);
  resident_memory_->Set(stats->resident_memory_bytes);
  start_time_->Set(stats->start_time_seconds);
}

}  // namespace fedgate
