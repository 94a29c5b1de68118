#include "config/file_contents.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace fedgate {

absl::StatusOr<std::string> ReadFileContents(
    const std::string& path,
    absl::FunctionRef<absl::Status(absl::string_view call, int error_number)>
        error,
    size_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error("open", errno);
  std::string contents;
  char buffer[1 << 16];
  while (contents.size() <= max_bytes) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error_number = errno;
      close(fd);
      return error("read", error_number);
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return contents;
}

}  // namespace fedgate
