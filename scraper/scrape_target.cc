#include "scraper/scrape_target.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/duration.h"
#include "config/quote.h"
#include "config/utf8.h"

namespace fedgate {
namespace {

constexpr absl::string_view kExportedLabelPrefix = "exported_";

// FNV-1a 64, as Go's hash/fnv New64a.
constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Fnv1a64(uint64_t h, absl::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

// XXH64 with seed 0 (github.com/cespare/xxhash, which Prometheus's
// labels.Hash uses). Written out because Debian ships libxxhash without a
// -dev package; it runs once per target, so plainness beats speed here.
constexpr uint64_t kXxPrime1 = 11400714785074694791ULL;
constexpr uint64_t kXxPrime2 = 14029467366897019727ULL;
constexpr uint64_t kXxPrime3 = 1609587929392839161ULL;
constexpr uint64_t kXxPrime4 = 9650029242287828579ULL;
constexpr uint64_t kXxPrime5 = 2870177450012600261ULL;

uint64_t RotateLeft(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));  // Little-endian hosts only (x86, arm64).
  return v;
}

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint64_t XxRound(uint64_t acc, uint64_t input) {
  acc += input * kXxPrime2;
  acc = RotateLeft(acc, 31);
  return acc * kXxPrime1;
}

uint64_t XxMergeRound(uint64_t acc, uint64_t val) {
  acc ^= XxRound(0, val);
  return acc * kXxPrime1 + kXxPrime4;
}

uint64_t XxHash64(absl::string_view data) {
  const char* p = data.data();
  const char* const end = p + data.size();
  uint64_t h;
  if (data.size() >= 32) {
    uint64_t v1 = kXxPrime1 + kXxPrime2;
    uint64_t v2 = kXxPrime2;
    uint64_t v3 = 0;
    uint64_t v4 = 0 - kXxPrime1;
    for (; end - p >= 32; p += 32) {
      v1 = XxRound(v1, Load64(p));
      v2 = XxRound(v2, Load64(p + 8));
      v3 = XxRound(v3, Load64(p + 16));
      v4 = XxRound(v4, Load64(p + 24));
    }
    h = RotateLeft(v1, 1) + RotateLeft(v2, 7) + RotateLeft(v3, 12) +
        RotateLeft(v4, 18);
    h = XxMergeRound(h, v1);
    h = XxMergeRound(h, v2);
    h = XxMergeRound(h, v3);
    h = XxMergeRound(h, v4);
  } else {
    h = kXxPrime5;
  }
  h += data.size();
  for (; end - p >= 8; p += 8) {
    h ^= XxRound(0, Load64(p));
    h = RotateLeft(h, 27) * kXxPrime1 + kXxPrime4;
  }
  if (end - p >= 4) {
    h ^= static_cast<uint64_t>(Load32(p)) * kXxPrime1;
    h = RotateLeft(h, 23) * kXxPrime2 + kXxPrime3;
    p += 4;
  }
  for (; p < end; ++p) {
    h ^= static_cast<uint64_t>(static_cast<unsigned char>(*p)) * kXxPrime5;
    h = RotateLeft(h, 11) * kXxPrime1;
  }
  h ^= h >> 33;
  h *= kXxPrime2;
  h ^= h >> 29;
  h *= kXxPrime3;
  h ^= h >> 32;
  return h;
}

// Prometheus's labels.Hash: xxhash64 over `name 0xff value 0xff` per label.
uint64_t LabelsHash(const Labels& labels) {
  std::string buf;
  for (const Label& l : labels) {
    absl::StrAppend(&buf, l.name, "\xff", l.value, "\xff");
  }
  return XxHash64(buf);
}

// Returns whether Go's net.SplitHostPort accepts `s` (host:port, [v6]:port).
bool GoSplitsHostPort(absl::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == absl::string_view::npos) return false;
  size_t j = 0;
  size_t k = 0;
  if (!s.empty() && s[0] == '[') {
    const size_t end = s.find(']');
    if (end == absl::string_view::npos) return false;
    if (end + 1 != colon) return false;  // Missing port or too many colons.
    j = 1;
    k = end + 1;
  } else if (s.substr(0, colon).find(':') != absl::string_view::npos) {
    return false;  // Too many colons.
  }
  if (s.substr(j).find('[') != absl::string_view::npos) return false;
  if (s.substr(k).find(']') != absl::string_view::npos) return false;
  return true;
}

