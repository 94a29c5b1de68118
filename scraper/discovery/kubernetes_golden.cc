#include "scraper/discovery/kubernetes_golden.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bazel/rapidjson.h"
#include "config/file_contents.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

std::string StringMember(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<Labels> LabelsFromJson(const rapidjson::Value& v) {
  if (!v.IsObject()) return absl::InvalidArgumentError("labels: not a map");
  std::vector<Label> labels;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    if (!it->value.IsString()) {
      return absl::InvalidArgumentError(
          absl::StrCat("label ", it->name.GetString(), ": not a string"));
    }
    labels.push_back(Label{it->name.GetString(), it->value.GetString()});
  }
  return Labels(std::move(labels));
}

absl::StatusOr<KubernetesGoldenEvent> EventFrom(std::string type,
                                                const rapidjson::Value& o) {
  if (!o.IsObject()) return absl::InvalidArgumentError("object: not a map");
  KubernetesGoldenEvent e;
  e.type = std::move(type);
  e.kind = StringMember(o, "kind");
  e.api_version = StringMember(o, "apiVersion");
  auto meta = o.FindMember("metadata");
  if (e.kind.empty() || meta == o.MemberEnd()) {
    return absl::InvalidArgumentError("object without kind or metadata");
  }
  e.namespace_name = StringMember(meta->value, "namespace");
  e.name = StringMember(meta->value, "name");
  e.json = ToJson(o);
  return e;
}

absl::StatusOr<KubernetesGoldenCase> ParseCase(const std::string& file,
                                               const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(rapidjson::GetParseError_En(doc.GetParseError()), " at ",
                     doc.GetErrorOffset()));
  }
  KubernetesGoldenCase c;
  c.file = file;
  c.name = StringMember(doc, "name");
  c.role = StringMember(doc, "role");
  c.own_namespace = StringMember(doc, "own_namespace");
  auto attach = doc.FindMember("attach_metadata_node");
  c.attach_node_metadata = attach != doc.MemberEnd() &&
                           attach->value.IsBool() && attach->value.GetBool();
  auto ns = doc.FindMember("namespaces");
  if (ns != doc.MemberEnd() && ns->value.IsArray()) {
    for (const auto& n : ns->value.GetArray()) {
      if (n.IsString()) c.namespaces.push_back(n.GetString());
    }
  }
  auto versions = doc.FindMember("api_versions");
  if (versions != doc.MemberEnd() && versions->value.IsObject()) {
    for (auto it = versions->value.MemberBegin();
         it != versions->value.MemberEnd(); ++it) {
      if (it->value.IsString()) {
        c.api_versions[it->name.GetString()] = it->value.GetString();
      }
    }
  }
  for (const char* list : {"initial", "events"}) {
    auto items = doc.FindMember(list);
    if (items == doc.MemberEnd() || !items->value.IsArray()) {
      return absl::InvalidArgumentError(absl::StrCat(list, ": not a list"));
    }
    for (const auto& item : items->value.GetArray()) {
      const bool initial = list == std::string("initial");
      absl::StatusOr<KubernetesGoldenEvent> e =
          initial ? EventFrom("ADDED", item)
                  : EventFrom(StringMember(item, "type"),
                              item.IsObject() && item.HasMember("object")
                                  ? item["object"]
                                  : item);
      if (!e.ok()) return e.status();
      (initial ? c.initial : c.events).push_back(*std::move(e));
    }
  }
  auto expected = doc.FindMember("expected");
  if (expected == doc.MemberEnd() || !expected->value.IsObject()) {
    return absl::InvalidArgumentError("expected: not a map");
  }
  for (auto it = expected->value.MemberBegin();
       it != expected->value.MemberEnd(); ++it) {
    TargetGroup group;
    group.source = it->name.GetString();
    if (!it->value.IsObject() || !it->value.HasMember("labels") ||
        !it->value.HasMember("targets") || !it->value["targets"].IsArray()) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected ", group.source, ": no labels or targets"));
    }
    absl::StatusOr<Labels> labels = LabelsFromJson(it->value["labels"]);
    if (!labels.ok()) return labels.status();
    group.labels = *std::move(labels);
    for (const auto& t : it->value["targets"].GetArray()) {
      absl::StatusOr<Labels> target = LabelsFromJson(t);
      if (!target.ok()) return target.status();
      group.targets.push_back(*std::move(target));
    }
    c.expected[group.source] = std::move(group);
  }
  return c;
}

}  // namespace

absl::StatusOr<std::vector<KubernetesGoldenCase>> LoadKubernetesGoldenCases(
    absl::string_view dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(dir), ec)) {
    if (entry.path().extension() == ".json") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat("no golden cases in ", dir));
  }
  std::vector<KubernetesGoldenCase> cases;
  for (const std::string& file : files) {
    absl::StatusOr<std::string> text = ReadFileContents(
        file,
        [&file](absl::string_view op, int) {
          return absl::NotFoundError(absl::StrCat(op, " ", file));
        },
        /*max_bytes=*/16 << 20);
    if (!text.ok()) return text.status();
    absl::StatusOr<KubernetesGoldenCase> c = ParseCase(file, *text);
    if (!c.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": ", c.status().message()));
    }
    cases.push_back(*std::move(c));
  }
  return cases;
}

std::string TargetGroupString(const TargetGroup& group) {
  std::vector<std::string> targets;
  for (const Labels& t : group.targets) targets.push_back(t.ToString());
  return absl::StrCat("labels ", group.labels.ToString(), "\n  targets [\n    ",
                      absl::StrJoin(targets, "\n    "), "\n  ]");
}

}  // namespace fedgate
