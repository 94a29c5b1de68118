#include "scraper/discovery/file_discovery.h"

#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "config/config.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "scraper/discovery/test_sd_files.h"

namespace fedgate {
namespace {

TEST(ParseFileSdContentTest, ReadsJsonAndYamlGroups) {
  const char* kJson = R"([
    {"targets": ["a:1", "b:2"], "labels": {"env": "prod"}},
    {"targets": []}
  ])";
  absl::StatusOr<std::vector<TargetGroup>> json =
      ParseFileSdContent("/sd/x.json", kJson);
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_EQ(json->size(), 2u);
  EXPECT_EQ((*json)[0].source, "/sd/x.json:0");
  EXPECT_EQ((*json)[0].targets,
            (std::vector<Labels>{Labels({{"__address__", "a:1"}}),
                                 Labels({{"__address__", "b:2"}})}));
  EXPECT_EQ((*json)[0].labels,
            Labels({{"env", "prod"}, {"__meta_filepath", "/sd/x.json"}}));
  EXPECT_EQ((*json)[1].source, "/sd/x.json:1");
  EXPECT_TRUE((*json)[1].targets.empty());

  absl::StatusOr<std::vector<TargetGroup>> yaml =
      ParseFileSdContent("sd/x.YML", "- targets: [c:3]\n  labels:\n    k: v\n");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_EQ(yaml->size(), 1u);
  EXPECT_EQ((*yaml)[0].source, "sd/x.YML:0");
  EXPECT_EQ((*yaml)[0].labels,
            Labels({{"k", "v"}, {"__meta_filepath", "sd/x.YML"}}));

  absl::StatusOr<std::vector<TargetGroup>> empty_yaml =
      ParseFileSdContent("e.yaml", "");
  ASSERT_TRUE(empty_yaml.ok()) << empty_yaml.status();
  EXPECT_TRUE(empty_yaml->empty());
}

TEST(ParseFileSdContentTest, RejectsInvalidContentWithPrometheusWording) {
  const struct {
    const char* name;
    const char* path;
    const char* content;
    const char* error;
  } kCases[] = {
      {"unknown json field", "x.json", R"([{"targets": [], "bogus": 1}])",
       "json: unknown field \"bogus\""},
      {"null group", "x.json", "[null]", "nil target group item found"},
      {"null yaml group", "x.yml", "- targets: [a:1]\n- ~\n",
       "nil target group item found"},
      {"invalid label name", "x.json",
       R"([{"targets": ["a:1"], "labels": {"0a": "v"}}])",
       "\"0a\" is not a valid label name"},
      {"unknown yaml field", "x.yml", "- targets: [a:1]\n  bogus: 1\n",
       "line 2: field bogus not found in target group"},
      {"not a list", "x.json", R"({"targets": []})",
       "cannot unmarshal object into a list of target groups"},
      {"empty json", "x.json", "", "unexpected end of JSON input"},
      {"syntax error", "x.json", "[{\"targets\": [}", "invalid JSON"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<TargetGroup>> groups =
        ParseFileSdContent(c.path, c.content);
    ASSERT_FALSE(groups.ok());
    EXPECT_EQ(groups.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(groups.status().message(), c.error))
        << groups.status();
  }
}

struct Harness {
  prometheus::Registry registry;
  prometheus::Counter* errors =
      &prometheus::BuildCounter().Name("e").Register(registry).Add({});
  std::vector<std::string> logged;
  DiscoveryLogger log =
      [this](absl::string_view msg,
             const std::vector<std::pair<std::string, std::string>>& fields) {
        logged.push_back(absl::StrCat(msg, " ", fields[0].second));
      };

  // Creates a discoverer of `files` that counts and logs into this harness.
  absl::StatusOr<std::unique_ptr<FileDiscoverer>> Watch(
      std::vector<std::string> files) {
    FileSdConfig config;
    config.files = std::move(files);
    return FileDiscoverer::Create(config, errors, log);
  }
};

// Waits (at most 5 s) until the discoverer's watch descriptor is readable.
bool WaitForEvent(const FileDiscoverer& d) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    fd_set set;
    FD_ZERO(&set);
    FD_SET(d.WatchFd(), &set);
    timeval tv = {0, 50000};
    if (select(d.WatchFd() + 1, &set, nullptr, nullptr, &tv) > 0) return true;
  }
  return false;
}

