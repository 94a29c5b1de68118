// gateway/main.cc
//
// The fedgate binary: parses flags, starts the Gateway, and runs until
// SIGINT or SIGTERM (POST /-/quit raises SIGTERM); SIGHUP reloads the
// configuration. Exit codes: 0 after a clean stop (answers cut at
// --web.shutdown-timeout included), 1 for a configuration or start-up error,
// 2 for a bad command line.

#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gateway/build_info.h"
#include "gateway/flags.h"
#include "gateway/gateway.h"
#include "gateway/logger.h"

namespace {

void PrintDemoHelp(const fedgate::Gateway& gateway) {
  const std::string base =
      absl::StrCat("http://127.0.0.1:", gateway.web_port());
  std::string text = absl::StrCat(
      "\nfedgate is running the embedded demo: a k3s-like process exposing "
      "one\nshared registry on three endpoints (job \"k3s\"), and Linkerd-like "
      "proxies\n(job \"linkerd-proxy\"), all on 127.0.0.1. Try:\n\n",
      "  curl -G --data-urlencode 'match[]={job=\"k3s\"}' ", base,
      "/federate\n", "  curl -G --data-urlencode 'match[]=request_total' ",
      base, "/federate\n", "  curl -G --data-urlencode 'match[]=up' ", base,
      "/federate\n", "  curl ", base, "/metrics\n\n",
      "Series appear after the first scrape (within 5s). Stop with "
      "Ctrl-C.\n\n");
  fputs(text.c_str(), stdout);
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so that only sigwait
  // below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Debian builds Abseil without NDEBUG, so every Mutex acquisition would
  // feed the lock-order graph (a global table, ~3% of the CPU at 5,000
  // targets). Tests keep the check on; the production binary does not run it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // One kept-alive connection per target: raise the soft descriptor limit to
  // the hard one, as Go does for Prometheus (a 1024 soft limit would cap
  // fedgate at about 500 targets).
  if (rlimit limit; getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
                    limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }

  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<fedgate::FedgateFlags> flags = fedgate::ParseFlags(args);
  if (!flags.ok()) {
    fprintf(stderr, "fedgate: error: %s\n",
            std::string(flags.status().message()).c_str());
    return 2;
  }
  if (flags->help) {
    fputs(fedgate::FlagsUsage().c_str(), stdout);
    return 0;
  }
  if (flags->version) {
    fputs(fedgate::VersionText().c_str(), stdout);
    return 0;
  }
  fedgate::SetLogLevel(flags->log_level);
  fedgate::SetLogFormat(flags->log_format);
  // Prometheus's words for each --enable-feature name.
  for (const std::string& feature : flags->enable_feature) {
    if (feature == fedgate::kFeatureExpandExternalLabels) {
      fedgate::Log(fedgate::LogLevel::kInfo,
                   "Experimental expand-external-labels enabled");
    } else {
      fedgate::Log(fedgate::LogLevel::kWarn,
                   "Unknown option for --enable-feature",
                   {{"option", feature}});
    }
  }
  fedgate::Log(fedgate::LogLevel::kInfo, "Starting fedgate",
               {{"version", fedgate::GetBuildInfo().version},
                {"revision", fedgate::GetBuildInfo().revision},
                {"config", flags->config_file.empty() ? "<embedded demo>"
                                                      : flags->config_file}});

  absl::StatusOr<std::unique_ptr<fedgate::Gateway>> gateway =
      fedgate::Gateway::Start(*flags);
  if (!gateway.ok()) {
    fedgate::Log(fedgate::LogLevel::kError, "Error starting fedgate",
                 {{"err", std::string(gateway.status().message())}});
    return 1;
  }
  fedgate::Log(
      fedgate::LogLevel::kInfo, "Server is ready to receive web requests.",
      {{"web", (*gateway)->web_port()}, {"grpc", (*gateway)->grpc_port()}});
  if ((*gateway)->demo() != nullptr) PrintDemoHelp(**gateway);

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 &&
         signal_number == SIGHUP) {
    // Reload() logs the outcome; the old configuration keeps running on
    // failure.
    (void)(*gateway)->Reload();
  }
  if ((*gateway)->quit_requested()) {
    // Prometheus's words for /-/quit.
    fedgate::Log(fedgate::LogLevel::kWarn,
                 "Received termination request via web service, exiting "
                 "gracefully...");
  } else {
    fedgate::Log(
        fedgate::LogLevel::kWarn, "Received signal, exiting gracefully",
        {{"signal", signal_number == SIGINT ? "interrupt" : "terminated"}});
  }
  (*gateway)->Stop();
  fedgate::Log(fedgate::LogLevel::kInfo, "See you next time!");
  return 0;
}
