#include "scraper/scrape_manager.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/relabel_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/series_store.h"
#include "prometheus/registry.h"
#include "scraper/discovery/discovery.h"
#include "scraper/monotonic_clock.h"
#include "scraper/shard_selector.h"
#include "scraper/test_bodies.h"
#include "scraper/test_metric_values.h"
#include "scraper/test_wait.h"

namespace fedgate {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

// Every wait in these tests is bounded by this; none waits for a fixed time.
constexpr absl::Duration kWait = absl::Seconds(30);
// Short intervals keep the tests fast; the first scrape of a target comes
// within one interval (its phase), then one per interval.
constexpr absl::Duration kInterval = absl::Milliseconds(300);
constexpr absl::Duration kTimeout = absl::Milliseconds(250);

// A scrape target on 127.0.0.1: serves `/metrics` with the body, status and
// behaviour the test sets, on its own thread until destroyed.
class TestTarget {
 public:
  // kOpenMetrics serves the body as `application/openmetrics-text`.
  enum class Mode { kNormal, kGzip, kHang, kOpenMetrics };

  TestTarget() {
    server_.Get("/metrics",
                [this](const httplib::Request& req, httplib::Response& res) {
                  Serve(req, res);
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op until the accept loop runs, so wait for it.
    WaitFor([this] { return server_.is_running(); }, kWait);
  }

  ~TestTarget() {
    release_.Notify();
    server_.stop();
    thread_.join();
  }

  void Set(std::string body, int status = 200, Mode mode = Mode::kNormal) {
    absl::MutexLock lock(&mu_);
    body_ = std::move(body);
    status_ = status;
    mode_ = mode;
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  std::string url() const {
    return absl::StrCat("http://", address(), "/metrics");
  }
  std::string accept_encoding() const {
    absl::MutexLock lock(&mu_);
    return accept_encoding_;
  }

 private:
  void Serve(const httplib::Request& req, httplib::Response& res) {
    std::string body;
    int status;
    Mode mode;
    {
      absl::MutexLock lock(&mu_);
      accept_encoding_ = req.get_header_value("Accept-Encoding");
      body = body_;
      status = status_;
      mode = mode_;
    }
    if (mode == Mode::kHang) release_.WaitForNotificationWithTimeout(kWait);
    res.status = status;
    if (mode == Mode::kGzip) {
      // A type httplib does not compress itself, so it is gzipped once; the
      // text parser is the fallback for any type, as in Prometheus 2.42.
      res.set_header("Content-Encoding", "gzip");
      res.set_content(Gzip(body), "application/octet-stream");
    } else if (mode == Mode::kOpenMetrics) {
      res.set_content(
          body, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    } else {
      res.set_content(body, "text/plain; version=0.0.4; charset=utf-8");
    }
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  absl::Notification release_;
  mutable absl::Mutex mu_;
  std::string body_ ABSL_GUARDED_BY(mu_);
  int status_ ABSL_GUARDED_BY(mu_) = 200;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kNormal;
  std::string accept_encoding_ ABSL_GUARDED_BY(mu_);
};

ScrapeConfig Job(std::string name, const std::vector<std::string>& targets,
                 std::map<std::string, std::string> labels = {}) {
  ScrapeConfig config;
  config.job_name = std::move(name);
  config.scrape_interval = kInterval;
  config.scrape_timeout = kTimeout;
  StaticConfig group;
  group.targets = targets;
  group.labels = std::move(labels);
  config.static_configs.push_back(std::move(group));
  return config;
}

// Returns the dedup group `name` of the job of the same name, grouping its
// targets by the host of their address.
DedupGroupConfig DedupGroupByHost(std::string name) {
  DedupGroupConfig group;
  group.name = name;
  group.job_names = {std::move(name)};
  group.source_labels = {"__address__"};
  group.regex = "(.+):\\d+";
  return group;
}

std::shared_ptr<const Config> MakeConfig(std::vector<ScrapeConfig> jobs) {
  auto config = std::make_shared<Config>();
  config->scrape_configs = std::move(jobs);
  return config;
}

// Returns the value of the sample named `name` in `batch`, if any.
std::optional<double> Value(const ScrapeBatch& batch, absl::string_view name) {
  for (const Sample& s : batch.samples) {
    if (s.labels.MetricName() == name) return s.value;
  }
  return std::nullopt;
}

// Whether `batch` has the sample `up` with the value `up`.
bool HasUp(const ScrapeBatch& batch, double up) {
  return Value(batch, "up") == up;
}

// A manager scraping into its own store, with its own registry.
struct Fixture {
  explicit Fixture(absl::Duration early_ticks = absl::Milliseconds(1),
                   std::function<absl::Time()> clock = nullptr,
                   ShardSelector shard = ShardSelector()) {
    ScrapeManager::Options options;
    options.shard = shard;
    options.early_ticks = early_ticks;
    options.clock = std::move(clock);
    options.store = &store;
    options.registry = &registry;
    options.hostname = "test-host";
    absl::StatusOr<std::unique_ptr<ScrapeManager>> created =
        ScrapeManager::Create(options);
    EXPECT_TRUE(created.ok()) << created.status();
    if (created.ok()) manager = *std::move(created);
  }

  // Returns the status of the target whose `instance` is `instance`.
  std::optional<TargetStatus> Target(absl::string_view instance) const {
    for (TargetStatus& t : manager->Targets()) {
      if (t.labels.Get("instance") == instance) return t;
    }
    return std::nullopt;
  }

  // Returns the latest batch of the target `instance`, or null.
  std::shared_ptr<const ScrapeBatch> Batch(absl::string_view instance) const {
    std::optional<TargetStatus> target = Target(instance);
    if (!target.has_value()) return nullptr;
    // Held for the loop: the store may drop its snapshot at any time.
    std::shared_ptr<const StoreSnapshot> snapshot = store.Snapshot();
    for (const auto& [id, batch] : snapshot->batches) {
      if (id == target->id) return batch;
    }
    return nullptr;
  }

  // Waits until the target `instance` has a batch for which `done` holds;
  // returns it (null on timeout).
  std::shared_ptr<const ScrapeBatch> WaitForBatch(
      absl::string_view instance,
      const std::function<bool(const ScrapeBatch&)>& done) const {
    std::shared_ptr<const ScrapeBatch> batch;
    WaitFor(
        [&] {
          batch = Batch(instance);
          return batch != nullptr && done(*batch);
        },
        kWait);
    return batch != nullptr && done(*batch) ? batch : nullptr;
  }

  // Applies a configuration of `jobs` (and nothing else).
  absl::Status Apply(std::vector<ScrapeConfig> jobs) {
    return manager->ApplyConfig(MakeConfig(std::move(jobs)));
  }

  // Waits until the target `instance` has a batch whose `up` is `up`;
  // returns it (null on timeout).
  std::shared_ptr<const ScrapeBatch> WaitForUp(absl::string_view instance,
                                               double up) const {
    return WaitForBatch(instance,
                        [up](const ScrapeBatch& b) { return HasUp(b, up); });
  }

  // Returns the value of the counter family `name` (summed over labels).
  double Counter(absl::string_view name) {
    double sum = 0;
    for (const prometheus::MetricFamily& family : registry.Collect()) {
      if (family.name != name) continue;
      for (const prometheus::ClientMetric& m : family.metric) {
        sum += m.counter.value;
      }
    }
    return sum;
  }

  SeriesStore store;
  prometheus::Registry registry;
  std::unique_ptr<ScrapeManager> manager;
};

// Returns the label sets of `batch`'s samples as strings.
std::vector<std::string> Series(const ScrapeBatch& batch) {
  std::vector<std::string> out;
  for (const Sample& s : batch.samples) out.push_back(s.labels.ToString());
  return out;
}

// Scrapes `app` as the only target of job "app"; returns its first batch
// with `up` 1 (null on timeout or a rejected config).
std::shared_ptr<const ScrapeBatch> ScrapeApp(Fixture& f,
                                             const TestTarget& app) {
  if (!f.Apply({Job("app", {app.address()})}).ok()) {
    return nullptr;
  }
  return f.WaitForUp(app.address(), 1);
}

TEST(ScrapeManagerTest, PublishesScrapedSeriesWithTargetLabels) {
  TestTarget app;
  app.Set(
      "# HELP http_requests_total Requests served.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{code=\"200\"} 42\n"
      "http_requests_total{code=\"500\"} 1\n");
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {app.address()}, {{"env", "prod"}})}).ok());

  std::shared_ptr<const ScrapeBatch> batch = f.WaitForUp(app.address(), 1);
  ASSERT_NE(batch, nullptr);
  const std::string target = absl::StrCat("env=\"prod\", instance=\"",
                                          app.address(), "\", job=\"app\"}");
  EXPECT_THAT(
      Series(*batch),
      UnorderedElementsAreArray({
          absl::StrCat("{__name__=\"http_requests_total\", code=\"200\", ",
                       target),
          absl::StrCat("{__name__=\"http_requests_total\", code=\"500\", ",
                       target),
          absl::StrCat("{__name__=\"up\", ", target),
          absl::StrCat("{__name__=\"scrape_duration_seconds\", ", target),
          absl::StrCat("{__name__=\"scrape_samples_scraped\", ", target),
          absl::StrCat("{__name__=\"scrape_samples_post_metric_relabeling\", ",
                       target),
          absl::StrCat("{__name__=\"scrape_series_added\", ", target),
      }));
  EXPECT_EQ(batch->samples[0].value, 42);
  EXPECT_EQ(batch->samples[1].value, 1);
  EXPECT_EQ(Value(*batch, "scrape_samples_scraped"), 2);
  EXPECT_EQ(Value(*batch, "scrape_samples_post_metric_relabeling"), 2);
  EXPECT_GE(*Value(*batch, "scrape_duration_seconds"), 0);
  // Every sample carries the scrape's timestamp, stored once.
  EXPECT_TRUE(batch->timestamps.empty());
  EXPECT_GT(batch->timestamp_ms, 0);
  ASSERT_EQ(batch->metadata.size(), 1);
  EXPECT_EQ(batch->metadata[0].name, "http_requests_total");
  EXPECT_EQ(batch->metadata[0].type, MetricType::kCounter);
  EXPECT_EQ(batch->metadata[0].help, "Requests served.");

  std::optional<TargetStatus> status = f.Target(app.address());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->scrape_pool, "app");
  EXPECT_EQ(status->scrape_url, app.url());
  EXPECT_EQ(status->health, TargetHealth::kUp);
  EXPECT_EQ(status->last_error, "");
  EXPECT_EQ(status->scrape_interval, kInterval);
  EXPECT_EQ(status->scrape_timeout, kTimeout);
  EXPECT_EQ(status->discovered_labels.Get("__address__"), app.address());
  EXPECT_NE(status->last_scrape, absl::InfinitePast());
  EXPECT_EQ(app.accept_encoding(), "gzip");
  EXPECT_GE(f.Counter("fedgate_scrape_samples_total"), 2);
}

TEST(ScrapeManagerTest, CountsSeriesAddedOnlyForNewSeries) {
  TestTarget app;
  app.Set("a 1\nb 2\n");
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {app.address()})}).ok());
  ASSERT_NE(f.WaitForBatch(app.address(),
                           [](const ScrapeBatch& b) {
                             return Value(b, "scrape_series_added") == 2;
                           }),
            nullptr);
  // Later scrapes of the same body add nothing; a new series counts once.
  ASSERT_NE(f.WaitForBatch(app.address(),
                           [](const ScrapeBatch& b) {
                             return Value(b, "scrape_series_added") == 0;
                           }),
            nullptr);
  app.Set("a 1\nb 2\nc 3\n");
  ASSERT_NE(f.WaitForBatch(app.address(),
                           [](const ScrapeBatch& b) {
                             return Value(b, "c").has_value() &&
                                    Value(b, "scrape_series_added") == 1;
                           }),
            nullptr);
}

