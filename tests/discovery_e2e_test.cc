// End-to-end: the real fedgate binary discovers loopback targets from a
// file_sd file, follows edits of the file (added, removed and unchanged
// targets), keeps the last good targets of a broken file, and still reloads
// on POST /-/reload and SIGHUP.

#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// Writes `content` next to `path` and renames it over `path`.
bool ReplaceFile(const std::string& path, const std::string& content) {
  return WriteFile(path + ".tmp", content) &&
         std::rename((path + ".tmp").c_str(), path.c_str()) == 0;
}

std::string SdFile(const std::string& a, const std::string& b) {
  return absl::StrCat(R"([{"targets": [")", a, R"(", ")", b,
                      R"("], "labels": {"team": "sd"}}])");
}

std::string Body(const std::string& metric) {
  return absl::StrCat("# TYPE ", metric, " gauge\n", metric, " 1\n");
}

std::string TargetsJson(int port) {
  httplib::Result res = HttpGet(port, "/api/v1/targets");
  return res && res->status == 200 ? res->body : "";
}

TEST(DiscoveryE2eTest, FollowsFileSdEditsAndReloads) {
  LoopbackTarget a(Body("a_metric"));
  LoopbackTarget b(Body("b_metric"));
  LoopbackTarget c(Body("c_metric"));
  const std::string dir = TestTempDir() + "/discovery_e2e";
  mkdir(dir.c_str(), 0755);
  mkdir((dir + "/sd").c_str(), 0755);
  const std::string sd_path = dir + "/sd/targets.json";
  ASSERT_TRUE(ReplaceFile(sd_path, SdFile(a.address(), b.address())));
  const std::string config_path = dir + "/fedgate.yml";
  const std::string config =
      "global:\n"
      "  scrape_interval: 1s\n"
      "scrape_configs:\n"
      "  - job_name: sd\n"
      "    file_sd_configs:\n"
      "      - files: ['sd/*.json']\n";  // Relative to the config file.
  ASSERT_TRUE(WriteFile(config_path, config));
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, dir + "/fedgate", FedgateGrpc::kOff,
                   {"--web.enable-lifecycle"});  // For POST /-/reload.
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  const int port = fedgate->web_port;
  const auto federate = [&] { return FederateText(port, "{job=\"sd\"}"); };

  // Both discovered targets are scraped, with the file's labels.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string text = federate();
        return absl::StrContains(text, "a_metric{") &&
               absl::StrContains(text, "b_metric{");
      },
      absl::Seconds(30)))
      << fedgate->process->Stderr();
  EXPECT_TRUE(absl::StrContains(federate(), "team=\"sd\""));
  EXPECT_TRUE(absl::StrContains(TargetsJson(port), sd_path))
      << "__meta_filepath";
  // Wait until a's loop has scraped twice: no series added any more.
  const std::string a_added =
      absl::StrCat("scrape_series_added{instance=\"", a.address(),
                   "\",job=\"sd\",team=\"sd\"} 0");
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(federate(), a_added); },
                        absl::Seconds(30)))
      << federate();

  // Replace b with c. a's loop is kept: its scrape_series_added never shows
  // a first scrape again, and its series never leave.
  ASSERT_TRUE(ReplaceFile(sd_path, SdFile(a.address(), c.address())));
  const absl::Time changed = absl::Now();
  bool a_kept = true;
  bool switched = false;
  while (absl::Now() < changed + absl::Seconds(20)) {
    const std::string text = federate();
    if (!absl::StrContains(text, a_added) ||
        !absl::StrContains(text, "a_metric{")) {
      a_kept = false;
      ADD_FAILURE() << "a's loop restarted or its series left:\n" << text;
      break;
    }
    if (absl::StrContains(text, "c_metric{") &&
        !absl::StrContains(text, "b_metric{") &&
        !absl::StrContains(text, b.address())) {
      if (!switched) switched = true;
      // Keep watching a for two more scrape intervals.
      if (absl::Now() > changed + absl::Seconds(3)) break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(a_kept);
  EXPECT_TRUE(switched) << federate();
  std::string targets = TargetsJson(port);
  EXPECT_TRUE(absl::StrContains(targets, c.address())) << targets;
  EXPECT_FALSE(absl::StrContains(targets, b.address())) << targets;

  // A broken file keeps the last good targets and is counted.
  ASSERT_TRUE(ReplaceFile(sd_path, "[{\"targets\": ["));
  ASSERT_TRUE(WaitUntil(
      [&] {
        httplib::Result res = HttpGet(port, "/metrics");
        return res && absl::StrContains(res->body,
                                        "fedgate_sd_file_read_errors_total 1");
      },
      absl::Seconds(10)));
  absl::SleepFor(absl::Seconds(1));  // Time for a wrong removal to show.
  targets = TargetsJson(port);
  EXPECT_TRUE(absl::StrContains(targets, a.address())) << targets;
  EXPECT_TRUE(absl::StrContains(targets, c.address())) << targets;
  EXPECT_TRUE(
      absl::StrContains(fedgate->process->Stderr(), "Error reading file"));

  // POST /-/reload keeps discovery going.
  httplib::Client http = LoopbackClient(port);
  httplib::Result res = http.Post("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  targets = TargetsJson(port);
  EXPECT_TRUE(absl::StrContains(targets, a.address())) << targets;
  EXPECT_TRUE(absl::StrContains(targets, c.address())) << targets;

  // SIGHUP with a static job added; the file is fixed meanwhile.
  ASSERT_TRUE(ReplaceFile(sd_path, SdFile(a.address(), c.address())));
  ASSERT_TRUE(
      WriteFile(config_path, absl::StrCat(config,
                                          "  - job_name: static\n"
                                          "    static_configs: [{targets: ['",
                                          b.address(), "']}]\n")));
  ASSERT_EQ(kill(fedgate->process->pid(), SIGHUP), 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return absl::StrContains(FederateText(port, "{job=\"static\"}"),
                                 "b_metric{");
      },
      absl::Seconds(30)))
      << fedgate->process->Stderr();
  EXPECT_TRUE(absl::StrContains(federate(), "a_metric{"));
  EXPECT_TRUE(absl::StrContains(federate(), "c_metric{"));

  // Deleting the file removes its targets and their series.
  ASSERT_EQ(std::remove(sd_path.c_str()), 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        const std::string text = federate();
        return !absl::StrContains(text, "a_metric{") &&
               !absl::StrContains(text, "c_metric{");
      },
      absl::Seconds(10)))
      << federate();
}

}  // namespace
}  // namespace fedgate
