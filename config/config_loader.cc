#include "config/config_loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/duration.h"
#include "config/quote.h"
#include "config/relabel_config.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// Defaults of Prometheus 2.42 (config.DefaultGlobalConfig).
constexpr absl::Duration kDefaultScrapeInterval = absl::Minutes(1);
constexpr absl::Duration kDefaultScrapeTimeout = absl::Seconds(10);
constexpr absl::Duration kDefaultEvaluationInterval = absl::Minutes(1);

// `<<: *anchor` merges can nest and repeat; this caps the entries they may
// copy so that a small hostile file cannot make loading take exponential
// time. Real configurations use a few hundred at most.
constexpr int64_t kMaxMergedEntries = 100000;

constexpr absl::string_view kBom = "\xef\xbb\xbf";

// Prometheus fields that fedgate does not implement yet. They are accepted
// only when empty (null, "", [] or {}), so that no setting is ever ignored.
constexpr absl::string_view kUnsupportedTopLevelFields[] = {
    "alerting", "rule_files", "remote_write", "remote_read",         "storage",
    "tracing",  "runtime",    "otlp",         "scrape_config_files",
};
constexpr absl::string_view kUnsupportedGlobalFields[] = {
    "query_log_file",
    "body_size_limit",
    "sample_limit",
    "target_limit",
    "label_limit",
    "label_name_length_limit",
    "label_value_length_limit",
    "keep_dropped_targets",
    "scrape_protocols",
    "rule_query_offset",
    "metric_name_validation_scheme",
    "metric_name_escaping_scheme",
};
constexpr absl::string_view kUnsupportedScrapeFields[] = {
    // Scrape behaviour and limits.
    "keep_dropped_targets",
    "track_timestamps_staleness",
    "enable_compression",
    "scrape_protocols",
    "fallback_scrape_protocol",
    "scrape_classic_histograms",
    "scrape_native_histograms",
    "always_scrape_classic_histograms",
    "convert_classic_histograms_to_nhcb",
    "native_histogram_bucket_limit",
    "native_histogram_min_bucket_factor",
    "metric_name_validation_scheme",
    "metric_name_escaping_scheme",
    "extra_scrape_metrics",
    // HTTP client (prometheus/common config.HTTPClientConfig).
    "oauth2",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "http_headers",
    // Service discovery other than static_configs.
    "azure_sd_configs",
    "consul_sd_configs",
    "digitalocean_sd_configs",
    "docker_sd_configs",
    "dockerswarm_sd_configs",
    "ec2_sd_configs",
    "eureka_sd_configs",
    "gce_sd_configs",
    "hetzner_sd_configs",
    "http_sd_configs",
    "ionos_sd_configs",
    "kubernetes_sd_configs",
    "kuma_sd_configs",
    "lightsail_sd_configs",
    "linode_sd_configs",
    "marathon_sd_configs",
    "nerve_sd_configs",
    "nomad_sd_configs",
    "openstack_sd_configs",
    "ovhcloud_sd_configs",
    "puppetdb_sd_configs",
    "scaleway_sd_configs",
    "serverset_sd_configs",
    "stackit_sd_configs",
    "triton_sd_configs",
    "uyuni_sd_configs",
    "vultr_sd_configs",
};

template <size_t N>
bool Contains(const absl::string_view (&names)[N], absl::string_view name) {
  for (absl::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

// Prometheus's legacy label-name rule, `^[a-zA-Z_][a-zA-Z0-9_]*$`. Kept here
// rather than shared with merge/, because config must not depend on merge.
bool IsValidLabelName(absl::string_view name) {
  if (name.empty()) return false;
  if (!absl::ascii_isalpha(name[0]) && name[0] != '_') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// Returns the offset of the first byte of `s` that does not start a valid
// UTF-8 sequence (overlong forms, surrogates and values above U+10FFFF are
// invalid), or npos when all of `s` is valid.
size_t FirstInvalidUtf8(absl::string_view s) {
  const auto byte = [&s](size_t i) { return static_cast<uint8_t>(s[i]); };
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b0 = byte(i);
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF;  // Allowed range of the second byte.
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return i;
    for (size_t k = 2; k < n; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return i;
    }
    i += n;
  }
  return absl::string_view::npos;
}

// One unit suffix of alecthomas/units and its multiplier.
struct UnitScale {
  absl::string_view suffix;
  int64_t scale;
};

// alecthomas/units ParseUnit (what Prometheus's body_size_limit uses):
// `[-+]?([0-9]*(\.[0-9]*)?[a-zA-Z]+)+`, summed, e.g. `1KiB512B`, `1.5MB`.
template <size_t N>
absl::StatusOr<int64_t> ParseUnit(absl::string_view orig,
                                  const UnitScale (&units)[N]) {
  const auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("units: invalid ", orig));
  };
  absl::string_view s = orig;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid();
  // Go's leadingInt: digits, failing before int64 overflow.
  const auto leading_int = [](absl::string_view* rest, int64_t* x) {
    *x = 0;
    size_t i = 0;
    for (; i < rest->size() && absl::ascii_isdigit((*rest)[i]); ++i) {
      if (*x >= (std::numeric_limits<int64_t>::max() - 10) / 10) return false;
      *x = *x * 10 + ((*rest)[i] - '0');
    }
    rest->remove_prefix(i);
    return true;
  };
  double total = 0;
  while (!s.empty()) {
    if (s[0] != '.' && !absl::ascii_isdigit(s[0])) return invalid();
    int64_t x = 0;
    size_t before = s.size();
    if (!leading_int(&s, &x)) return invalid();
    double g = static_cast<double>(x);
    const bool pre = before != s.size();
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      before = s.size();
      if (!leading_int(&s, &x)) return invalid();
      double scale = 1;
      for (size_t n = before - s.size(); n > 0; --n) scale *= 10;
      g += static_cast<double>(x) / scale;
      post = before != s.size();
    }
    if (!pre && !post) return invalid();
    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !absl::ascii_isdigit(s[i])) ++i;
    const absl::string_view unit = s.substr(0, i);
    s.remove_prefix(i);
    const UnitScale* found = nullptr;
    for (const UnitScale& u : units) {
      if (u.suffix == unit) found = &u;
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("units: unknown unit ", unit, " in ", orig));
    }
    total += g * static_cast<double>(found->scale);
  }
  if (negative) total = -total;
  if (total < -9223372036854775808.0 || total >= 9223372036854775808.0) {
    return absl::InvalidArgumentError("units: overflow parsing unit");
  }
  return static_cast<int64_t>(total);
}

// Returns the 1-based line of `node`, or 0 when yaml-cpp has no position.
int LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

// Describes a node the way yaml.v2's "cannot unmarshal" errors do.
std::string KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "!!seq";
    case YAML::NodeType::Map:
      return "!!map";
    case YAML::NodeType::Scalar:
      return absl::StrCat("!!str `", node.Scalar(), "`");
    default:
      return "!!null";
  }
}

bool IsNullNode(const YAML::Node& node) {
  return node.Type() == YAML::NodeType::Null ||
         node.Type() == YAML::NodeType::Undefined;
}

// True for a node that sets nothing: null, "", [] or {}.
bool IsEmptyValue(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return node.Scalar().empty();
    case YAML::NodeType::Sequence:
    case YAML::NodeType::Map:
      return node.size() == 0;
    default:
      return true;
  }
}

bool IsMergeKey(const YAML::Node& key) {
  return key.Type() == YAML::NodeType::Scalar && key.Scalar() == "<<" &&
         (key.Tag() == "?" || key.Tag() == "tag:yaml.org,2002:merge");
}

// One key of a YAML mapping, after `<<` merges are resolved.
//
// Never assigned: YAML::Node's assignment operator does not rebind the handle
// but overwrites the node it refers to, which an alias shares with the rest
// of the document.
struct Entry {
  Entry(std::string name, int key_line, YAML::Node value)
      : name(std::move(name)), key_line(key_line), value(std::move(value)) {}
  Entry(const Entry&) = default;
  Entry(Entry&&) = default;
  Entry& operator=(const Entry&) = delete;
  Entry& operator=(Entry&&) = delete;

  std::string name;
  int key_line;
  YAML::Node value;
  bool overridden = false;  // By a later key with the same name.
};

// How repeated keys are treated, as in yaml.v2's strict mode: a struct field
// may be overridden by an explicit key after a merge, a map key never.
enum class MapKind { kStruct, kLabels };

// The keys of one mapping while it is being read.
struct EntrySet {
  std::vector<Entry> entries;
  absl::flat_hash_map<std::string, size_t> index;  // Into `entries`.
  absl::flat_hash_set<std::string> explicit_keys;  // Not from a merge.
};

