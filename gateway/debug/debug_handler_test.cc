#include "gateway/debug/debug_handler.h"

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "bazel/rapidjson.h"
#include "gtest/gtest.h"
#include "scraper/thread_name.h"

namespace fedgate {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

std::shared_ptr<const ScrapeBatch> Batch(const std::string& instance,
                                         int series) {
  auto batch = std::make_shared<ScrapeBatch>();
  for (int i = 0; i < series; ++i) {
    batch->samples.push_back(
        Sample{InternedLabels::Intern(Labels{{"__name__", "m"},
                                             {"i", std::to_string(i)},
                                             {"instance", instance}}),
               1});
  }
  return batch;
}

ScrapeManager::ScheduledTarget Target(TargetId id, const std::string& job,
                                      const std::string& url) {
  ScrapeManager::ScheduledTarget t;
  t.status.id = id;
  t.status.scrape_pool = job;
  t.status.scrape_url = url;
  t.status.scrape_interval = absl::Seconds(15);
  t.status.scrape_timeout = absl::Seconds(10);
  return t;
}

// A store of three targets in two jobs, and their schedule.
class DebugHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.Publish(1, Batch("a:1", 2));
    store_.Publish(2, Batch("b:1", 5));
    store_.Publish(3, Batch("c:1", 1));
    auto long_set = std::make_shared<ScrapeBatch>();
    long_set->samples.push_back(
        Sample{InternedLabels::Intern(
                   Labels{{"__name__", "m"}, {"path", std::string(50, 'p')}}),
               1});
    store_.Publish(3, long_set);
    schedule_ = {Target(1, "node", "http://a:1/metrics"),
                 Target(2, "app", "http://b:1/metrics"),
                 Target(3, "node", "http://c:1/metrics")};
    schedule_[0].in_flight = true;
    schedule_[0].next_tick = absl::Milliseconds(1500);
    schedule_[1].status.health = TargetHealth::kDown;
    schedule_[1].status.last_error = "server returned HTTP status 500";
    schedule_[1].status.last_scrape = absl::Now() - absl::Seconds(3);
    schedule_[1].status.last_scrape_duration = absl::Milliseconds(250);
    sources_.store = &store_;
    sources_.schedule = [this] { return schedule_; };
  }

  rapidjson::Document Json(const std::string& path, const Query& query = {}) {
    const DebugAnswer answer = ServeDebug(sources_, "GET", path, query);
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(answer.content_type, "application/json");
    rapidjson::Document doc;
    doc.Parse(answer.body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << answer.body;
    return doc;
  }

  SeriesStore store_;
  std::vector<ScrapeManager::ScheduledTarget> schedule_;
  DebugSources sources_;
};

