// tests/subprocess.h
//
// Runs a program for a cross-stage test (fedgate, prometheus, promtool) with
// its output captured to files, and guarantees that it is stopped by its PID:
// the destructor sends SIGTERM, waits a bounded time, then SIGKILL.
// Also a bounded polling helper, so that tests wait for conditions instead
// of sleeping.
//
// Thread-safety: thread-compatible; one owner per Subprocess.

#ifndef FEDGATE_TESTS_SUBPROCESS_H_
#define FEDGATE_TESTS_SUBPROCESS_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace fedgate {

class Subprocess {
 public:
  // Starts argv[0] (a path) with `argv`; stdout and stderr go to the files
  // `<output_prefix>.stdout` and `<output_prefix>.stderr`. The process gets
  // this process's environment with `env` (`NAME=value` each) set on top.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::vector<std::string>& argv, const std::string& output_prefix,
      const std::vector<std::string>& env = {});
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // Returns the exit code once the process has exited within `timeout`
  // (128 + signal number when killed by a signal), else nullopt.
  std::optional<int> WaitFor(absl::Duration timeout);
  // Sends SIGTERM, waits up to `grace`, then SIGKILL; returns the exit code.
  int Stop(absl::Duration grace = absl::Seconds(20));

  // Returns what the process has written so far.
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  Subprocess(pid_t pid, std::string prefix)
      : pid_(pid), prefix_(std::move(prefix)) {}

  pid_t pid_;
  std::string prefix_;
  std::optional<int> exit_code_;
};

// Runs `argv` to completion with `input` on stdin, within `timeout`; returns
// its exit code and puts stdout+stderr into `*output`. Kills it on timeout
// (DeadlineExceeded).
absl::StatusOr<int> RunWithInput(const std::vector<std::string>& argv,
                                 const std::string& input,
                                 absl::Duration timeout, std::string* output);

// Polls `condition` every 20 ms until it returns true or `timeout` passes.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout);

// Returns the contents of a file ("" if it cannot be read).
std::string ReadFileOrEmpty(const std::string& path);
// Writes `contents` to `path`; returns false on error.
bool WriteFile(const std::string& path, const std::string& contents);

}  // namespace fedgate

#endif  // FEDGATE_TESTS_SUBPROCESS_H_
