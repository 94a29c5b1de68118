#include "gateway/build_info.h"

#include "absl/strings/str_cat.h"
#include "gateway/build_stamp.h"

namespace fedgate {
namespace {

std::string Compiler() {
#if defined(__clang__)
  return absl::StrCat("clang ", __clang_major__, ".", __clang_minor__, ".",
                      __clang_patchlevel__);
#elif defined(__GNUC__)
  return absl::StrCat("gcc ", __GNUC__, ".", __GNUC_MINOR__, ".",
                      __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

std::string Platform() {
#if defined(__x86_64__)
  return "linux/amd64";
#elif defined(__aarch64__)
  return "linux/arm64";
#else
  return "linux/unknown";
#endif
}

}  // namespace

const FedgateBuildInfo& GetBuildInfo() {
  static const FedgateBuildInfo* const info = new FedgateBuildInfo{
      kBuildVersion, kBuildRevision, kBuildBranch, Compiler(), Platform()};
  return *info;
}

std::string VersionText() {
  const FedgateBuildInfo& b = GetBuildInfo();
  return absl::StrCat("fedgate, version ", b.version, " (branch: ", b.branch,
                      ", revision: ", b.revision, ")\n",
                      "  compiler:         ", b.compiler, "\n",
                      "  platform:         ", b.platform, "\n");
}

}  // namespace fedgate