// A scrape config with the positions its validation errors point at.
struct ParsedScrapeConfig {
  ScrapeConfig config;
  int job_name_line = 0;
  int timeout_line = 0;
  int scheme_line = 0;
  // The HTTP client fields as written, checked together once all are read
  // (HTTPClientConfig.Validate), and where they are.
  std::string bearer_token;
  std::string bearer_token_file;
  int bearer_token_line = 0;
  int bearer_token_file_line = 0;
  int basic_auth_line = 0;
  int authorization_line = 0;
  // The first static target that looks like a URL, and its line: an error
  // only without relabel_configs, which may rewrite `__address__`.
  std::string url_target;
  int url_target_line = 0;
};

// Which relabel list a rule is in; only the null-rule error differs.
enum class RelabelKind { kTarget, kMetric };

class Loader {
 public:
  explicit Loader(absl::string_view filename) : filename_(filename) {}

  absl::StatusOr<Config> Load(absl::string_view yaml);

 private:
  absl::Status ErrorAt(int line, absl::string_view reason) const;
  // Returns the 1-based line of `node`, or 0 if unknown. yaml-cpp gives an
  // empty (null) node the position of the next token; this corrects that.
  int NodeLine(const YAML::Node& node) const;
  // Returns the line of `entry`'s value, or of its key if that is unknown.
  int ValueLine(const Entry& entry) const;

  // Returns the keys of `map` in document order, with `<<` merges resolved
  // and repeated keys rejected as yaml.v2's strict mode does.
  absl::StatusOr<std::vector<Entry>> Entries(const YAML::Node& map,
                                             MapKind kind,
                                             absl::string_view context);
  absl::Status AddEntry(Entry entry, MapKind kind, absl::string_view context,
                        bool merged, EntrySet* set) const;
  absl::Status Merge(const YAML::Node& key, const YAML::Node& value,
                     MapKind kind, absl::string_view context, EntrySet* set);
  // Returns the error for a field the caller does not know: "not found"
  // unless `unsupported` (a Prometheus field fedgate does not implement yet),
  // which is rejected too unless its value is empty.
  absl::Status UnknownOrUnsupported(const Entry& entry,
                                    absl::string_view context,
                                    bool unsupported) const;

  absl::StatusOr<std::string> String(const Entry& entry) const;
  absl::StatusOr<bool> Bool(const Entry& entry) const;
  absl::StatusOr<absl::Duration> Duration(const Entry& entry) const;
  absl::StatusOr<std::map<std::string, std::string>> LabelSet(
      const Entry& entry);

  absl::Status ParseGlobal(const Entry& entry, GlobalConfig* global);
  absl::Status ParseScrapeConfigs(const Entry& entry,
                                  std::vector<ParsedScrapeConfig>* out);
  absl::StatusOr<ParsedScrapeConfig> ParseScrapeConfig(const YAML::Node& node);
  absl::StatusOr<std::vector<StaticConfig>> ParseStaticConfigs(
      const Entry& entry, ParsedScrapeConfig* parsed);
  absl::StatusOr<std::vector<FileSdConfig>> ParseFileSdConfigs(
      const Entry& entry);
  absl::StatusOr<std::vector<DnsSdConfig>> ParseDnsSdConfigs(
      const Entry& entry);
  // fedgate's `dedup_groups`; job names are checked against the scrape
  // configs once both are read (CheckDedupGroups).
  absl::StatusOr<std::vector<DedupGroupConfig>> ParseDedupGroups(
      const Entry& entry);
  absl::Status CheckDedupGroups(const Config& config) const;
  // Returns the items of a `*_sd_configs` list as maps, each with its line;
  // `what` names the list in errors.
  absl::StatusOr<std::vector<std::pair<int, std::vector<Entry>>>> SdConfigItems(
      const Entry& entry, absl::string_view what);
  absl::StatusOr<std::vector<std::string>> Strings(const Entry& entry) const;
  absl::StatusOr<int> Int(const Entry& entry) const;
  absl::StatusOr<std::vector<RelabelConfig>> ParseRelabelConfigs(
      const Entry& entry, RelabelKind kind);
  absl::StatusOr<RelabelConfig> ParseRelabelConfig(const YAML::Node& node,
                                                   RelabelKind kind);
  absl::StatusOr<uint64_t> Uint64(const Entry& entry,
                                  absl::string_view go_type = "uint64") const;
  absl::StatusOr<int64_t> ByteSize(const Entry& entry) const;
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> Params(
      const Entry& entry);
  absl::StatusOr<TlsConfig> ParseTlsConfig(const Entry& entry);
  absl::StatusOr<AuthorizationConfig> ParseAuthorization(const Entry& entry);
  absl::StatusOr<BasicAuthConfig> ParseBasicAuth(const Entry& entry);
  // Returns the entries of the struct-like mapping `entry` names, or an
  // error naming `go_type` if it is not a mapping.
  absl::StatusOr<std::vector<Entry>> StructEntries(const Entry& entry,
                                                   absl::string_view context);
  // Resolves `path` against the config file's directory (Prometheus's
  // config.JoinDir): "" and absolute paths are kept.
  std::string ResolvePath(const std::string& path) const;
  // HTTPClientConfig.Validate of prometheus/common, as Prometheus 2.42 runs
  // it: mutual exclusions, then bearer_token(_file) become `authorization`.
  absl::Status ValidateHttpClient(ParsedScrapeConfig* parsed) const;
  absl::Status FinishScrapeConfigs(const GlobalConfig& global,
                                   std::vector<ParsedScrapeConfig>* parsed);

  std::string filename_;
  absl::string_view text_;  // The YAML being loaded.
  int64_t merged_entries_ = 0;
};

absl::Status Loader::ErrorAt(int line, absl::string_view reason) const {
  if (line <= 0) {
    return absl::InvalidArgumentError(
        filename_.empty() ? std::string(reason)
                          : absl::StrCat(filename_, ": ", reason));
  }
  return absl::InvalidArgumentError(
      filename_.empty() ? absl::StrCat("line ", line, ": ", reason)
                        : absl::StrCat(filename_, ":", line, ": ", reason));
}

int Loader::NodeLine(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0 || mark.pos < 0) return 0;
  if (!IsNullNode(node)) return mark.line + 1;
  // yaml-cpp's marks count bytes after a UTF-8 byte order mark.
  size_t pos =
      std::min(text_.size(), static_cast<size_t>(mark.pos) +
                                 (absl::StartsWith(text_, kBom) ? 3 : 0));
  const absl::string_view at = text_.substr(pos);
  for (absl::string_view null : {"~", "null", "Null", "NULL"}) {
    if (absl::StartsWith(at, null)) return mark.line + 1;
  }
  // An empty value: the mark is at the next token, so blame the line of the
  // last character before it (the `-` or `key:`; or a comment after it).
  while (pos > 0 && absl::ascii_isspace(text_[pos - 1])) --pos;
  if (pos == 0) return mark.line + 1;
  return 1 + static_cast<int>(
                 std::count(text_.begin(), text_.begin() + (pos - 1), '\n'));
}

int Loader::ValueLine(const Entry& entry) const {
  const int line = NodeLine(entry.value);
  return line > 0 ? line : entry.key_line;
}

absl::StatusOr<std::vector<Entry>> Loader::Entries(const YAML::Node& map,
                                                   MapKind kind,
                                                   absl::string_view context) {
  EntrySet set;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    absl::Status s;
    if (IsMergeKey(key)) {
      s = Merge(key, value, kind, context, &set);
    } else if (key.IsSequence() || key.IsMap()) {
      s = ErrorAt(LineOf(key), absl::StrCat("cannot unmarshal ", KindOf(key),
                                            " into a key of ", context));
    } else {
      s = AddEntry(
          Entry(IsNullNode(key) ? "" : key.Scalar(), LineOf(key), value), kind,
          context, /*merged=*/false, &set);
    }
    if (!s.ok()) return s;
  }
  std::vector<Entry> live;
  live.reserve(set.index.size());
  for (Entry& entry : set.entries) {
    if (!entry.overridden) live.push_back(std::move(entry));
  }
  return live;
}

