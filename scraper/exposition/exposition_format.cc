// scraper/exposition/exposition_format.cc

#include "scraper/exposition/exposition_format.h"

#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "scraper/exposition/openmetrics_parser.h"
#include "scraper/exposition/protobuf_parser.h"
#include "scraper/exposition/text_parser.h"

namespace fedgate {
namespace {

// Go's mime isTokenChar: printable ASCII but tspecials.
bool IsTokenChar(char c) {
  if (c <= ' ' || c >= 0x7f) return false;
  return absl::string_view("()<>@,;:\\\"/[]?=").find(c) ==
         absl::string_view::npos;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

absl::string_view TrimSpace(absl::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Consumes a token at the front of `*s`; returns it (empty if none).
absl::string_view ConsumeToken(absl::string_view* s) {
  size_t n = 0;
  while (n < s->size() && IsTokenChar((*s)[n])) ++n;
  absl::string_view token = s->substr(0, n);
  s->remove_prefix(n);
  return token;
}

// Consumes a token or a quoted string; returns false if neither is there.
bool ConsumeValue(absl::string_view* s) {
  if (s->empty()) return false;
  if ((*s)[0] != '"') return !ConsumeToken(s).empty();
  for (size_t i = 1; i < s->size(); ++i) {
    const char c = (*s)[i];
    if (c == '"') {
      s->remove_prefix(i + 1);
      return true;
    }
    if (c == '\\') {
      if (i + 1 >= s->size()) return false;
      ++i;
    }
  }
  return false;
}

// Returns whether `params` (what follows the media type) parses as Go's
// mime.ParseMediaType parameters: `; key=value` pairs, optional whitespace,
// one trailing `;` allowed, no repeated key.
bool ValidParameters(absl::string_view params) {
  std::vector<std::string> keys;
  for (;;) {
    params = TrimSpace(params);
    if (params.empty()) return true;
    if (params == ";") return true;
    if (params[0] != ';') return false;
    params.remove_prefix(1);
    while (!params.empty() && IsSpace(params[0])) params.remove_prefix(1);
    const absl::string_view key = ConsumeToken(&params);
    if (key.empty()) return false;
    while (!params.empty() && IsSpace(params[0])) params.remove_prefix(1);
    if (params.empty() || params[0] != '=') return false;
    params.remove_prefix(1);
    while (!params.empty() && IsSpace(params[0])) params.remove_prefix(1);
    if (!ConsumeValue(&params)) return false;
    std::string lower = absl::AsciiStrToLower(key);
    for (const std::string& k : keys) {
      if (k == lower) return false;  // "mime: duplicate parameter name"
    }
    keys.push_back(std::move(lower));
  }
}

}  // namespace

ExpositionFormat ExpositionFormatForContentType(
    absl::string_view content_type) {
  if (content_type.empty()) return ExpositionFormat::kText;
  const size_t semicolon = content_type.find(';');
  const absl::string_view base = TrimSpace(content_type.substr(0, semicolon));
  const absl::string_view params = semicolon == absl::string_view::npos
                                       ? absl::string_view()
                                       : content_type.substr(semicolon);
  ExpositionFormat format;
  if (absl::EqualsIgnoreCase(base, "application/openmetrics-text")) {
    format = ExpositionFormat::kOpenMetrics;
  } else if (absl::EqualsIgnoreCase(base, "application/vnd.google.protobuf")) {
    format = ExpositionFormat::kProtobuf;
  } else {
    return ExpositionFormat::kText;
  }
  // Malformed parameters make mime.ParseMediaType fail, and 2.42 then falls
  // back to the text parser.
  return ValidParameters(params) ? format : ExpositionFormat::kText;
}

absl::string_view ExpositionFormatName(ExpositionFormat format) {
  // Indexed by ExpositionFormat, in the order of its declaration.
  static constexpr absl::string_view kNames[] = {"text", "openmetrics",
                                                 "protobuf"};
  static_assert(
      std::size(kNames) == static_cast<size_t>(ExpositionFormat::kProtobuf) + 1,
      "one name per ExpositionFormat");
  return kNames[static_cast<size_t>(format)];
}

std::unique_ptr<ExpositionParser> CreateExpositionParser(
    absl::string_view content_type, absl::string_view body) {
  switch (ExpositionFormatForContentType(content_type)) {
    case ExpositionFormat::kOpenMetrics:
      return std::make_unique<OpenMetricsParser>(body);
    case ExpositionFormat::kProtobuf:
      return std::make_unique<ProtobufParser>(body);
    case ExpositionFormat::kText:
      break;
  }
  return std::make_unique<TextParser>(body);
}

}  // namespace fedgate
