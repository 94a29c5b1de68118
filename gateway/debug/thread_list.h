// gateway/debug/thread_list.h
//
// The threads of the running process as Linux shows them under
// /proc/self/task: id, name (set by scraper/thread_name.h where fedgate
// starts them), scheduler state and CPU time, and what fedgate's role of a
// thread of that name is. For /debug/threads (debug_handler.h), so that an
// operator sees which thread spins or blocks without attaching a debugger.
//
// Called on an HTTP worker, once per /debug/threads request: a few reads of
// /proc per thread.
//
// Thread-safety: pure functions of /proc; thread-safe.

#ifndef FEDGATE_GATEWAY_DEBUG_THREAD_LIST_H_
#define FEDGATE_GATEWAY_DEBUG_THREAD_LIST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fedgate {

// One thread, from /proc/<pid>/task/<tid>/stat.
struct ThreadInfo {
  int64_t tid = 0;
  std::string name;  // The comm field, at most 15 bytes.
  // The state letter: R running, S sleeping, D waiting on I/O, T stopped,
  // Z zombie...
  char state = '?';
  double user_cpu_seconds = 0;
  double system_cpu_seconds = 0;
};

// Parses the contents of a /proc/<pid>/task/<tid>/stat file (`tid (comm) S
// ...`, the comm possibly holding spaces and parentheses); `ticks_per_second`
// is sysconf(_SC_CLK_TCK). InvalidArgument for anything else.
absl::StatusOr<ThreadInfo> ParseThreadStat(absl::string_view stat,
                                           int64_t ticks_per_second);

// Returns the threads of `task_dir` (/proc/self/task: this process), by
// thread id. A thread that ends while it is being read is left out.
// Unavailable when the directory cannot be read.
absl::StatusOr<std::vector<ThreadInfo>> ListThreads(
    const std::string& task_dir = "/proc/self/task");

// Returns what fedgate's thread named `name` does (for the names that
// fedgate sets), or "" for a name it does not set.
absl::string_view ThreadRole(absl::string_view name);

// Returns the state letter as `ps` explains it: `running`, `sleeping`...
absl::string_view ThreadStateName(char state);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_DEBUG_THREAD_LIST_H_