absl::Status Loader::AddEntry(Entry entry, MapKind kind,
                              absl::string_view context, bool merged,
                              EntrySet* set) const {
  auto [pos, inserted] =
      set->index.try_emplace(entry.name, set->entries.size());
  if (!inserted) {
    if (kind == MapKind::kLabels) {
      return ErrorAt(entry.key_line, absl::StrCat("label ", GoQuote(entry.name),
                                                  " already set in ", context));
    }
    if (!merged && set->explicit_keys.contains(entry.name)) {
      return ErrorAt(entry.key_line, absl::StrCat("field ", entry.name,
                                                  " already set in ", context));
    }
    // A merge is involved: the later key wins, as in yaml.v2.
    set->entries[pos->second].overridden = true;
    pos->second = set->entries.size();
  }
  if (!merged) set->explicit_keys.insert(entry.name);
  set->entries.push_back(std::move(entry));
  return absl::OkStatus();
}

absl::Status Loader::Merge(const YAML::Node& key, const YAML::Node& value,
                           MapKind kind, absl::string_view context,
                           EntrySet* set) {
  const auto want_map = [&] {
    return ErrorAt(LineOf(key),
                   "map merge requires map or sequence of maps as the value");
  };
  std::vector<YAML::Node> maps;
  if (value.IsMap()) {
    maps.push_back(value);
  } else if (value.IsSequence()) {
    for (const YAML::Node& item : value) {
      if (!item.IsMap()) return want_map();
      maps.push_back(item);
    }
  } else {
    return want_map();
  }
  // Earlier maps take precedence, so apply them last (as yaml.v2 does).
  for (auto it = maps.rbegin(); it != maps.rend(); ++it) {
    if ((merged_entries_ += 1 + it->size()) > kMaxMergedEntries) {
      return ErrorAt(LineOf(key),
                     absl::StrCat("YAML merge keys (<<) expand to more than ",
                                  kMaxMergedEntries, " entries"));
    }
    // A merged map is read on its own first (its own repeated keys are
    // errors), then its keys are applied as merged ones.
    absl::StatusOr<std::vector<Entry>> merged = Entries(*it, kind, context);
    if (!merged.ok()) return merged.status();
    for (Entry& entry : *merged) {
      if (absl::Status s = AddEntry(std::move(entry), kind, context,
                                    /*merged=*/true, set);
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Loader::UnknownOrUnsupported(const Entry& entry,
                                          absl::string_view context,
                                          bool unsupported) const {
  if (!unsupported) {
    return ErrorAt(entry.key_line, absl::StrCat("field ", entry.name,
                                                " not found in ", context));
  }
  if (IsEmptyValue(entry.value)) return absl::OkStatus();
  return ErrorAt(entry.key_line,
                 absl::StrCat("field ", entry.name, " in ", context,
                              " is not supported by fedgate yet"));
}

absl::StatusOr<std::string> Loader::String(const Entry& entry) const {
  if (IsNullNode(entry.value)) return std::string();
  if (!entry.value.IsScalar()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                                KindOf(entry.value), " into string"));
  }
  return entry.value.Scalar();
}

absl::StatusOr<bool> Loader::Bool(const Entry& entry) const {
  if (IsNullNode(entry.value)) return false;
  // yaml.v2 (YAML 1.1) booleans; quoted scalars are strings, not booleans.
  if (entry.value.IsScalar() && entry.value.Tag() != "!") {
    const std::string& s = entry.value.Scalar();
    for (absl::string_view t : {"true", "True", "TRUE", "yes", "Yes", "YES",
                                "y", "Y", "on", "On", "ON"}) {
      if (s == t) return true;
    }
    for (absl::string_view f : {"false", "False", "FALSE", "no", "No", "NO",
                                "n", "N", "off", "Off", "OFF"}) {
      if (s == f) return false;
    }
  }
  return ErrorAt(ValueLine(entry),
                 absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                              KindOf(entry.value), " into bool"));
}

absl::StatusOr<absl::Duration> Loader::Duration(const Entry& entry) const {
  // Null is Go's zero value, which every caller treats as "unset".
  if (IsNullNode(entry.value)) return absl::ZeroDuration();
  absl::StatusOr<std::string> s = String(entry);
  if (!s.ok()) return s.status();
  absl::StatusOr<absl::Duration> d = ParsePrometheusDuration(*s);
  if (!d.ok()) {
    return ErrorAt(ValueLine(entry), absl::StrCat("field ", entry.name, ": ",
                                                  d.status().message()));
  }
  return *d;
}

absl::StatusOr<std::map<std::string, std::string>> Loader::LabelSet(
    const Entry& entry) {
  std::map<std::string, std::string> labels;
  if (IsNullNode(entry.value)) return labels;
  if (!entry.value.IsMap()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                                KindOf(entry.value), " into a label set"));
  }
  absl::StatusOr<std::vector<Entry>> entries =
      Entries(entry.value, MapKind::kLabels, entry.name);
  if (!entries.ok()) return entries.status();
  for (const Entry& label : *entries) {
    if (!IsValidLabelName(label.name)) {
      return ErrorAt(
          label.key_line,
          absl::StrCat(GoQuote(label.name), " is not a valid label name"));
    }
    absl::StatusOr<std::string> value = String(label);
    if (!value.ok()) return value.status();
    // Values need no check: the whole file is valid UTF-8 and yaml-cpp
    // rejects escapes of invalid code points.
    labels.emplace(label.name, *std::move(value));
  }
  return labels;
}

absl::Status Loader::ParseGlobal(const Entry& entry, GlobalConfig* global) {
  *global = GlobalConfig();
  if (IsNullNode(entry.value)) return absl::OkStatus();
  if (!entry.value.IsMap()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("cannot unmarshal ", KindOf(entry.value),
                                " into global config"));
  }
  absl::StatusOr<std::vector<Entry>> entries =
      Entries(entry.value, MapKind::kStruct, "global config");
  if (!entries.ok()) return entries.status();
  absl::Duration interval, timeout, evaluation;
  int timeout_line = 0;
  for (const Entry& field : *entries) {
    absl::Status s;
    if (field.name == "scrape_interval") {
      absl::StatusOr<absl::Duration> d = Duration(field);
      s = d.status();
      if (d.ok()) interval = *d;
    } else if (field.name == "scrape_timeout") {
      absl::StatusOr<absl::Duration> d = Duration(field);
      s = d.status();
      if (d.ok()) timeout = *d;
      timeout_line = field.key_line;
    } else if (field.name == "evaluation_interval") {
      absl::StatusOr<absl::Duration> d = Duration(field);
      s = d.status();
      if (d.ok()) evaluation = *d;
    } else if (field.name == "external_labels") {
      absl::StatusOr<std::map<std::string, std::string>> labels =
          LabelSet(field);
      s = labels.status();
      if (labels.ok()) global->external_labels = *std::move(labels);
    } else {
      s = UnknownOrUnsupported(field, "global config",
                               Contains(kUnsupportedGlobalFields, field.name));
    }
    if (!s.ok()) return s;
  }
  // As GlobalConfig.UnmarshalYAML: zero means unset; the interval is settled
  // first, then the timeout (explicit or inferred) is checked against it.
  global->scrape_interval =
      interval == absl::ZeroDuration() ? kDefaultScrapeInterval : interval;
  if (timeout > global->scrape_interval) {
    return ErrorAt(timeout_line,
                   "global scrape timeout greater than scrape interval");
  }
  if (timeout == absl::ZeroDuration()) {
    timeout = std::min(kDefaultScrapeTimeout, global->scrape_interval);
  }
  global->scrape_timeout = timeout;
  global->evaluation_interval = evaluation == absl::ZeroDuration()
                                    ? kDefaultEvaluationInterval
                                    : evaluation;
  return absl::OkStatus();
}

