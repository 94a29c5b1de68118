// scraper/exposition/help_text.h
//
// The HELP text of the two text formats as their parsers hand it out: the
// raw text of a `# HELP` line, unescaped the way each format escapes it.
// Called by TextParser and OpenMetricsParser (help(), help_text()) once per
// HELP line, never per sample.
//
// Thread-safety: stateless; safe from any thread.

#ifndef FEDGATE_SCRAPER_EXPOSITION_HELP_TEXT_H_
#define FEDGATE_SCRAPER_EXPOSITION_HELP_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {

// Returns the HELP text `raw` (as exposed, still escaped) unescaped: `raw`
// itself when it has no backslash (most HELP lines: no copy), otherwise a
// view of `*storage`, where `\\`, `\n` and, if `quotes` (OpenMetrics), `\"`
// are unescaped; other backslashes are kept, as Prometheus keeps them.
absl::string_view UnescapeHelpText(absl::string_view raw, bool quotes,
                                   std::string* storage);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_HELP_TEXT_H_
