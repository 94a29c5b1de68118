#include "scraper/scrape_scheduler.h"

#include <utility>

#include "absl/time/clock.h"

namespace fedgate {

absl::Time NextScrapeTick(absl::Time due, absl::Duration interval,
                          absl::Time now) {
  const absl::Time next = due + interval;
  if (next > now || interval <= absl::ZeroDuration() ||
      now == absl::InfiniteFuture()) {
    return next;
  }
  absl::Duration remainder;
  const int64_t missed = absl::IDivDuration(now - next, interval, &remainder);
  // Duration arithmetic saturates: no overflow for any `now`.
  return next + interval * missed + interval;
}

ScrapeScheduler::ScrapeScheduler(HttpClient* http, absl::Duration early,
                                 std::function<absl::Time()> clock)
    : http_(http),
      early_(early),
      clock_(std::move(clock)),
      wall_offset_(absl::Now() - clock_()) {
  http_->SetTimers(this);
}

ScrapeScheduler::~ScrapeScheduler() { Shutdown(); }

void ScrapeScheduler::Add(std::shared_ptr<ScrapeTicker> loop,
                          absl::Duration delay) {
  const absl::Time due = clock_() + delay;
  bool earliest;
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return;
    earliest = heap_.empty() || due < heap_.top().due;
    heap_.push(Entry{due, std::move(loop)});
  }
  if (earliest) http_->Wake();
}

void ScrapeScheduler::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
  }
  http_->SetTimers(nullptr);  // Waits for a RunDue() in progress.
  absl::MutexLock lock(&mu_);
  heap_ = {};
}

absl::Duration ScrapeScheduler::RunDue() {
  const absl::Time now = clock_();
  // The wall clock stepped (or the process stood still between the two
  // reads): ideal times follow it from here.
  if (const absl::Duration offset = absl::Now() - now;
      absl::AbsDuration(offset - wall_offset_) > kScrapeTimestampTolerance) {
    wall_offset_ = offset;
  }
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return absl::InfiniteDuration();
    // Ticks due within early_ start now: the I/O thread wakes once for
    // them all.
    while (!heap_.empty() && heap_.top().due <= now + early_) {
      due_.push_back(heap_.top());
      heap_.pop();
    }
  }
  for (Entry& entry : due_) {
    if (!entry.loop->Tick(entry.due, entry.due + wall_offset_)) {
      entry.loop = nullptr;  // Stopped: dropped.
      continue;
    }
    entry.due = NextScrapeTick(entry.due, entry.loop->interval(), clock_());
  }
  absl::MutexLock lock(&mu_);
  if (!shutting_down_) {
    for (Entry& entry : due_) {
      if (entry.loop != nullptr) heap_.push(std::move(entry));
    }
  }
  due_.clear();
  return heap_.empty() ? absl::InfiniteDuration() : heap_.top().due - clock_();
}

std::vector<std::pair<const ScrapeTicker*, absl::Duration>>
ScrapeScheduler::NextTicks() const {
  std::priority_queue<Entry> heap;
  {
    absl::MutexLock lock(&mu_);
    heap = heap_;
  }
  const absl::Time now = clock_();
  std::vector<std::pair<const ScrapeTicker*, absl::Duration>> out;
  out.reserve(heap.size());
  for (; !heap.empty(); heap.pop()) {
    out.emplace_back(heap.top().loop.get(), heap.top().due - now);
  }
  return out;
}

}  // namespace fedgate
