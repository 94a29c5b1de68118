// tests/fuzz/file_sd_fuzzer.cc
//
// libFuzzer target: the JSON and YAML readers of file_sd target-group files
// (scraper/discovery/file_discovery.h, ParseFileSdContent). The first byte
// picks the file name (and so the reader), the rest is the file. Checks: the
// groups' sources are `<path>:<index>` in order, every group carries
// `__meta_filepath`, and every label set is well formed with valid names.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/label_name.h"
#include "merge/labels.h"
#include "scraper/discovery/discovery.h"
#include "scraper/discovery/file_discovery.h"
#include "tests/fuzz/fuzz_checks.h"

namespace fedgate {
namespace {

void CheckLabels(const Labels& labels) {
  CheckLabelsWellFormed(labels);
  for (const Label& label : labels) {
    FuzzCheck(IsValidLabelName(label.name), "an invalid label name was taken");
  }
}

void Run(absl::string_view input) {
  if (input.empty()) return;
  constexpr absl::string_view kPaths[] = {"sd/targets.json", "sd/targets.yml",
                                          "sd/targets.yaml", "sd/TARGETS.JSON"};
  const absl::string_view path =
      kPaths[static_cast<unsigned char>(input[0]) % 4];
  absl::StatusOr<std::vector<TargetGroup>> groups =
      ParseFileSdContent(path, input.substr(1));
  if (!groups.ok()) {
    FuzzCheck(!groups.status().message().empty(), "an error without text");
    return;
  }
  for (size_t i = 0; i < groups->size(); ++i) {
    const TargetGroup& group = (*groups)[i];
    FuzzCheck(group.source == absl::StrCat(path, ":", i),
              "a group's source is not <path>:<index>");
    FuzzCheck(group.labels.Get(kFilepathLabel) == path,
              "a group lacks __meta_filepath");
    CheckLabels(group.labels);
    for (const Labels& target : group.targets) CheckLabels(target);
  }
}

}  // namespace
}  // namespace fedgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fedgate::Run(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
