#include "scraper/test_metric_values.h"

#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"

namespace fedgate {
namespace {

// Calls `read` with the family and series `name`{`labels`}; returns its
// result, or -1 when there is no such series.
template <typename Read>
double ReadSeries(prometheus::Registry& registry, const std::string& name,
                  const std::map<std::string, std::string>& labels,
                  const Read& read) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::map<std::string, std::string> got;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        got[label.name] = label.value;
      }
      if (got == labels) return read(family, metric);
    }
  }
  return -1;
}

}  // namespace

double MetricValue(prometheus::Registry& registry, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  return ReadSeries(
      registry, name, labels,
      [](const prometheus::MetricFamily& family,
         const prometheus::ClientMetric& metric) {
        switch (family.type) {
          case prometheus::MetricType::Counter:
            return metric.counter.value;
          case prometheus::MetricType::Gauge:
            return metric.gauge.value;
          case prometheus::MetricType::Histogram:
            return static_cast<double>(metric.histogram.sample_count);
          default:
            return metric.untyped.value;
        }
      });
}

double HistogramSum(prometheus::Registry& registry, const std::string& name,
                    const std::map<std::string, std::string>& labels) {
  return ReadSeries(registry, name, labels,
                    [](const prometheus::MetricFamily&,
                       const prometheus::ClientMetric& metric) {
                      return metric.histogram.sample_sum;
                    });
}

}  // namespace fedgate
