#include "gateway/build_info.h"

#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(BuildInfoTest, StampedFromTheCheckout) {
  const FedgateBuildInfo& b = GetBuildInfo();
  std::ifstream in("gateway/VERSION");
  const std::string version(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(b.version, absl::StripAsciiWhitespace(version));
  // A git checkout: a 40-hex revision (maybe "-modified"), or "unknown".
  const absl::string_view revision = absl::StripSuffix(b.revision, "-modified");
  EXPECT_TRUE(revision == "unknown" ||
              (revision.size() == 40 &&
               revision.find_first_not_of("0123456789abcdef") ==
                   absl::string_view::npos))
      << b.revision;
  EXPECT_FALSE(b.branch.empty());
  EXPECT_TRUE(absl::StartsWith(b.compiler, "gcc ") ||
              absl::StartsWith(b.compiler, "clang "))
      << b.compiler;
  EXPECT_TRUE(absl::StartsWith(
      VersionText(), "fedgate, version " + b.version + " (branch: " + b.branch +
                         ", revision: " + b.revision + ")\n"))
      << VersionText();
}

}  // namespace
}  // namespace fedgate
