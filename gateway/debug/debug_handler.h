// gateway/debug/debug_handler.h
//
// /debug/: what fedgate is doing right now, for an operator chasing a stuck
// scrape, a busy thread or a store that grows, in the spirit of Go's
// /debug/pprof. Served only with --web.enable-debug (the HTTP server asks
// this handler for paths under /debug/; without the flag they are 404 like
// any unknown path), behind the same credentials as /federate and /api/v1.
//
//   GET /debug/          the list below, as text
//   GET /debug/threads   every thread: id, name, state, CPU time, role
//   GET /debug/store     series per job, the targets with the most series,
//                        the largest label sets, approximate memory by
//                        structure (?limit=N entries per list, default 10)
//   GET /debug/scrape    per target: next tick, scrape in flight, last
//                        scrape's age and duration, health, last error
//
// Answers are JSON objects (docs/api.md has their fields). Called by the
// HTTP server on a worker thread; /debug/store makes one pass over the store
// snapshot (ComputeStoreStats, about a second per million series), the
// others are O(threads) or O(targets).
//
// Thread-safety: thread-safe (the sources are).

#ifndef FEDGATE_GATEWAY_DEBUG_DEBUG_HANDLER_H_
#define FEDGATE_GATEWAY_DEBUG_DEBUG_HANDLER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "merge/series_store.h"
#include "scraper/scrape_manager.h"

namespace fedgate {

// Where the answers come from.
struct DebugSources {
  // The store whose snapshot /debug/store describes; must outlive the
  // handler.
  const SeriesStore* store = nullptr;
  // Every target with its place in the scrape schedule
  // (ScrapeManager::Schedule()); also names the jobs and URLs of the store's
  // targets.
  std::function<std::vector<ScrapeManager::ScheduledTarget>()> schedule;
  // The directory the threads are listed from.
  std::string task_dir = "/proc/self/task";
};

// One answer.
struct DebugAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // The Allow header of a 405.
};

// The entries /debug/store lists at most by default, and at most at all
// (?limit=).
inline constexpr size_t kDebugDefaultLimit = 10;
inline constexpr size_t kDebugMaxLimit = 1000;

// Answers `method` on `path` (which starts with /debug) with `query`:
// 404 for an unknown path, 405 for a method other than GET and HEAD, 400 for
// a bad `limit`.
DebugAnswer ServeDebug(
    const DebugSources& sources, absl::string_view method,
    absl::string_view path,
    const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_DEBUG_DEBUG_HANDLER_H_
