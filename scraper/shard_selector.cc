#include "scraper/shard_selector.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "merge/relabel.h"
#include "scraper/scrape_target.h"

namespace fedgate {

absl::StatusOr<ShardSelector> ShardSelector::Create(uint64_t index,
                                                    uint64_t count) {
  if (count == 0) {
    return absl::InvalidArgumentError("--shard.count must be at least 1");
  }
  if (index >= count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard.index=", index, " is not below --shard.count=", count,
        " (shards are numbered from 0)"));
  }
  return ShardSelector(index, count);
}

absl::StatusOr<ShardSelector> ShardSelector::FromFlags(
    std::optional<uint64_t> index, uint64_t count, absl::string_view pod_name,
    absl::string_view pod_name_source) {
  if (index.has_value() || count <= 1) return Create(index.value_or(0), count);
  if (pod_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard.count=", count,
        " needs --shard.index, or a StatefulSet pod name <name>-<ordinal> in "
        "POD_NAME, HOSTNAME or the host name; none is set"));
  }
  absl::StatusOr<uint64_t> ordinal = StatefulSetOrdinal(pod_name);
  if (!ordinal.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard.index is not set and the pod name \"", pod_name, "\" (from ",
        pod_name_source,
        ") does not end in a StatefulSet ordinal -<n>: set --shard.index"));
  }
  if (*ordinal >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard index ", *ordinal, " (from the pod name \"",
                     pod_name, "\") is not below --shard.count=", count,
                     ": the StatefulSet has more replicas than shards"));
  }
  return ShardSelector(*ordinal, count);
}

absl::string_view ShardSelector::ShardKey(const Labels& target_labels,
                                          const DedupSettings& dedup) {
  if (!dedup.group.empty()) return dedup.key;
  return target_labels.Get(kAddressLabel);
}

bool ShardSelector::Keeps(const Labels& target_labels,
                          const DedupSettings& dedup) const {
  if (count_ <= 1) return true;
  return HashMod(ShardKey(target_labels, dedup), count_) == index_;
}

absl::StatusOr<uint64_t> StatefulSetOrdinal(absl::string_view pod_name) {
  const size_t dash = pod_name.rfind('-');
  const absl::string_view digits = dash == absl::string_view::npos
                                       ? absl::string_view()
                                       : pod_name.substr(dash + 1);
  uint64_t ordinal = 0;
  // SimpleAtoi takes a sign and spaces; an ordinal is plain digits.
  const bool all_digits =
      !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
        return absl::ascii_isdigit(c);
      });
  if (!all_digits || !absl::SimpleAtoi(digits, &ordinal)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pod name \"", pod_name, "\" does not end in -<ordinal>"));
  }
  return ordinal;
}

}  // namespace fedgate
