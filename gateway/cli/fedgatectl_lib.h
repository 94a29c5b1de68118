// gateway/cli/fedgatectl_lib.h
//
// fedgatectl, the command-line client of fedgate's gRPC API, as a library:
// the command line, the gRPC calls and the output formats, so that tests
// drive it without a shell. fedgatectl.cc only calls RunFedgatectl().
//
//   fedgatectl [--server=HOST:PORT] [-o table|json] [--timeout=30s] COMMAND
//   COMMAND: targets | series MATCH... | federate MATCH... | reload | config
//
// Exit codes, for scripts: 0 success; 1 the server answered with an error
// (bad selector, failed reload, ...); 2 bad command line; 3 fedgate not
// reachable (connection refused, no answer before the timeout).
//
// Not on a hot path. Thread-safety: pure functions except RunFedgatectl(),
// which makes network calls; all are thread-safe.

#ifndef FEDGATE_GATEWAY_CLI_FEDGATECTL_LIB_H_
#define FEDGATE_GATEWAY_CLI_FEDGATECTL_LIB_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/fedgate.pb.h"
#include "proto/metrics.pb.h"

namespace fedgate {

enum FedgatectlExitCode {
  kFedgatectlOk = 0,
  kFedgatectlServerError = 1,
  kFedgatectlUsage = 2,
  kFedgatectlUnreachable = 3,
};

enum class OutputFormat { kTable, kJson };

struct FedgatectlArgs {
  std::string server = "127.0.0.1:9098";
  OutputFormat output = OutputFormat::kTable;
  absl::Duration timeout = absl::Seconds(30);  // Per call, connecting included.
  bool help = false;
  std::string command;            // targets, series, federate, reload, config.
  std::vector<std::string> args;  // The selectors of series and federate.
};

// Parses argv without argv[0]. Flags may come before or after the command.
// InvalidArgument with a readable message for anything wrong.
absl::StatusOr<FedgatectlArgs> ParseFedgatectlArgs(
    const std::vector<std::string>& argv);

// Returns the --help text.
std::string FedgatectlUsage();

// Output of each command, for a given answer. `now` dates "last scrape"
// ages in the targets table.
std::string FormatTargets(const v1::ListTargetsResponse& response,
                          OutputFormat format, absl::Time now);
std::string FormatSeries(const std::vector<v1::InternedLabels>& series,
                         OutputFormat format);
// Appends one family as text exposition 0.0.4 (table format) or as one line
// of JSON (json format).
void AppendFamily(const io::prometheus::client::MetricFamily& family,
                  OutputFormat format, std::string* out);
std::string FormatConfig(const v1::GetConfigResponse& response,
                         OutputFormat format);
std::string FormatReload(const v1::ReloadResponse& response,
                         OutputFormat format);

// Runs the command against the server. Writes results to `out` (as they
// stream in, for federate) and errors to `err`; returns the exit code.
int RunFedgatectl(const FedgatectlArgs& args,
                  const std::function<void(absl::string_view)>& out,
                  const std::function<void(absl::string_view)>& err);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_CLI_FEDGATECTL_LIB_H_
