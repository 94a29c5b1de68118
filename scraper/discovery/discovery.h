// scraper/discovery/discovery.h
//
// Service discovery's common vocabulary, as Prometheus's discovery package
// has it: a TargetGroup (targets that share labels, identified by a source),
// the Discoverer interface every provider implements (static_configs,
// file_sd_configs, dns_sd_configs; later kubernetes_sd_configs), and the
// static provider. DiscoveryManager (discovery_manager.h) runs discoverers
// and hands ScrapeManager the full TargetSets whenever something changes.
//
// A discoverer is either refreshed on a timer (file, DNS) or woken by a file
// descriptor it exposes (inotify for files; a watch-based provider such as
// Kubernetes exposes an eventfd its own client signals). Either way the
// manager's loop calls Refresh(), which returns complete groups for the
// sources that may have changed; a group without targets removes its source.
//
// Not a hot path: everything here runs once per discovery event.
//
// Thread-safety: TargetGroup, InternedTargetGroup and their sets are values. A
// Discoverer is owned by one thread at a time (the manager's loop): its methods
// are not called concurrently.

#ifndef FEDGATE_SCRAPER_DISCOVERY_DISCOVERY_H_
#define FEDGATE_SCRAPER_DISCOVERY_DISCOVERY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"

namespace fedgate {

// Prometheus's targetgroup.Group: targets (each at least `__address__`)
// sharing `labels`; `source` identifies the group within its discoverer
// (`<path>:<index>` for files, the name for DNS, the index for static).
struct TargetGroup {
  std::vector<Labels> targets;
  Labels labels;
  std::string source;

  friend bool operator==(const TargetGroup& a, const TargetGroup& b) {
    return a.source == b.source && a.labels == b.labels &&
           a.targets == b.targets;
  }
  friend bool operator!=(const TargetGroup& a, const TargetGroup& b) {
    return !(a == b);
  }
};

// Every target group of every scrape config, by job name. A job of the
// configuration that has no entry (or an empty one) has no targets.
using TargetSets = std::map<std::string, std::vector<TargetGroup>>;

// Returns the discovered labels of `target` of `group`: its own labels plus
// its group's (the target's own win, as in Prometheus's TargetsFromGroup).
Labels TargetLabels(const TargetGroup& group, const Labels& target);

// Returns the discovered label sets of `groups`, in order: each target's
// labels plus its group's labels (the target's own win, as in Prometheus's
// TargetsFromGroup).
std::vector<Labels> TargetLabelsFromGroups(
    const std::vector<TargetGroup>& groups);

// A TargetGroup with its label sets interned (merge/interned_labels.h): how
// the discovery manager keeps groups and hands them to the scrape manager.
// The groups of thousands of pods share their label text (a pod's labels
// and annotations repeat in each of its targets, a workload's in each of its
// pods), and a scrape manager that reads them one target at a time never
// spells all of them out at once.
struct InternedTargetGroup {
  std::vector<InternedLabels> targets;
  InternedLabels labels;
  std::string source;

  static InternedTargetGroup Intern(const TargetGroup& group);
  TargetGroup ToTargetGroup() const;

  friend bool operator==(const InternedTargetGroup& a,
                         const InternedTargetGroup& b) {
    return a.source == b.source && a.labels == b.labels &&
           a.targets == b.targets;
  }
  friend bool operator!=(const InternedTargetGroup& a,
                         const InternedTargetGroup& b) {
    return !(a == b);
  }
};

// TargetSets, interned.
using InternedTargetSets =
    std::map<std::string, std::vector<InternedTargetGroup>>;

InternedTargetSets InternTargetSets(const TargetSets& sets);

// TargetLabels() and TargetLabelsFromGroups() of interned groups.
Labels TargetLabels(const InternedTargetGroup& group,
                    const InternedLabels& target);
std::vector<Labels> TargetLabelsFromGroups(
    const std::vector<InternedTargetGroup>& groups);

// Returns the groups of a scrape config's static_configs, in config order,
// with sources "0", "1"... as Prometheus's static provider names them.
std::vector<TargetGroup> StaticTargetGroups(const ScrapeConfig& config);

// Returns {job: StaticTargetGroups(job)} for every scrape config.
TargetSets StaticTargetSets(const Config& config);

// Reports a discovery problem that the discoverer handles itself (it keeps
// the last good targets): a message and logfmt-style fields, e.g.
// ("Error reading file", {{"path", "/sd/a.json"}, {"err", "..."}}).
using DiscoveryLogger = std::function<void(
    absl::string_view msg,
    const std::vector<std::pair<std::string, std::string>>& fields)>;

class Discoverer {
 public:
  virtual ~Discoverer() = default;

  // Returns whether Refresh() can block on the network (DNS round trips,
  // timeouts). The manager refreshes those on a separate thread so that
  // they never delay file events.
  virtual bool MayBlock() const = 0;

  // Returns a file descriptor that becomes readable when Refresh() should
  // run before NextRefresh(), or -1. It stays open while the discoverer
  // lives; Refresh() drains it.
  virtual int WatchFd() const { return -1; }

  // Returns when Refresh() is due without any event; InfinitePast() for
  // "now", InfiniteFuture() for "only on events".
  virtual absl::Time NextRefresh() const = 0;

  // Discovers at `now` and returns complete groups for every source that may
  // have changed (the first call returns all of them); a group without
  // targets removes its source's targets. A source that cannot be read
  // right now (a broken file, a failed lookup) is left out, so its last
  // good targets stay; the discoverer logs and counts that itself.
  virtual std::vector<TargetGroup> Refresh(absl::Time now) = 0;
};

// The static_configs of one scrape config as a discoverer: its first
// Refresh() returns the groups, later ones nothing.
class StaticDiscoverer : public Discoverer {
 public:
  explicit StaticDiscoverer(std::vector<TargetGroup> groups)
      : groups_(std::move(groups)) {}

  bool MayBlock() const override { return false; }
  absl::Time NextRefresh() const override {
    return done_ ? absl::InfiniteFuture() : absl::InfinitePast();
  }
  std::vector<TargetGroup> Refresh(absl::Time now) override;

 private:
  std::vector<TargetGroup> groups_;
  bool done_ = false;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_DISCOVERY_H_