TEST(ScrapeManagerTest, FailedScrapesReportUpZeroWhileOthersKeepWorking) {
  TestTarget healthy;
  healthy.Set("m 1\n");
  TestTarget failing;
  failing.Set("m 1\n", 500);
  TestTarget hanging;
  hanging.Set("m 1\n", 200, TestTarget::Mode::kHang);
  TestTarget broken;
  broken.Set("m 1\nm{ 2\n");
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {healthy.address(), failing.address(),
                                   hanging.address(), broken.address()})})
                  .ok());

  struct Case {
    std::string name;
    const TestTarget* target;
    double want_up;
    std::string want_error;  // A substring of the last error.
  };
  const std::vector<Case> cases = {
      {"healthy", &healthy, 1, ""},
      {"HTTP 500", &failing, 0,
       "server returned HTTP status 500 Internal Server Error"},
      {"timeout", &hanging, 0,
       absl::StrCat("Get \"", hanging.url(), "\": context deadline exceeded")},
      {"parse error", &broken, 0, "line 2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::shared_ptr<const ScrapeBatch> batch =
        f.WaitForUp(c.target->address(), c.want_up);
    ASSERT_NE(batch, nullptr);
    std::optional<TargetStatus> status = f.Target(c.target->address());
    ASSERT_TRUE(status.has_value());
    if (c.want_up == 1) {
      EXPECT_EQ(batch->samples.size(), 6);  // m and 5 synthetic series.
      EXPECT_EQ(status->health, TargetHealth::kUp);
      EXPECT_EQ(status->last_error, "");
    } else {
      EXPECT_EQ(batch->samples.size(), 5);  // Only the synthetic series.
      EXPECT_FALSE(Value(*batch, "m").has_value());
      EXPECT_EQ(status->health, TargetHealth::kDown);
      EXPECT_THAT(status->last_error, HasSubstr(c.want_error));
    }
  }
  // The healthy target is still scraped after the others failed.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::optional<TargetStatus> status = f.Target(healthy.address());
        std::optional<TargetStatus> hung = f.Target(hanging.address());
        return status.has_value() && hung.has_value() &&
               status->last_scrape > hung->last_scrape;
      },
      kWait));
  EXPECT_GE(f.Counter("fedgate_scrapes_total"), 4);
}

// fedgate_scrape_pool_targets, fedgate_scrape_failures_total and
// fedgate_scrape_duration_seconds by scrape_job: targets move from unknown to
// up or down, failures count per job, and a removed job's series leave.
TEST(ScrapeManagerTest, JobMetricsFollowHealthAndLeaveWithTheirJob) {
  TestTarget healthy;
  healthy.Set("m 1\n");
  TestTarget failing;
  failing.Set("m 1\n", 500);
  Fixture f;
  const auto value = [&f](const std::string& name,
                          const std::map<std::string, std::string>& labels) {
    return MetricValue(f.registry, name, labels);
  };
  const std::string targets = "fedgate_scrape_pool_targets";
  ASSERT_TRUE(f.Apply({Job("good", {healthy.address()}),
                       Job("bad", {failing.address()}), Job("none", {})})
                  .ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        return value(targets, {{"scrape_job", "good"}, {"health", "up"}}) ==
                   1 &&
               value(targets, {{"scrape_job", "bad"}, {"health", "down"}}) == 1;
      },
      kWait));
  EXPECT_EQ(value(targets, {{"scrape_job", "good"}, {"health", "unknown"}}), 0);
  EXPECT_EQ(value(targets, {{"scrape_job", "bad"}, {"health", "up"}}), 0);
  // A job without targets still has its series.
  EXPECT_EQ(value(targets, {{"scrape_job", "none"}, {"health", "up"}}), 0);
  EXPECT_EQ(value("fedgate_scrape_failures_total", {{"scrape_job", "good"}}),
            0);
  EXPECT_GE(value("fedgate_scrape_failures_total", {{"scrape_job", "bad"}}), 1);
  EXPECT_GE(value("fedgate_scrape_duration_seconds", {{"scrape_job", "good"}}),
            1);
  EXPECT_GE(value("fedgate_scrape_duration_seconds", {{"scrape_job", "bad"}}),
            1);

  // Without "bad" (its loop may be scraping: its series leave when it ends).
  ASSERT_TRUE(f.Apply({Job("good", {healthy.address()})}).ok());
  EXPECT_EQ(value(targets, {{"scrape_job", "good"}, {"health", "up"}}), 1);
  EXPECT_TRUE(WaitFor(
      [&] {
        return value(targets, {{"scrape_job", "bad"}, {"health", "down"}}) ==
                   -1 &&
               value("fedgate_scrape_failures_total",
                     {{"scrape_job", "bad"}}) == -1 &&
               value(targets, {{"scrape_job", "none"}, {"health", "up"}}) == -1;
      },
      kWait));
  f.manager->Stop();
  EXPECT_EQ(value(targets, {{"scrape_job", "good"}, {"health", "up"}}), 0);
}

TEST(ScrapeManagerTest, ScheduleShowsTheNextTickAndTheScrapeInFlight) {
  TestTarget healthy;
  healthy.Set("m 1\n");
  TestTarget hanging;
  hanging.Set("m 1\n", 200, TestTarget::Mode::kHang);
  Fixture f;
  ASSERT_TRUE(
      f.Apply({Job("app", {healthy.address(), hanging.address()})}).ok());
  // Until the hanging target's scrape times out, it is in flight.
  std::optional<ScrapeManager::ScheduledTarget> hung;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (ScrapeManager::ScheduledTarget& t : f.manager->Schedule()) {
          if (t.status.scrape_url ==
                  absl::StrCat("http://", hanging.address(), "/metrics") &&
              t.in_flight) {
            hung = std::move(t);
            return true;
          }
        }
        return false;
      },
      kWait));
  EXPECT_EQ(hung->status.scrape_pool, "app");
  EXPECT_LE(hung->next_tick, kInterval);
  ASSERT_NE(f.WaitForUp(healthy.address(), 1), nullptr);
  const std::vector<ScrapeManager::ScheduledTarget> schedule =
      f.manager->Schedule();
  ASSERT_EQ(schedule.size(), 2u);
  for (const ScrapeManager::ScheduledTarget& t : schedule) {
    // Every target waits at most one interval for its next tick (infinite
    // only while its tick runs on the I/O thread).
    if (t.next_tick != absl::InfiniteDuration()) {
      EXPECT_LE(t.next_tick, kInterval) << t.status.scrape_url;
    }
  }
  f.manager->Stop();
  EXPECT_TRUE(f.manager->Schedule().empty());
}

