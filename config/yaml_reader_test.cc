#include "config/yaml_reader.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// Parses the reader's document and returns its top-level entries.
std::vector<YamlEntry> TopEntries(YamlReader& reader) {
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  EXPECT_TRUE(root.ok()) << root.status();
  if (!root.ok()) return {};
  absl::StatusOr<std::vector<YamlEntry>> entries =
      reader.Entries(*root, YamlMapKind::kStruct, "config");
  EXPECT_TRUE(entries.ok()) << entries.status();
  if (!entries.ok()) return {};
  return *std::move(entries);
}

// Reads documents as `f.yml`; the reader of the last Read() is reader_.
class YamlReaderTest : public ::testing::Test {
 protected:
  // Reads `text` and returns its top-level entries.
  std::vector<YamlEntry> Read(std::string text) {
    text_ = std::move(text);
    reader_ = std::make_unique<YamlReader>(text_, "f.yml");
    return TopEntries(*reader_);
  }

  // Returns the error of reading the top level of `text` as a `kind` map
  // named `what` (OK if there is none).
  static absl::Status EntriesError(const std::string& text, YamlMapKind kind,
                                   absl::string_view what) {
    YamlReader reader(text, "f.yml");
    absl::StatusOr<YAML::Node> root = reader.ParseRoot();
    if (!root.ok()) return root.status();
    return reader.Entries(*root, kind, what).status();
  }

  std::string text_;
  std::unique_ptr<YamlReader> reader_;
};

