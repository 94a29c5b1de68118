#include "scraper/exposition/test_values.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {

std::string FormatTestValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string ShowControlBytes(absl::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '\n':
        out += "<LF>";
        break;
      case '\t':
        out += "<TAB>";
        break;
      case '\r':
        out += "<CR>";
        break;
      case '\0':
        out += "<NUL>";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "<x", absl::Hex(c, absl::kZeroPad2), ">");
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string RenderTestSeries(const ExpositionParser& parser) {
  std::vector<Label> labels;
  parser.GetLabels(&labels);
  std::vector<std::string> parts;
  for (const Label& label : labels) {
    parts.push_back(
        absl::StrCat(label.name, "=\"", ShowControlBytes(label.value), "\""));
  }
  std::string out = absl::StrCat(ShowControlBytes(parser.series_text()), " [",
                                 absl::StrJoin(parts, " "), "] ",
                                 FormatTestValue(parser.value()));
  if (parser.timestamp_ms().has_value()) {
    absl::StrAppend(&out, " @", *parser.timestamp_ms());
  }
  return out;
}

std::string RenderTestHelp(const ExpositionParser& parser) {
  std::string storage;
  const std::string help = parser.help();
  return absl::StrCat(
      parser.family_name(), " \"", ShowControlBytes(help), "\"",
      parser.help_text(&storage) == help ? "" : " (help_text differs)");
}

}  // namespace fedgate