TEST(ScrapeManagerTest, SeriesVanishWhenGoneFromTheBody) {
  TestTarget app;
  app.Set("a 1\nb 2\n");
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {app.address()})}).ok());
  ASSERT_NE(f.WaitForBatch(
                app.address(),
                [](const ScrapeBatch& b) { return Value(b, "b").has_value(); }),
            nullptr);

  app.Set("a 3\n");
  std::shared_ptr<const ScrapeBatch> batch = f.WaitForBatch(
      app.address(),
      [](const ScrapeBatch& b) { return !Value(b, "b").has_value(); });
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(Value(*batch, "a"), 3);
  EXPECT_EQ(Value(*batch, "up"), 1);

  // A failed scrape takes every scraped series away at once.
  app.Set("a 3\n", 503);
  batch = f.WaitForUp(app.address(), 0);
  ASSERT_NE(batch, nullptr);
  EXPECT_FALSE(Value(*batch, "a").has_value());
  EXPECT_EQ(Value(*batch, "scrape_samples_scraped"), 0);

  // An empty body is a successful scrape of nothing.
  app.Set("");
  batch = f.WaitForUp(app.address(), 1);
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->samples.size(), 5);

  // And they come back with the next good scrape.
  app.Set("a 4\n");
  batch = f.WaitForBatch(
      app.address(), [](const ScrapeBatch& b) { return Value(b, "a") == 4; });
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(Value(*batch, "up"), 1);
}

TEST(ScrapeManagerTest, TimestampedSeriesStayUntilOlderThanTheLookback) {
  // Prometheus writes no staleness marker for a series exposed with a
  // timestamp: it stays readable until its sample is 5m old.
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  const int64_t recent_ms = now_ms - 1000;
  TestTarget app;
  app.Set(absl::StrCat("a 1\nrecent 2 ", recent_ms, "\nold 3 ",
                       now_ms - 10 * 60 * 1000, "\n"));
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {app.address()})}).ok());
  ASSERT_NE(f.WaitForBatch(app.address(),
                           [](const ScrapeBatch& b) {
                             return Value(b, "old").has_value();
                           }),
            nullptr);

  // Gone from the body: `a` (no timestamp) at once, `old` too (older than
  // the lookback), `recent` stays with its sample.
  app.Set("a 4\n");
  std::shared_ptr<const ScrapeBatch> batch = f.WaitForBatch(
      app.address(), [](const ScrapeBatch& b) { return Value(b, "a") == 4; });
  ASSERT_NE(batch, nullptr);
  EXPECT_FALSE(Value(*batch, "old").has_value());
  EXPECT_EQ(batch->samples[0].labels.MetricName(), "a");
  ASSERT_EQ(Value(*batch, "recent"), 2);
  EXPECT_EQ(batch->samples[1].labels.MetricName(), "recent");
  EXPECT_EQ(batch->TimestampOf(1), recent_ms);
  EXPECT_EQ(Value(*batch, "up"), 1);

  // A failed scrape keeps it too, and takes `a` away.
  app.Set("a 4\n", 503);
  batch = f.WaitForUp(app.address(), 0);
  ASSERT_NE(batch, nullptr);
  EXPECT_FALSE(Value(*batch, "a").has_value());
  ASSERT_EQ(Value(*batch, "recent"), 2);
  EXPECT_EQ(batch->samples[0].labels.MetricName(), "recent");
  EXPECT_EQ(batch->TimestampOf(0), recent_ms);

  // Exposed again, it takes the new sample.
  app.Set(absl::StrCat("recent 5 ", recent_ms + 1, "\n"));
  batch = f.WaitForBatch(app.address(), [](const ScrapeBatch& b) {
    return Value(b, "recent") == 5;
  });
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->samples.size(), 1 + 5);
  EXPECT_EQ(batch->TimestampOf(0), recent_ms + 1);
}

TEST(ScrapeManagerTest, DecodesGzipBodies) {
  TestTarget app;
  app.Set("# TYPE m gauge\nm{k=\"v\"} 7\n", 200, TestTarget::Mode::kGzip);
  Fixture f;
  std::shared_ptr<const ScrapeBatch> batch = ScrapeApp(f, app);
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(Value(*batch, "m"), 7);
}

TEST(ScrapeManagerTest, ParsesOpenMetricsByContentTypeKeepingUnits) {
  TestTarget app;
  app.Set(
      "# TYPE build_seconds counter\n"
      "# UNIT build_seconds seconds\n"
      "# HELP build_seconds Time spent.\n"
      "build_seconds_total{k=\"v\"} 7.5 # {trace=\"x\"} 1\n"
      "build_seconds_created{k=\"v\"} 1600000000.5\n"
      "# EOF\n",
      200, TestTarget::Mode::kOpenMetrics);
  Fixture f;
  std::shared_ptr<const ScrapeBatch> batch = ScrapeApp(f, app);
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(Value(*batch, "build_seconds_total"), 7.5);
  // Prometheus 2.42 stores `_created` as a series of its own.
  EXPECT_EQ(Value(*batch, "build_seconds_created"), 1600000000.5);
  ASSERT_EQ(batch->metadata.size(), 1);
  EXPECT_EQ(batch->metadata[0].name, "build_seconds");
  EXPECT_EQ(batch->metadata[0].type, MetricType::kCounter);
  EXPECT_EQ(batch->metadata[0].unit, "seconds");
  EXPECT_EQ(batch->metadata[0].help, "Time spent.");
}

TEST(ScrapeManagerTest, OpenMetricsWithoutEofFailsTheScrape) {
  TestTarget app;
  app.Set("m 1\n", 200, TestTarget::Mode::kOpenMetrics);
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {app.address()})}).ok());
  std::shared_ptr<const ScrapeBatch> batch = f.WaitForUp(app.address(), 0);
  ASSERT_NE(batch, nullptr);
  std::optional<TargetStatus> status = f.Target(app.address());
  ASSERT_TRUE(status.has_value());
  EXPECT_THAT(status->last_error, HasSubstr("data does not end with # EOF"));
}

TEST(ScrapeManagerTest, MergesExposedLabelsPerHonorLabels) {
  TestTarget app;
  app.Set("m{job=\"exp\",instance=\"i1\",exported_job=\"x\"} 1\n");
  struct Case {
    std::string name;
    bool honor_labels;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"target labels win", false,
       absl::StrCat("{__name__=\"m\", exported_exported_job=\"exp\", "
                    "exported_instance=\"i1\", exported_job=\"x\", "
                    "instance=\"",
                    app.address(), "\", job=\"app\"}")},
      {"exposed labels win", true,
       "{__name__=\"m\", exported_job=\"x\", instance=\"i1\", job=\"exp\"}"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f;
    ScrapeConfig job = Job("app", {app.address()});
    job.honor_labels = c.honor_labels;
    ASSERT_TRUE(f.Apply({job}).ok());
    std::shared_ptr<const ScrapeBatch> batch = f.WaitForUp(app.address(), 1);
    ASSERT_NE(batch, nullptr);
    EXPECT_EQ(batch->samples[0].labels.ToString(), c.want);
    // Synthetic series carry the target labels whatever honor_labels says.
    EXPECT_EQ(batch->samples[1].labels.ToString(),
              absl::StrCat("{__name__=\"up\", instance=\"", app.address(),
                           "\", job=\"app\"}"));
  }
}