TEST_F(YamlReaderTest, ErrorAtNamesFileAndLine) {
  const YamlReader reader("", "fedgate.yml");
  EXPECT_EQ(reader.ErrorAt(7, "bad").message(), "fedgate.yml:7: bad");
  EXPECT_EQ(reader.ErrorAt(0, "bad").message(), "fedgate.yml: bad");
  EXPECT_EQ(reader.ErrorAt(7, "bad").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(YamlReaderTest, ErrorAtWithoutFilenameNamesTheLine) {
  const YamlReader reader("", "");
  EXPECT_EQ(reader.ErrorAt(3, "bad").message(), "line 3: bad");
  EXPECT_EQ(reader.ErrorAt(0, "bad").message(), "bad");
}

TEST_F(YamlReaderTest, ParseRootRejectsInvalidUtf8WithItsLine) {
  const std::string text = "a: 1\nb: \xff\n";
  const YamlReader reader(text, "f.yml");
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(root.status().message(),
            "f.yml:2: invalid YAML: invalid UTF-8 byte 0xff");
}

TEST_F(YamlReaderTest, ParseRootReportsYamlSyntaxErrors) {
  const std::string text = "a: [1, 2\n";
  const YamlReader reader(text, "f.yml");
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      absl::string_view(root.status().message()).find("invalid YAML: ") !=
      absl::string_view::npos)
      << root.status();
}

TEST_F(YamlReaderTest, EntriesKeepDocumentOrderAndLines) {
  std::vector<YamlEntry> entries = Read("b: 1\na: 2\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "b");
  EXPECT_EQ(entries[0].key_line, 1);
  EXPECT_EQ(entries[1].name, "a");
  EXPECT_EQ(entries[1].key_line, 2);
}

TEST_F(YamlReaderTest, EntriesRejectRepeatedField) {
  EXPECT_EQ(
      EntriesError("a: 1\na: 2\n", YamlMapKind::kStruct, "config").message(),
      "f.yml:2: field a already set in config");
}

TEST_F(YamlReaderTest, EntriesRejectRepeatedLabel) {
  EXPECT_EQ(
      EntriesError("a: 1\na: 2\n", YamlMapKind::kLabels, "external_labels")
          .message(),
      "f.yml:2: label \"a\" already set in external_labels");
}

TEST_F(YamlReaderTest, MappingEntriesNameTheGoTypeOfANonMapping) {
  std::vector<YamlEntry> top = Read("list: [1]\nmap: {a: x}\n");
  ASSERT_EQ(top.size(), 2u);
  absl::StatusOr<std::vector<YamlEntry>> list = reader_->MappingEntries(
      top[0].value, 1, YamlMapKind::kLabels, "map[string]string", "headers");
  EXPECT_EQ(list.status().message(),
            "f.yml:1: cannot unmarshal !!seq into map[string]string");
  absl::StatusOr<std::vector<YamlEntry>> scalar =
      reader_->StructMappingEntries(top[1].value["a"], 2, "scrape config");
  EXPECT_EQ(scalar.status().message(),
            "f.yml:2: cannot unmarshal !!str `x` into scrape config");
  absl::StatusOr<std::vector<YamlEntry>> map =
      reader_->StructMappingEntries(top[1].value, 2, "scrape config");
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->size(), 1u);
  EXPECT_EQ((*map)[0].name, "a");
}

TEST(YamlReaderStringFieldsTest, ReadsKnownKeysResolvesPathsRejectsOthers) {
  const std::string text =
      "auth:\n  user: u\n  file: secret\nbad:\n  user: u\n  pass: p\n";
  YamlReader reader(text, "/etc/fedgate/f.yml");
  std::vector<YamlEntry> top = TopEntries(reader);
  ASSERT_EQ(top.size(), 2u);
  std::string user, file;
  absl::Status s = reader.StringFields(
      top[0], "auth", {{"user", &user}, {"file", &file, /*path=*/true}});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(user, "u");
  EXPECT_EQ(file, "/etc/fedgate/secret");
  s = reader.StringFields(top[1], "auth", {{"user", &user}});
  EXPECT_EQ(s.message(), "/etc/fedgate/f.yml:6: field pass not found in auth");
}

TEST_F(YamlReaderTest, MergeKeyIsOverriddenByExplicitField) {
  std::vector<YamlEntry> top = Read(
      "base: &base {x: 1, y: 2}\n"
      "item:\n"
      "  <<: *base\n"
      "  y: 3\n");
  ASSERT_EQ(top.size(), 2u);
  absl::StatusOr<std::vector<YamlEntry>> item =
      reader_->StructEntries(top[1], "item");
  ASSERT_TRUE(item.ok()) << item.status();
  std::map<std::string, std::string> values;
  for (const YamlEntry& e : *item) {
    absl::StatusOr<std::string> v = reader_->String(e);
    ASSERT_TRUE(v.ok()) << v.status();
    values[e.name] = *v;
  }
  EXPECT_EQ(values,
            (std::map<std::string, std::string>{{"x", "1"}, {"y", "3"}}));
}

TEST_F(YamlReaderTest, MergeOfScalarIsAnError) {
  EXPECT_EQ(EntriesError("<<: 1\n", YamlMapKind::kStruct, "config").message(),
            "f.yml:1: map merge requires map or sequence of maps as the "
            "value");
}

TEST_F(YamlReaderTest, UnknownFieldIsNotFound) {
  std::vector<YamlEntry> entries = Read("nope: 1\n");
  ASSERT_EQ(entries.size(), 1u);
  absl::Status s = reader_->UnknownOrUnsupported(entries[0], "config",
                                                 /*unsupported=*/false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "f.yml:1: field nope not found in config");
}

TEST_F(YamlReaderTest, UnsupportedFieldIsAcceptedOnlyWhenEmpty) {
  std::vector<YamlEntry> entries = Read("empty: []\nset: [1]\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(
      reader_->UnknownOrUnsupported(entries[0], "config", /*unsupported=*/true)
          .ok());
  absl::Status s =
      reader_->UnknownOrUnsupported(entries[1], "config", /*unsupported=*/true);
  EXPECT_EQ(s.message(),
            "f.yml:2: field set in config is not supported by fedgate yet");
}

TEST_F(YamlReaderTest, TypedReadersReadScalars) {
  std::vector<YamlEntry> e = Read(
      "s: text\n"
      "b: yes\n"
      "d: 1m30s\n"
      "i: 53\n"
      "u: 0x10\n"
      "size: 1KiB512B\n"
      "list: [a, b]\n"
      "null_string:\n");
  ASSERT_EQ(e.size(), 8u);

  absl::StatusOr<std::string> s = reader_->String(e[0]);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, "text");
  absl::StatusOr<bool> b = reader_->Bool(e[1]);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(*b);
  absl::StatusOr<absl::Duration> d = reader_->Duration(e[2]);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, absl::Seconds(90));
  absl::StatusOr<int> i = reader_->Int(e[3]);
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ(*i, 53);
  absl::StatusOr<uint64_t> u = reader_->Uint64(e[4]);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(*u, 16u);
  absl::StatusOr<int64_t> size = reader_->ByteSize(e[5]);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 1536);
  absl::StatusOr<std::vector<std::string>> list = reader_->Strings(e[6]);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(*list, (std::vector<std::string>{"a", "b"}));
  absl::StatusOr<std::string> null_string = reader_->String(e[7]);
  ASSERT_TRUE(null_string.ok()) << null_string.status();
  EXPECT_EQ(*null_string, "");
}

