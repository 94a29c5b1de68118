// tests/fuzz/relabel_fuzzer.cc
//
// libFuzzer target: a `relabel_configs` list loaded as the configuration
// loader loads it (config/relabel_config_loader.h), compiled and applied
// (merge/relabel.h) to a label set. The input is the YAML list, a line
// `%%`, then the label set as `name=value` lines. Checks: rules that load
// compile; applying is deterministic; a kept label set is sorted with unique
// names and no empty value; and, when the input names are valid and no rule
// writes a name Prometheus 2.42 does not check (`labelmap`, and `lowercase`
// or `uppercase`, which set their `target_label` verbatim, `$` and all),
// every output name is valid.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "config/label_name.h"
#include "config/relabel_config.h"
#include "config/relabel_config_loader.h"
#include "config/yaml_reader.h"
#include "merge/labels.h"
#include "merge/relabel.h"
#include "tests/fuzz/fuzz_checks.h"

namespace fedgate {
namespace {

constexpr absl::string_view kSeparator = "\n%%\n";

void Run(absl::string_view input) {
  const size_t split = input.find(kSeparator);
  const absl::string_view yaml = input.substr(0, split);
  const absl::string_view label_text =
      split == absl::string_view::npos
          ? absl::string_view()
          : input.substr(split + kSeparator.size());

  YamlReader reader(yaml, "relabel.yml");
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  if (!root.ok()) return;
  const RelabelListKind kind = input.size() % 2 == 0 ? RelabelListKind::kTarget
                                                     : RelabelListKind::kMetric;
  absl::StatusOr<std::vector<RelabelConfig>> configs =
      ParseRelabelConfigs(reader, YamlEntry("relabel_configs", 1, *root), kind);
  if (!configs.ok()) return;
  absl::StatusOr<RelabelChain> chain = RelabelChain::Compile(*configs);
  FuzzCheck(chain.ok(), "loaded relabel rules do not compile");
  bool unchecked_names = false;
  for (const RelabelConfig& config : *configs) {
    unchecked_names |= config.action == RelabelAction::kLabelMap;
    unchecked_names |= (config.action == RelabelAction::kLowercase ||
                        config.action == RelabelAction::kUppercase) &&
                       !IsValidLabelName(config.target_label);
  }

  std::vector<Label> pairs;
  bool names_valid = true;
  for (absl::string_view line : absl::StrSplit(label_text, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    pairs.push_back(Label{std::string(kv.first), std::string(kv.second)});
    if (!kv.second.empty()) names_valid &= IsValidLabelName(kv.first);
  }
  const Labels input_labels(std::move(pairs));

  Labels first = input_labels;
  const bool kept = chain->Apply(&first);
  Labels second = input_labels;
  FuzzCheck(chain->Apply(&second) == kept, "relabeling is not deterministic");
  if (!kept) return;
  FuzzCheck(first == second, "relabeling is not deterministic");
  CheckLabelsWellFormed(first);
  if (names_valid && !unchecked_names) {
    for (const Label& label : first) {
      FuzzCheck(IsValidLabelName(label.name),
                "relabeling produced an invalid label name");
    }
  }
}

}  // namespace
}  // namespace fedgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fedgate::Run(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
