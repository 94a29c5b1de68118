#include "scraper/scrape_metrics.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "scraper/test_metric_values.h"

namespace fedgate {
namespace {

bool HasFamily(prometheus::Registry& registry, const std::string& name) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name == name) return true;
  }
  return false;
}

TEST(ScrapeMetricsTest, RegisterCreatesEveryFamily) {
  prometheus::Registry registry;
  ScrapeMetrics metrics;
  ASSERT_TRUE(metrics.Register(registry).ok());
  EXPECT_NE(metrics.tick_lateness, nullptr);
  EXPECT_NE(metrics.dropped_targets, nullptr);
  for (const char* name :
       {"fedgate_scrape_samples_total", "fedgate_scrapes_total",
        "fedgate_scrape_duplicate_samples_total",
        "fedgate_scrape_samples_dropped_by_relabeling_total",
        "fedgate_scrape_native_histograms_flattened_total",
        "fedgate_scrape_missed_ticks_total",
        "fedgate_scrape_tick_lateness_seconds",
        "fedgate_scrape_body_bytes_total",
        "fedgate_scrape_connections_opened_total", "fedgate_scrape_targets",
        "fedgate_scrape_dropped_targets"}) {
    EXPECT_TRUE(HasFamily(registry, name)) << name;
  }
}

TEST(ScrapeMetricsTest, ResultsAreLabelsOfOneFamily) {
  prometheus::Registry registry;
  ScrapeMetrics metrics;
  ASSERT_TRUE(metrics.Register(registry).ok());
  metrics.success->Increment();
  metrics.timeout->Increment(2);
  EXPECT_EQ(metrics.success->Value(), 1);
  EXPECT_EQ(metrics.timeout->Value(), 2);
  EXPECT_EQ(metrics.http_error->Value(), 0);
}

TEST(ScrapeMetricsTest, NameTakenByAnotherTypeIsInternal) {
  prometheus::Registry registry;
  prometheus::BuildGauge()
      .Name("fedgate_scrapes_total")
      .Help("taken")
      .Register(registry);
  ScrapeMetrics metrics;
  const absl::Status s = metrics.Register(registry);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(s.message().find("registering scrape metrics"),
            absl::string_view::npos)
      << s;
}

TEST(ScrapeMetricsTest, ForJobSharesChildrenUntilTheLastHolderLetsGo) {
  const std::string kTargets = "fedgate_scrape_pool_targets";
  prometheus::Registry registry;
  ScrapeMetrics metrics;
  ASSERT_TRUE(metrics.Register(registry).ok());
  std::shared_ptr<const JobScrapeMetrics> a = metrics.ForJob("node");
  std::shared_ptr<const JobScrapeMetrics> b = metrics.ForJob("node");
  EXPECT_EQ(a, b);
  a->Targets(TargetHealth::kUp).Increment();
  EXPECT_EQ(MetricValue(registry, kTargets,
                        {{"scrape_job", "node"}, {"health", "up"}}),
            1);
  EXPECT_EQ(MetricValue(registry, kTargets,
                        {{"scrape_job", "node"}, {"health", "down"}}),
            0);
  EXPECT_TRUE(HasFamily(registry, "fedgate_scrape_duration_seconds"));
  EXPECT_TRUE(HasFamily(registry, "fedgate_scrape_failures_total"));
  a.reset();
  EXPECT_EQ(MetricValue(registry, kTargets,
                        {{"scrape_job", "node"}, {"health", "up"}}),
            1);
  b.reset();  // The last holder: the job's series leave.
  EXPECT_EQ(MetricValue(registry, kTargets,
                        {{"scrape_job", "node"}, {"health", "up"}}),
            -1);
  EXPECT_FALSE(HasFamily(registry, "fedgate_scrape_failures_total"));
  // The job again: new series from 0.
  std::shared_ptr<const JobScrapeMetrics> c = metrics.ForJob("node");
  EXPECT_EQ(MetricValue(registry, kTargets,
                        {{"scrape_job", "node"}, {"health", "up"}}),
            0);
}

}  // namespace
}  // namespace fedgate
