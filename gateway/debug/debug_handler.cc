#include "gateway/debug/debug_handler.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/debug/thread_list.h"
#include "gateway/writers/json_writer.h"
#include "merge/interned_labels.h"
#include "scraper/target_status.h"

namespace fedgate {
namespace {

constexpr absl::string_view kIndex =
    "fedgate debug endpoints (--web.enable-debug):\n"
    "\n"
    "/debug/threads  every thread: id, name, state, CPU time, role\n"
    "/debug/store    series per job, targets with the most series, the "
    "largest label sets,\n"
    "                approximate memory by structure (?limit=N, default 10)\n"
    "/debug/scrape   per target: next tick, scrape in flight, last scrape, "
    "health, last error\n";

DebugAnswer Error(int status, absl::string_view message) {
  DebugAnswer answer;
  answer.status = status;
  answer.content_type = "text/plain; charset=utf-8";
  answer.body = absl::StrCat(message, "\n");
  return answer;
}

// Writes `"key":[...]`, one object per element of `items`, whose members
// `write_members(item)` writes.
template <typename Items, typename WriteMembers>
void WriteObjects(absl::string_view key, const Items& items, JsonWriter& w,
                  WriteMembers write_members) {
  w.Key(key);
  w.BeginArray();
  for (const auto& item : items) {
    w.BeginObject();
    write_members(item);
    w.EndObject();
  }
  w.EndArray();
}

DebugAnswer Threads(const DebugSources& sources) {
  absl::StatusOr<std::vector<ThreadInfo>> threads =
      ListThreads(sources.task_dir);
  if (!threads.ok()) return Error(500, threads.status().message());
  DebugAnswer answer;
  JsonWriter w(&answer.body);
  w.BeginObject();
  WriteObjects("threads", *threads, w, [&w](const ThreadInfo& t) {
    w.Key("tid");
    w.Int(t.tid);
    w.Key("name");
    w.String(t.name);
    w.Key("state");
    w.String(absl::string_view(&t.state, 1));
    w.Key("state_name");
    w.String(ThreadStateName(t.state));
    w.Key("user_cpu_seconds");
    w.Float(t.user_cpu_seconds);
    w.Key("system_cpu_seconds");
    w.Float(t.system_cpu_seconds);
    w.Key("role");
    w.String(ThreadRole(t.name));
  });
  w.EndObject();
  return answer;
}

// Parses ?limit= (default kDebugDefaultLimit): a count from 0 to
// kDebugMaxLimit.
absl::StatusOr<size_t> Limit(
    const std::vector<std::pair<std::string, std::string>>& query) {
  size_t limit = kDebugDefaultLimit;
  for (const auto& [name, value] : query) {
    if (name != "limit") continue;
    if (!absl::SimpleAtoi(value, &limit) || limit > kDebugMaxLimit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid limit \"", value, "\": want 0 to ", kDebugMaxLimit));
    }
  }
  return limit;
}

// The job and URL of a target, for the store's target ids.
struct TargetName {
  std::string job;
  std::string url;
};

void WriteTargetName(const TargetName* name, JsonWriter& w) {
  w.Key("job");
  w.String(name != nullptr ? name->job : "");
  w.Key("url");
  w.String(name != nullptr ? name->url : "");
}

// Writes `"key":count`.
void WriteCount(absl::string_view key, size_t count, JsonWriter& w) {
  w.Key(key);
  w.Int(static_cast<int64_t>(count));
}

