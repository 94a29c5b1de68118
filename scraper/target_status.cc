#include "scraper/target_status.h"

#include <cstddef>
#include <iterator>

namespace fedgate {

absl::string_view TargetHealthName(TargetHealth health) {
  // Indexed by TargetHealth, in the order of its declaration.
  static constexpr absl::string_view kNames[] = {"unknown", "up", "down"};
  static_assert(
      std::size(kNames) == static_cast<size_t>(TargetHealth::kDown) + 1,
      "one name per TargetHealth");
  return kNames[static_cast<size_t>(health)];
}

}  // namespace fedgate
