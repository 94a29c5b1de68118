#include "scraper/discovery/file_discovery.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/label_name.h"
#include "config/quote.h"
#include "scraper/scrape_target.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

std::string Kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "array";
    case YAML::NodeType::Map:
      return "object";
    case YAML::NodeType::Scalar:
      return "scalar";
    default:
      return "null";
  }
}

// One group of a file: `targets` and `labels`, nothing else.
absl::StatusOr<TargetGroup> ParseGroup(const YAML::Node& node, bool json) {
  const auto where = [&](const YAML::Node& n) {
    return json ? std::string()
                : absl::StrCat("line ", n.Mark().line + 1, ": ");
  };
  if (!node.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where(node), "cannot unmarshal ", Kind(node), " into a target group"));
  }
  TargetGroup group;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
    const YAML::Node value = it->second;
    if (key == "targets") {
      if (value.IsNull()) continue;
      if (!value.IsSequence()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(value), "cannot unmarshal ", Kind(value),
                         " into targets (a list of strings)"));
      }
      for (const YAML::Node& target : value) {
        if (!target.IsScalar()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where(target), "cannot unmarshal ", Kind(target),
                           " into a target (a string)"));
        }
        group.targets.push_back(Labels({{kAddressLabel, target.Scalar()}}));
      }
    } else if (key == "labels") {
      if (value.IsNull()) continue;
      if (!value.IsMap()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(value), "cannot unmarshal ", Kind(value),
                         " into labels (a map of strings)"));
      }
      for (auto label = value.begin(); label != value.end(); ++label) {
        const std::string name =
            label->first.IsScalar() ? label->first.Scalar() : "";
        if (!IsValidLabelName(name)) {
          return absl::InvalidArgumentError(
              absl::StrCat(where(label->first), GoQuote(name),
                           " is not a valid label name"));
        }
        if (!label->second.IsScalar() && !label->second.IsNull()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where(label->second), "cannot unmarshal ",
                           Kind(label->second), " into label ", GoQuote(name)));
        }
        group.labels.Set(name, label->second.IsScalar() ? label->second.Scalar()
                                                        : std::string());
      }
    } else if (json) {
      return absl::InvalidArgumentError(
          absl::StrCat("json: unknown field ", GoQuote(key)));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          where(it->first), "field ", key, " not found in target group"));
    }
  }
  return group;
}

}  // namespace

absl::StatusOr<std::vector<TargetGroup>> ParseFileSdContent(
    absl::string_view path, absl::string_view content) {
  const size_t dot = path.rfind('.');
  const std::string ext = absl::AsciiStrToLower(
      dot == absl::string_view::npos ? "" : path.substr(dot));
  const bool json = ext == ".json";
  if (!json && ext != ".yml" && ext != ".yaml") {
    return absl::InvalidArgumentError(
        absl::StrCat("unhandled file extension ", GoQuote(ext)));
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(content));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(json ? "invalid JSON" : "invalid YAML", " at line ",
                     e.mark.line + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(e.what());
  }
  std::vector<TargetGroup> groups;
  // An empty YAML document is an empty list (yaml.v2); JSON needs a value.
  if (root.IsNull()) {
    if (json) return absl::InvalidArgumentError("unexpected end of JSON input");
    return groups;
  }
  if (!root.IsSequence()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot unmarshal ", Kind(root), " into a list of target groups"));
  }
  for (const YAML::Node& item : root) {
    if (item.IsNull()) {
      return absl::InvalidArgumentError("nil target group item found");
    }
    absl::StatusOr<TargetGroup> group = ParseGroup(item, json);
    if (!group.ok()) return group.status();
    group->source = absl::StrCat(path, ":", groups.size());
    group->labels.Set(kFilepathLabel, path);
    groups.push_back(*std::move(group));
  }
  return groups;
}

absl::StatusOr<std::unique_ptr<FileDiscoverer>> FileDiscoverer::Create(
    const FileSdConfig& config, prometheus::Counter* read_errors,
    DiscoveryLogger log) {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create an inotify instance: ", strerror(errno)));
  }
  return std::unique_ptr<FileDiscoverer>(
      new FileDiscoverer(config, fd, read_errors, std::move(log)));
}

