// gateway/web/targets_page.h
//
// GET /targets: a server-rendered HTML page of what fedgate scrapes, for
// people (/api/v1/targets is the same for programs). One collapsible section
// per job (scrape pool) with its `up/total`; per target its scrape URL,
// health, labels after relabeling, discovered labels before relabeling (on
// demand), last scrape time and duration, last error, samples scraped, its
// dedup group and whether it leads it, and the series it loses to other
// targets; the targets relabel_configs dropped, per job. A filter for
// unhealthy targets and a text filter run as a little inline JavaScript.
//
// The page loads nothing (no framework, no external asset): it works
// air-gapped. Every value on it is escaped by gateway/web/html.h; the
// Content-Security-Policy of TargetsPageHeaders() allows only the page's own
// inline <style> and <script>, by their SHA-256.
//
// Called by the HTTP server (http_server.cc) on a worker thread, once per
// page view: CollectTargetsPage makes one pass over the store snapshot
// (ComputeMergeStats, as /api/v1/targets does), RenderTargetsPage is a pure
// function of its input.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_GATEWAY_WEB_TARGETS_PAGE_H_
#define FEDGATE_GATEWAY_WEB_TARGETS_PAGE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "merge/series_store.h"
#include "scraper/target_status.h"

namespace fedgate {

inline constexpr absl::string_view kHtmlContentType =
    "text/html; charset=utf-8";

// Everything the page shows, gathered once per view.
struct TargetsPageData {
  std::vector<TargetStatus> targets;
  std::vector<DroppedTarget> dropped;
  // How each target's series fare in the merged view (absent: all served).
  absl::flat_hash_map<TargetId, MergeStats::PerTarget> merge;
  // The `scrape_samples_scraped` of each target's latest scrape (absent:
  // not scraped yet).
  absl::flat_hash_map<TargetId, int64_t> samples_scraped;
  absl::Time now = absl::UnixEpoch();  // For "12s ago".
};

// Gathers the page's data: the statuses and dropped targets as given, and
// per target the merge counts and samples scraped from `snapshot` (null:
// none).
TargetsPageData CollectTargetsPage(std::vector<TargetStatus> targets,
                                   std::vector<DroppedTarget> dropped,
                                   const StoreSnapshot* snapshot,
                                   absl::Time now);

// Returns the whole HTML5 document: jobs sorted by name, the targets and
// dropped targets of a job in the order of `data`.
std::string RenderTargetsPage(const TargetsPageData& data);

// Returns the headers the page is served with: `X-Content-Type-Options:
// nosniff`, a Content-Security-Policy that allows only the page's inline
// style and script, `Cache-Control: no-store` and `Referrer-Policy:
// no-referrer`.
std::vector<std::pair<std::string, std::string>> TargetsPageHeaders();

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WEB_TARGETS_PAGE_H_