TEST_F(YamlReaderTest, TypedReadersUseYamlV2Wording) {
  std::vector<YamlEntry> e = Read(
      "b: \"true\"\n"
      "i: [1]\n"
      "u: -1\n"
      "s: {a: 1}\n");
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(reader_->Bool(e[0]).status().message(),
            "f.yml:1: field b: cannot unmarshal !!str `true` into bool");
  EXPECT_EQ(reader_->Int(e[1]).status().message(),
            "f.yml:2: field i: cannot unmarshal !!seq into int");
  EXPECT_EQ(reader_->Uint64(e[2], "uint").status().message(),
            "f.yml:3: field u: cannot unmarshal !!str `-1` into uint");
  EXPECT_EQ(reader_->String(e[3]).status().message(),
            "f.yml:4: field s: cannot unmarshal !!map into string");
}

TEST_F(YamlReaderTest, LabelSetRejectsInvalidLabelName) {
  std::vector<YamlEntry> e = Read("labels:\n  ok: a\n  1x: b\n");
  ASSERT_EQ(e.size(), 1u);
  absl::StatusOr<std::map<std::string, std::string>> labels =
      reader_->LabelSet(e[0]);
  ASSERT_FALSE(labels.ok());
  EXPECT_EQ(labels.status().message(),
            "f.yml:3: \"1x\" is not a valid label name");
}

TEST_F(YamlReaderTest, ParamsReadListsOfValues) {
  std::vector<YamlEntry> e =
      Read("params:\n  module: [http_2xx, tcp]\n  empty:\n");
  ASSERT_EQ(e.size(), 1u);
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> params =
      reader_->Params(e[0]);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(*params, (std::map<std::string, std::vector<std::string>>{
                         {"empty", {}}, {"module", {"http_2xx", "tcp"}}}));
}

TEST_F(YamlReaderTest, StructListItemsGivesEachItemWithItsLine) {
  std::vector<YamlEntry> e = Read(
      "items:\n"
      "  - a: 1\n"
      "  - b: 2\n"
      "    c: 3\n");
  ASSERT_EQ(e.size(), 1u);
  absl::StatusOr<std::vector<YamlListItem>> items =
      reader_->StructListItems(e[0], "item");
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].line, 2);
  ASSERT_EQ((*items)[0].entries.size(), 1u);
  EXPECT_EQ((*items)[0].entries[0].name, "a");
  EXPECT_EQ((*items)[1].line, 3);
  EXPECT_EQ((*items)[1].entries.size(), 2u);
}

