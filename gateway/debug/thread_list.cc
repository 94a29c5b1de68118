#include "gateway/debug/thread_list.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "config/file_contents.h"

namespace fedgate {

absl::StatusOr<ThreadInfo> ParseThreadStat(absl::string_view stat,
                                           int64_t ticks_per_second) {
  // The name is between the first `(` and the last `)`: it may hold both.
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');
  if (open == absl::string_view::npos || close == absl::string_view::npos ||
      close < open) {
    return absl::InvalidArgumentError("not a /proc stat line");
  }
  ThreadInfo info;
  if (!absl::SimpleAtoi(stat.substr(0, open), &info.tid)) {
    return absl::InvalidArgumentError("not a /proc stat line: no thread id");
  }
  info.name = std::string(stat.substr(open + 1, close - open - 1));
  // Fields from the third on (state, ppid, ...); utime and stime are the
  // 14th and 15th of the line.
  const std::vector<absl::string_view> fields =
      absl::StrSplit(stat.substr(close + 1), ' ', absl::SkipEmpty());
  int64_t utime = 0;
  int64_t stime = 0;
  if (fields.size() < 13 || fields[0].size() != 1 ||
      !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime) || ticks_per_second <= 0) {
    return absl::InvalidArgumentError("not a /proc stat line: short");
  }
  info.state = fields[0][0];
  info.user_cpu_seconds = static_cast<double>(utime) / ticks_per_second;
  info.system_cpu_seconds = static_cast<double>(stime) / ticks_per_second;
  return info;
}

absl::StatusOr<std::vector<ThreadInfo>> ListThreads(
    const std::string& task_dir) {
  DIR* dir = opendir(task_dir.c_str());
  if (dir == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot read ", task_dir, ": ", std::strerror(errno)));
  }
  std::vector<std::string> tids;
  while (const dirent* entry = readdir(dir)) {
    int64_t tid = 0;
    if (absl::SimpleAtoi(entry->d_name, &tid)) tids.push_back(entry->d_name);
  }
  closedir(dir);
  const int64_t ticks = sysconf(_SC_CLK_TCK);
  std::vector<ThreadInfo> threads;
  for (const std::string& tid : tids) {
    absl::StatusOr<std::string> stat = ReadFileContents(
        absl::StrCat(task_dir, "/", tid, "/stat"),
        [](absl::string_view, int error_number) {
          return absl::ErrnoToStatus(error_number, "reading a thread's stat");
        },
        4096);
    if (!stat.ok()) continue;  // Ended meanwhile.
    absl::StatusOr<ThreadInfo> info = ParseThreadStat(*stat, ticks);
    if (info.ok()) threads.push_back(*std::move(info));
  }
  std::sort(
      threads.begin(), threads.end(),
      [](const ThreadInfo& a, const ThreadInfo& b) { return a.tid < b.tid; });
  return threads;
}

absl::string_view ThreadRole(absl::string_view name) {
  struct Role {
    absl::string_view name;
    absl::string_view role;
  };
  // The names fedgate gives (docs/architecture.md, "Threads and who owns
  // what") and libmicrohttpd's; gRPC names its threads itself
  // (`grpcpp_sync_ser`, `timer_manager`, ...).
  static constexpr Role kRoles[] = {
      {"fedgate", "main: waits for signals (reload, stop)"},
      {"discovery",
       "service discovery loops (files, DNS, timers) and the sender of their "
       "changes"},
      {"MHD-worker",
       "libmicrohttpd event loop: HTTP connections, TLS handshakes, probes "
       "and cached credentials answered inline"},
      {"scrape-io",
       "scrape transfers (libcurl), scrape timers, parsing of small bodies"},
      {"scrape-parse", "parses, labels and publishes large scrape bodies"},
      {"http-worker",
       "computes /federate, /api/v1, /metrics, /targets, /debug answers and "
       "bcrypt checks"},
      {"k8s-informer",
       "lists and watches one Kubernetes resource for service discovery"},
      {"ready-watch", "marks fedgate ready once every target was scraped"},
      {"conflict-watch",
       "every 5 s, logs series that targets of different groups both serve"},
      {"demo-target", "serves the embedded demo's targets"},
  };
  for (const Role& r : kRoles) {
    if (r.name == name) return r.role;
  }
  return "";
}

absl::string_view ThreadStateName(char state) {
  switch (state) {
    case 'R':
      return "running";
    case 'S':
      return "sleeping";
    case 'D':
      return "disk sleep";
    case 'T':
      return "stopped";
    case 't':
      return "tracing stop";
    case 'Z':
      return "zombie";
    case 'X':
      return "dead";
    case 'I':
      return "idle";
    default:
      return "unknown";
  }
}

}  // namespace fedgate
