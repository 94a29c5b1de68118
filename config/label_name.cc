#include "config/label_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace fedgate {

bool IsValidLegacyLabelName(absl::string_view name) {
  if (name.empty()) return false;
  if (!absl::ascii_isalpha(name[0]) && name[0] != '_') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

}  // namespace fedgate