TEST(FileDiscovererTest, GlobsFollowsChangesAndRemovesDeletedFiles) {
  const std::string dir = NewTestDir("globs");
  WriteTestFile(dir + "/a.json", R"([{"targets": ["a:1"]}])");
  WriteTestFile(dir + "/b.yml", "- targets: [b:1]\n- targets: [b:2]\n");
  WriteTestFile(dir + "/c.txt", "ignored");
  Harness h;
  FileSdConfig config;
  config.files = {dir + "/*.json", dir + "/*.yml"};
  config.refresh_interval = absl::Minutes(5);
  absl::StatusOr<std::unique_ptr<FileDiscoverer>> d =
      FileDiscoverer::Create(config, h.errors, h.log);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE((*d)->MayBlock());
  EXPECT_GE((*d)->WatchFd(), 0);

  std::vector<TargetGroup> groups = (*d)->Refresh(absl::Now());
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].source, dir + "/a.json:0");
  EXPECT_EQ(groups[1].source, dir + "/b.yml:0");
  EXPECT_EQ(groups[2].source, dir + "/b.yml:1");
  EXPECT_GT((*d)->NextRefresh(), absl::Now() + absl::Minutes(4));

  // A rename over a.json is an event; its new content comes back.
  WriteAndRename(dir + "/a.json", R"([{"targets": ["a:9"]}])");
  ASSERT_TRUE(WaitForEvent(**d));
  groups = (*d)->Refresh(absl::Now());
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].targets[0].Get("__address__"), "a:9");

  // b.yml loses a group, a.json is deleted: empty groups for both sources.
  WriteTestFile(dir + "/b.yml", "- targets: [b:1]\n");
  std::remove((dir + "/a.json").c_str());
  ASSERT_TRUE(WaitForEvent(**d));
  groups = (*d)->Refresh(absl::Now());
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].source, dir + "/b.yml:0");
  EXPECT_EQ(groups[1].source, dir + "/a.json:0");
  EXPECT_TRUE(groups[1].targets.empty());
  EXPECT_EQ(groups[2].source, dir + "/b.yml:1");
  EXPECT_TRUE(groups[2].targets.empty());
  EXPECT_EQ(h.errors->Value(), 0);
}

TEST(FileDiscovererTest, BrokenFileKeepsItsLastGoodGroups) {
  const std::string dir = NewTestDir("broken");
  WriteTestFile(dir + "/t.json",
                R"([{"targets": ["a:1"]}, {"targets": ["a:2"]}])");
  Harness h;
  absl::StatusOr<std::unique_ptr<FileDiscoverer>> d =
      h.Watch({dir + "/t.json"});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ((*d)->Refresh(absl::Now()).size(), 2u);

  WriteTestFile(dir + "/t.json", R"([{"targets": ["a:1"], "oops": 1}])");
  ASSERT_TRUE(WaitForEvent(**d));
  // Nothing for the broken file: no update, no deletion.
  EXPECT_TRUE((*d)->Refresh(absl::Now()).empty());
  EXPECT_EQ(h.errors->Value(), 1);
  ASSERT_EQ(h.logged.size(), 1u);
  EXPECT_EQ(h.logged[0], "Error reading file " + dir + "/t.json");

  // Fixed with one group: the second source is removed.
  WriteTestFile(dir + "/t.json", R"([{"targets": ["a:3"]}])");
  ASSERT_TRUE(WaitForEvent(**d));
  std::vector<TargetGroup> groups = (*d)->Refresh(absl::Now());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].targets[0].Get("__address__"), "a:3");
  EXPECT_EQ(groups[1].source, dir + "/t.json:1");
  EXPECT_TRUE(groups[1].targets.empty());
}

TEST(FileDiscovererTest, IgnoresOtherFilesInTheDirectory) {
  const std::string dir = NewTestDir("others");
  WriteTestFile(dir + "/t.json", R"([{"targets": ["a:1"]}])");
  Harness h;
  absl::StatusOr<std::unique_ptr<FileDiscoverer>> d =
      h.Watch({dir + "/t.json"});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ((*d)->Refresh(absl::Now()).size(), 1u);
  // Broken: one read error. Then a log file written beside it (as when
  // fedgate logs there) must not make it re-read the broken file again.
  WriteTestFile(dir + "/t.json", "[{");
  ASSERT_TRUE(WaitForEvent(**d));
  EXPECT_TRUE((*d)->Refresh(absl::Now()).empty());
  EXPECT_EQ(h.errors->Value(), 1);
  for (int i = 0; i < 3; ++i) {
    WriteTestFile(dir + "/fedgate.log", absl::StrCat("line ", i));
    ASSERT_TRUE(WaitForEvent(**d));
    EXPECT_TRUE((*d)->Refresh(absl::Now()).empty());
  }
  EXPECT_EQ(h.errors->Value(), 1);
}

TEST(FileDiscovererTest, WatchesADirectoryCreatedLater) {
  const std::string dir = NewTestDir("later") + "/sub";
  Harness h;
  absl::StatusOr<std::unique_ptr<FileDiscoverer>> d =
      h.Watch({dir + "/*.yaml"});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE((*d)->Refresh(absl::Now()).empty());
  ASSERT_EQ(h.logged.size(), 1u);  // The watch could not be added.
  EXPECT_TRUE(absl::StartsWith(h.logged[0], "Error adding file watch"));
  // The refresh_interval re-read finds the file once the directory exists.
  mkdir(dir.c_str(), 0755);
  WriteTestFile(dir + "/x.yaml", "- targets: [x:1]\n");
  EXPECT_EQ((*d)->Refresh((*d)->NextRefresh()).size(), 1u);
}

}  // namespace
}  // namespace fedgate
