// config/yaml_reader.h
//
// Internal to config/: the strict YAML layer under the section loaders
// (global, scrape configs, HTTP client, discovery, relabel, dedup groups);
// also under the web config loader (gateway/security/web_config.h), the one
// reader outside config/, and under the relabel rules that
// merge/relabel_test.cc and tests/fuzz/relabel_fuzzer.cc load alone.
// It reads one config document the way Prometheus 2.42's yaml.v2 strict mode
// does: mappings as entries in document order with `<<` merges resolved and
// repeated keys rejected, typed scalars with yaml.v2's "cannot unmarshal"
// wording, unknown fields as errors and Prometheus fields fedgate does not
// implement as "not supported yet" unless empty. Every error is
// InvalidArgument and names its location, `<file>:<line>: <reason>`.
//
// A section loader is a function that takes the reader and the `YamlEntry`
// of its section, asks the reader for the section's entries, and dispatches
// on their names; a new section reuses the readers below for its scalars.
// Called at config load only; not on a hot path.
//
// yaml-cpp may throw from node accessors; each loader's entry point catches
// what escapes with GuardYamlLoad, so callers outside config/ never see an
// exception.
//
// Thread-safety: thread-compatible; one reader per document, used by one
// thread.

#ifndef FEDGATE_CONFIG_YAML_READER_H_
#define FEDGATE_CONFIG_YAML_READER_H_

#include <cstdint>
#include <exception>
#include <initializer_list>
#include <map>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {

// One key of a YAML mapping, after `<<` merges are resolved.
//
// Never assigned: YAML::Node's assignment operator does not rebind the handle
// but overwrites the node it refers to, which an alias shares with the rest
// of the document.
struct YamlEntry {
  YamlEntry(std::string name, int key_line, YAML::Node value)
      : name(std::move(name)), key_line(key_line), value(std::move(value)) {}
  YamlEntry(const YamlEntry&) = default;
  YamlEntry(YamlEntry&&) = default;
  YamlEntry& operator=(const YamlEntry&) = delete;
  YamlEntry& operator=(YamlEntry&&) = delete;

  std::string name;
  int key_line;
  YAML::Node value;
  bool overridden = false;  // By a later key with the same name.
};

// How repeated keys are treated, as in yaml.v2's strict mode: a struct field
// may be overridden by an explicit key after a merge, a map key never.
enum class YamlMapKind { kStruct, kLabels };

// A string field of a section that StringFields reads: its key, where its
// value goes, and whether it is a path, resolved as ResolvePath does.
struct YamlStringField {
  absl::string_view name;
  std::string* value;
  bool path = false;
};

// One mapping of a list of mappings (`*_sd_configs`, `dedup_groups`).
struct YamlListItem {
  int line;  // Where the item starts (1-based).
  std::vector<YamlEntry> entries;
};

class YamlReader {
 public:
  // `text` is the whole document and must outlive the reader; `filename`
  // is used in error locations and to resolve relative paths. When it is
  // empty, errors start with `line <line>: `.
  YamlReader(absl::string_view text, absl::string_view filename);

  YamlReader(const YamlReader&) = delete;
  YamlReader& operator=(const YamlReader&) = delete;

  // Checks that the text is UTF-8 and parses it; returns the root node of
  // the first document (null for an empty document).
  absl::StatusOr<YAML::Node> ParseRoot() const;

  // Returns InvalidArgument `<file>:<line>: <reason>`; without the line
  // when `line` is 0 or less.
  absl::Status ErrorAt(int line, absl::string_view reason) const;

  // Returns the 1-based line of `node` as yaml-cpp marks it, or 0 when it
  // has no position.
  static int LineOf(const YAML::Node& node);
  // Returns the 1-based line of `node`, or 0 if unknown. yaml-cpp gives an
  // empty (null) node the position of the next token; this corrects that.
  int NodeLine(const YAML::Node& node) const;
  // Returns the line of `entry`'s value, or of its key if that is unknown.
  int ValueLine(const YamlEntry& entry) const;
  // Describes a node the way yaml.v2's "cannot unmarshal" errors do
  // (`!!seq`, `!!map`, "!!str `x`", `!!null`).
  static std::string KindOf(const YAML::Node& node);
  // Returns whether `node` is null or absent.
  static bool IsNullNode(const YAML::Node& node);