TEST_F(DebugHandlerTest, RoutesAndRefusesLikeTheRestOfTheServer) {
  struct Case {
    const char* method;
    const char* path;
    Query query;
    int status;
    const char* body;  // A substring.
  };
  const Case cases[] = {
      {"GET", "/debug/", {}, 200, "/debug/threads"},
      {"HEAD", "/debug", {}, 200, "/debug/scrape"},
      {"GET", "/debug/pprof", {}, 404, "404 page not found"},
      {"GET", "/debug/store/x", {}, 404, "404 page not found"},
      {"POST", "/debug/store", {}, 405, "Method Not Allowed"},
      {"GET",
       "/debug/store",
       {{"limit", "many"}},
       400,
       "invalid limit \"many\": want 0 to 1000"},
      {"GET", "/debug/store", {{"limit", "1001"}}, 400, "invalid limit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    const DebugAnswer answer = ServeDebug(sources_, c.method, c.path, c.query);
    EXPECT_EQ(answer.status, c.status);
    EXPECT_TRUE(absl::StrContains(answer.body, c.body)) << answer.body;
    EXPECT_EQ(answer.allow, c.status == 405 ? "GET, HEAD" : "");
  }
}

TEST_F(DebugHandlerTest, StoreShowsSeriesPerJobTopTargetsAndLargestSets) {
  const rapidjson::Document doc = Json("/debug/store", {{"limit", "2"}});
  EXPECT_EQ(doc["series"].GetInt(), 8);
  EXPECT_EQ(doc["targets"].GetInt(), 3);
  const auto& jobs = doc["jobs"];
  ASSERT_EQ(jobs.Size(), 2u);
  EXPECT_STREQ(jobs[0]["job"].GetString(), "app");  // 5 series.
  EXPECT_EQ(jobs[0]["series"].GetInt(), 5);
  EXPECT_STREQ(jobs[1]["job"].GetString(), "node");  // 2 + 1.
  EXPECT_EQ(jobs[1]["targets"].GetInt(), 2);
  EXPECT_EQ(jobs[1]["series"].GetInt(), 3);
  const auto& top = doc["top_targets"];
  ASSERT_EQ(top.Size(), 2u);  // ?limit=2.
  EXPECT_STREQ(top[0]["url"].GetString(), "http://b:1/metrics");
  EXPECT_EQ(top[0]["series"].GetInt(), 5);
  EXPECT_GT(top[0]["bytes"].GetInt(), 0);
  EXPECT_STREQ(top[1]["url"].GetString(), "http://a:1/metrics");
  const auto& largest = doc["largest_label_sets"];
  ASSERT_EQ(largest.Size(), 2u);
  EXPECT_EQ(largest[0]["label_bytes"].GetInt(), 8 + 1 + 4 + 50);
  EXPECT_EQ(largest[0]["label_count"].GetInt(), 2);
  EXPECT_STREQ(largest[0]["job"].GetString(), "node");
  EXPECT_STREQ(largest[0]["url"].GetString(), "http://c:1/metrics");
  EXPECT_TRUE(absl::StartsWith(largest[0]["labels"].GetString(),
                               "{__name__=\"m\", path=\"ppp"));
  for (const char* key : {"samples", "sample_timestamps", "metadata",
                          "batch_indexes", "label_sets", "symbols"}) {
    EXPECT_TRUE(doc["memory_bytes"].HasMember(key)) << key;
  }
  EXPECT_GE(doc["memory_bytes"]["samples"].GetInt(), 8 * 16);
  EXPECT_EQ(doc["label_sets"].GetInt(), 8);
}

TEST_F(DebugHandlerTest, ScrapeShowsEachTargetsScheduleAndLastScrape) {
  const rapidjson::Document doc = Json("/debug/scrape");
  EXPECT_EQ(doc["in_flight"].GetInt(), 1);
  const auto& targets = doc["targets"];
  ASSERT_EQ(targets.Size(), 3u);
  EXPECT_STREQ(targets[0]["job"].GetString(), "node");
  EXPECT_TRUE(targets[0]["in_flight"].GetBool());
  EXPECT_DOUBLE_EQ(targets[0]["next_scrape_in_seconds"].GetDouble(), 1.5);
  EXPECT_TRUE(targets[0]["last_scrape_seconds_ago"].IsNull());
  EXPECT_STREQ(targets[0]["health"].GetString(), "unknown");
  EXPECT_EQ(targets[0]["interval_seconds"].GetInt(), 15);
  EXPECT_EQ(targets[0]["timeout_seconds"].GetInt(), 10);
  EXPECT_FALSE(targets[1]["in_flight"].GetBool());
  EXPECT_TRUE(targets[1]["next_scrape_in_seconds"].IsNull());
  EXPECT_STREQ(targets[1]["health"].GetString(), "down");
  EXPECT_STREQ(targets[1]["last_error"].GetString(),
               "server returned HTTP status 500");
  EXPECT_GE(targets[1]["last_scrape_seconds_ago"].GetDouble(), 3);
  EXPECT_DOUBLE_EQ(targets[1]["last_scrape_duration_seconds"].GetDouble(),
                   0.25);
}

TEST_F(DebugHandlerTest, ThreadsListsNamedThreadsWithTheirRole) {
  absl::Notification named;
  absl::Notification done;
  std::thread thread([&] {
    NameCurrentThread("scrape-io");
    named.Notify();
    done.WaitForNotification();
  });
  named.WaitForNotification();
  const rapidjson::Document doc = Json("/debug/threads");
  done.Notify();
  thread.join();
  bool found = false;
  for (const auto& t : doc["threads"].GetArray()) {
    if (std::string(t["name"].GetString()) != "scrape-io") continue;
    found = true;
    EXPECT_GT(t["tid"].GetInt64(), 0);
    // Waiting for `done`: sleeping, or still spinning before it sleeps.
    const std::string state = t["state"].GetString();
    EXPECT_TRUE(state == "S" || state == "R") << state;
    EXPECT_STREQ(t["state_name"].GetString(),
                 state == "S" ? "sleeping" : "running");
    EXPECT_TRUE(absl::StrContains(t["role"].GetString(), "scrape transfers"));
    EXPECT_GE(t["user_cpu_seconds"].GetDouble(), 0);
    EXPECT_GE(t["system_cpu_seconds"].GetDouble(), 0);
  }
  EXPECT_TRUE(found);
  sources_.task_dir = "/nonexistent";
  EXPECT_EQ(ServeDebug(sources_, "GET", "/debug/threads", {}).status, 500);
}

}  // namespace
}  // namespace fedgate
