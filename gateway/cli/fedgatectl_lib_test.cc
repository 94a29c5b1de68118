#include "gateway/cli/fedgatectl_lib.h"

#include <google/protobuf/text_format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

// Compares `got` with gateway/cli/testdata/fedgatectl/<name>; with
// FEDGATE_UPDATE_GOLDEN=<workspace dir> set, rewrites the file instead.
void ExpectGolden(const std::string& name, const std::string& got) {
  const std::string relative = "gateway/cli/testdata/fedgatectl/" + name;
  if (const char* update = std::getenv("FEDGATE_UPDATE_GOLDEN")) {
    std::ofstream(absl::StrCat(update, "/", relative)) << got;
    return;
  }
  std::ifstream in(relative);
  ASSERT_TRUE(in.good()) << "missing golden file " << relative;
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "golden " << relative;
}

template <typename Message>
Message Parse(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

const absl::Time kNow = absl::FromUnixSeconds(1700000010);

const char kTargets[] = R"pb(
  targets {
    scrape_pool: "k3s"
    scrape_url: "http://10.0.0.1:10250/metrics"
    labels {
      labels { name: "instance" value: "10.0.0.1:10250" }
      labels { name: "job" value: "k3s" }
    }
    health: "up"
    last_scrape { seconds: 1700000008 nanos: 500000000 }
    last_scrape_duration { nanos: 12000000 }
    scrape_interval { seconds: 15 }
    scrape_timeout { seconds: 10 }
    series_count: 1234
  }
  targets {
    scrape_pool: "linkerd-proxy"
    scrape_url: "http://10.0.0.7:4191/metrics"
    health: "down"
    last_error: "Get \"http://10.0.0.7:4191/metrics\": connection refused"
    last_scrape { seconds: 1699999880 }
    last_scrape_duration { seconds: 1 nanos: 250000000 }
    series_count: 5
    dedup_group: "proxies"
    leader_state: LEADER_STATE_FOLLOWER
  }
  targets {
    scrape_pool: "linkerd-proxy"
    scrape_url: "http://10.0.0.8:4191/metrics"
    health: "unknown"
  }
)pb";

TEST(FedgatectlGoldenTest, Targets) {
  const auto response = Parse<v1::ListTargetsResponse>(kTargets);
  ExpectGolden("targets.table",
               FormatTargets(response, OutputFormat::kTable, kNow));
  ExpectGolden("targets.json",
               FormatTargets(response, OutputFormat::kJson, kNow));
}

TEST(FedgatectlGoldenTest, Series) {
  std::vector<v1::InternedLabels> series = {
      Parse<v1::InternedLabels>(R"pb(labels { name: "__name__" value: "up" }
                                     labels { name: "job" value: "a\"b" })pb"),
      Parse<v1::InternedLabels>(R"pb(labels { name: "__name__" value: "up" }
                                     labels { name: "job" value: "web" })pb"),
  };
  ExpectGolden("series.table", FormatSeries(series, OutputFormat::kTable));
  ExpectGolden("series.json", FormatSeries(series, OutputFormat::kJson));
}

TEST(FedgatectlGoldenTest, Federate) {
  const char* kFamilies[] = {
      R"pb(name: "http_requests_total"
           help: "Requests.\nServed."
           type: COUNTER
           metric {
             label { name: "code" value: "200" }
             label { name: "instance" value: "" }
             counter { value: 1027 }
             timestamp_ms: 1700000000000
           })pb",
      R"pb(name: "rpc_latency_seconds"
           type: HISTOGRAM
           metric {
             label { name: "job" value: "api" }
             histogram {
               sample_count: 7
               sample_sum: 1.25
               bucket { upper_bound: 0.1 cumulative_count: 5 }
               bucket { upper_bound: inf cumulative_count: 7 }
             }
           })pb",
      R"pb(name: "rpc_seconds"
           type: SUMMARY
           metric {
             summary {
               sample_count: 3
               sample_sum: 1e6
               quantile { quantile: 0.5 value: 0.25 }
             }
           })pb",
      R"pb(name: "temperature"
           type: GAUGE
           metric { gauge { value: -1.5e-05 } })pb",
      R"pb(name: "x"
           type: UNTYPED
           metric { untyped { value: nan } })pb",
  };
  std::string text;
  std::string json;
  for (const char* family : kFamilies) {
    const auto f = Parse<io::prometheus::client::MetricFamily>(family);
    AppendFamily(f, OutputFormat::kTable, &text);
    AppendFamily(f, OutputFormat::kJson, &json);
  }
  ExpectGolden("federate.txt", text);
  ExpectGolden("federate.jsonl", json);
}

