#include "gateway/flags.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(FlagsTest, LogLevelNamesRoundTrip) {
  for (LogLevel level :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    LogLevel parsed =
        level == LogLevel::kInfo ? LogLevel::kDebug : LogLevel::kInfo;
    ASSERT_TRUE(ParseLogLevel(LogLevelName(level), &parsed));
    EXPECT_EQ(parsed, level);
  }
  LogLevel parsed;
  EXPECT_FALSE(ParseLogLevel("warning", &parsed));
  EXPECT_FALSE(ParseLogLevel("INFO", &parsed));
}

TEST(FlagsTest, DefaultsWithoutArguments) {
  absl::StatusOr<FedgateFlags> flags = ParseFlags({});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->config_file, "");
  EXPECT_EQ(flags->web_listen_address, "0.0.0.0:9099");
  EXPECT_EQ(flags->grpc_listen_address, "0.0.0.0:9098");
  EXPECT_EQ(flags->log_level, LogLevel::kInfo);
  EXPECT_EQ(flags->log_format, LogFormat::kLogfmt);
  EXPECT_FALSE(flags->web_enable_debug);
  EXPECT_EQ(flags->web_max_connections, 512);
  EXPECT_EQ(flags->web_read_timeout, absl::Seconds(30));
  EXPECT_EQ(flags->web_compression_level, 6);
  EXPECT_FALSE(flags->web_enable_lifecycle);
  EXPECT_EQ(flags->web_cors_origin, ".*");
  EXPECT_EQ(flags->web_shutdown_timeout, absl::Seconds(25));
  EXPECT_EQ(flags->kubernetes_service_account_dir,
            "/var/run/secrets/kubernetes.io/serviceaccount");
  EXPECT_FALSE(flags->help);
}