// Go's url.QueryEscape.
std::string QueryEscape(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

// Target.URL(): scheme://address/path?query. The query holds the config's
// params, where each `__param_<name>` label replaces the first value of its
// name (or adds the name), encoded as Go's url.Values.Encode (sorted by
// name, values in order).
std::string BuildUrl(
    const Labels& labels,
    const std::map<std::string, std::vector<std::string>>& params) {
  std::string url =
      absl::StrCat(labels.Get(kSchemeLabel), "://", labels.Get(kAddressLabel));
  const absl::string_view path = labels.Get(kMetricsPathLabel);
  if (!path.empty() && path[0] != '/') url += '/';
  url.append(path.data(), path.size());
  std::map<std::string, std::vector<std::string>> query = params;
  for (const Label& l : labels) {
    if (!absl::StartsWith(l.name, kParamLabelPrefix)) continue;
    std::vector<std::string>& values =
        query[std::string(l.name.substr(kParamLabelPrefix.size()))];
    if (values.empty()) {
      values.emplace_back(l.value);
    } else {
      values[0] = std::string(l.value);
    }
  }
  char separator = '?';
  for (const auto& [name, values] : query) {
    for (const std::string& value : values) {
      absl::StrAppend(&url, absl::string_view(&separator, 1), QueryEscape(name),
                      "=", QueryEscape(value));
      separator = '&';
    }
  }
  return url;
}

// Parses the scrape `what` ("interval" or "timeout") of a target's labels
// with Prometheus's messages; 0 is refused.
absl::StatusOr<absl::Duration> ParseScrapeDuration(absl::string_view text,
                                                   absl::string_view what) {
  absl::StatusOr<absl::Duration> d = ParsePrometheusDuration(text);
  if (!d.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "error parsing scrape ", what, ": ", d.status().message()));
  }
  if (*d == absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("scrape ", what, " cannot be 0"));
  }
  return d;
}

}  // namespace

std::vector<Labels> StaticTargetLabels(const ScrapeConfig& config) {
  std::vector<Labels> out;
  for (const StaticConfig& group : config.static_configs) {
    for (const std::string& address : group.targets) {
      Labels labels({{kAddressLabel, address}});
      for (const auto& [name, value] : group.labels) {
        if (name != kAddressLabel) labels.Set(name, value);
      }
      out.push_back(std::move(labels));
    }
  }
  return out;
}

uint64_t ScrapeJitterSeed(
    absl::string_view hostname,
    const std::map<std::string, std::string>& external_labels) {
  std::string s(hostname);
  s += '{';
  bool first = true;
  for (const auto& [name, value] : external_labels) {
    if (value.empty()) continue;  // Not a label, as in Labels.
    if (!first) s += ", ";
    first = false;
    absl::StrAppend(&s, name, "=", GoQuote(value));
  }
  s += '}';
  return Fnv1a64(kFnvOffset, s);
}

absl::StatusOr<ScrapeTarget> ScrapeTarget::Create(Labels discovered,
                                                  const ScrapeConfig& config) {
  absl::StatusOr<RelabelChain> relabel =
      RelabelChain::Compile(config.relabel_configs);
  if (!relabel.ok()) return relabel.status();
  return Create(std::move(discovered), config, *relabel);
}