TEST(ScrapeManagerTest, UsesExposedTimestampsPerHonorTimestamps) {
  TestTarget app;
  // A duplicate (dropped: the first value wins) between a series with a
  // timestamp and one without.
  app.Set("m 1 1600000000123\nm 2 1600000000999\nn 3\n");
  for (bool honor : {true, false}) {
    SCOPED_TRACE(honor ? "honor_timestamps" : "scrape time");
    Fixture f;
    ScrapeConfig job = Job("app", {app.address()});
    job.honor_timestamps = honor;
    ASSERT_TRUE(f.Apply({job}).ok());
    std::shared_ptr<const ScrapeBatch> batch = f.WaitForUp(app.address(), 1);
    ASSERT_NE(batch, nullptr);
    ASSERT_EQ(batch->samples.size(), 2 + 5);
    EXPECT_EQ(batch->samples[0].value, 1);
    EXPECT_EQ(batch->samples[1].labels.MetricName(), "n");
    const int64_t up_ts = batch->TimestampOf(2);
    EXPECT_EQ(up_ts, batch->timestamp_ms);
    EXPECT_GT(up_ts, 1600000000123);
    EXPECT_EQ(batch->TimestampOf(0), honor ? 1600000000123 : up_ts);
    EXPECT_EQ(batch->TimestampOf(1), up_ts);
    EXPECT_EQ(batch->TimestampOf(6), up_ts);
    EXPECT_EQ(batch->timestamps.empty(), !honor);
  }
}

TEST(ScrapeManagerTest, KeepsTheFirstValueOfDuplicateSeries) {
  TestTarget app;
  app.Set(
      "m{a=\"1\",b=\"2\"} 1\n"
      "m{b=\"2\",a=\"1\"} 2\n"
      "n 5\n"
      "n 6\n");
  Fixture f;
  std::shared_ptr<const ScrapeBatch> batch = ScrapeApp(f, app);
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->samples.size(), 2 + 5);
  EXPECT_EQ(Value(*batch, "m"), 1);
  EXPECT_EQ(Value(*batch, "n"), 5);
  EXPECT_EQ(Value(*batch, "scrape_samples_scraped"), 4);
  EXPECT_GE(f.Counter("fedgate_scrape_duplicate_samples_total"), 2);
}

// Waits for a batch of `instance` scraped after `after`, and returns it.
std::shared_ptr<const ScrapeBatch> NextBatch(
    const Fixture& f, absl::string_view instance,
    const std::shared_ptr<const ScrapeBatch>& after) {
  return f.WaitForBatch(instance, [&](const ScrapeBatch& b) {
    return after == nullptr || b.scrape_time > after->scrape_time;
  });
}

TEST(ScrapeManagerTest, FindsDuplicatesThatAppearAfterASteadyState) {
  TestTarget app;
  app.Set("m{a=\"1\",b=\"2\"} 1\nn 1\n");
  Fixture f;
  std::shared_ptr<const ScrapeBatch> first = ScrapeApp(f, app);
  ASSERT_NE(first, nullptr);
  // A steady scrape (every text cached, no duplicate check).
  std::shared_ptr<const ScrapeBatch> steady =
      NextBatch(f, app.address(), first);
  ASSERT_NE(steady, nullptr);
  EXPECT_EQ(steady->samples.size(), 2 + 5);
  // A second text of the same series appears; then stays (all cached).
  app.Set("m{a=\"1\",b=\"2\"} 1\nn 1\nm{b=\"2\",a=\"1\"} 2\n");
  std::shared_ptr<const ScrapeBatch> aliased =
      f.WaitForBatch(app.address(), [](const ScrapeBatch& b) {
        return Value(b, "scrape_samples_scraped") == 3;
      });
  ASSERT_NE(aliased, nullptr);
  std::shared_ptr<const ScrapeBatch> again =
      NextBatch(f, app.address(), aliased);
  ASSERT_NE(again, nullptr);
  for (const ScrapeBatch* batch : {aliased.get(), again.get()}) {
    EXPECT_EQ(batch->samples.size(), 2 + 5);
    EXPECT_EQ(Value(*batch, "m"), 1);
  }
  EXPECT_GE(f.Counter("fedgate_scrape_duplicate_samples_total"), 2);
}

// Returns `batch`'s scraped series (not the synthetic ones) as
// `labels value`, in batch order, labels without the target's.
std::vector<std::string> ScrapedSamples(const ScrapeBatch& batch) {
  std::vector<std::string> out;
  for (const Sample& s : batch.samples) {
    if (s.labels.Get("__name__").substr(0, 7) == "scrape_" ||
        s.labels.MetricName() == "up") {
      continue;
    }
    std::string line(s.labels.MetricName());
    for (const LabelView& l : s.labels) {
      if (l.name == "__name__" || l.name == "instance" || l.name == "job") {
        continue;
      }
      absl::StrAppend(&line, " ", l.name, "=", l.value);
    }
    absl::StrAppend(&line, " ", s.value);
    out.push_back(std::move(line));
  }
  return out;
}

// The scrape cache holds each text's position in the previous batch, not
// its labels: steady scrapes, duplicates dropped from the middle of a batch,
// reordered and vanishing texts must all still give every value its own
// labels.
TEST(ScrapeManagerTest, CachedTextsKeepTheirLabelsAcrossChangingBodies) {
  TestTarget app;
  Fixture f;
  const std::vector<std::pair<std::string, std::vector<std::string>>> bodies = {
      {"m{a=\"1\",b=\"2\"} 1\nm{b=\"2\",a=\"1\"} 2\nn 5\nn 6\no 7\n",
       {"m a=1 b=2 1", "n 5", "o 7"}},
      {"o 8\nn 9\nm{b=\"2\",a=\"1\"} 3\nm{a=\"1\",b=\"2\"} 4\n",
       {"o 8", "n 9", "m a=1 b=2 3"}},
      {"p 1\no 2\n", {"p 1", "o 2"}},
      {"m{b=\"2\",a=\"1\"} 3\nn 4\no 5\np 6\nq 7\n",
       {"m a=1 b=2 3", "n 4", "o 5", "p 6", "q 7"}},
  };
  app.Set(bodies[0].first);
  ASSERT_TRUE(f.Apply({Job("app", {app.address()})}).ok());
  // Not a structured binding: C++17 lambdas cannot capture one (clang).
  for (const auto& body_and_want : bodies) {
    const auto& body = body_and_want.first;
    const auto& want = body_and_want.second;
    SCOPED_TRACE(body);
    app.Set(body);
    // The first scrape of the body (after one that may have seen the old
    // one), then two steady ones.
    std::shared_ptr<const ScrapeBatch> batch = f.WaitForBatch(
        app.address(),
        [&](const ScrapeBatch& b) { return ScrapedSamples(b) == want; });
    ASSERT_NE(batch, nullptr);
    for (int i = 0; i < 2; ++i) {
      batch = NextBatch(f, app.address(), batch);
      ASSERT_NE(batch, nullptr);
      EXPECT_EQ(ScrapedSamples(*batch), want);
      EXPECT_EQ(Value(*batch, "scrape_series_added"), 0);
    }
  }
}

// Each scrape's metadata is its body's; a steady body shares one list across
// scrapes (no copy per scrape), a changed one gets its own.
TEST(ScrapeManagerTest, MetadataFollowsTheBodyAndIsSharedWhileSteady) {
  TestTarget app;
  Fixture f;
  const std::vector<std::pair<std::string, std::vector<FamilyMetadata>>>
      bodies = {
          {"# HELP a A.\n# TYPE a counter\na 1\n# TYPE b gauge\nb 2\n",
           {{"a", MetricType::kCounter, "A.", ""},
            {"b", MetricType::kGauge, "", ""}}},
          {"# HELP a A\\\\2.\n# TYPE a counter\na 1\n# TYPE b gauge\nb 2\n",
           {{"a", MetricType::kCounter, "A\\2.", ""},
            {"b", MetricType::kGauge, "", ""}}},
          {"# TYPE a counter\na 1\n# TYPE b gauge\nb 2\n",
           {{"a", MetricType::kCounter, "", ""},
            {"b", MetricType::kGauge, "", ""}}},
          {"# TYPE b gauge\nb 2\n# TYPE a counter\na 1\n",
           {{"b", MetricType::kGauge, "", ""},
            {"a", MetricType::kCounter, "", ""}}},
          {"b 2\na 1\n", {}},
      };
  app.Set(bodies[0].first);
  ASSERT_TRUE(f.Apply({Job("app", {app.address()})}).ok());
  // Not a structured binding: C++17 lambdas cannot capture one (clang).
  for (const auto& body_and_want : bodies) {
    const auto& body = body_and_want.first;
    const auto& want = body_and_want.second;
    SCOPED_TRACE(body);
    app.Set(body);
    std::shared_ptr<const ScrapeBatch> batch =
        f.WaitForBatch(app.address(), [&](const ScrapeBatch& b) {
          return std::vector<FamilyMetadata>(b.metadata.begin(),
                                             b.metadata.end()) == want;
        });
    ASSERT_NE(batch, nullptr);
    std::shared_ptr<const ScrapeBatch> next =
        NextBatch(f, app.address(), batch);
    ASSERT_NE(next, nullptr);
    EXPECT_TRUE(next->metadata.SharesWith(batch->metadata));
  }
}