  // Returns the keys of `map` in document order, with `<<` merges resolved
  // and repeated keys rejected as yaml.v2's strict mode does. `context`
  // names the mapping in errors (`scrape config`).
  absl::StatusOr<std::vector<YamlEntry>> Entries(const YAML::Node& map,
                                                 YamlMapKind kind,
                                                 absl::string_view context);
  // Returns the entries of the mapping `node` (Entries), or, when it is not
  // a mapping, yaml.v2's error at `line`, without a field name: `cannot
  // unmarshal !!seq into <go_type>`.
  absl::StatusOr<std::vector<YamlEntry>> MappingEntries(
      const YAML::Node& node, int line, YamlMapKind kind,
      absl::string_view go_type, absl::string_view context);
  // MappingEntries of a struct-like mapping, which `context` names in both
  // errors (`scrape config`).
  absl::StatusOr<std::vector<YamlEntry>> StructMappingEntries(
      const YAML::Node& node, int line, absl::string_view context);
  // Returns the entries of the struct-like mapping `entry` holds (none for
  // null), or an error naming `context` if it is not a mapping.
  absl::StatusOr<std::vector<YamlEntry>> StructEntries(
      const YamlEntry& entry, absl::string_view context);
  // Reads the struct-like mapping `entry` holds (nothing for null), whose
  // fields are all strings, into `fields`; another key is an unknown field
  // of `context` (`basic auth`).
  absl::Status StringFields(const YamlEntry& entry, absl::string_view context,
                            std::initializer_list<YamlStringField> fields);
  // Returns the items of the list of struct-like mappings `entry` holds
  // (`file_sd_configs`, `dedup_groups`), each with its line and entries.
  // `what` names one item in errors (`file_sd config`).
  absl::StatusOr<std::vector<YamlListItem>> StructListItems(
      const YamlEntry& entry, absl::string_view what);

  // Returns yaml.v2's error for `entry`'s value, which cannot be read as the
  // Go type `go_type`: `f.yml:3: field x: cannot unmarshal !!seq into int`.
  absl::Status UnmarshalError(const YamlEntry& entry,
                              absl::string_view go_type) const;

  // Returns the error for a field the caller does not know: "not found"
  // unless `unsupported` (a Prometheus field fedgate does not implement yet),
  // which is rejected too unless its value is empty (null, "", [] or {}).
  absl::Status UnknownOrUnsupported(const YamlEntry& entry,
                                    absl::string_view context,
                                    bool unsupported) const;

  // Typed readers of `entry`'s value; null reads as Go's zero value.
  absl::StatusOr<std::string> String(const YamlEntry& entry) const;
  // yaml.v2 (YAML 1.1) booleans: true/yes/y/on and false/no/n/off.
  absl::StatusOr<bool> Bool(const YamlEntry& entry) const;
  // A Prometheus duration (duration.h), e.g. `30s`, `1h30m`.
  absl::StatusOr<absl::Duration> Duration(const YamlEntry& entry) const;
  absl::StatusOr<int> Int(const YamlEntry& entry) const;
  // Decimal or `0x` hex; `go_type` names the target type in errors.
  absl::StatusOr<uint64_t> Uint64(const YamlEntry& entry,
                                  absl::string_view go_type = "uint64") const;
  // A byte size as alecthomas/units ParseBase2Bytes reads it (`512MB`,
  // `1KiB512B`), as Prometheus's body_size_limit.
  absl::StatusOr<int64_t> ByteSize(const YamlEntry& entry) const;
  // A list of strings (`[]string`).
  absl::StatusOr<std::vector<std::string>> Strings(
      const YamlEntry& entry) const;
  // A mapping of label names to values; names must be valid label names.
  absl::StatusOr<std::map<std::string, std::string>> LabelSet(
      const YamlEntry& entry);
  // A mapping of names to lists of values (`url.Values`), as `params`.
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> Params(
      const YamlEntry& entry);