TEST_F(YamlReaderTest, StructListItemsRejectsNullAndScalarItems) {
  std::vector<YamlEntry> e = Read(
      "items:\n"
      "  -\n"
      "others:\n"
      "  - x\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(reader_->StructListItems(e[0], "item").status().message(),
            "f.yml:2: empty or null section in items");
  EXPECT_EQ(reader_->StructListItems(e[1], "other").status().message(),
            "f.yml:4: cannot unmarshal !!str `x` into other");
}

// An item of ReadStructList's tests: its line and its one field's value.
struct Named {
  int line = 0;
  std::string name;
};

absl::Status ReadNamed(YamlReader& reader, const std::vector<YamlEntry>& fields,
                       Named* item) {
  for (const YamlEntry& field : fields) {
    if (field.name != "name") {
      return reader.UnknownOrUnsupported(field, "named",
                                         /*unsupported=*/false);
    }
    if (absl::Status s = Store(reader.String(field), &item->name); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Reads the list of the one top-level key of `text` with ReadNamed.
class ReadStructListTest : public YamlReaderTest {
 protected:
  absl::StatusOr<std::vector<Named>> ReadNamedList(std::string text) {
    std::vector<YamlEntry> top = Read(std::move(text));
    if (top.size() != 1) return absl::InternalError("not one top-level key");
    return ReadStructList<Named>(*reader_, top[0], "named", ReadNamed);
  }
};

TEST_F(ReadStructListTest, ReadsEachItemWithItsLine) {
  absl::StatusOr<std::vector<Named>> items =
      ReadNamedList("items:\n  - name: a\n  - {}\n  - name: c\n");
  ASSERT_TRUE(items.ok()) << items.status();
  std::vector<std::pair<int, std::string>> got;
  for (const Named& item : *items) got.emplace_back(item.line, item.name);
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{
                     {2, "a"}, {3, ""}, {4, "c"}}));
}

TEST_F(ReadStructListTest, StopsAtTheFirstError) {
  EXPECT_EQ(ReadNamedList("items:\n"
                          "  - name: a\n"
                          "  - nom: b\n"
                          "  - nim: c\n")
                .status()
                .message(),
            "f.yml:3: field nom not found in named");
}

TEST_F(YamlReaderTest, ReadCheckedStringsNamesTheFirstRejectedValue) {
  std::vector<YamlEntry> e = Read("ok: [a, b]\nbad:\n  - a\n  - 1\n  - 2\n");
  ASSERT_EQ(e.size(), 2u);
  const auto letters_only = [](absl::string_view value) {
    return value.find_first_of("0123456789") == absl::string_view::npos;
  };
  const auto reason = [](absl::string_view value) {
    return absl::StrCat("digit in ", value);
  };
  absl::StatusOr<std::vector<std::string>> ok =
      ReadCheckedStrings(*reader_, e[0], letters_only, reason);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, (std::vector<std::string>{"a", "b"}));
  const absl::Status bad =
      ReadCheckedStrings(*reader_, e[1], letters_only, reason).status();
  EXPECT_EQ(bad.message(), "f.yml:3: digit in 1");
}

TEST_F(YamlReaderTest, NullValueIsBlamedOnItsKeyLine) {
  std::vector<YamlEntry> e = Read("a:\n\n\nb: 1\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(reader_->ValueLine(e[0]), 1);
}

TEST_F(YamlReaderTest, ResolvePathJoinsTheConfigDirectory) {
  const YamlReader reader("", "/etc/fedgate/fedgate.yml");
  EXPECT_EQ(reader.ResolvePath("ca.pem"), "/etc/fedgate/ca.pem");
  EXPECT_EQ(reader.ResolvePath("/abs/ca.pem"), "/abs/ca.pem");
  EXPECT_EQ(reader.ResolvePath(""), "");
  const YamlReader bare("", "fedgate.yml");
  EXPECT_EQ(bare.ResolvePath("ca.pem"), "ca.pem");
}

}  // namespace
}  // namespace fedgate
