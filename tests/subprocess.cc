#include "tests/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace fedgate {
namespace {

std::vector<char*> ArgvPointers(const std::vector<std::string>& argv) {
  std::vector<char*> ptrs;
  ptrs.reserve(argv.size() + 1);
  for (const std::string& a : argv)
    ptrs.push_back(const_cast<char*>(a.c_str()));
  ptrs.push_back(nullptr);
  return ptrs;
}

// Returns `environ` with each `NAME=value` of `env` replacing the variable
// of that name or added; built before fork(), as the child may only make
// async-signal-safe calls.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  auto name_of = [](const std::string& entry) {
    return entry.substr(0, entry.find('='));
  };
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const bool replaced =
        std::any_of(env.begin(), env.end(), [&](const std::string& mine) {
          return name_of(mine) == name_of(entry);
        });
    if (!replaced) out.push_back(entry);
  }
  out.insert(out.end(), env.begin(), env.end());
  return out;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for `pid` up to `timeout`; returns the decoded exit code.
std::optional<int> WaitPid(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return DecodeStatus(status);
    if (r < 0 && errno != EINTR) return -1;
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    const std::vector<std::string>& argv, const std::string& output_prefix,
    const std::vector<std::string>& env) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  const std::string out = output_prefix + ".stdout";
  const std::string err = output_prefix + ".stderr";
  std::vector<char*> args = ArgvPointers(argv);
  const std::vector<std::string> environment = ChildEnvironment(env);
  std::vector<char*> envp = ArgvPointers(environment);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (out_fd < 0 || err_fd < 0 || null_fd < 0) _exit(127);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    // The parent may block signals for its own threads; the child must not
    // inherit that, or SIGTERM would not stop it.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  return std::unique_ptr<Subprocess>(new Subprocess(pid, output_prefix));
}

Subprocess::~Subprocess() { Stop(); }

std::optional<int> Subprocess::WaitFor(absl::Duration timeout) {
  if (!exit_code_.has_value()) exit_code_ = WaitPid(pid_, timeout);
  return exit_code_;
}

int Subprocess::Stop(absl::Duration grace) {
  if (exit_code_.has_value()) return *exit_code_;
  kill(pid_, SIGTERM);
  exit_code_ = WaitPid(pid_, grace);
  if (!exit_code_.has_value()) {
    kill(pid_, SIGKILL);
    exit_code_ = WaitPid(pid_, absl::Seconds(10));
    if (!exit_code_.has_value()) exit_code_ = 128 + SIGKILL;
  }
  return *exit_code_;
}

std::string Subprocess::Stdout() const {
  return ReadFileOrEmpty(prefix_ + ".stdout");
}
std::string Subprocess::Stderr() const {
  return ReadFileOrEmpty(prefix_ + ".stderr");
}

absl::StatusOr<int> RunWithInput(const std::vector<std::string>& argv,
                                 const std::string& input,
                                 absl::Duration timeout, std::string* output) {
  char dir_template[] = "/tmp/fedgate_run_XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) return absl::InternalError("mkdtemp failed");
  const std::string in_path = absl::StrCat(dir, "/stdin");
  const std::string out_path = absl::StrCat(dir, "/output");
  if (!WriteFile(in_path, input)) return absl::InternalError("write stdin");
  std::vector<char*> args = ArgvPointers(argv);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    const int in_fd = open(in_path.c_str(), O_RDONLY);
    const int out_fd =
        open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in_fd < 0 || out_fd < 0) _exit(127);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  std::optional<int> code = WaitPid(pid, timeout);
  if (!code.has_value()) {
    kill(pid, SIGKILL);
    WaitPid(pid, absl::Seconds(10));
  }
  *output = ReadFileOrEmpty(out_path);
  unlink(in_path.c_str());
  unlink(out_path.c_str());
  rmdir(dir);
  if (!code.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat(
        argv[0], " did not finish within ", absl::FormatDuration(timeout)));
  }
  return *code;
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

bool WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  return static_cast<bool>(out);
}

}  // namespace fedgate