  // Resolves `path` against the config file's directory (Prometheus's
  // config.JoinDir): "" and absolute paths are kept.
  std::string ResolvePath(const std::string& path) const;

 private:
  // The keys of one mapping while it is being read.
  struct EntrySet;

  absl::Status AddEntry(YamlEntry entry, YamlMapKind kind,
                        absl::string_view context, bool merged,
                        EntrySet* set) const;
  absl::Status Merge(const YAML::Node& key, const YAML::Node& value,
                     YamlMapKind kind, absl::string_view context,
                     EntrySet* set);

  absl::string_view text_;
  std::string filename_;
  // Entries copied by `<<` merges so far, capped (see kMaxMergedEntries).
  int64_t merged_entries_ = 0;
  // `<<` merges being read inside each other now (see kMaxMergeDepth): a map
  // that merges itself through an alias would otherwise recurse for good.
  int merge_depth_ = 0;
};

// Stores an ok `value` in `*field`, or returns its error: how a section
// loader reads one field, `Store(reader.Strings(entry), &config.files)`.
template <typename T, typename Field>
absl::Status Store(absl::StatusOr<T> value, Field* field) {
  if (!value.ok()) return value.status();
  *field = *std::move(value);
  return absl::OkStatus();
}

// Like Store, but a null `entry` leaves `*field` at its default, as yaml.v2
// leaves a Go struct field whose value is null.
template <typename T, typename Field>
absl::Status StoreUnlessNull(const YamlEntry& entry, absl::StatusOr<T> value,
                             Field* field) {
  if (!value.ok()) return value.status();
  if (!YamlReader::IsNullNode(entry.value)) *field = *std::move(value);
  return absl::OkStatus();
}

// Reads the list of strings `entry` holds (YamlReader::Strings) and checks
// each with `valid`; the first it rejects is an error at the list's line,
// `reason(value)` (`"1x" is not a valid label name`).
template <typename Valid, typename Reason>
absl::StatusOr<std::vector<std::string>> ReadCheckedStrings(
    const YamlReader& reader, const YamlEntry& entry, Valid valid,
    Reason reason) {
  absl::StatusOr<std::vector<std::string>> values = reader.Strings(entry);
  if (!values.ok()) return values.status();
  for (const std::string& value : *values) {
    if (!valid(value)) {
      return reader.ErrorAt(reader.ValueLine(entry), reason(value));
    }
  }
  return values;
}

// Reads the list of struct-like mappings `entry` holds (StructListItems;
// `what` names one item in errors) into one T per item: a T whose `line` is
// the item's, filled by `read(reader, fields, &value)` from the item's
// fields; the first error ends the read. How a section loader reads a list
// section (`file_sd_configs`, `dedup_groups`).
template <typename T, typename Read>
absl::StatusOr<std::vector<T>> ReadStructList(YamlReader& reader,
                                              const YamlEntry& entry,
                                              absl::string_view what,
                                              Read read) {
  absl::StatusOr<std::vector<YamlListItem>> items =
      reader.StructListItems(entry, what);
  if (!items.ok()) return items.status();
  std::vector<T> values;
  values.reserve(items->size());
  for (const YamlListItem& item : *items) {
    T value;
    value.line = item.line;
    if (absl::Status s = read(reader, item.entries, &value); !s.ok()) return s;
    values.push_back(std::move(value));
  }
  return values;
}

// Returns `load()`, a whole load of the document `filename` through
// yaml-cpp, which throws from parsing and from node accessors: whatever it
// throws becomes a status naming the file (ResourceExhausted `<file>: out of
// memory while loading <what>`, Internal otherwise), so that no exception
// escapes a loader.
template <typename Load>
auto GuardYamlLoad(absl::string_view filename, absl::string_view what,
                   Load load) -> decltype(load()) {
  try {
    return load();
  } catch (const YAML::Exception& e) {
    return absl::InternalError(
        absl::StrCat(filename, ": unexpected YAML error: ", e.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(filename, ": out of memory while loading ", what));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(filename, ": unexpected error: ", e.what()));
  }
}

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_YAML_READER_H_