FileDiscoverer::FileDiscoverer(const FileSdConfig& config, int inotify_fd,
                               prometheus::Counter* read_errors,
                               DiscoveryLogger log)
    : patterns_(config.files),
      interval_(config.refresh_interval),
      inotify_fd_(inotify_fd),
      read_errors_(read_errors),
      log_(std::move(log)) {}

FileDiscoverer::~FileDiscoverer() { close(inotify_fd_); }

bool FileDiscoverer::DrainEvents() {
  alignas(inotify_event) char buffer[16384];
  bool relevant = false;
  ssize_t got;
  while ((got = read(inotify_fd_, buffer, sizeof(buffer))) > 0) {
    for (ssize_t at = 0; at < got;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += sizeof(inotify_event) + event->len;
      if (relevant) continue;
      if ((event->mask &
           (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0 ||
          event->len == 0) {
        relevant = true;
        continue;
      }
      const char* name = event->name;
      for (const std::string& pattern : patterns_) {
        const size_t slash = pattern.rfind('/');
        const std::string base =
            slash == std::string::npos ? pattern : pattern.substr(slash + 1);
        // FNM_PERIOD unset: `*` matches a leading dot, as in ListFiles.
        if (fnmatch(base.c_str(), name, 0) == 0) {
          relevant = true;
          break;
        }
      }
    }
  }
  return relevant;
}

void FileDiscoverer::WatchDirectories() {
  // Every event but attribute changes (Prometheus ignores chmod).
  constexpr uint32_t kMask = IN_CREATE | IN_DELETE | IN_MODIFY |
                             IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                             IN_DELETE_SELF | IN_MOVE_SELF;
  for (const std::string& pattern : patterns_) {
    const size_t slash = pattern.rfind('/');
    const std::string dir = slash == std::string::npos ? "./"
                            : slash == 0               ? "/"
                                         : pattern.substr(0, slash);
    // Adding an existing watch is a no-op; a missing directory is retried
    // at the next refresh.
    if (inotify_add_watch(inotify_fd_, dir.c_str(), kMask) < 0 && log_) {
      log_("Error adding file watch",
           {{"path", dir}, {"err", strerror(errno)}});
    }
  }
}

std::vector<std::string> FileDiscoverer::ListFiles() const {
  std::vector<std::string> files;
  for (const std::string& pattern : patterns_) {
    glob_t matches = {};
    // GLOB_PERIOD: `*` matches a leading dot, as Go's filepath.Glob does.
    if (glob(pattern.c_str(), GLOB_PERIOD, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) {
        files.emplace_back(matches.gl_pathv[i]);
      }
    }
    globfree(&matches);
  }
  return files;
}

std::vector<TargetGroup> FileDiscoverer::Refresh(absl::Time now) {
  // Called for a readable watch descriptor or a due refresh; unrelated
  // events change nothing (no groups: no update).
  if (!DrainEvents() && now < next_refresh_) return {};
  next_refresh_ = now + interval_;
  std::vector<TargetGroup> out;
  std::map<std::string, size_t> counts;
  for (const std::string& path : ListFiles()) {
    if (counts.count(path) > 0) continue;  // Matched by two patterns.
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    absl::StatusOr<std::vector<TargetGroup>> groups =
        in.good() || in.eof()
            ? ParseFileSdContent(path, content.str())
            : absl::StatusOr<std::vector<TargetGroup>>(absl::NotFoundError(
                  absl::StrCat("open ", path, ": ", strerror(errno))));
    if (!groups.ok()) {
      if (read_errors_ != nullptr) read_errors_->Increment();
      if (log_) {
        log_("Error reading file",
             {{"path", path}, {"err", std::string(groups.status().message())}});
      }
      // Keep the file's last good groups (no update, no deletion below).
      auto last = last_counts_.find(path);
      counts[path] = last == last_counts_.end() ? 0 : last->second;
      continue;
    }
    counts[path] = groups->size();
    for (TargetGroup& group : *groups) out.push_back(std::move(group));
  }
  // Empty groups for the sources that vanished.
  for (const auto& [path, last_count] : last_counts_) {
    auto now_count = counts.find(path);
    const size_t from = now_count == counts.end() ? 0 : now_count->second;
    for (size_t i = from; i < last_count; ++i) {
      TargetGroup gone;
      gone.source = absl::StrCat(path, ":", i);
      out.push_back(std::move(gone));
    }
  }
  last_counts_ = std::move(counts);
  WatchDirectories();
  return out;
}

}  // namespace fedgate