TEST(FlagsTest, AcceptsEqualsAndSeparateValues) {
  absl::StatusOr<FedgateFlags> flags = ParseFlags(
      {"--config.file=/etc/fedgate.yml", "--web.listen-address", "127.0.0.1:0",
       "--grpc.listen-address=", "--log.level=debug",
       "--web.max-connections=64", "--web.read-timeout=2m",
       "--web.compression-level", "1", "--log.format", "json",
       "--web.enable-debug", "--discovery.kubernetes.service-account-dir=/sa"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->config_file, "/etc/fedgate.yml");
  EXPECT_EQ(flags->web_listen_address, "127.0.0.1:0");
  EXPECT_EQ(flags->grpc_listen_address, "");
  EXPECT_EQ(flags->log_level, LogLevel::kDebug);
  EXPECT_EQ(flags->web_max_connections, 64);
  EXPECT_EQ(flags->web_read_timeout, absl::Minutes(2));
  EXPECT_EQ(flags->web_compression_level, 1);
  EXPECT_EQ(flags->log_format, LogFormat::kJson);
  EXPECT_TRUE(flags->web_enable_debug);
  EXPECT_EQ(flags->kubernetes_service_account_dir, "/sa");
}

TEST(FlagsTest, LifecycleCorsAndShutdownFlags) {
  absl::StatusOr<FedgateFlags> flags = ParseFlags(
      {"--web.enable-lifecycle", "--web.cors.origin",
       "https?://(grafana|prom)\\.example", "--web.shutdown-timeout=1m"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_TRUE(flags->web_enable_lifecycle);
  EXPECT_EQ(flags->web_cors_origin, "https?://(grafana|prom)\\.example");
  EXPECT_EQ(flags->web_shutdown_timeout, absl::Minutes(1));

  // A switch never takes the next argument; kingpin's `--no-` turns it off.
  struct Case {
    std::vector<std::string> args;
    bool enabled;
  };
  const Case cases[] = {
      {{"--web.enable-lifecycle=true"}, true},
      {{"--web.enable-lifecycle=false"}, false},
      {{"--web.enable-lifecycle", "--no-web.enable-lifecycle"}, false},
      {{"--no-web.enable-lifecycle", "--web.enable-lifecycle"}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args.back());
    flags = ParseFlags(c.args);
    ASSERT_TRUE(flags.ok()) << flags.status();
    EXPECT_EQ(flags->web_enable_lifecycle, c.enabled);
  }
  flags = ParseFlags({"--web.shutdown-timeout=0s"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->web_shutdown_timeout, absl::ZeroDuration());
}

TEST(FlagsTest, ConfigAutoReloadInterval) {
  absl::StatusOr<FedgateFlags> flags = ParseFlags({});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->config_auto_reload_interval, absl::ZeroDuration());
  flags = ParseFlags({"--config.auto-reload-interval=30s"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->config_auto_reload_interval, absl::Seconds(30));
  // Under a second is a second, as in Prometheus.
  flags = ParseFlags({"--config.auto-reload-interval", "500ms"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->config_auto_reload_interval, absl::Seconds(1));
  flags = ParseFlags({"--config.auto-reload-interval=0s"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->config_auto_reload_interval, absl::ZeroDuration());
  flags = ParseFlags({"--config.auto-reload-interval=soon"});
  ASSERT_FALSE(flags.ok());
  EXPECT_EQ(flags.status().message(),
            "invalid value \"soon\" for flag --config.auto-reload-interval: "
            "want a duration such as 30s, or 0s for never");
}

TEST(FlagsTest, RequestLimits) {
  absl::StatusOr<FedgateFlags> flags = ParseFlags({});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->web_max_concurrent_requests, 64);
  EXPECT_EQ(flags->web_request_timeout, absl::Minutes(2));
  EXPECT_EQ(flags->query_max_series, 1000000);
  EXPECT_EQ(flags->query_max_match_params, 10000);
  EXPECT_EQ(flags->query_max_selector_length, 65536);
  EXPECT_EQ(flags->query_max_regex_program_size, 100000);

  flags = ParseFlags({"--web.max-concurrent-requests=8",
                      "--web.request-timeout=30s", "--query.max-series=0",
                      "--query.max-match-params", "10",
                      "--query.max-selector-length=100",
                      "--query.max-regex-program-size=5000"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->web_max_concurrent_requests, 8);
  EXPECT_EQ(flags->web_request_timeout, absl::Seconds(30));
  EXPECT_EQ(flags->query_max_series, 0);
  EXPECT_EQ(flags->query_max_match_params, 10);
  EXPECT_EQ(flags->query_max_selector_length, 100);
  EXPECT_EQ(flags->query_max_regex_program_size, 5000);

  absl::Status s = ParseFlags({"--query.max-series=-1"}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "invalid value \"-1\" for flag --query.max-series: want a "
            "non-negative integer (0: no limit)");
  s = ParseFlags({"--web.request-timeout=0s"}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "--web.request-timeout")) << s;
}

TEST(FlagsTest, ShardFlags) {
  absl::StatusOr<FedgateFlags> flags = ParseFlags({});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->shard_count, 1);
  EXPECT_EQ(flags->shard_index, -1);
  flags = ParseFlags({"--shard.count=3", "--shard.index", "2"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->shard_count, 3);
  EXPECT_EQ(flags->shard_index, 2);
  for (const auto& [arg, error] :
       std::vector<std::pair<std::string, std::string>>{
           {"--shard.count=0",
            "invalid value \"0\" for flag --shard.count: want a positive "
            "integer"},
           {"--shard.count=two", "for flag --shard.count"},
           {"--shard.index=-1",
            "invalid value \"-1\" for flag --shard.index: want a "
            "non-negative integer"},
       }) {
    absl::Status s = ParseFlags({arg}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << arg;
    EXPECT_TRUE(absl::StrContains(s.message(), error)) << s;
  }
  EXPECT_TRUE(absl::StrContains(FlagsUsage(), "--shard.count=N"));
  EXPECT_TRUE(absl::StrContains(FlagsUsage(), "--shard.index=I"));
}

TEST(FlagsTest, WebConfigFile) {
  absl::StatusOr<FedgateFlags> flags =
      ParseFlags({"--web.config.file=/etc/fedgate/web.yml"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->web_config_file, "/etc/fedgate/web.yml");
  EXPECT_EQ(ParseFlags({})->web_config_file, "");
  EXPECT_TRUE(absl::StrContains(FlagsUsage(), "--web.config.file=FILE"));
}

TEST(FlagsTest, EnableFeatureListsAreSplitAndRepeatable) {
  absl::StatusOr<FedgateFlags> flags = ParseFlags({});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_TRUE(flags->enable_feature.empty());
  EXPECT_FALSE(flags->expand_external_labels);

  // As Prometheus's setFeatureListOptions: each value split on commas,
  // empty names skipped, names not trimmed, unknown ones kept for a warning.
  flags = ParseFlags({"--enable-feature=agent,,expand-external-labels",
                      "--enable-feature", " x", "--enable-feature="});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(
      flags->enable_feature,
      (std::vector<std::string>{"agent", "expand-external-labels", " x"}));
  EXPECT_TRUE(flags->expand_external_labels);

  flags = ParseFlags({"--enable-feature=expand-external-labels "});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_FALSE(flags->expand_external_labels);

  EXPECT_TRUE(
      absl::StrContains(ParseFlags({"--enable-feature"}).status().message(),
                        "expected argument for flag '--enable-feature'"));
  EXPECT_TRUE(absl::StrContains(FlagsUsage(), "--enable-feature=NAME,..."));
  EXPECT_TRUE(absl::StrContains(FlagsUsage(), "expand-external-labels"));
}

TEST(FlagsTest, HelpIsRecognised) {
  for (const char* arg : {"-h", "--help"}) {
    absl::StatusOr<FedgateFlags> flags = ParseFlags({arg});
    ASSERT_TRUE(flags.ok()) << flags.status();
    EXPECT_TRUE(flags->help) << arg;
  }
  const std::string usage = FlagsUsage();
  for (const char* flag :
       {"--config.file", "--web.listen-address", "--grpc.listen-address",
        "--log.level", "--log.format", "--web.enable-debug",
        "--web.max-connections", "--web.read-timeout",
        "--web.compression-level", "--web.enable-lifecycle",
        "--web.cors.origin", "--web.shutdown-timeout",
        "--web.max-concurrent-requests", "--web.request-timeout",
        "--query.max-series", "--query.max-match-params",
        "--query.max-selector-length", "--query.max-regex-program-size"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
}

TEST(FlagsTest, RejectsBadCommandLines) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const Case cases[] = {
      {{"--storage.tsdb.path=x"}, "unknown long flag '--storage.tsdb.path'"},
      {{"--config.file"}, "expected argument for flag '--config.file'"},
      {{"--log.level=verbose"},
       "invalid value \"verbose\" for flag --log.level"},
      {{"--log.format=xml"},
       "invalid value \"xml\" for flag --log.format: must be one of logfmt, "
       "json"},
      {{"--log.format=JSON"}, "invalid value \"JSON\" for flag --log.format"},
      {{"--log.format"}, "expected argument for flag '--log.format'"},
      {{"--web.enable-debug=on"},
       "invalid value \"on\" for flag --web.enable-debug: want true or false"},
      {{"config.yml"}, "unexpected argument \"config.yml\""},
      {{"--web.max-connections=0"},
       "invalid value \"0\" for flag --web.max-connections"},
      {{"--web.read-timeout=500ms"},
       "invalid value \"500ms\" for flag --web.read-timeout"},
      {{"--web.compression-level=0"},
       "invalid value \"0\" for flag --web.compression-level"},
      {{"--web.compression-level=10"},
       "invalid value \"10\" for flag --web.compression-level"},
      {{"--web.compression-level=fast"},
       "invalid value \"fast\" for flag --web.compression-level"},
      {{"--web.enable-lifecycle=yes"},
       "invalid value \"yes\" for flag --web.enable-lifecycle: want true or "
       "false"},
      {{"--web.enable-lifecycle", "true"}, "unexpected argument \"true\""},
      {{"--no-web.listen-address"},
       "unknown long flag '--no-web.listen-address'"},
      {{"--web.cors.origin=(grafana"},
       "invalid value \"(grafana\" for flag --web.cors.origin: could not "
       "compile CORS regex string: error parsing regexp: missing closing ): "},
      {{"--web.shutdown-timeout=soon"},
       "invalid value \"soon\" for flag --web.shutdown-timeout"},
      {{"--web.shutdown-timeout"},
       "expected argument for flag '--web.shutdown-timeout'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0]);
    absl::StatusOr<FedgateFlags> flags = ParseFlags(c.args);
    ASSERT_FALSE(flags.ok());
    EXPECT_EQ(flags.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(flags.status().message().find(c.error), std::string::npos)
        << flags.status();
  }
}

}  // namespace
}  // namespace fedgate
