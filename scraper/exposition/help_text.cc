// scraper/exposition/help_text.cc

#include "scraper/exposition/help_text.h"

#include <string>

#include "absl/strings/string_view.h"
#include "scraper/exposition/exposition_scan.h"

namespace fedgate {

absl::string_view UnescapeHelpText(absl::string_view raw, bool quotes,
                                   std::string* storage) {
  if (raw.find('\\') == absl::string_view::npos) return raw;
  UnescapeLabelText(raw, quotes, storage);
  return *storage;
}

}  // namespace fedgate