// A body that fails to parse, or breaks sample_limit, fails the scrape but
// keeps the scrape cache, as Prometheus's: the texts it did not reach are not
// counted in scrape_series_added again when the body is good again.
TEST(ScrapeManagerTest, FailedScrapesKeepTheScrapeCache) {
  TestTarget app;
  const std::string good = "a 1\nb{x=\"1\"} 2\nc 3\nd 4\n";
  const std::vector<std::string> want = {"a 1", "b x=1 2", "c 3", "d 4"};
  app.Set(good);
  Fixture f;
  ScrapeConfig job = Job("app", {app.address()});
  job.sample_limit = 4;
  ASSERT_TRUE(f.Apply({job}).ok());
  std::shared_ptr<const ScrapeBatch> batch = f.WaitForBatch(
      app.address(),
      [&](const ScrapeBatch& b) { return ScrapedSamples(b) == want; });
  ASSERT_NE(batch, nullptr);
  for (const std::string& broken :
       {std::string("d 4\nb{x=\"1\"} 2\nz{ 9\n"),              // Parse error.
        std::string("e 5\nd 4\na 1\nb{x=\"1\"} 2\nc 3\n")}) {  // > limit.
    SCOPED_TRACE(broken);
    app.Set(broken);
    ASSERT_NE(f.WaitForUp(app.address(), 0), nullptr);
    app.Set(good);
    batch = f.WaitForUp(app.address(), 1);
    ASSERT_NE(batch, nullptr);
    EXPECT_EQ(ScrapedSamples(*batch), want);
    EXPECT_EQ(Value(*batch, "scrape_series_added"), 0);
    batch = NextBatch(f, app.address(), batch);
    ASSERT_NE(batch, nullptr);
    EXPECT_EQ(ScrapedSamples(*batch), want);
  }
}

TEST(ScrapeManagerTest, ApplyConfigKeepsUnchangedTargetsAndRemovesOthers) {
  TestTarget kept;
  kept.Set("k 1\n");
  TestTarget removed;
  removed.Set("r 1\n");
  TestTarget added;
  added.Set("a 1\n");
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {kept.address(), removed.address()})}).ok());
  ASSERT_NE(f.WaitForUp(removed.address(), 1), nullptr);
  const TargetId kept_id = f.Target(kept.address())->id;

  ASSERT_TRUE(f.Apply({Job("app", {kept.address(), added.address()})}).ok());
  EXPECT_EQ(f.Target(kept.address())->id, kept_id);
  EXPECT_FALSE(f.Target(removed.address()).has_value());
  std::shared_ptr<const StoreSnapshot> snapshot = f.store.Snapshot();
  for (const auto& [id, batch] : snapshot->batches) {
    EXPECT_FALSE(Value(*batch, "r").has_value());
  }
  ASSERT_NE(f.WaitForUp(added.address(), 1), nullptr);
  EXPECT_EQ(f.manager->Targets().size(), 2);
}

TEST(ScrapeManagerTest, DedupGroupMembersShareSeriesWithTheGroupKey) {
  TestTarget a;
  a.Set("shared{x=\"1\"} 1\n");
  TestTarget b;
  b.Set("shared{x=\"1\"} 2\nonly_b 1\n");
  TestTarget other;
  other.Set("shared{x=\"1\"} 3\n");
  Fixture f;
  auto config = std::make_shared<Config>();
  config->scrape_configs = {Job("reg", {a.address(), b.address()}),
                            Job("other", {other.address()})};
  config->dedup_groups = {DedupGroupByHost("reg")};
  ASSERT_TRUE(f.manager->ApplyConfig(config).ok());
  for (const TestTarget* t : {&a, &b, &other}) {
    ASSERT_NE(f.WaitForUp(t->address(), 1), nullptr);
  }
  // Members: the group by host, `instance` the group key on scraped series
  // but the endpoint on `up`; the same series of both members is one label
  // set.
  const std::optional<TargetStatus> ta = f.Target(a.address());
  const std::optional<TargetStatus> tb = f.Target(b.address());
  EXPECT_EQ(ta->dedup_group, "reg/127.0.0.1");
  EXPECT_EQ(tb->dedup_group, "reg/127.0.0.1");
  EXPECT_NE(ta->dedup_leader, tb->dedup_leader);
  EXPECT_EQ(f.Target(other.address())->dedup_group, "");
  std::shared_ptr<const ScrapeBatch> batch_a = f.Batch(a.address());
  std::shared_ptr<const ScrapeBatch> batch_b = f.Batch(b.address());
  EXPECT_EQ(batch_a->samples[0].labels.ToString(),
            R"({__name__="shared", instance="127.0.0.1", job="reg", x="1"})");
  EXPECT_EQ(batch_a->samples[0].labels, batch_b->samples[0].labels);
  EXPECT_EQ(
      std::string(f.Batch(other.address())->samples[0].labels.Get("instance")),
      other.address());
  for (const Sample& s : batch_a->samples) {
    if (s.labels.MetricName() == "up") {
      EXPECT_EQ(s.labels.Get("instance"), a.address());
    }
  }
  // Per target: one deduplicated series (the follower's copy of `shared`);
  // `other` has `shared` with its own instance: no conflict.
  const MergeStats stats = ComputeMergeStats(*f.store.Snapshot());
  EXPECT_EQ(stats.deduplicated, 1u);
  EXPECT_EQ(stats.conflicting, 0u);
}

TEST(ScrapeManagerTest, DedupGroupLabelNamesTheKeyLabelOrIsOff) {
  TestTarget a;
  a.Set("shared{x=\"1\"} 1\n");
  TestTarget b;
  b.Set("shared{x=\"1\"} 2\n");
  Fixture f;
  auto config = std::make_shared<Config>();
  config->scrape_configs = {Job("a", {a.address()}), Job("b", {b.address()})};
  DedupGroupConfig node = DedupGroupByHost("a");  // Key: the host, in `node`.
  node.group_label = "node";
  DedupGroupConfig off;  // Key: the job, not on the series.
  off.name = "b";
  off.job_names = {"b"};
  off.group_label = "";
  config->dedup_groups = {node, off};
  ASSERT_TRUE(f.manager->ApplyConfig(config).ok());
  for (const TestTarget* t : {&a, &b}) {
    ASSERT_NE(f.WaitForUp(t->address(), 1), nullptr);
  }
  EXPECT_EQ(f.Batch(a.address())->samples[0].labels.ToString(),
            R"({__name__="shared", job="a", node="127.0.0.1", x="1"})");
  EXPECT_EQ(f.Batch(b.address())->samples[0].labels.ToString(),
            R"({__name__="shared", job="b", x="1"})");
}

TEST(ScrapeManagerTest, RejectsAConfigWithAnInvalidTarget) {
  TestTarget app;
  app.Set("m 1\n");
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {app.address()})}).ok());
  absl::Status s = f.Apply({Job("app", {app.address()}), Job("bad", {"a/b"})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()),
            "job \"bad\": target \"a/b\": \"a/b:80\" is not a valid hostname");
  // The running configuration is untouched.
  ASSERT_EQ(f.manager->Targets().size(), 1);
  EXPECT_EQ(f.manager->Targets()[0].scrape_pool, "app");
}

// Target sets of one job: one group with `addresses`.
TargetSets OneGroup(const std::string& job,
                    const std::vector<std::string>& addresses) {
  TargetGroup group;
  group.source = "file.json:0";
  group.labels = Labels({{"team", "sd"}});
  for (const std::string& address : addresses) {
    group.targets.push_back(Labels({{"__address__", address}}));
  }
  return {{job, {group}}};
}

TEST(ScrapeManagerTest, ApplyTargetSetsKeepsUnchangedTargetsAndRemovesOthers) {
  TestTarget kept;
  kept.Set("k 1\n");
  TestTarget removed;
  removed.Set("r 1\n");
  TestTarget added;
  added.Set("a 1\n");
  Fixture f;
  EXPECT_EQ(f.manager->ApplyTargetSets(TargetSets{}).code(),
            absl::StatusCode::kFailedPrecondition);
  std::shared_ptr<const Config> config = MakeConfig({Job("app", {})});
  ASSERT_TRUE(f.manager
                  ->ApplyConfig(config, OneGroup("app", {kept.address(),
                                                         removed.address()}))
                  .ok());
  ASSERT_NE(f.WaitForUp(removed.address(), 1), nullptr);
  const TargetId kept_id = f.Target(kept.address())->id;
  EXPECT_EQ(f.Target(kept.address())->labels.Get("team"), "sd");

  // A bad discovered target is skipped; the others are applied.
  TargetSets next = OneGroup("app", {kept.address(), added.address(), "a/b"});
  next["unknown-job"] = next["app"];
  absl::Status s = f.manager->ApplyTargetSets(next);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()),
            "1 discovered target(s) skipped; first: job \"app\": target "
            "\"a/b\": \"a/b:80\" is not a valid hostname");
  EXPECT_EQ(f.Target(kept.address())->id, kept_id);
  EXPECT_FALSE(f.Target(removed.address()).has_value());
  std::shared_ptr<const StoreSnapshot> snapshot = f.store.Snapshot();
  for (const auto& [id, batch] : snapshot->batches) {
    EXPECT_FALSE(Value(*batch, "r").has_value());
  }
  ASSERT_NE(f.WaitForUp(added.address(), 1), nullptr);
  EXPECT_EQ(f.manager->Targets().size(), 2);

  // An empty set for the job removes every target.
  ASSERT_TRUE(f.manager->ApplyTargetSets(TargetSets{{"app", {}}}).ok());
  EXPECT_TRUE(f.manager->Targets().empty());
}

