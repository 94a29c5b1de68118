// gateway/build_info.h
//
// What fedgate was built from: its version (gateway/VERSION), the git
// revision and branch of the checkout (Bazel's workspace status,
// bazel/workspace_status.sh; "unknown" outside git, a revision ending in
// "-modified" for uncommitted changes), the compiler and the platform. Read
// by fedgate_build_info, --version and /api/v1/status/buildinfo.
//
// Thread-safety: constants.

#ifndef FEDGATE_GATEWAY_BUILD_INFO_H_
#define FEDGATE_GATEWAY_BUILD_INFO_H_

#include <string>

namespace fedgate {

struct FedgateBuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string compiler;  // e.g. "gcc 12.2.0"
  std::string platform;  // e.g. "linux/amd64"
};

const FedgateBuildInfo& GetBuildInfo();

// The `--version` text, as Prometheus prints its own:
// `fedgate, version 0.2.0 (branch: main, revision: 0123abc...)` and the
// compiler and platform on indented lines.
std::string VersionText();

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_BUILD_INFO_H_