absl::Status Loader::ParseScrapeConfigs(const Entry& entry,
                                        std::vector<ParsedScrapeConfig>* out) {
  out->clear();
  if (IsNullNode(entry.value)) return absl::OkStatus();
  if (!entry.value.IsSequence()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("field scrape_configs: cannot unmarshal ",
                                KindOf(entry.value), " into a list"));
  }
  for (const YAML::Node& item : entry.value) {
    absl::StatusOr<ParsedScrapeConfig> parsed = ParseScrapeConfig(item);
    if (!parsed.ok()) return parsed.status();
    out->push_back(*std::move(parsed));
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedScrapeConfig> Loader::ParseScrapeConfig(
    const YAML::Node& node) {
  if (IsNullNode(node)) {
    return ErrorAt(NodeLine(node), "empty or null scrape config section");
  }
  if (!node.IsMap()) {
    return ErrorAt(LineOf(node), absl::StrCat("cannot unmarshal ", KindOf(node),
                                              " into scrape config"));
  }
  ParsedScrapeConfig parsed;
  ScrapeConfig& config = parsed.config;
  config.line = LineOf(node);
  absl::StatusOr<std::vector<Entry>> entries =
      Entries(node, MapKind::kStruct, "scrape config");
  if (!entries.ok()) return entries.status();
  for (const Entry& field : *entries) {
    absl::Status s;
    if (field.name == "job_name") {
      absl::StatusOr<std::string> v = String(field);
      s = v.status();
      if (v.ok()) config.job_name = *std::move(v);
      parsed.job_name_line = field.key_line;
    } else if (field.name == "scrape_interval") {
      absl::StatusOr<absl::Duration> d = Duration(field);
      s = d.status();
      if (d.ok()) config.scrape_interval = *d;
    } else if (field.name == "scrape_timeout") {
      absl::StatusOr<absl::Duration> d = Duration(field);
      s = d.status();
      if (d.ok()) config.scrape_timeout = *d;
      parsed.timeout_line = field.key_line;
    } else if (field.name == "metrics_path") {
      absl::StatusOr<std::string> v = String(field);
      s = v.status();
      if (v.ok()) config.metrics_path = *std::move(v);
    } else if (field.name == "scheme") {
      absl::StatusOr<std::string> v = String(field);
      s = v.status();
      if (v.ok()) config.scheme = *std::move(v);
      parsed.scheme_line = field.key_line;
    } else if (field.name == "honor_labels") {
      absl::StatusOr<bool> v = Bool(field);
      s = v.status();
      if (v.ok()) config.honor_labels = *v;
    } else if (field.name == "honor_timestamps") {
      absl::StatusOr<bool> v = Bool(field);
      s = v.status();
      if (v.ok()) config.honor_timestamps = *v;
    } else if (field.name == "static_configs") {
      absl::StatusOr<std::vector<StaticConfig>> v =
          ParseStaticConfigs(field, &parsed);
      s = v.status();
      if (v.ok()) config.static_configs = *std::move(v);
    } else if (field.name == "file_sd_configs") {
      absl::StatusOr<std::vector<FileSdConfig>> v = ParseFileSdConfigs(field);
      s = v.status();
      if (v.ok()) config.file_sd_configs = *std::move(v);
    } else if (field.name == "dns_sd_configs") {
      absl::StatusOr<std::vector<DnsSdConfig>> v = ParseDnsSdConfigs(field);
      s = v.status();
      if (v.ok()) config.dns_sd_configs = *std::move(v);
    } else if (field.name == "relabel_configs") {
      absl::StatusOr<std::vector<RelabelConfig>> v =
          ParseRelabelConfigs(field, RelabelKind::kTarget);
      s = v.status();
      if (v.ok()) config.relabel_configs = *std::move(v);
    } else if (field.name == "metric_relabel_configs") {
      absl::StatusOr<std::vector<RelabelConfig>> v =
          ParseRelabelConfigs(field, RelabelKind::kMetric);
      s = v.status();
      if (v.ok()) config.metric_relabel_configs = *std::move(v);
    } else if (field.name == "params") {
      absl::StatusOr<std::map<std::string, std::vector<std::string>>> v =
          Params(field);
      s = v.status();
      if (v.ok()) config.params = *std::move(v);
    } else if (field.name == "body_size_limit") {
      absl::StatusOr<int64_t> v = ByteSize(field);
      s = v.status();
      if (v.ok()) config.body_size_limit = *v;
    } else if (field.name == "sample_limit" || field.name == "target_limit" ||
               field.name == "label_limit" ||
               field.name == "label_name_length_limit" ||
               field.name == "label_value_length_limit") {
      absl::StatusOr<uint64_t> v = Uint64(field, "uint");
      s = v.status();
      if (v.ok()) {
        uint64_t* limit = field.name == "sample_limit"   ? &config.sample_limit
                          : field.name == "target_limit" ? &config.target_limit
                          : field.name == "label_limit"  ? &config.label_limit
                          : field.name == "label_name_length_limit"
                              ? &config.label_name_length_limit
                              : &config.label_value_length_limit;
        *limit = *v;
      }
    } else if (field.name == "follow_redirects") {
      absl::StatusOr<bool> v = Bool(field);
      s = v.status();
      if (v.ok()) config.http_client.follow_redirects = *v;
    } else if (field.name == "enable_http2") {
      absl::StatusOr<bool> v = Bool(field);
      s = v.status();
      if (v.ok()) config.http_client.enable_http2 = *v;
    } else if (field.name == "proxy_url") {
      absl::StatusOr<std::string> v = String(field);
      s = v.status();
      // url.Parse's one error for a proxy-like string: no scheme before ':'.
      if (v.ok() && absl::StartsWith(*v, ":")) {
        s = ErrorAt(
            ValueLine(field),
            absl::StrCat("parse ", GoQuote(*v), ": missing protocol scheme"));
      } else if (v.ok()) {
        config.http_client.proxy_url = *std::move(v);
      }
    } else if (field.name == "tls_config") {
      absl::StatusOr<TlsConfig> v = ParseTlsConfig(field);
      s = v.status();
      if (v.ok()) config.http_client.tls_config = *std::move(v);
    } else if (field.name == "authorization") {
      config.http_client.authorization.reset();
      parsed.authorization_line = 0;
      if (!IsNullNode(field.value)) {
        absl::StatusOr<AuthorizationConfig> v = ParseAuthorization(field);
        s = v.status();
        if (v.ok()) config.http_client.authorization = *std::move(v);
        parsed.authorization_line = field.key_line;
      }
    } else if (field.name == "basic_auth") {
      config.http_client.basic_auth.reset();
      parsed.basic_auth_line = 0;
      if (!IsNullNode(field.value)) {
        absl::StatusOr<BasicAuthConfig> v = ParseBasicAuth(field);
        s = v.status();
        if (v.ok()) config.http_client.basic_auth = *std::move(v);
        parsed.basic_auth_line = field.key_line;
      }
    } else if (field.name == "bearer_token") {
      absl::StatusOr<std::string> v = String(field);
      s = v.status();
      if (v.ok()) parsed.bearer_token = *std::move(v);
      parsed.bearer_token_line = field.key_line;
    } else if (field.name == "bearer_token_file") {
      absl::StatusOr<std::string> v = String(field);
      s = v.status();
      if (v.ok()) parsed.bearer_token_file = ResolvePath(*v);
      parsed.bearer_token_file_line = field.key_line;
    } else {
      s = UnknownOrUnsupported(field, "scrape config",
                               Contains(kUnsupportedScrapeFields, field.name));
    }
    if (!s.ok()) return s;
  }

  // The checks of ScrapeConfig.UnmarshalYAML, in its order.
  if (config.job_name.empty()) {
    return ErrorAt(
        parsed.job_name_line > 0 ? parsed.job_name_line : config.line,
        "job_name is empty");
  }
  if (absl::Status s = ValidateHttpClient(&parsed); !s.ok()) return s;
  if (config.scheme != "http" && config.scheme != "https") {
    // Prometheus 2.42 accepts any scheme here and fails every scrape later.
    return ErrorAt(
        parsed.scheme_line,
        absl::StrCat("scheme ", GoQuote(config.scheme),
                     " is not supported for scrape config with job name ",
                     GoQuote(config.job_name), ": use \"http\" or \"https\""));
  }
  // checkStaticTargets: only without relabel_configs, as in Prometheus
  // (the target is checked again once relabeled).
  if (config.relabel_configs.empty() && parsed.url_target_line > 0) {
    return ErrorAt(
        parsed.url_target_line,
        absl::StrCat(GoQuote(parsed.url_target), " is not a valid hostname"));
  }
  return parsed;
}

absl::StatusOr<std::vector<StaticConfig>> Loader::ParseStaticConfigs(
    const Entry& entry, ParsedScrapeConfig* parsed) {
  std::vector<StaticConfig> groups;
  if (IsNullNode(entry.value)) return groups;
  if (!entry.value.IsSequence()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("field static_configs: cannot unmarshal ",
                                KindOf(entry.value), " into a list"));
  }
  for (const YAML::Node& item : entry.value) {
    if (IsNullNode(item)) {
      return ErrorAt(NodeLine(item), "empty or null section in static_configs");
    }
    if (!item.IsMap()) {
      return ErrorAt(LineOf(item),
                     absl::StrCat("cannot unmarshal ", KindOf(item),
                                  " into static config"));
    }
    StaticConfig group;
    group.line = LineOf(item);
    absl::StatusOr<std::vector<Entry>> entries =
        Entries(item, MapKind::kStruct, "static config");
    if (!entries.ok()) return entries.status();
    for (const Entry& field : *entries) {
      if (field.name == "targets") {
        if (IsNullNode(field.value)) continue;
        if (!field.value.IsSequence()) {
          return ErrorAt(ValueLine(field),
                         absl::StrCat("field targets: cannot unmarshal ",
                                      KindOf(field.value), " into []string"));
        }
        for (const YAML::Node& target : field.value) {
          const Entry target_entry("targets", field.key_line, target);
          absl::StatusOr<std::string> address = String(target_entry);
          if (!address.ok()) return address.status();
          // Prometheus checks for URLs at load time (checkStaticTargets,
          // when there are no relabel_configs) and for empty addresses when
          // it builds the target ("no address").
          if (address->empty()) {
            return ErrorAt(ValueLine(target_entry), "target has no address");
          }
          if (address->find('/') != std::string::npos &&
              parsed->url_target_line == 0) {
            parsed->url_target = *address;
            parsed->url_target_line = ValueLine(target_entry);
          }
          group.targets.push_back(*std::move(address));
        }
      } else if (field.name == "labels") {
        absl::StatusOr<std::map<std::string, std::string>> labels =
            LabelSet(field);
        if (!labels.ok()) return labels.status();
        group.labels = *std::move(labels);
      } else {
        return UnknownOrUnsupported(field, "static config",
                                    /*unsupported=*/false);
      }
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

absl::StatusOr<std::vector<std::pair<int, std::vector<Entry>>>>
Loader::SdConfigItems(const Entry& entry, absl::string_view what) {
  std::vector<std::pair<int, std::vector<Entry>>> items;
  if (IsNullNode(entry.value)) return items;
  if (!entry.value.IsSequence()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                                KindOf(entry.value), " into a list"));
  }
  for (const YAML::Node& item : entry.value) {
    if (IsNullNode(item)) {
      return ErrorAt(NodeLine(item),
                     absl::StrCat("empty or null section in ", entry.name));
    }
    if (!item.IsMap()) {
      return ErrorAt(LineOf(item), absl::StrCat("cannot unmarshal ",
                                                KindOf(item), " into ", what));
    }
    absl::StatusOr<std::vector<Entry>> entries =
        Entries(item, MapKind::kStruct, what);
    if (!entries.ok()) return entries.status();
    items.emplace_back(LineOf(item), *std::move(entries));
  }
  return items;
}

absl::StatusOr<std::vector<std::string>> Loader::Strings(
    const Entry& entry) const {
  std::vector<std::string> out;
  if (IsNullNode(entry.value)) return out;
  if (!entry.value.IsSequence()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                                KindOf(entry.value), " into []string"));
  }
  for (const YAML::Node& item : entry.value) {
    absl::StatusOr<std::string> s =
        String(Entry(entry.name, entry.key_line, item));
    if (!s.ok()) return s.status();
    out.push_back(*std::move(s));
  }
  return out;
}