absl::StatusOr<ScrapeTarget> ScrapeTarget::Create(Labels discovered,
                                                  const ScrapeConfig& config,
                                                  const RelabelChain& relabel) {
  // 1-2. The scrape config's settings, where the target does not set them.
  const std::pair<absl::string_view, std::string> defaults[] = {
      {kJobLabel, config.job_name},
      {kScrapeIntervalLabel, FormatPrometheusDuration(config.scrape_interval)},
      {kScrapeTimeoutLabel, FormatPrometheusDuration(config.scrape_timeout)},
      {kMetricsPathLabel, config.metrics_path},
      {kSchemeLabel, config.scheme},
  };
  for (const auto& [name, value] : defaults) {
    if (!discovered.Has(name)) discovered.Set(name, value);
  }
  // 3. Config params: each name's first value as `__param_<name>`, set
  // even over the target's own label (2.42; 3.x keeps the target's).
  for (const auto& [name, values] : config.params) {
    if (!values.empty()) {
      discovered.Set(absl::StrCat(kParamLabelPrefix, name), values[0]);
    }
  }
  // Kept interned (the label text of a pod's targets is shared).
  if (discovered.size() > InternedLabels::kMaxLabels) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", InternedLabels::kMaxLabels, " labels"));
  }
  // 4. relabel_configs; a dropped target keeps its labels from before.
  Labels labels = discovered;
  if (!relabel.Apply(&labels)) {
    ScrapeTarget target;
    target.scrape_pool_ = config.job_name;
    target.discovered_labels_ = InternedLabels::Intern(discovered);
    target.dropped_ = true;
    return target;
  }

  // 5-6. The address: present, with a port (2.42's default ports), no '/'.
  std::string address(labels.Get(kAddressLabel));
  if (address.empty()) return absl::InvalidArgumentError("no address");
  if (!GoSplitsHostPort(address) &&
      GoSplitsHostPort(absl::StrCat(address, ":1234"))) {
    const absl::string_view scheme = labels.Get(kSchemeLabel);
    if (scheme == "http" || scheme.empty()) {
      address += ":80";
    } else if (scheme == "https") {
      address += ":443";
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid scheme: ", GoQuote(config.scheme)));
    }
    labels.Set(kAddressLabel, address);
  }
  if (absl::StrContains(address, '/')) {
    return absl::InvalidArgumentError(
        absl::StrCat(GoQuote(address), " is not a valid hostname"));
  }

  // 7. Interval and timeout, from the labels (a target may override them).
  const absl::string_view interval_text = labels.Get(kScrapeIntervalLabel);
  absl::StatusOr<absl::Duration> interval =
      ParseScrapeDuration(interval_text, "interval");
  if (!interval.ok()) return interval.status();
  const absl::string_view timeout_text = labels.Get(kScrapeTimeoutLabel);
  absl::StatusOr<absl::Duration> timeout =
      ParseScrapeDuration(timeout_text, "timeout");
  if (!timeout.ok()) return timeout.status();
  if (*timeout > *interval) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scrape timeout cannot be greater than scrape interval (",
        GoQuote(timeout_text), " > ", GoQuote(interval_text), ")"));
  }

  // 8-9. No `__meta_*` labels; `instance` defaults to the address. Built
  // at its final size: the target keeps these labels as long as it lives,
  // and a discovered pod's target had dozens of `__meta_*` labels.
  const auto is_meta = [](const Label& l) {
    return absl::StartsWith(l.name, kMetaLabelPrefix);
  };
  std::vector<Label> items;
  items.reserve(labels.size() + 1 -
                std::count_if(labels.begin(), labels.end(), is_meta));
  for (const Label& l : labels) {
    if (!is_meta(l)) items.push_back(l);
  }
  if (!labels.Has(kInstanceLabel)) {
    items.push_back(Label{std::string(kInstanceLabel), address});
  }
  labels = Labels(std::move(items));

  // 10. Valid UTF-8 values only.
  for (const Label& l : labels) {
    if (!IsValidUtf8(l.value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid label value for ", GoQuote(l.name), ": ", GoQuote(l.value)));
    }
  }

  ScrapeTarget target;
  target.scrape_pool_ = config.job_name;
  target.discovered_labels_ = InternedLabels::Intern(discovered);
  std::vector<Label> public_labels;
  for (const Label& l : labels) {
    if (!absl::StartsWith(l.name, "__")) public_labels.push_back(l);
  }
  target.public_labels_ = Labels(std::move(public_labels));
  target.url_ = BuildUrl(labels, config.params);
  target.interval_ = *interval;
  target.timeout_ = *timeout;
  target.honor_labels_ = config.honor_labels;
  target.honor_timestamps_ = config.honor_timestamps;
  target.hash_ =
      Fnv1a64(Fnv1a64(kFnvOffset, absl::StrFormat("%016d", LabelsHash(labels))),
              target.url_);
  target.labels_ = std::move(labels);
  return target;
}

