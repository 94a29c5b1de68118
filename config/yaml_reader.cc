#include "config/yaml_reader.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
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
#include "config/duration.h"
#include "config/label_name.h"
#include "config/quote.h"
#include "config/utf8.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// `<<: *anchor` merges can nest and repeat; this caps the entries they may
// copy so that a small hostile file cannot make loading take exponential
// time. Real configurations use a few hundred at most.
constexpr int64_t kMaxMergedEntries = 100000;
// How deep `<<` merges may nest; a map that merges itself (`&r` ... `<<: *r`)
// reaches it at once.
constexpr int kMaxMergeDepth = 64;

constexpr absl::string_view kBom = "\xef\xbb\xbf";

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

}  // namespace

struct YamlReader::EntrySet {
  std::vector<YamlEntry> entries;
  absl::flat_hash_map<std::string, size_t> index;  // Into `entries`.
  absl::flat_hash_set<std::string> explicit_keys;  // Not from a merge.
};

YamlReader::YamlReader(absl::string_view text, absl::string_view filename)
    : text_(text), filename_(filename) {}

absl::StatusOr<YAML::Node> YamlReader::ParseRoot() const {
  if (size_t bad = FirstInvalidUtf8(text_); bad != absl::string_view::npos) {
    const int line = 1 + static_cast<int>(std::count(
                             text_.begin(), text_.begin() + bad, '\n'));
    return ErrorAt(line,
                   absl::StrFormat("invalid YAML: invalid UTF-8 byte 0x%02x",
                                   static_cast<uint8_t>(text_[bad])));
  }
  try {
    return YAML::Load(std::string(text_));
  } catch (const YAML::Exception& e) {
    return ErrorAt(e.mark.line >= 0 ? e.mark.line + 1 : 0,
                   absl::StrCat("invalid YAML: ", e.msg));
  }
}

absl::Status YamlReader::ErrorAt(int line, absl::string_view reason) const {
  if (line <= 0) {
    return absl::InvalidArgumentError(
        filename_.empty() ? std::string(reason)
                          : absl::StrCat(filename_, ": ", reason));
  }
  return absl::InvalidArgumentError(
      filename_.empty() ? absl::StrCat("line ", line, ": ", reason)
                        : absl::StrCat(filename_, ":", line, ": ", reason));
}

int YamlReader::LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string YamlReader::KindOf(const YAML::Node& node) {
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

bool YamlReader::IsNullNode(const YAML::Node& node) {
  return node.Type() == YAML::NodeType::Null ||
         node.Type() == YAML::NodeType::Undefined;
}

int YamlReader::NodeLine(const YAML::Node& node) const {
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

int YamlReader::ValueLine(const YamlEntry& entry) const {
  const int line = NodeLine(entry.value);
  return line > 0 ? line : entry.key_line;
}

absl::StatusOr<std::vector<YamlEntry>> YamlReader::Entries(
    const YAML::Node& map, YamlMapKind kind, absl::string_view context) {
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
          YamlEntry(IsNullNode(key) ? "" : key.Scalar(), LineOf(key), value),
          kind, context, /*merged=*/false, &set);
    }
    if (!s.ok()) return s;
  }
  std::vector<YamlEntry> live;
  live.reserve(set.index.size());
  for (YamlEntry& entry : set.entries) {
    if (!entry.overridden) live.push_back(std::move(entry));
  }
  return live;
}

absl::Status YamlReader::UnmarshalError(const YamlEntry& entry,
                                        absl::string_view go_type) const {
  return ErrorAt(ValueLine(entry),
                 absl::StrCat("field ", entry.name, ": cannot unmarshal ",
                              KindOf(entry.value), " into ", go_type));
}