absl::StatusOr<int> Loader::Int(const Entry& entry) const {
  if (IsNullNode(entry.value)) return 0;
  int v = 0;
  if (entry.value.IsScalar() && entry.value.Tag() != "!" &&
      absl::SimpleAtoi(entry.value.Scalar(), &v)) {
    return v;
  }
  return ErrorAt(ValueLine(entry),
                 absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                              KindOf(entry.value), " into int"));
}

namespace {

// Prometheus's patFileSDName,
// `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`: a glob only in the last
// path element, and a known extension.
bool IsValidFileSdPath(absl::string_view path) {
  const size_t star = path.find('*');
  if (star != absl::string_view::npos &&
      path.find('/', star) != absl::string_view::npos) {
    return false;
  }
  for (absl::string_view ext :
       {".json", ".yml", ".yaml", ".JSON", ".YML", ".YAML"}) {
    if (absl::EndsWith(path, ext)) {
      // The `.` of the extension must not be the star's own text.
      return star == absl::string_view::npos || star < path.size() - ext.size();
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<FileSdConfig>> Loader::ParseFileSdConfigs(
    const Entry& entry) {
  absl::StatusOr<std::vector<std::pair<int, std::vector<Entry>>>> items =
      SdConfigItems(entry, "file_sd config");
  if (!items.ok()) return items.status();
  // Relative paths are relative to the config file (Prometheus's
  // SetDirectory); a name without a directory leaves them as they are.
  const size_t slash = filename_.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "" : filename_.substr(0, slash + 1);
  std::vector<FileSdConfig> configs;
  for (const auto& [line, fields] : *items) {
    FileSdConfig config;
    config.line = line;
    int refresh_line = line;
    for (const Entry& field : fields) {
      if (field.name == "files") {
        absl::StatusOr<std::vector<std::string>> v = Strings(field);
        if (!v.ok()) return v.status();
        config.files = *std::move(v);
      } else if (field.name == "refresh_interval") {
        absl::StatusOr<absl::Duration> d = Duration(field);
        if (!d.ok()) return d.status();
        // Null keeps the default, as yaml.v2 leaves the field alone.
        if (!IsNullNode(field.value)) config.refresh_interval = *d;
        refresh_line = field.key_line;
      } else {
        return UnknownOrUnsupported(field, "file_sd config",
                                    /*unsupported=*/false);
      }
    }
    if (config.files.empty()) {
      return ErrorAt(
          line,
          "file service discovery config must contain at least one path name");
    }
    for (std::string& path : config.files) {
      if (!IsValidFileSdPath(path)) {
        return ErrorAt(line, absl::StrCat("path name ", GoQuote(path),
                                          " is not valid for file discovery"));
      }
      if (!dir.empty() && !absl::StartsWith(path, "/")) {
        path = absl::StrCat(dir, path);
      }
    }
    // Prometheus 2.42 would panic on a zero ticker; fedgate refuses it.
    if (config.refresh_interval <= absl::ZeroDuration()) {
      return ErrorAt(refresh_line, "refresh_interval must be greater than 0");
    }
    configs.push_back(std::move(config));
  }
  return configs;
}

absl::StatusOr<std::vector<DnsSdConfig>> Loader::ParseDnsSdConfigs(
    const Entry& entry) {
  absl::StatusOr<std::vector<std::pair<int, std::vector<Entry>>>> items =
      SdConfigItems(entry, "dns_sd config");
  if (!items.ok()) return items.status();
  std::vector<DnsSdConfig> configs;
  for (const auto& [line, fields] : *items) {
    DnsSdConfig config;
    config.line = line;
    int refresh_line = line;
    int type_line = line;
    for (const Entry& field : fields) {
      if (field.name == "names") {
        absl::StatusOr<std::vector<std::string>> v = Strings(field);
        if (!v.ok()) return v.status();
        config.names = *std::move(v);
      } else if (field.name == "type") {
        absl::StatusOr<std::string> v = String(field);
        if (!v.ok()) return v.status();
        config.type = *std::move(v);
        type_line = field.key_line;
      } else if (field.name == "port") {
        absl::StatusOr<int> v = Int(field);
        if (!v.ok()) return v.status();
        config.port = *v;
      } else if (field.name == "refresh_interval") {
        absl::StatusOr<absl::Duration> d = Duration(field);
        if (!d.ok()) return d.status();
        if (!IsNullNode(field.value)) config.refresh_interval = *d;
        refresh_line = field.key_line;
      } else {
        return UnknownOrUnsupported(field, "dns_sd config",
                                    /*unsupported=*/false);
      }
    }
    // The checks of dns.SDConfig.UnmarshalYAML, in its order.
    if (config.names.empty()) {
      return ErrorAt(line,
                     "DNS-SD config must contain at least one SRV record name");
    }
    const std::string type = absl::AsciiStrToUpper(config.type);
    if (type == "A" || type == "AAAA") {
      if (config.port == 0) {
        return ErrorAt(line,
                       "a port is required in DNS-SD configs for all record "
                       "types except SRV");
      }
    } else if (type != "SRV") {
      return ErrorAt(type_line,
                     absl::StrCat("invalid DNS-SD records type ", config.type));
    }
    if (config.refresh_interval <= absl::ZeroDuration()) {
      return ErrorAt(refresh_line, "refresh_interval must be greater than 0");
    }
    configs.push_back(std::move(config));
  }
  return configs;
}

absl::StatusOr<std::vector<DedupGroupConfig>> Loader::ParseDedupGroups(
    const Entry& entry) {
  absl::StatusOr<std::vector<std::pair<int, std::vector<Entry>>>> items =
      SdConfigItems(entry, "dedup group");
  if (!items.ok()) return items.status();
  std::vector<DedupGroupConfig> groups;
  for (const auto& [line, fields] : *items) {
    DedupGroupConfig group;
    group.line = line;
    auto label_names =
        [this](const Entry& field) -> absl::StatusOr<std::vector<std::string>> {
      absl::StatusOr<std::vector<std::string>> names = Strings(field);
      if (!names.ok()) return names.status();
      for (const std::string& name : *names) {
        if (!IsValidLabelName(name)) {
          return ErrorAt(
              ValueLine(field),
              absl::StrCat(GoQuote(name), " is not a valid label name"));
        }
      }
      return names;
    };
    for (const Entry& field : fields) {
      absl::Status s;
      if (field.name == "name") {
        absl::StatusOr<std::string> v = String(field);
        if (!v.ok()) return v.status();
        group.name = *std::move(v);
      } else if (field.name == "job_names") {
        absl::StatusOr<std::vector<std::string>> v = Strings(field);
        if (!v.ok()) return v.status();
        group.job_names = *std::move(v);
      } else if (field.name == "source_labels") {
        absl::StatusOr<std::vector<std::string>> v = label_names(field);
        if (!v.ok()) return v.status();
        group.source_labels = *std::move(v);
      } else if (field.name == "separator") {
        absl::StatusOr<std::string> v = String(field);
        if (!v.ok()) return v.status();
        if (!IsNullNode(field.value)) group.separator = *std::move(v);
      } else if (field.name == "regex") {
        absl::StatusOr<std::string> v = String(field);
        if (!v.ok()) return v.status();
        if (!IsNullNode(field.value)) group.regex = *std::move(v);
        if (absl::Status c = CheckRelabelRegex(group.regex); !c.ok()) {
          return ErrorAt(ValueLine(field), c.message());
        }
      } else if (field.name == "replacement") {
        absl::StatusOr<std::string> v = String(field);
        if (!v.ok()) return v.status();
        if (!IsNullNode(field.value)) group.replacement = *std::move(v);
      } else if (field.name == "replica_labels") {
        absl::StatusOr<std::vector<std::string>> v = label_names(field);
        if (!v.ok()) return v.status();
        group.replica_labels = *std::move(v);
        for (const std::string& name : group.replica_labels) {
          if (name == "__name__") {
            return ErrorAt(ValueLine(field),
                           "__name__ cannot be a replica label");
          }
        }
      } else if (field.name == "group_label") {
        absl::StatusOr<std::string> v = String(field);
        if (!v.ok()) return v.status();
        if (!IsNullNode(field.value)) group.group_label = *std::move(v);
        if (!group.group_label.empty() &&
            !IsValidLabelName(group.group_label)) {
          return ErrorAt(ValueLine(field),
                         absl::StrCat(GoQuote(group.group_label),
                                      " is not a valid label name"));
        }
        if (group.group_label == "__name__") {
          return ErrorAt(ValueLine(field), "__name__ cannot be a group label");
        }
      } else if (field.name == "leader_timeout") {
        absl::StatusOr<absl::Duration> d = Duration(field);
        if (!d.ok()) return d.status();
        group.leader_timeout = *d;
        if (group.leader_timeout < absl::ZeroDuration()) {
          return ErrorAt(ValueLine(field),
                         "leader_timeout must not be negative");
        }
      } else {
        return UnknownOrUnsupported(field, "dedup group",
                                    /*unsupported=*/false);
      }
    }
    if (group.name.empty()) {
      return ErrorAt(line, "dedup group without a name");
    }
    if (group.job_names.empty()) {
      return ErrorAt(line, absl::StrCat("dedup group ", GoQuote(group.name),
                                        " must name at least one job in "
                                        "job_names"));
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

absl::Status Loader::CheckDedupGroups(const Config& config) const {
  absl::flat_hash_map<std::string, const DedupGroupConfig*> names;
  absl::flat_hash_map<std::string, const DedupGroupConfig*> jobs;
  for (const DedupGroupConfig& group : config.dedup_groups) {
    if (!names.try_emplace(group.name, &group).second) {
      return ErrorAt(group.line, absl::StrCat("found multiple dedup groups "
                                              "with name ",
                                              GoQuote(group.name)));
    }
    for (const std::string& job : group.job_names) {
      const bool known = std::any_of(
          config.scrape_configs.begin(), config.scrape_configs.end(),
          [&job](const ScrapeConfig& c) { return c.job_name == job; });
      if (!known) {
        return ErrorAt(
            group.line,
            absl::StrCat("dedup group ", GoQuote(group.name),
                         ": no scrape config with job name ", GoQuote(job)));
      }
      auto [it, added] = jobs.try_emplace(job, &group);
      if (!added) {
        return ErrorAt(
            group.line,
            absl::StrCat("dedup group ", GoQuote(group.name), ": job ",
                         GoQuote(job), " is already in dedup group ",
                         GoQuote(it->second->name)));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Loader::Uint64(const Entry& entry,
                                        absl::string_view go_type) const {
  if (IsNullNode(entry.value)) return 0;
  if (entry.value.IsScalar() && entry.value.Tag() != "!") {
    absl::string_view s = entry.value.Scalar();
    uint64_t v = 0;
    if (absl::ConsumePrefix(&s, "0x")) {
      if (absl::SimpleHexAtoi(s, &v)) return v;
    } else if (!s.empty() && absl::ascii_isdigit(s[0]) &&
               absl::SimpleAtoi(s, &v)) {
      return v;
    }
  }
  return ErrorAt(ValueLine(entry),
                 absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                              KindOf(entry.value), " into ", go_type));
}

absl::StatusOr<int64_t> Loader::ByteSize(const Entry& entry) const {
  if (IsNullNode(entry.value)) return 0;
  absl::StatusOr<std::string> text = String(entry);
  if (!text.ok()) return text.status();
  // units.ParseBase2Bytes: IEC suffixes first, then the old KB/MB ones,
  // whose error is the one reported.
  static constexpr UnitScale kIecUnits[] = {
      {"B", 1},           {"KiB", 1LL << 10}, {"MiB", 1LL << 20},
      {"GiB", 1LL << 30}, {"TiB", 1LL << 40}, {"PiB", 1LL << 50},
      {"EiB", 1LL << 60},
  };
  static constexpr UnitScale kOldUnits[] = {
      {"B", 1},          {"KB", 1LL << 10}, {"MB", 1LL << 20},
      {"GB", 1LL << 30}, {"TB", 1LL << 40}, {"PB", 1LL << 50},
      {"EB", 1LL << 60},
  };
  if (absl::StatusOr<int64_t> n = ParseUnit(*text, kIecUnits); n.ok()) {
    return *n;
  }
  absl::StatusOr<int64_t> n = ParseUnit(*text, kOldUnits);
  if (!n.ok()) return ErrorAt(ValueLine(entry), n.status().message());
  return *n;
}

absl::StatusOr<std::map<std::string, std::vector<std::string>>> Loader::Params(
    const Entry& entry) {
  std::map<std::string, std::vector<std::string>> params;
  if (IsNullNode(entry.value)) return params;
  if (!entry.value.IsMap()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("field params: cannot unmarshal ",
                                KindOf(entry.value), " into url.Values"));
  }
  absl::StatusOr<std::vector<Entry>> entries =
      Entries(entry.value, MapKind::kLabels, "params");
  if (!entries.ok()) return entries.status();
  for (const Entry& param : *entries) {
    std::vector<std::string>& values = params[param.name];
    if (IsNullNode(param.value)) continue;
    if (!param.value.IsSequence()) {
      return ErrorAt(ValueLine(param),
                     absl::StrCat("cannot unmarshal ", KindOf(param.value),
                                  " into []string"));
    }
    for (const YAML::Node& item : param.value) {
      absl::StatusOr<std::string> value =
          String(Entry(param.name, param.key_line, item));
      if (!value.ok()) return value.status();
      values.push_back(*std::move(value));
    }
  }
  return params;
}

absl::StatusOr<std::vector<Entry>> Loader::StructEntries(
    const Entry& entry, absl::string_view context) {
  if (IsNullNode(entry.value)) return std::vector<Entry>();
  if (!entry.value.IsMap()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                                KindOf(entry.value), " into ", context));
  }
  return Entries(entry.value, MapKind::kStruct, context);
}

std::string Loader::ResolvePath(const std::string& path) const {
  if (path.empty() || path[0] == '/') return path;
  const size_t slash = filename_.rfind('/');
  if (slash == std::string::npos) return path;
  return absl::StrCat(absl::string_view(filename_).substr(0, slash + 1), path);
}

absl::StatusOr<TlsConfig> Loader::ParseTlsConfig(const Entry& entry) {
  absl::StatusOr<std::vector<Entry>> entries =
      StructEntries(entry, "tls config");
  if (!entries.ok()) return entries.status();
  TlsConfig tls;
  for (const Entry& field : *entries) {
    if (field.name == "insecure_skip_verify") {
      absl::StatusOr<bool> v = Bool(field);
      if (!v.ok()) return v.status();
      tls.insecure_skip_verify = *v;
      continue;
    }
    if (field.name != "ca_file" && field.name != "cert_file" &&
        field.name != "key_file" && field.name != "server_name" &&
        field.name != "min_version" && field.name != "max_version") {
      return UnknownOrUnsupported(field, "tls config", /*unsupported=*/false);
    }
    absl::StatusOr<std::string> v = String(field);
    if (!v.ok()) return v.status();
    if (field.name == "ca_file") {
      tls.ca_file = ResolvePath(*v);
    } else if (field.name == "cert_file") {
      tls.cert_file = ResolvePath(*v);
    } else if (field.name == "key_file") {
      tls.key_file = ResolvePath(*v);
    } else if (field.name == "server_name") {
      tls.server_name = *std::move(v);
    } else {
      uint16_t& version =
          field.name == "min_version" ? tls.min_version : tls.max_version;
      version = 0;
      if (IsNullNode(field.value)) continue;  // Go's zero value: unset.
      static constexpr std::pair<absl::string_view, uint16_t> kVersions[] = {
          {"TLS10", 0x0301},
          {"TLS11", 0x0302},
          {"TLS12", 0x0303},
          {"TLS13", 0x0304},
      };
      for (const auto& [name, number] : kVersions) {
        if (*v == name) version = number;
      }
      if (version == 0) {
        return ErrorAt(ValueLine(field),
                       absl::StrCat("unknown TLS version: ", *v));
      }
    }
  }
  // promtool's check (Prometheus itself fails every scrape instead).
  if (!tls.cert_file.empty() && tls.key_file.empty()) {
    return ErrorAt(entry.key_line,
                   absl::StrCat("client cert file ", GoQuote(tls.cert_file),
                                " specified without client key file"));
  }
  if (!tls.key_file.empty() && tls.cert_file.empty()) {
    return ErrorAt(entry.key_line,
                   absl::StrCat("client key file ", GoQuote(tls.key_file),
                                " specified without client cert file"));
  }
  return tls;
}

absl::StatusOr<AuthorizationConfig> Loader::ParseAuthorization(
    const Entry& entry) {
  absl::StatusOr<std::vector<Entry>> entries =
      StructEntries(entry, "authorization");
  if (!entries.ok()) return entries.status();
  AuthorizationConfig auth;
  auth.type.clear();  // Defaulted by ValidateHttpClient.
  for (const Entry& field : *entries) {
    if (field.name != "type" && field.name != "credentials" &&
        field.name != "credentials_file") {
      return UnknownOrUnsupported(field, "authorization",
                                  /*unsupported=*/false);
    }
    absl::StatusOr<std::string> v = String(field);
    if (!v.ok()) return v.status();
    if (field.name == "type") {
      auth.type = *std::move(v);
    } else if (field.name == "credentials") {
      auth.credentials = *std::move(v);
    } else {
      auth.credentials_file = ResolvePath(*v);
    }
  }
  return auth;
}

absl::StatusOr<BasicAuthConfig> Loader::ParseBasicAuth(const Entry& entry) {
  absl::StatusOr<std::vector<Entry>> entries =
      StructEntries(entry, "basic auth");
  if (!entries.ok()) return entries.status();
  BasicAuthConfig auth;
  for (const Entry& field : *entries) {
    if (field.name != "username" && field.name != "password" &&
        field.name != "password_file") {
      return UnknownOrUnsupported(field, "basic auth", /*unsupported=*/false);
    }
    absl::StatusOr<std::string> v = String(field);
    if (!v.ok()) return v.status();
    if (field.name == "username") {
      auth.username = *std::move(v);
    } else if (field.name == "password") {
      auth.password = *std::move(v);
    } else {
      auth.password_file = ResolvePath(*v);
    }
  }
  return auth;
}

absl::Status Loader::ValidateHttpClient(ParsedScrapeConfig* parsed) const {
  HttpClientConfig& http = parsed->config.http_client;
  const std::string& token = parsed->bearer_token;
  const std::string& token_file = parsed->bearer_token_file;
  const bool has_token = !token.empty() || !token_file.empty();
  // An error points at the later of the fields in conflict.
  const int token_line =
      std::max(token.empty() ? 0 : parsed->bearer_token_line,
               token_file.empty() ? 0 : parsed->bearer_token_file_line);
  const auto error = [&](std::initializer_list<int> lines,
                         absl::string_view reason) {
    return ErrorAt(std::max(lines), reason);
  };
  if (!token.empty() && !token_file.empty()) {
    return error({token_line},
                 "at most one of bearer_token & bearer_token_file must be "
                 "configured");
  }
  if (http.basic_auth.has_value() && has_token) {
    return error({parsed->basic_auth_line, token_line},
                 "at most one of basic_auth, oauth2, bearer_token & "
                 "bearer_token_file must be configured");
  }
  if (http.basic_auth.has_value() && !http.basic_auth->password.empty() &&
      !http.basic_auth->password_file.empty()) {
    return error({parsed->basic_auth_line},
                 "at most one of basic_auth password & password_file must be "
                 "configured");
  }
  if (http.authorization.has_value()) {
    AuthorizationConfig& auth = *http.authorization;
    if (has_token) {
      return error({parsed->authorization_line, token_line},
                   "authorization is not compatible with bearer_token & "
                   "bearer_token_file");
    }
    if (!auth.credentials.empty() && !auth.credentials_file.empty()) {
      return error({parsed->authorization_line},
                   "at most one of authorization credentials & "
                   "credentials_file must be configured");
    }
    auth.type = std::string(absl::StripAsciiWhitespace(auth.type));
    if (auth.type.empty()) auth.type = "Bearer";
    if (absl::AsciiStrToLower(auth.type) == "basic") {
      return error({parsed->authorization_line},
                   "authorization type cannot be set to \"basic\", use "
                   "\"basic_auth\" instead");
    }
    if (http.basic_auth.has_value()) {
      return error({parsed->authorization_line, parsed->basic_auth_line},
                   "at most one of basic_auth, oauth2 & authorization must be "
                   "configured");
    }
  } else if (has_token) {
    AuthorizationConfig auth;  // Type "Bearer".
    auth.credentials = token;
    auth.credentials_file = token_file;
    http.authorization = std::move(auth);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RelabelConfig>> Loader::ParseRelabelConfigs(
    const Entry& entry, RelabelKind kind) {
  std::vector<RelabelConfig> rules;
  if (IsNullNode(entry.value)) return rules;
  if (!entry.value.IsSequence()) {
    return ErrorAt(ValueLine(entry),
                   absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                                KindOf(entry.value), " into a list"));
  }
  for (const YAML::Node& item : entry.value) {
    absl::StatusOr<RelabelConfig> rule = ParseRelabelConfig(item, kind);
    if (!rule.ok()) return rule.status();
    rules.push_back(*std::move(rule));
  }
  return rules;
}

absl::StatusOr<RelabelConfig> Loader::ParseRelabelConfig(const YAML::Node& node,
                                                         RelabelKind kind) {
  if (IsNullNode(node)) {
    return ErrorAt(NodeLine(node), kind == RelabelKind::kTarget
                                       ? "empty or null target relabeling "
                                         "rule in scrape config"
                                       : "empty or null metric relabeling "
                                         "rule in scrape config");
  }
  if (!node.IsMap()) {
    return ErrorAt(LineOf(node), absl::StrCat("cannot unmarshal ", KindOf(node),
                                              " into relabel config"));
  }
  RelabelConfig rule;
  rule.line = LineOf(node);
  // What Prometheus 2.42's checks compare by identity rather than value: an
  // explicit regex (even `(.*)`) and explicit source_labels (even `[]`).
  bool regex_set = false;
  bool source_labels_set = false;
  bool action_empty = false;
  absl::StatusOr<std::vector<Entry>> entries =
      Entries(node, MapKind::kStruct, "relabel config");
  if (!entries.ok()) return entries.status();
  for (const Entry& field : *entries) {
    if (field.name == "source_labels") {
      rule.source_labels.clear();
      source_labels_set = false;
      if (IsNullNode(field.value)) continue;
      if (!field.value.IsSequence()) {
        return ErrorAt(ValueLine(field),
                       absl::StrCat("field source_labels: cannot unmarshal ",
                                    KindOf(field.value), " into a list"));
      }
      source_labels_set = true;
      for (const YAML::Node& name_node : field.value) {
        const Entry name_entry("source_labels", field.key_line, name_node);
        absl::StatusOr<std::string> name = String(name_entry);
        if (!name.ok()) return name.status();
        // A null item is "" in Prometheus and passes; any other must be a
        // label name.
        if (!IsNullNode(name_node) && !IsValidLabelName(*name)) {
          return ErrorAt(
              ValueLine(name_entry),
              absl::StrCat(GoQuote(*name), " is not a valid label name"));
        }
        rule.source_labels.push_back(*std::move(name));
      }
      continue;
    }
    if (field.name == "modulus") {
      absl::StatusOr<uint64_t> v = Uint64(field);
      if (!v.ok()) return v.status();
      rule.modulus = *v;
      continue;
    }
    if (field.name != "separator" && field.name != "regex" &&
        field.name != "target_label" && field.name != "replacement" &&
        field.name != "action") {
      return UnknownOrUnsupported(field, "relabel config",
                                  /*unsupported=*/false);
    }
    absl::StatusOr<std::string> v = String(field);
    if (!v.ok()) return v.status();
    if (field.name == "separator") {
      rule.separator = *std::move(v);
    } else if (field.name == "regex") {
      // Null is the empty regex, which matches only "".
      if (absl::Status s = CheckRelabelRegex(*v); !s.ok()) {
        return ErrorAt(ValueLine(field), s.message());
      }
      rule.regex = *std::move(v);
      regex_set = true;
    } else if (field.name == "target_label") {
      rule.target_label = *std::move(v);
    } else if (field.name == "replacement") {
      rule.replacement = *std::move(v);
    } else {  // action
      action_empty = IsNullNode(field.value);
      if (!action_empty) {
        absl::StatusOr<RelabelAction> action = ParseRelabelAction(*v);
        if (!action.ok()) {
          return ErrorAt(ValueLine(field), action.status().message());
        }
        rule.action = *action;
      }
    }
  }

  // The checks of relabel.Config.UnmarshalYAML (2.42), in its order.
  const RelabelAction a = rule.action;
  const std::string name(RelabelActionName(a));
  const RelabelConfig defaults;
  const auto error = [&](absl::string_view reason) {
    return ErrorAt(rule.line, reason);
  };
  if (action_empty) return error("relabel action cannot be empty");
  if (rule.modulus == 0 && a == RelabelAction::kHashMod) {
    return error("relabel configuration for hashmod requires non-zero modulus");
  }
  const bool needs_target =
      a == RelabelAction::kReplace || a == RelabelAction::kHashMod ||
      a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
      a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
  const bool templated_target = needs_target && a != RelabelAction::kHashMod;
  const bool no_replacement =
      a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
      a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
  if (needs_target && rule.target_label.empty()) {
    return error(absl::StrCat("relabel configuration for ", name,
                              " action requires 'target_label' value"));
  }
  if (templated_target && !IsValidRelabelTarget(rule.target_label)) {
    return error(absl::StrCat(GoQuote(rule.target_label),
                              " is invalid 'target_label' for ", name,
                              " action"));
  }
  if (no_replacement && rule.replacement != defaults.replacement) {
    return error(
        absl::StrCat("'replacement' can not be set for ", name, " action"));
  }
  if (a == RelabelAction::kLabelMap &&
      !IsValidRelabelTarget(rule.replacement)) {
    return error(absl::StrCat(GoQuote(rule.replacement),
                              " is invalid 'replacement' for ", name,
                              " action"));
  }
  if (a == RelabelAction::kHashMod && !IsValidLabelName(rule.target_label)) {
    return error(absl::StrCat(GoQuote(rule.target_label),
                              " is invalid 'target_label' for ", name,
                              " action"));
  }
  if ((a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual) &&
      (regex_set || rule.modulus != defaults.modulus ||
       rule.separator != defaults.separator ||
       rule.replacement != defaults.replacement)) {
    return error(absl::StrCat(name,
                              " action requires only 'source_labels' and "
                              "`target_label`, and no other fields"));
  }
  if ((a == RelabelAction::kLabelDrop || a == RelabelAction::kLabelKeep) &&
      (source_labels_set || rule.target_label != defaults.target_label ||
       rule.modulus != defaults.modulus ||
       rule.separator != defaults.separator ||
       rule.replacement != defaults.replacement)) {
    return error(absl::StrCat(
        name, " action requires only 'regex', and no other fields"));
  }
  return rule;
}

absl::Status Loader::FinishScrapeConfigs(
    const GlobalConfig& global, std::vector<ParsedScrapeConfig>* parsed) {
  // As Config.UnmarshalYAML: intervals and timeouts against the global ones,
  // then duplicate job names.
  absl::flat_hash_set<std::string> job_names;
  for (ParsedScrapeConfig& p : *parsed) {
    ScrapeConfig& c = p.config;
    if (c.scrape_interval == absl::ZeroDuration()) {
      c.scrape_interval = global.scrape_interval;
    }
    if (c.scrape_timeout > c.scrape_interval) {
      return ErrorAt(
          p.timeout_line,
          absl::StrCat("scrape timeout greater than scrape interval for scrape "
                       "config with job name ",
                       GoQuote(c.job_name)));
    }
    if (c.scrape_timeout == absl::ZeroDuration()) {
      c.scrape_timeout = std::min(global.scrape_timeout, c.scrape_interval);
    }
    if (!job_names.insert(c.job_name).second) {
      return ErrorAt(
          p.job_name_line,
          absl::StrCat("found multiple scrape configs with job name ",
                       GoQuote(c.job_name)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> Loader::Load(absl::string_view yaml) {
  text_ = yaml;
  if (size_t bad = FirstInvalidUtf8(yaml); bad != absl::string_view::npos) {
    const int line = 1 + static_cast<int>(std::count(yaml.begin(),
                                                     yaml.begin() + bad, '\n'));
    return ErrorAt(line,
                   absl::StrFormat("invalid YAML: invalid UTF-8 byte 0x%02x",
                                   static_cast<uint8_t>(yaml[bad])));
  }
  std::optional<YAML::Node> root;  // Emplaced: see Entry on assignment.
  try {
    root.emplace(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return ErrorAt(e.mark.line >= 0 ? e.mark.line + 1 : 0,
                   absl::StrCat("invalid YAML: ", e.msg));
  }

  Config config;
  config.source_path = filename_;
  if (IsNullNode(*root)) return config;  // Empty file: all defaults.
  if (!root->IsMap()) {
    return ErrorAt(LineOf(*root), absl::StrCat("cannot unmarshal ",
                                               KindOf(*root), " into config"));
  }
  absl::StatusOr<std::vector<Entry>> entries =
      Entries(*root, MapKind::kStruct, "config");
  if (!entries.ok()) return entries.status();
  std::vector<ParsedScrapeConfig> scrape_configs;
  for (const Entry& field : *entries) {
    absl::Status s;
    if (field.name == "global") {
      s = ParseGlobal(field, &config.global);
    } else if (field.name == "scrape_configs") {
      s = ParseScrapeConfigs(field, &scrape_configs);
    } else if (field.name == "dedup_groups") {
      absl::StatusOr<std::vector<DedupGroupConfig>> groups =
          ParseDedupGroups(field);
      if (!groups.ok()) return groups.status();
      config.dedup_groups = *std::move(groups);
    } else {
      s = UnknownOrUnsupported(
          field, "config", Contains(kUnsupportedTopLevelFields, field.name));
    }
    if (!s.ok()) return s;
  }
  if (absl::Status s = FinishScrapeConfigs(config.global, &scrape_configs);
      !s.ok()) {
    return s;
  }
  config.scrape_configs.reserve(scrape_configs.size());
  for (ParsedScrapeConfig& p : scrape_configs) {
    config.scrape_configs.push_back(std::move(p.config));
  }
  if (absl::Status s = CheckDedupGroups(config); !s.ok()) return s;
  return config;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(absl::string_view yaml,
                                   absl::string_view filename) {
  // yaml-cpp throws from parsing and from node accessors; nothing may escape.
  try {
    Loader loader(filename);
    return loader.Load(yaml);
  } catch (const YAML::Exception& e) {
    return absl::InternalError(
        absl::StrCat(filename, ": unexpected YAML error: ", e.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(filename, ": out of memory while loading the config"));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(filename, ": unexpected error: ", e.what()));
  }
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  const auto read_error = [&path](int error_number) {
    return absl::ErrnoToStatus(error_number,
                               absl::StrCat("reading config file ", path));
  };
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return read_error(errno);
  std::string contents;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error_number = errno;
      close(fd);
      return read_error(error_number);
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return ParseConfig(contents, path);
}

}  // namespace fedgate
