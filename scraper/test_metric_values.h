// scraper/test_metric_values.h
//
// Test-only: reads one series of a prometheus-cpp registry, as the tests of
// the self-metrics (scraping, discovery, serving) check them.
//
// Thread-safety: thread-safe (the registry's Collect() is).

#ifndef FEDGATE_SCRAPER_TEST_METRIC_VALUES_H_
#define FEDGATE_SCRAPER_TEST_METRIC_VALUES_H_

#include <map>
#include <string>

#include "prometheus/registry.h"

namespace fedgate {

// Returns the value of the counter or gauge, or the sample count of the
// histogram, of family `name` whose labels are exactly `labels` (`le` not
// counted); -1 when `registry` has no such series.
double MetricValue(prometheus::Registry& registry, const std::string& name,
                   const std::map<std::string, std::string>& labels);

// Returns the sample sum of that histogram series; -1 when there is none.
double HistogramSum(prometheus::Registry& registry, const std::string& name,
                    const std::map<std::string, std::string>& labels);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_TEST_METRIC_VALUES_H_
