// gateway/cli/fedgatectl.cc
//
// The fedgatectl binary: a terminal client for fedgate's gRPC API. Parses
// the command line and runs the command (gateway/cli/fedgatectl_lib.h); exit
// codes 0 ok, 1 server error, 2 usage, 3 fedgate not reachable.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gateway/cli/fedgatectl_lib.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<fedgate::FedgatectlArgs> parsed =
      fedgate::ParseFedgatectlArgs(args);
  if (!parsed.ok()) {
    fprintf(stderr, "fedgatectl: %s\n\n%s",
            std::string(parsed.status().message()).c_str(),
            fedgate::FedgatectlUsage().c_str());
    return fedgate::kFedgatectlUsage;
  }
  const int code = fedgate::RunFedgatectl(
      *parsed,
      [](absl::string_view text) {
        fwrite(text.data(), 1, text.size(), stdout);
      },
      [](absl::string_view text) {
        fwrite(text.data(), 1, text.size(), stderr);
      });
  fflush(stdout);
  return code;
}