TEST(ScrapeManagerTest, DuplicateTargetsShareOneLoop) {
  TestTarget app;
  app.Set("m 1\n");
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {app.address(), app.address()})}).ok());
  EXPECT_EQ(f.manager->Targets().size(), 1);
}

TEST(ScrapeManagerTest, MetricRelabelingAppliesToScrapedSeriesOnly) {
  TestTarget app;
  app.Set(
      "go_goroutines 7\n"
      "http_requests_total{code=\"200\",path=\"/a\"} 3\n"
      "http_requests_total{code=\"500\",path=\"/b\"} 1\n");
  Fixture f;
  ScrapeConfig job = Job("app", {app.address()});
  job.metric_relabel_configs = {
      // Runs after the target labels are attached: it sees `job`.
      MakeRelabelConfig(RelabelAction::kReplace, {"job", "code"}, "app;(.)00",
                        "class", "${1}xx"),
      MakeRelabelConfig(RelabelAction::kDrop, {"__name__"}, "go_.*"),
      MakeRelabelConfig(RelabelAction::kLabelDrop, {}, "path"),
      // Would drop up and scrape_* if it applied to them.
      MakeRelabelConfig(RelabelAction::kKeep, {"__name__"}, "http_.*"),
  };
  ASSERT_TRUE(f.Apply({job}).ok());

  // Two scrapes: the second one is served from the scrape cache.
  ASSERT_NE(f.WaitForBatch(app.address(),
                           [](const ScrapeBatch& b) {
                             return Value(b, "scrape_series_added") == 0;
                           }),
            nullptr);
  std::shared_ptr<const ScrapeBatch> batch = f.Batch(app.address());
  ASSERT_NE(batch, nullptr);
  const std::string target =
      absl::StrCat("instance=\"", app.address(), "\", job=\"app\"}");
  EXPECT_THAT(
      Series(*batch),
      UnorderedElementsAreArray({
          absl::StrCat("{__name__=\"http_requests_total\", class=\"2xx\", "
                       "code=\"200\", ",
                       target),
          absl::StrCat("{__name__=\"http_requests_total\", class=\"5xx\", "
                       "code=\"500\", ",
                       target),
          absl::StrCat("{__name__=\"up\", ", target),
          absl::StrCat("{__name__=\"scrape_duration_seconds\", ", target),
          absl::StrCat("{__name__=\"scrape_samples_scraped\", ", target),
          absl::StrCat("{__name__=\"scrape_samples_post_metric_relabeling\", ",
                       target),
          absl::StrCat("{__name__=\"scrape_series_added\", ", target),
      }));
  EXPECT_EQ(Value(*batch, "scrape_samples_scraped"), 3);
  EXPECT_EQ(Value(*batch, "scrape_samples_post_metric_relabeling"), 2);
  EXPECT_GE(f.Counter("fedgate_scrape_samples_dropped_by_relabeling_total"), 2);
}

TEST(ScrapeManagerTest, MetricRelabelingWithoutMetricNameFailsTheScrape) {
  TestTarget app;
  app.Set("m 1\n");
  Fixture f;
  ScrapeConfig job = Job("app", {app.address()});
  job.metric_relabel_configs = {
      MakeRelabelConfig(RelabelAction::kLabelDrop, {}, "__name__")};
  ASSERT_TRUE(f.Apply({job}).ok());
  ASSERT_NE(f.WaitForUp(app.address(), 0), nullptr);
  std::optional<TargetStatus> status = f.Target(app.address());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->last_error, "missing metric name (__name__ label)");
}

TEST(ScrapeManagerTest, MetricRelabelingToAnEmptySetDropsTheSeries) {
  TestTarget app;
  app.Set("m 1\n");
  Fixture f;
  ScrapeConfig job = Job("app", {app.address()});
  job.metric_relabel_configs = {
      MakeRelabelConfig(RelabelAction::kLabelKeep, {}, "none")};
  ASSERT_TRUE(f.Apply({job}).ok());
  std::shared_ptr<const ScrapeBatch> batch = f.WaitForUp(app.address(), 1);
  ASSERT_NE(batch, nullptr);
  EXPECT_FALSE(Value(*batch, "m").has_value());
  EXPECT_EQ(Value(*batch, "scrape_samples_scraped"), 1);
  EXPECT_EQ(Value(*batch, "scrape_samples_post_metric_relabeling"), 0);
}

TEST(ScrapeManagerTest, RelabelConfigsDropAndRewriteTargets) {
  TestTarget app;
  app.Set("m 1\n");
  Fixture f;
  ScrapeConfig job = Job("app", {app.address(), "10.0.0.1:9", "10.0.0.2:9"},
                         {{"env", "prod"}});
  job.relabel_configs = {
      MakeRelabelConfig(RelabelAction::kDrop, {"__address__"},
                        "10\\.0\\.0\\.2:.*"),
      MakeRelabelConfig(RelabelAction::kKeep, {"__address__"}, "127\\..*"),
      MakeRelabelConfig(RelabelAction::kReplace, {"env"}, "(.*)", "stage",
                        "${1}-1"),
  };
  ASSERT_TRUE(f.Apply({job}).ok());
  std::vector<TargetStatus> targets = f.manager->Targets();
  ASSERT_EQ(targets.size(), 1);
  EXPECT_EQ(targets[0].labels, Labels({{"env", "prod"},
                                       {"instance", app.address()},
                                       {"job", "app"},
                                       {"stage", "prod-1"}}));
  std::vector<DroppedTarget> dropped = f.manager->DroppedTargets();
  ASSERT_EQ(dropped.size(), 2);
  EXPECT_EQ(dropped[0].scrape_pool, "app");
  EXPECT_EQ(dropped[0].discovered_labels.Get("__address__"), "10.0.0.1:9");
  EXPECT_EQ(dropped[0].discovered_labels.Get("job"), "app");
  EXPECT_EQ(dropped[1].discovered_labels.Get("__address__"), "10.0.0.2:9");
  ASSERT_NE(f.WaitForUp(app.address(), 1), nullptr);

  // A new configuration replaces the dropped list.
  ASSERT_TRUE(f.Apply({Job("app", {app.address()})}).ok());
  EXPECT_TRUE(f.manager->DroppedTargets().empty());
}

TEST(ScrapeManagerTest, ShardsSplitTargetsAndKeepDedupGroupsWhole) {
  // Nothing listens on port 9 of these loopback addresses: scrapes fail at
  // once, which is enough to see who scrapes what.
  std::vector<std::string> nodes;
  for (int i = 1; i <= 12; ++i)
    nodes.push_back(absl::StrCat("127.0.1.", i, ":9"));
  std::vector<std::string> registry;
  for (int i = 1; i <= 6; ++i) {
    for (const char* port : {":6443", ":10250"}) {
      registry.push_back(absl::StrCat("127.0.2.", i, port));
    }
  }
  auto config = std::make_shared<Config>();
  config->scrape_configs = {Job("node", nodes), Job("k3s", registry)};
  config->dedup_groups = {DedupGroupByHost("k3s")};

  std::map<std::string, int> scraped_by;   // Address → shard.
  std::map<std::string, int> group_shard;  // Dedup group → shard.
  for (int index = 0; index < 2; ++index) {
    absl::StatusOr<ShardSelector> shard = ShardSelector::Create(index, 2);
    ASSERT_TRUE(shard.ok()) << shard.status();
    Fixture f(absl::Milliseconds(1), nullptr, *shard);
    ASSERT_TRUE(f.manager->ApplyConfig(config).ok());
    const std::vector<TargetStatus> targets = f.manager->Targets();
    for (const TargetStatus& t : targets) {
      const std::string address(t.labels.Get("instance"));
      EXPECT_TRUE(scraped_by.emplace(address, index).second) << address;
      if (!t.dedup_group.empty()) {
        auto [it, added] = group_shard.emplace(t.dedup_group, index);
        EXPECT_EQ(it->second, index) << t.dedup_group << " is split";
      }
    }
    // Another shard's targets are dropped, as by a hashmod + keep rule.
    const std::vector<DroppedTarget> dropped = f.manager->DroppedTargets();
    EXPECT_EQ(targets.size() + dropped.size(), nodes.size() + registry.size());
    for (const DroppedTarget& d : dropped) {
      EXPECT_FALSE(
          f.Target(d.discovered_labels.Get("__address__")).has_value());
    }
  }
  EXPECT_EQ(scraped_by.size(), nodes.size() + registry.size());
  EXPECT_EQ(group_shard.size(), 6u);
  // Both shards have targets.
  std::set<int> shards;
  for (const auto& [address, index] : scraped_by) shards.insert(index);
  EXPECT_EQ(shards.size(), 2u);
}

