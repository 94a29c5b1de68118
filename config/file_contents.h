// config/file_contents.h
//
// Reading a whole (small) file into memory: the configuration file at load and
// reload, and the credentials and password files the scrape HTTP client reads
// for every request. One place for the open/read/EINTR/close loop, so that
// every caller gets the same errno handling and words its own error.
//
// Thread-safety: pure function; thread-safe. Blocking I/O: not for hot paths.

#ifndef FEDGATE_CONFIG_FILE_CONTENTS_H_
#define FEDGATE_CONFIG_FILE_CONTENTS_H_

#include <cstddef>
#include <limits>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fedgate {

// Returns the contents of the file at `path`, or `error(call, errno)` for the
// first system call that failed (`call` is "open" or "read"). Reading stops
// once more than `max_bytes` are held (a caller that expects a small file
// does not hold a huge one; the result is then longer than `max_bytes`).
absl::StatusOr<std::string> ReadFileContents(
    const std::string& path,
    absl::FunctionRef<absl::Status(absl::string_view call, int error_number)>
        error,
    size_t max_bytes = std::numeric_limits<size_t>::max());

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_FILE_CONTENTS_H_
