// scraper/discovery/test_sd_files.h
//
// Test-only: the files tests write and read (file_sd files, web configs,
// certificates), in a fresh directory under $TEST_TMPDIR, either in place or
// as tools do (a temporary file renamed over the old one, so that a reader
// never sees half a file). Test code only, never on a hot path.
//
// Thread-safety: pure functions on the file system; thread-safe.

#ifndef FEDGATE_SCRAPER_DISCOVERY_TEST_SD_FILES_H_
#define FEDGATE_SCRAPER_DISCOVERY_TEST_SD_FILES_H_

#include <string>

namespace fedgate {

// Creates the directory `name` under $TEST_TMPDIR (else /tmp), if missing,
// and returns its path.
std::string NewTestDir(const std::string& name);

// Writes `content` to `path`, replacing the file in place.
void WriteTestFile(const std::string& path, const std::string& content);

// Writes `content` to `path`.tmp and renames it over `path` (atomic).
void WriteAndRename(const std::string& path, const std::string& content);

// Returns the content of the file at `path`, "" when it cannot be read.
std::string ReadTestFile(const std::string& path);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_TEST_SD_FILES_H_
