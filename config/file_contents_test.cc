#include "config/file_contents.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

absl::Status CallError(absl::string_view call, int error_number) {
  return absl::ErrnoToStatus(error_number, call);
}

TEST(FileContentsTest, ReadsAWholeFileLargerThanOneBuffer) {
  const std::string path = TempPath("whole");
  const std::string want(200000, 'x');
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fwrite(want.data(), 1, want.size(), f);
  std::fclose(f);
  absl::StatusOr<std::string> got = ReadFileContents(path, CallError);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want);
  // Past max_bytes it stops at the next buffer, so a huge file is not held.
  got = ReadFileContents(path, CallError, /*max_bytes=*/10);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_GT(got->size(), 10u);
  EXPECT_LT(got->size(), want.size());
}

TEST(FileContentsTest, NamesTheFailedCallAndItsErrno) {
  absl::StatusOr<std::string> got =
      ReadFileContents(TempPath("does-not-exist"), CallError);
  EXPECT_TRUE(absl::IsNotFound(got.status())) << got.status();
  EXPECT_EQ(got.status().message().substr(0, 6), "open: ");
  // A directory opens but cannot be read (EISDIR).
  got = ReadFileContents(TempPath(""), CallError);
  EXPECT_EQ(got.status().message().substr(0, 6), "read: ") << got.status();
}

}  // namespace
}  // namespace fedgate
