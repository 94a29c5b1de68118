#include "scraper/scrape_metrics.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace fedgate {

absl::Status ScrapeMetrics::Register(prometheus::Registry& registry) {
  try {
    samples = &prometheus::BuildCounter()
                   .Name("fedgate_scrape_samples_total")
                   .Help(
                       "Samples parsed from scraped bodies (not counting "
                       "up and scrape_* series).")
                   .Register(registry)
                   .Add({});
    auto& scrapes =
        prometheus::BuildCounter()
            .Name("fedgate_scrapes_total")
            .Help(
                "Scrapes finished, by result: success, http_error "
                "(connect errors and non-200 answers), timeout, "
                "parse_error, limit_exceeded (sample, label, body size "
                "or target limits).")
            .Register(registry);
    success = &scrapes.Add({{"result", "success"}});
    http_error = &scrapes.Add({{"result", "http_error"}});
    timeout = &scrapes.Add({{"result", "timeout"}});
    parse_error = &scrapes.Add({{"result", "parse_error"}});
    limit_exceeded = &scrapes.Add({{"result", "limit_exceeded"}});
    duplicates = &prometheus::BuildCounter()
                      .Name("fedgate_scrape_duplicate_samples_total")
                      .Help(
                          "Samples dropped because an earlier sample of "
                          "the same scrape had the same labels (the "
                          "first value wins).")
                      .Register(registry)
                      .Add({});
    relabel_dropped =
        &prometheus::BuildCounter()
             .Name("fedgate_scrape_samples_dropped_by_relabeling_total")
             .Help(
                 "Scraped samples that metric_relabel_configs dropped (each "
                 "scrape counts its own).")
             .Register(registry)
             .Add({});
    native_histograms =
        &prometheus::BuildCounter()
             .Name("fedgate_scrape_native_histograms_flattened_total")
             .Help(
                 "Native histograms in protobuf scrapes kept only as their "
                 "_count, _sum and classic buckets (their exponential "
                 "buckets are dropped).")
             .Register(registry)
             .Add({});
    missed_ticks = &prometheus::BuildCounter()
                        .Name("fedgate_scrape_missed_ticks_total")
                        .Help(
                            "Scrapes not started because the target's "
                            "previous scrape was still running.")
                        .Register(registry)
                        .Add({});
    tick_lateness =
        &prometheus::BuildHistogram()
             .Name("fedgate_scrape_tick_lateness_seconds")
             .Help(
                 "How late each scrape tick started after its scheduled "
                 "time (drift from the schedule).")
             .Register(registry)
             .Add({}, prometheus::Histogram::BucketBoundaries{
                          0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1,
                          0.25, 0.5, 1, 2.5, 5, 10});
    body_bytes = &prometheus::BuildCounter()
                      .Name("fedgate_scrape_body_bytes_total")
                      .Help("Bytes of scraped bodies, after decompression.")
                      .Register(registry)
                      .Add({});
    connections = &prometheus::BuildCounter()
                       .Name("fedgate_scrape_connections_opened_total")
                       .Help(
                           "Connections opened to targets (kept-alive "
                           "connections are reused between scrapes).")
                       .Register(registry)
                       .Add({});
    targets = &prometheus::BuildGauge()
                   .Name("fedgate_scrape_targets")
                   .Help("Targets being scraped.")
                   .Register(registry)
                   .Add({});
    dropped_targets = &prometheus::BuildGauge()
                           .Name("fedgate_scrape_dropped_targets")
                           .Help("Targets that relabel_configs dropped.")
                           .Register(registry)
                           .Add({});
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("registering scrape metrics: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace fedgate