absl::Status YamlReader::AddEntry(YamlEntry entry, YamlMapKind kind,
                                  absl::string_view context, bool merged,
                                  EntrySet* set) const {
  auto [pos, inserted] =
      set->index.try_emplace(entry.name, set->entries.size());
  if (!inserted) {
    if (kind == YamlMapKind::kLabels) {
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

absl::Status YamlReader::Merge(const YAML::Node& key, const YAML::Node& value,
                               YamlMapKind kind, absl::string_view context,
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
    if (merge_depth_ >= kMaxMergeDepth) {
      return ErrorAt(
          LineOf(key),
          absl::StrCat("YAML merge keys (<<) nest deeper than ", kMaxMergeDepth,
                       " maps (does a map merge itself?)"));
    }
    // A merged map is read on its own first (its own repeated keys are
    // errors), then its keys are applied as merged ones.
    ++merge_depth_;
    absl::StatusOr<std::vector<YamlEntry>> merged = Entries(*it, kind, context);
    --merge_depth_;
    if (!merged.ok()) return merged.status();
    for (YamlEntry& entry : *merged) {
      if (absl::Status s = AddEntry(std::move(entry), kind, context,
                                    /*merged=*/true, set);
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status YamlReader::UnknownOrUnsupported(const YamlEntry& entry,
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

absl::StatusOr<std::string> YamlReader::String(const YamlEntry& entry) const {
  if (IsNullNode(entry.value)) return std::string();
  if (!entry.value.IsScalar()) {
    return UnmarshalError(entry, "string");
  }
  return entry.value.Scalar();
}

absl::StatusOr<bool> YamlReader::Bool(const YamlEntry& entry) const {
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
  return UnmarshalError(entry, "bool");
}

absl::StatusOr<absl::Duration> YamlReader::Duration(
    const YamlEntry& entry) const {
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

absl::StatusOr<std::map<std::string, std::string>> YamlReader::LabelSet(
    const YamlEntry& entry) {
  std::map<std::string, std::string> labels;
  if (IsNullNode(entry.value)) return labels;
  if (!entry.value.IsMap()) {
    return UnmarshalError(entry, "a label set");
  }
  absl::StatusOr<std::vector<YamlEntry>> entries =
      Entries(entry.value, YamlMapKind::kLabels, entry.name);
  if (!entries.ok()) return entries.status();
  for (const YamlEntry& label : *entries) {
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

absl::StatusOr<std::vector<YamlListItem>> YamlReader::StructListItems(
    const YamlEntry& entry, absl::string_view what) {
  std::vector<YamlListItem> items;
  if (IsNullNode(entry.value)) return items;
  if (!entry.value.IsSequence()) {
    return UnmarshalError(entry, "a list");
  }
  for (const YAML::Node& item : entry.value) {
    if (IsNullNode(item)) {
      return ErrorAt(NodeLine(item),
                     absl::StrCat("empty or null section in ", entry.name));
    }
    absl::StatusOr<std::vector<YamlEntry>> entries =
        StructMappingEntries(item, LineOf(item), what);
    if (!entries.ok()) return entries.status();
    items.push_back(YamlListItem{LineOf(item), *std::move(entries)});
  }
  return items;
}

absl::StatusOr<std::vector<std::string>> YamlReader::Strings(
    const YamlEntry& entry) const {
  std::vector<std::string> out;
  if (IsNullNode(entry.value)) return out;
  if (!entry.value.IsSequence()) {
    return UnmarshalError(entry, "[]string");
  }
  for (const YAML::Node& item : entry.value) {
    absl::StatusOr<std::string> s =
        String(YamlEntry(entry.name, entry.key_line, item));
    if (!s.ok()) return s.status();
    out.push_back(*std::move(s));
  }
  return out;
}

absl::StatusOr<int> YamlReader::Int(const YamlEntry& entry) const {
  if (IsNullNode(entry.value)) return 0;
  int v = 0;
  if (entry.value.IsScalar() && entry.value.Tag() != "!" &&
      absl::SimpleAtoi(entry.value.Scalar(), &v)) {
    return v;
  }
  return UnmarshalError(entry, "int");
}

absl::StatusOr<uint64_t> YamlReader::Uint64(const YamlEntry& entry,
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
  return UnmarshalError(entry, go_type);
}

absl::StatusOr<int64_t> YamlReader::ByteSize(const YamlEntry& entry) const {
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

absl::StatusOr<std::map<std::string, std::vector<std::string>>>
YamlReader::Params(const YamlEntry& entry) {
  std::map<std::string, std::vector<std::string>> params;
  if (IsNullNode(entry.value)) return params;
  if (!entry.value.IsMap()) {
    return UnmarshalError(entry, "url.Values");
  }
  absl::StatusOr<std::vector<YamlEntry>> entries =
      Entries(entry.value, YamlMapKind::kLabels, "params");
  if (!entries.ok()) return entries.status();
  for (const YamlEntry& param : *entries) {
    std::vector<std::string>& values = params[param.name];
    if (IsNullNode(param.value)) continue;
    if (!param.value.IsSequence()) {
      return ErrorAt(ValueLine(param),
                     absl::StrCat("cannot unmarshal ", KindOf(param.value),
                                  " into []string"));
    }
    absl::StatusOr<std::vector<std::string>> strings = Strings(param);
    if (!strings.ok()) return strings.status();
    values = *std::move(strings);
  }
  return params;
}

absl::StatusOr<std::vector<YamlEntry>> YamlReader::MappingEntries(
    const YAML::Node& node, int line, YamlMapKind kind,
    absl::string_view go_type, absl::string_view context) {
  if (!node.IsMap()) {
    return ErrorAt(line, absl::StrCat("cannot unmarshal ", KindOf(node),
                                      " into ", go_type));
  }
  return Entries(node, kind, context);
}

absl::StatusOr<std::vector<YamlEntry>> YamlReader::StructMappingEntries(
    const YAML::Node& node, int line, absl::string_view context) {
  return MappingEntries(node, line, YamlMapKind::kStruct, context, context);
}

absl::StatusOr<std::vector<YamlEntry>> YamlReader::StructEntries(
    const YamlEntry& entry, absl::string_view context) {
  if (IsNullNode(entry.value)) return std::vector<YamlEntry>();
  if (!entry.value.IsMap()) {
    return UnmarshalError(entry, context);
  }
  return Entries(entry.value, YamlMapKind::kStruct, context);
}

absl::Status YamlReader::StringFields(
    const YamlEntry& entry, absl::string_view context,
    std::initializer_list<YamlStringField> fields) {
  absl::StatusOr<std::vector<YamlEntry>> entries =
      StructEntries(entry, context);
  if (!entries.ok()) return entries.status();
  for (const YamlEntry& field : *entries) {
    const YamlStringField* known = nullptr;
    for (const YamlStringField& f : fields) {
      if (f.name == field.name) known = &f;
    }
    if (known == nullptr) {
      return UnknownOrUnsupported(field, context, /*unsupported=*/false);
    }
    absl::StatusOr<std::string> v = String(field);
    if (!v.ok()) return v.status();
    *known->value = known->path ? ResolvePath(*v) : *std::move(v);
  }
  return absl::OkStatus();
}

std::string YamlReader::ResolvePath(const std::string& path) const {
  if (path.empty() || path[0] == '/') return path;
  const size_t slash = filename_.rfind('/');
  if (slash == std::string::npos) return path;
  return absl::StrCat(absl::string_view(filename_).substr(0, slash + 1), path);
}

}  // namespace fedgate
