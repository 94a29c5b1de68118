// scraper/discovery/file_discovery.h
//
// file_sd_configs (Prometheus 2.42 discovery/file): target groups read from
// JSON or YAML files named by paths whose last element may be a glob,
// `[{"targets": ["host:port", ...], "labels": {"k": "v"}}, ...]`. Each group
// gets `__meta_filepath` (the path as globbed) and the source
// `<path>:<index>`.
//
// The directories of the patterns are watched with inotify (WatchFd()); any
// event re-reads every matching file, and so does refresh_interval, as
// Prometheus does with fsnotify plus its ticker. A file that cannot be read
// or parsed keeps its last good groups; it is logged ("Error reading file",
// path, err) and counted in `read_errors`. A file that is gone, or now has
// fewer groups, yields empty groups for the vanished sources.
//
// Called by DiscoveryManager's watch loop; not a hot path.
//
// Thread-safety: owned by one thread at a time (see Discoverer).

#ifndef FEDGATE_SCRAPER_DISCOVERY_FILE_DISCOVERY_H_
#define FEDGATE_SCRAPER_DISCOVERY_FILE_DISCOVERY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "prometheus/counter.h"
#include "scraper/discovery/discovery.h"

namespace fedgate {

inline constexpr absl::string_view kFilepathLabel = "__meta_filepath";

// Parses the content of a file_sd file named `path` (the extension picks
// JSON or YAML, case-insensitively) into groups with `__meta_filepath` and
// sources `<path>:<index>`. InvalidArgument with Prometheus's wording where
// it has one: `nil target group item found`,
// `"0a" is not a valid label name`, `json: unknown field "bogus"`.
absl::StatusOr<std::vector<TargetGroup>> ParseFileSdContent(
    absl::string_view path, absl::string_view content);

class FileDiscoverer : public Discoverer {
 public:
  // Creates the inotify instance (watches are added at each Refresh(), so
  // a directory created later is picked up). `read_errors` may be null.
  // Internal if inotify is not available.
  static absl::StatusOr<std::unique_ptr<FileDiscoverer>> Create(
      const FileSdConfig& config, prometheus::Counter* read_errors,
      DiscoveryLogger log);
  ~FileDiscoverer() override;

  bool MayBlock() const override { return false; }
  int WatchFd() const override { return inotify_fd_; }
  absl::Time NextRefresh() const override { return next_refresh_; }
  std::vector<TargetGroup> Refresh(absl::Time now) override;

 private:
  FileDiscoverer(const FileSdConfig& config, int inotify_fd,
                 prometheus::Counter* read_errors, DiscoveryLogger log);
  // Reads the pending inotify events; returns whether one concerns a file
  // the patterns match (or a watched directory itself, or the queue
  // overflowed), which means a re-read. Events for other files in the same
  // directories are ignored: otherwise a log file written next to the
  // targets file, on every read error, would make a busy loop.
  bool DrainEvents();
  void WatchDirectories();
  std::vector<std::string> ListFiles() const;

  const std::vector<std::string> patterns_;
  const absl::Duration interval_;
  const int inotify_fd_;
  prometheus::Counter* const read_errors_;
  const DiscoveryLogger log_;
  absl::Time next_refresh_ = absl::InfinitePast();
  // Files read at the last refresh and their group counts (Prometheus's
  // lastRefresh), to send empty groups for vanished sources.
  std::map<std::string, size_t> last_counts_;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_FILE_DISCOVERY_H_