TEST(ScrapeManagerTest, ChangedMetricRelabelingRebuildsTheScrapeCache) {
  TestTarget app;
  app.Set("a 1\nb 2\n");
  Fixture f;
  ScrapeConfig job = Job("app", {app.address()});
  // Drops `a`, then (a reload) drops `b` instead.
  struct Step {
    const char* dropped;
    const char* kept;
  };
  for (const Step& step : {Step{"a", "b"}, Step{"b", "a"}}) {
    SCOPED_TRACE(step.dropped);
    job.metric_relabel_configs = {
        MakeRelabelConfig(RelabelAction::kDrop, {"__name__"}, step.dropped)};
    ASSERT_TRUE(f.Apply({job}).ok());
    ASSERT_NE(f.WaitForBatch(app.address(),
                             [&](const ScrapeBatch& b) {
                               return HasUp(b, 1) &&
                                      Value(b, step.kept).has_value() &&
                                      !Value(b, step.dropped).has_value();
                             }),
              nullptr);
  }
}

// Returns the last error of the target `instance` once it is down.
std::string WaitForDownError(Fixture& f, absl::string_view instance) {
  std::string error;
  WaitFor(
      [&] {
        std::optional<TargetStatus> status = f.Target(instance);
        if (!status.has_value() || status->health != TargetHealth::kDown) {
          return false;
        }
        error = status->last_error;
        return true;
      },
      kWait);
  return error;
}

TEST(ScrapeManagerTest, SampleLimitCountsAfterMetricRelabeling) {
  TestTarget over;
  over.Set("a 1\nb 2\nc 3\n");
  TestTarget relabeled;
  relabeled.Set("a 1\nb 2\ndrop_me 3\n");
  Fixture f;
  ScrapeConfig job = Job("app", {over.address(), relabeled.address()});
  job.sample_limit = 2;
  job.metric_relabel_configs = {
      MakeRelabelConfig(RelabelAction::kDrop, {"__name__"}, "drop_me")};
  ASSERT_TRUE(f.Apply({job}).ok());

  EXPECT_EQ(WaitForDownError(f, over.address()), "sample limit exceeded");
  std::shared_ptr<const ScrapeBatch> batch = f.WaitForUp(over.address(), 0);
  ASSERT_NE(batch, nullptr);
  // Nothing is kept; every sample is still counted, as in Prometheus.
  EXPECT_FALSE(Value(*batch, "a").has_value());
  EXPECT_EQ(Value(*batch, "scrape_samples_scraped"), 3);
  EXPECT_EQ(Value(*batch, "scrape_samples_post_metric_relabeling"), 3);

  batch = f.WaitForUp(relabeled.address(), 1);
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(Value(*batch, "b"), 2);

  // Back under the limit: up again.
  over.Set("a 1\n");
  batch = f.WaitForUp(over.address(), 1);
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(Value(*batch, "a"), 1);
  EXPECT_GE(f.Counter("fedgate_scrapes_total"), 3);
}

// Past sample_limit the rest of the body is only counted: no label set is
// interned for it (nor cached, nor appended to the unpublished batch), so a
// hostile target costs its body, not its series.
TEST(ScrapeManagerTest, BuildsNothingPastTheSampleLimit) {
  constexpr int kSeries = 5000;
  std::string body;
  for (int i = 0; i < kSeries; ++i) {
    absl::StrAppend(&body, "hostile_series{i=\"", i, "\"} 1\n");
  }
  TestTarget hostile;
  hostile.Set(body);
  Fixture f;
  const size_t live_before = GetInternedLabelsStats().label_sets;
  ScrapeConfig job = Job("app", {hostile.address()});
  job.sample_limit = 10;
  ASSERT_TRUE(f.Apply({job}).ok());

  EXPECT_EQ(WaitForDownError(f, hostile.address()), "sample limit exceeded");
  std::shared_ptr<const ScrapeBatch> batch = f.WaitForUp(hostile.address(), 0);
  ASSERT_NE(batch, nullptr);
  // A second failed scrape, which meets the first one's cache.
  batch = NextBatch(f, hostile.address(), batch);
  ASSERT_NE(batch, nullptr);
  EXPECT_TRUE(HasUp(*batch, 0));
  EXPECT_EQ(Value(*batch, "scrape_samples_scraped"), kSeries);
  EXPECT_EQ(Value(*batch, "scrape_samples_post_metric_relabeling"), kSeries);
  // The 10 samples under the limit and the 5 synthetic series, far from
  // the 5,000 label sets the body has.
  EXPECT_LT(GetInternedLabelsStats().label_sets, live_before + 100);
}

TEST(ScrapeManagerTest, LabelLimitsFailTheScrapeWithPrometheusMessages) {
  struct Case {
    std::string name;
    uint64_t label_limit = 0;
    uint64_t name_length = 0;
    uint64_t value_length = 0;
    std::string want_error;
  };
  // Series labels: __name__, instance, job, and the exposed ones.
  const std::vector<Case> cases = {
      {"label_limit", 4, 0, 0,
       "label_limit exceeded (metric: test_counter_total, number of labels: "
       "5, limit: 4)"},
      // Labels are checked in order: `__name__` and `instance` (8 bytes)
      // pass a limit of 8, `long_name` (9) does not.
      {"label_name_length_limit", 0, 8, 0,
       "label_name_length_limit exceeded (metric: test_counter_total, label "
       "name: long_name, length: 9, limit: 8)"},
      {"label_value_length_limit", 0, 0, 5,
       "label_value_length_limit exceeded (metric: test_counter_total, label "
       "name: __name__, value: \"test_counter_total\", length: 18, limit: 5)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestTarget target;
    target.Set("test_counter_total{a=\"x\",long_name=\"v\"} 1\n");
    Fixture f;
    ScrapeConfig job = Job("app", {target.address()});
    job.label_limit = c.label_limit;
    job.label_name_length_limit = c.name_length;
    job.label_value_length_limit = c.value_length;
    ASSERT_TRUE(f.Apply({job}).ok());
    EXPECT_EQ(WaitForDownError(f, target.address()), c.want_error);
    std::shared_ptr<const ScrapeBatch> batch = f.WaitForUp(target.address(), 0);
    ASSERT_NE(batch, nullptr);
    EXPECT_FALSE(Value(*batch, "test_counter_total").has_value());
  }
}

TEST(ScrapeManagerTest, TargetLimitFailsEveryTargetOfThePool) {
  TestTarget a, b, c;
  for (TestTarget* t : {&a, &b, &c}) t->Set("m 1\n");
  TestTarget other;
  other.Set("m 1\n");
  Fixture f;
  ScrapeConfig limited =
      Job("limited", {a.address(), b.address(), c.address()});
  limited.target_limit = 2;
  ASSERT_TRUE(f.Apply({limited, Job("other", {other.address()})}).ok());
  for (const TestTarget* t : {&a, &b, &c}) {
    EXPECT_EQ(WaitForDownError(f, t->address()),
              "target_limit exceeded (number of targets: 3, limit: 2)");
  }
  // Other pools are not affected.
  ASSERT_NE(f.WaitForUp(other.address(), 1), nullptr);
  // Raising the limit clears the error of the kept loops.
  limited.target_limit = 3;
  ASSERT_TRUE(f.Apply({limited, Job("other", {other.address()})}).ok());
  for (const TestTarget* t : {&a, &b, &c}) {
    ASSERT_NE(f.WaitForUp(t->address(), 1), nullptr);
  }
}

TEST(ScrapeManagerTest, BodySizeLimitFailsTheScrape) {
  TestTarget big;
  big.Set(std::string(4096, '#') + "\nm 1\n");
  TestTarget small;
  small.Set("m 1\n");
  Fixture f;
  ScrapeConfig job = Job("app", {big.address(), small.address()});
  job.body_size_limit = 1024;
  ASSERT_TRUE(f.Apply({job}).ok());
  EXPECT_EQ(WaitForDownError(f, big.address()), "body size limit exceeded");
  ASSERT_NE(f.WaitForUp(small.address(), 1), nullptr);
}

// Bodies over 256 KiB are parsed on a worker, smaller ones on the I/O
// thread: both give the same batches, scrape after scrape.
TEST(ScrapeManagerTest, LargeAndSmallBodiesAreParsedAlike) {
  // `n` series of about 100 bytes each, valued `value`.
  const auto body = [](int n, int value) {
    std::string out = "# TYPE big_series gauge\n";
    for (int i = 0; i < n; ++i) {
      absl::StrAppend(&out, "big_series{index=\"", i, "\",padding=\"",
                      std::string(60, 'p'), "\"} ", value, "\n");
    }
    return out;
  };
  TestTarget big;
  big.Set(body(5000, 1));
  ASSERT_GT(body(5000, 1).size(), size_t{400} << 10);
  TestTarget small;
  small.Set(body(10, 1));
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {big.address(), small.address()})}).ok());
  for (int value : {1, 2}) {
    big.Set(body(5000, value));
    small.Set(body(10, value));
    for (const auto& [target, n] :
         {std::pair<const TestTarget*, int>{&big, 5000}, {&small, 10}}) {
      const auto done = [value](const ScrapeBatch& b) {
        return HasUp(b, 1) && Value(b, "big_series") == value;
      };
      std::shared_ptr<const ScrapeBatch> batch =
          f.WaitForBatch(target->address(), done);
      ASSERT_NE(batch, nullptr) << target->address() << " value " << value;
      // The series, `up` and the four scrape_* series.
      EXPECT_EQ(batch->samples.size(), static_cast<size_t>(n) + 5);
      EXPECT_EQ(Value(*batch, "scrape_samples_scraped"), n);
    }
  }
}