DebugAnswer Store(
    const DebugSources& sources,
    const std::vector<std::pair<std::string, std::string>>& query) {
  absl::StatusOr<size_t> limit = Limit(query);
  if (!limit.ok()) return Error(400, limit.status().message());
  absl::flat_hash_map<TargetId, TargetName> names;
  if (sources.schedule) {
    for (ScrapeManager::ScheduledTarget& t : sources.schedule()) {
      names[t.status.id] = TargetName{std::move(t.status.scrape_pool),
                                      std::move(t.status.scrape_url)};
    }
  }
  auto name_of = [&names](TargetId id) -> const TargetName* {
    auto it = names.find(id);
    return it == names.end() ? nullptr : &it->second;
  };
  const std::shared_ptr<const StoreSnapshot> snapshot =
      sources.store->Snapshot();
  StoreStats stats = ComputeStoreStats(*snapshot, *limit);
  const InternedLabelsStats interned = GetInternedLabelsStats();

  // Series and targets per job, most series first.
  struct Job {
    std::string job;
    size_t targets = 0;
    size_t series = 0;
  };
  absl::flat_hash_map<absl::string_view, Job> by_job;
  for (const StoreStats::PerTarget& t : stats.targets) {
    const TargetName* name = name_of(t.target);
    const absl::string_view job =
        name != nullptr ? absl::string_view(name->job) : absl::string_view();
    Job& j = by_job[job];
    j.job = std::string(job);
    ++j.targets;
    j.series += t.series;
  }
  std::vector<Job> jobs;
  for (auto& [name, job] : by_job) jobs.push_back(std::move(job));
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
    return std::tie(b.series, a.job) < std::tie(a.series, b.job);
  });
  std::stable_sort(
      stats.targets.begin(), stats.targets.end(),
      [](const StoreStats::PerTarget& a, const StoreStats::PerTarget& b) {
        return a.series > b.series;
      });

  DebugAnswer answer;
  JsonWriter w(&answer.body);
  w.BeginObject();
  WriteCount("series", snapshot->series_count, w);
  WriteCount("targets", stats.targets.size(), w);
  WriteObjects("jobs", jobs, w, [&w](const Job& job) {
    w.Key("job");
    w.String(job.job);
    WriteCount("targets", job.targets, w);
    WriteCount("series", job.series, w);
  });
  // The first `limit` targets: the ones with the most series.
  const absl::Span<const StoreStats::PerTarget> top_targets =
      absl::MakeConstSpan(stats.targets).subspan(0, *limit);
  WriteObjects("top_targets", top_targets, w,
               [&](const StoreStats::PerTarget& t) {
                 WriteTargetName(name_of(t.target), w);
                 WriteCount("series", t.series, w);
                 WriteCount("bytes", t.bytes, w);
               });
  WriteObjects("largest_label_sets", stats.largest_label_sets, w,
               [&](const StoreStats::LabelSetSize& l) {
                 w.Key("labels");
                 w.String(l.labels.ToString());
                 WriteCount("label_count", l.labels.size(), w);
                 WriteCount("label_bytes", l.label_bytes, w);
                 WriteTargetName(name_of(l.target), w);
               });
  const StoreStats::Memory& m = stats.memory;
  w.Key("memory_bytes");
  w.BeginObject();
  WriteCount("samples", m.samples_bytes, w);
  WriteCount("sample_timestamps", m.timestamps_bytes, w);
  WriteCount("metadata", m.metadata_bytes, w);
  WriteCount("batch_indexes", m.index_bytes, w);
  WriteCount("label_sets", m.label_set_bytes, w);
  WriteCount("symbols", interned.symbol_bytes, w);
  w.EndObject();
  WriteCount("label_sets", m.label_sets, w);
  WriteCount("interned_label_sets", interned.label_sets, w);
  WriteCount("interned_symbols", interned.symbols, w);
  w.EndObject();
  return answer;
}

// Writes the members of one target of /debug/scrape.
void WriteScheduledTarget(const ScrapeManager::ScheduledTarget& t,
                          absl::Time now, JsonWriter& w) {
  const TargetStatus& s = t.status;
  w.Key("job");
  w.String(s.scrape_pool);
  w.Key("url");
  w.String(s.scrape_url);
  w.Key("health");
  w.String(TargetHealthName(s.health));
  w.Key("interval_seconds");
  w.Float(absl::ToDoubleSeconds(s.scrape_interval));
  w.Key("timeout_seconds");
  w.Float(absl::ToDoubleSeconds(s.scrape_timeout));
  w.Key("in_flight");
  w.Bool(t.in_flight);
  // null while the I/O thread runs its tick.
  w.Key("next_scrape_in_seconds");
  if (t.next_tick == absl::InfiniteDuration()) {
    w.Null();
  } else {
    w.Float(absl::ToDoubleSeconds(t.next_tick));
  }
  // null before the first scrape.
  w.Key("last_scrape_seconds_ago");
  if (s.last_scrape == absl::InfinitePast()) {
    w.Null();
  } else {
    w.Float(absl::ToDoubleSeconds(now - s.last_scrape));
  }
  w.Key("last_scrape_duration_seconds");
  w.Float(absl::ToDoubleSeconds(s.last_scrape_duration));
  w.Key("last_error");
  w.String(s.last_error);
}

DebugAnswer Scrape(const DebugSources& sources) {
  std::vector<ScrapeManager::ScheduledTarget> schedule;
  if (sources.schedule) schedule = sources.schedule();
  const absl::Time now = absl::Now();
  size_t in_flight = 0;
  for (const ScrapeManager::ScheduledTarget& t : schedule) {
    if (t.in_flight) ++in_flight;
  }
  DebugAnswer answer;
  JsonWriter w(&answer.body);
  w.BeginObject();
  WriteCount("in_flight", in_flight, w);
  WriteObjects("targets", schedule, w,
               [&](const ScrapeManager::ScheduledTarget& t) {
                 WriteScheduledTarget(t, now, w);
               });
  w.EndObject();
  return answer;
}

}  // namespace

DebugAnswer ServeDebug(
    const DebugSources& sources, absl::string_view method,
    absl::string_view path,
    const std::vector<std::pair<std::string, std::string>>& query) {
  const bool index = path == "/debug" || path == "/debug/";
  if (!index && path != "/debug/threads" && path != "/debug/store" &&
      path != "/debug/scrape") {
    return Error(404, "404 page not found");
  }
  if (method != "GET" && method != "HEAD") {
    DebugAnswer answer = Error(405, "Method Not Allowed");
    answer.allow = "GET, HEAD";
    return answer;
  }
  if (index) {
    DebugAnswer answer;
    answer.content_type = "text/plain; charset=utf-8";
    answer.body = std::string(kIndex);
    return answer;
  }
  if (path == "/debug/threads") return Threads(sources);
  if (path == "/debug/store") return Store(sources, query);
  return Scrape(sources);
}

}  // namespace fedgate