absl::Duration ScrapeTarget::FirstScrapeDelay(absl::Time now,
                                              uint64_t jitter_seed) const {
  // Target.offset() of Prometheus, in nanoseconds as there.
  const int64_t interval = absl::ToInt64Nanoseconds(interval_);
  const int64_t now_ns = absl::ToUnixNanos(now);
  const int64_t base = interval - now_ns % interval;
  const int64_t offset = static_cast<int64_t>((hash_ ^ jitter_seed) %
                                              static_cast<uint64_t>(interval));
  int64_t next = base + offset;
  if (next > interval) next -= interval;
  return absl::Nanoseconds(next);
}

Labels ScrapeTarget::SeriesLabels(std::vector<Label> exposed) const {
  if (honor_labels_) {
    // Prometheus's lset.Has(): a label exposed with an empty value is there,
    // so the target's label is not attached, and the empty label is then
    // dropped: `instance=""` is how a target says "no instance".
    const size_t exposed_count = exposed.size();
    for (const Label& l : public_labels_) {
      const auto exposed_end = exposed.begin() + exposed_count;
      if (std::none_of(exposed.begin(), exposed_end,
                       [&l](const Label& e) { return e.name == l.name; })) {
        exposed.push_back(l);
      }
    }
    return Labels(std::move(exposed));
  }
  Labels series(std::move(exposed));
  const Labels exposed_labels = series;
  std::vector<Label> conflicts;
  for (const Label& l : public_labels_) {
    const absl::string_view exposed_value = exposed_labels.Get(l.name);
    if (!exposed_value.empty()) {
      conflicts.push_back(Label{l.name, std::string(exposed_value)});
    }
    series.Set(l.name, l.value);
  }
  if (conflicts.empty()) return series;
  // resolveConflictingExposedLabels: shortest names first, and a new name
  // must be free in the exposed set, the target labels and earlier renames.
  std::stable_sort(conflicts.begin(), conflicts.end(),
                   [](const Label& a, const Label& b) {
                     return a.name.size() < b.name.size();
                   });
  for (size_t i = 0; i < conflicts.size(); ++i) {
    std::string name = conflicts[i].name;
    while (true) {
      name = absl::StrCat(kExportedLabelPrefix, name);
      const bool taken_earlier =
          std::any_of(conflicts.begin(), conflicts.begin() + i,
                      [&name](const Label& l) { return l.name == name; });
      if (!exposed_labels.Has(name) && !public_labels_.Has(name) &&
          !taken_earlier) {
        break;
      }
    }
    conflicts[i].name = std::move(name);
  }
  for (const Label& l : conflicts) series.Set(l.name, l.value);
  return series;
}

Labels ScrapeTarget::ReportLabels(absl::string_view metric_name) const {
  Labels labels = public_labels_;
  labels.Set(kMetricNameLabel, metric_name);
  return labels;
}

}  // namespace fedgate