// A tick started early, with an earlier one (Options::early_ticks), keeps
// its ideal timestamp: a target's timestamps stay exactly intervals apart.
TEST(ScrapeManagerTest, EarlyTicksKeepTheirIdealTimestamps) {
  constexpr absl::Duration kEarly = absl::Milliseconds(100);
  // Six targets in a 300 ms interval: two of them are at most 50 ms apart,
  // so every round has an early tick.
  std::vector<std::unique_ptr<TestTarget>> targets;
  std::vector<std::string> addresses;
  for (int i = 0; i < 6; ++i) {
    targets.push_back(std::make_unique<TestTarget>());
    targets.back()->Set("m 1\n");
    addresses.push_back(targets.back()->address());
  }
  Fixture f(kEarly);
  ASSERT_TRUE(f.Apply({Job("app", addresses)}).ok());
  // Per target: timestamp (ms) -> when the scrape started.
  std::map<TargetId, std::map<int64_t, absl::Time>> seen;
  WaitFor(
      [&] {
        std::shared_ptr<const StoreSnapshot> snapshot = f.store.Snapshot();
        for (const auto& [id, batch] : snapshot->batches) {
          seen[id][batch->timestamp_ms] = batch->scrape_time;
        }
        if (seen.size() < targets.size()) return false;
        for (const auto& [id, batches] : seen) {
          if (batches.size() < 5) return false;
        }
        return true;
      },
      kWait);
  ASSERT_EQ(seen.size(), targets.size());
  int early = 0;
  for (const auto& [id, batches] : seen) {
    ASSERT_GE(batches.size(), 5u) << "target " << id;
    std::optional<int64_t> first_early;
    for (const auto& [timestamp_ms, started] : batches) {
      const absl::Time ideal = absl::FromUnixMillis(timestamp_ms);
      if (started >= ideal) continue;
      ++early;
      EXPECT_LE(ideal - started, kEarly + absl::Milliseconds(1));
      if (!first_early.has_value()) first_early = timestamp_ms;
      EXPECT_EQ(
          (timestamp_ms - *first_early) % absl::ToInt64Milliseconds(kInterval),
          0)
          << "target " << id;
    }
  }
  EXPECT_GT(early, 0);
}

// Returns how many observations of the histogram family `name` were above
// `bound` (one of its bucket boundaries).
uint64_t HistogramCountAbove(Fixture& f, absl::string_view name, double bound) {
  for (const prometheus::MetricFamily& family : f.registry.Collect()) {
    if (family.name != name || family.metric.empty()) continue;
    const prometheus::ClientMetric::Histogram& h = family.metric[0].histogram;
    for (const prometheus::ClientMetric::Bucket& b : h.bucket) {
      if (b.upper_bound == bound) return h.sample_count - b.cumulative_count;
    }
  }
  return 0;
}

// The scheduling clock jumps 100 intervals (30 s) ahead, as when the process
// is stopped (SIGSTOP) or throttled for that long: the tick due then runs
// once, the 99 ticks missed meanwhile are skipped (not run in a burst), and
// the target goes on being scraped at its interval, with wall-clock
// timestamps.
TEST(ScrapeManagerTest, SkipsTheTicksMissedWhileTheClockJumpedAhead) {
  TestTarget app;
  app.Set("m 1\n");
  std::atomic<int64_t> jump_ns{0};
  Fixture f(absl::Milliseconds(1), [&jump_ns] {
    return MonotonicNow() + absl::Nanoseconds(jump_ns.load());
  });
  std::shared_ptr<const ScrapeBatch> batch = ScrapeApp(f, app);
  ASSERT_NE(batch, nullptr);
  constexpr double kLate = 10;  // Seconds; a bucket boundary.
  EXPECT_EQ(
      HistogramCountAbove(f, "fedgate_scrape_tick_lateness_seconds", kLate),
      0u);

  jump_ns.store(absl::ToInt64Nanoseconds(100 * kInterval));
  for (int i = 0; i < 3; ++i) {
    batch = NextBatch(f, app.address(), batch);
    ASSERT_NE(batch, nullptr) << "no scrape after the jump, round " << i;
    EXPECT_TRUE(HasUp(*batch, 1));
    EXPECT_LT(absl::FromUnixMillis(batch->timestamp_ms),
              absl::Now() + absl::Seconds(5))
        << "timestamps stay on the wall clock";
  }
  // Only the tick due at the jump ran that late.
  EXPECT_EQ(
      HistogramCountAbove(f, "fedgate_scrape_tick_lateness_seconds", kLate),
      1u);
}

TEST(ScrapeManagerTest, ASeriesWithTooManyLabelsFailsTheScrape) {
  std::string line = "m{";
  for (size_t i = 0; i <= InternedLabels::kMaxLabels; ++i) {
    absl::StrAppend(&line, i == 0 ? "" : ",", "l", i, "=\"v\"");
  }
  TestTarget wide;
  wide.Set(line + "} 1\n");
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {wide.address()})}).ok());
  EXPECT_EQ(WaitForDownError(f, wide.address()),
            // 4,097 exposed + __name__, job, instance.
            "series with 4100 labels, more than fedgate's limit of 4096");
}

TEST(ScrapeManagerTest, ASteadyScrapeAdoptsThePreviousBatchIndex) {
  TestTarget app;
  app.Set("a{x=\"1\"} 1\nb 2\n");
  Fixture f;
  std::shared_ptr<const ScrapeBatch> first = ScrapeApp(f, app);
  ASSERT_NE(first, nullptr);
  const BatchIndex* built = &first->Index();  // A reader builds it.
  // New values, the same series: the next batch shares the index.
  app.Set("a{x=\"1\"} 5\nb 6\n");
  std::shared_ptr<const ScrapeBatch> second = f.WaitForBatch(
      app.address(), [](const ScrapeBatch& b) { return Value(b, "a") == 5.0; });
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->index_cache.Peek().get(), built);
  EXPECT_EQ(&second->Index(), built);
  // A new series: no adoption; the index is built for the new batch.
  app.Set("a{x=\"1\"} 5\nb 6\nc 7\n");
  std::shared_ptr<const ScrapeBatch> third = f.WaitForBatch(
      app.address(), [](const ScrapeBatch& b) { return Value(b, "c") == 7.0; });
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->index_cache.Peek(), nullptr);
  EXPECT_EQ(third->Index().Positions("c").size(), 1u);
}

TEST(ScrapeManagerTest, ParamsAreSentInTheQuery) {
  TestTarget target;
  target.Set("m 1\n");
  Fixture f;
  ScrapeConfig job = Job("app", {target.address()});
  job.params = {{"module", {"a", "b"}}};
  ASSERT_TRUE(f.Apply({job}).ok());
  ASSERT_NE(f.WaitForUp(target.address(), 1), nullptr);
  std::optional<TargetStatus> status = f.Target(target.address());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->scrape_url,
            absl::StrCat(target.url(), "?module=a&module=b"));
}

TEST(ScrapeManagerTest, StopRemovesEverySeries) {
  TestTarget app;
  app.Set("m 1\n");
  TestTarget hanging;
  hanging.Set("m 1\n", 200, TestTarget::Mode::kHang);
  Fixture f;
  ASSERT_TRUE(f.Apply({Job("app", {app.address(), hanging.address()})}).ok());
  ASSERT_NE(f.WaitForUp(app.address(), 1), nullptr);
  f.manager->Stop();
  EXPECT_EQ(f.store.SeriesCount(), 0);
  EXPECT_TRUE(f.manager->Targets().empty());
  EXPECT_EQ(f.Apply({}).code(), absl::StatusCode::kFailedPrecondition);
  f.manager->Stop();  // Idempotent.
}

}  // namespace
}  // namespace fedgate
