#include "config/label_name.h"

#include "absl/strings/string_view.h"

namespace fedgate {
namespace {

// Returns whether `name` is non-empty, starts with a letter, `_` or (when
// `colon`) `:`, and continues with those or digits.
bool IsValidName(absl::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       c == '_' || (colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

}  // namespace

bool IsValidLabelName(absl::string_view name) {
  return IsValidName(name, /*colon=*/false);
}

bool IsValidMetricName(absl::string_view name) {
  return IsValidName(name, /*colon=*/true);
}

}  // namespace fedgate