TEST(FedgatectlGoldenTest, ConfigAndReload) {
  v1::GetConfigResponse config;
  config.set_yaml("global:\n  scrape_interval: 1m\n");
  EXPECT_EQ(FormatConfig(config, OutputFormat::kTable),
            "global:\n  scrape_interval: 1m\n");
  EXPECT_EQ(FormatConfig(config, OutputFormat::kJson),
            "{\"yaml\":\"global:\\n  scrape_interval: 1m\\n\"}\n");
  v1::ReloadResponse reload;
  reload.mutable_applied()->set_seconds(1700000000);
  EXPECT_EQ(FormatReload(reload, OutputFormat::kTable),
            "Configuration reloaded.\n");
  EXPECT_EQ(FormatReload(reload, OutputFormat::kJson),
            "{\"applied\":\"2023-11-14T22:13:20Z\"}\n");
}

TEST(FedgatectlArgsTest, ParsesCommandLines) {
  const struct {
    const char* name;
    std::vector<std::string> argv;
    std::string want;  // server|output|timeout|command|args, or the error.
  } kCases[] = {
      {"defaults", {"targets"}, "127.0.0.1:9098|table|30s|targets|"},
      {"flags after command",
       {"series", "up", "--server=f:1", "-o", "json", "{a=\"b\"}"},
       "f:1|json|30s|series|up,{a=\"b\"}"},
      {"flag values",
       {"--server", "h:2", "--output=json", "--timeout=2s", "federate", "up"},
       "h:2|json|2s|federate|up"},
      {"help", {"--help"}, "127.0.0.1:9098|table|30s||"},
      {"no command", {}, "missing command"},
      {"unknown command", {"status"}, "unknown command \"status\""},
      {"series without selector",
       {"series"},
       "series needs at least one series selector, e.g. series "
       "'up{job=\"node\"}'"},
      {"targets with argument",
       {"targets", "x"},
       "targets takes no arguments, got \"x\""},
      {"bad output",
       {"-o", "yaml", "config"},
       "output format \"yaml\" is not one of table, json"},
      {"missing value", {"config", "--server"}, "flag --server needs a value"},
      {"bad timeout",
       {"--timeout=soon", "config"},
       "flag --timeout: \"soon\" is not a positive duration"},
      {"unknown flag", {"--verbose", "config"}, "unknown flag \"--verbose\""},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<FedgatectlArgs> args = ParseFedgatectlArgs(c.argv);
    std::string got;
    if (!args.ok()) {
      EXPECT_EQ(args.status().code(), absl::StatusCode::kInvalidArgument);
      got = std::string(args.status().message());
    } else {
      got = absl::StrCat(args->server, "|",
                         args->output == OutputFormat::kJson ? "json" : "table",
                         "|", absl::FormatDuration(args->timeout), "|",
                         args->command, "|", absl::StrJoin(args->args, ","));
    }
    EXPECT_EQ(got, c.want);
  }
}

TEST(FedgatectlRunTest, UnreachableServerExitsWithThree) {
  FedgatectlArgs args;
  args.server = "127.0.0.1:1";  // Nothing listens on port 1.
  args.timeout = absl::Milliseconds(500);
  args.command = "targets";
  std::string out;
  std::string err;
  const int code = RunFedgatectl(
      args, [&out](absl::string_view s) { absl::StrAppend(&out, s); },
      [&err](absl::string_view s) { absl::StrAppend(&err, s); });
  EXPECT_EQ(code, kFedgatectlUnreachable);
  EXPECT_EQ(out, "");
  EXPECT_EQ(err,
            "fedgatectl: cannot reach fedgate at 127.0.0.1:1 within 500ms "
            "(is it running, and is --grpc.listen-address set?)\n");
}

}  // namespace
}  // namespace fedgate
