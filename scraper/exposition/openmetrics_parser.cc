// scraper/exposition/openmetrics_parser.cc
//
// OpenMetrics 1.0 as Prometheus 2.42 scrapes it. The golex lexer of 2.42
// (openmetricslex.l) is strict where the text format's is lenient, and the
// rules below are its rules, token by token:
//  * A line starts with a metric name `[a-zA-Z_:][a-zA-Z0-9_:]*` or with
//    `# ` (one space) followed by `HELP `, `TYPE `, `UNIT ` or `EOF`
//    (optionally followed by one newline). Anything else, a blank line
//    included, is "not a valid start token".
//  * Metadata: the name follows the keyword's space directly, then one space
//    and the text up to a newline that must exist ("expected text in HELP").
//  * Labels: no blanks anywhere inside `{}`; commas separate, a trailing or
//    leading comma is an error; values are `"..."` with `\x` escapes that may
//    not escape a newline.
//  * Value and timestamp are each preceded by exactly one space and run to
//    the next space or newline. Timestamps are Go floats in seconds; NaN and
//    ±Inf are refused; ms = int64(ts * 1000) (Go truncation; out of range
//    gives the minimum int64, as on amd64).
//  * ` # {` after the value or timestamp starts an exemplar, allowed only on
//    names ending in `_total` or `_bucket`.
//  * NUL bytes: the lexer skips them while reading label values, HELP text
//    and the keyword after `# `, but never at the first byte of a token; NULs
//    right after a label value's closing quote end up inside the value (the
//    parser strips one byte from each end of the token). Exemplar label
//    values, sample values and timestamps do not accept them.
// Line and column are 1-based; every entry is one line (label values cannot
// hold newlines in OpenMetrics).

#include "scraper/exposition/openmetrics_parser.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "scraper/exposition/exposition_scan.h"
#include "scraper/exposition/help_text.h"

namespace fedgate {
namespace {

// Byte classes: the name bits of exposition_scan.h (kMetricStart,
// kMetricChar, kLabelStart, kLabelChar) and two of the OpenMetrics lexer.
// [^ \n\0], value and timestamp bytes.
constexpr uint8_t kTokenChar = 1 << kFirstFreeByteClass;
// ASCII but `"`, `\`, `\n` and NUL.
constexpr uint8_t kQuotedPlain = 1 << (kFirstFreeByteClass + 1);

constexpr std::array<uint8_t, 256> MakeByteClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t f = NameByteClasses(c);
    if (c != ' ' && c != '\n' && c != 0) f |= kTokenChar;
    if (c < 0x80 && c != '"' && c != '\\' && c != '\n' && c != 0) {
      f |= kQuotedPlain;
    }
    t[c] = f;
  }
  return t;
}

constexpr std::array<uint8_t, 256> kByteClass = MakeByteClasses();

inline bool Is(char c, uint8_t cls) {
  return (kByteClass[static_cast<unsigned char>(c)] & cls) != 0;
}

// Describes what the lexer found at `at` for "expected X, got Y" messages.
std::string Got(absl::string_view body, size_t at) {
  if (at >= body.size()) return "end of data";
  const char c = body[at];
  if (c == '\n') return "end of line";
  size_t end = at + 1;
  if (Is(c, kMetricChar)) {
    while (end < body.size() && Is(body[end], kMetricChar)) ++end;
  } else if (c != '{' && c != '}' && c != '=' && c != ',' && c != '"' &&
             c != ' ' && c != '\0') {
    while (end < body.size() && Is(body[end], kTokenChar) && body[end] != ',' &&
           body[end] != '}' && body[end] != '=') {
      ++end;
    }
  }
  return QuoteExcerpt(body, at, end);
}

// Returns Go's int64(ms) for a float64 on amd64: truncation toward zero, and
// the minimum int64 for NaN or anything out of range.
int64_t GoInt64(double ms) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (!(ms >= -kTwo63 && ms < kTwo63)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(ms);
}

size_t SkipNuls(absl::string_view body, size_t i) {
  while (i < body.size() && body[i] == '\0') ++i;
  return i;
}

char At(absl::string_view body, size_t i) {
  return i < body.size() ? body[i] : '\n';
}

// Matches `keyword` at `*i` as the lexer's comment state does (NULs skipped
// after every byte but before the first); moves `*i` past it on success.
bool MatchKeyword(absl::string_view body, absl::string_view keyword,
                  size_t* i) {
  size_t j = *i;
  for (const char k : keyword) {
    if (j >= body.size() || body[j] != k) return false;
    j = SkipNuls(body, j + 1);
  }
  *i = j;
  return true;
}

// Returns the end of a `{S}[^ \n]+` token's bytes starting at `i` (just past
// the space), or `i` if there is none.
size_t TokenEnd(absl::string_view body, size_t i) {
  while (i < body.size() && Is(body[i], kTokenChar)) ++i;
  return i;
}

}  // namespace

OpenMetricsParser::OpenMetricsParser(absl::string_view body) : body_(body) {}

absl::Status OpenMetricsParser::Error(size_t line_start, size_t at,
                                      absl::string_view reason) const {
  return LineError(body_, line_start, line_, at, reason);
}

absl::StatusOr<ParseEntry> OpenMetricsParser::Next() {
  if (done_) return ParseEntry::kEof;
  series_text_ = absl::string_view();
  has_exemplar_ = false;
  ++line_;
  const size_t start = pos_;
  if (start >= body_.size()) {
    return Error(start, start, "data does not end with # EOF");
  }
  const char c = body_[start];
  if (Is(c, kMetricStart)) {
    if (absl::Status s = ParseSeriesLine(start); !s.ok()) return s;
    return ParseEntry::kSeries;
  }
  if (c == '#' && At(body_, start + 1) == ' ') {
    ParseEntry entry;
    if (absl::Status s = ParseMetadataLine(start, &entry); !s.ok()) return s;
    return entry;
  }
  const size_t at = c == '#' ? start + 1 : start;
  return Error(
      start, at,
      absl::StrCat("expected a valid start token, got ", Got(body_, at)));
}

absl::Status OpenMetricsParser::ParseMetadataLine(size_t start,
                                                  ParseEntry* entry) {
  const absl::string_view b = body_;
  size_t i = start + 2;
  absl::string_view keyword;
  if (MatchKeyword(b, "EOF", &i)) {
    if (i < b.size() && b[i] == '\n') i = SkipNuls(b, i + 1);
    if (i < b.size()) {
      return Error(start, i, "unexpected data after # EOF");
    }
    done_ = true;
    pos_ = b.size();
    *entry = ParseEntry::kEof;
    return absl::OkStatus();
  }
  size_t k = i;
  if (MatchKeyword(b, "HELP ", &k)) {
    keyword = "HELP";
    *entry = ParseEntry::kHelp;
  } else if (k = i; MatchKeyword(b, "TYPE ", &k)) {
    keyword = "TYPE";
    *entry = ParseEntry::kType;
  } else if (k = i; MatchKeyword(b, "UNIT ", &k)) {
    keyword = "UNIT";
    *entry = ParseEntry::kUnit;
  } else {
    return Error(start, i,
                 absl::StrCat("expected a valid start token, got ", Got(b, i)));
  }
  i = k;
  if (i >= b.size() || !Is(b[i], kMetricStart)) {
    return Error(start, i,
                 absl::StrCat("expected metric name after ", keyword, ", got ",
                              Got(b, i)));
  }
  const size_t name_start = i++;
  while (i < b.size() && Is(b[i], kMetricChar)) ++i;
  const absl::string_view name = b.substr(name_start, i - name_start);
  // `{S}{C}*\n`: one space, then the text up to a newline.
  const void* nl =
      i < b.size() ? std::memchr(b.data() + i, '\n', b.size() - i) : nullptr;
  if (i >= b.size() || b[i] != ' ' || nl == nullptr) {
    return Error(start, i, absl::StrCat("expected text in ", keyword));
  }
  const size_t eol = static_cast<const char*>(nl) - b.data();
  const absl::string_view text = b.substr(i + 1, eol - i - 1);
  switch (*entry) {
    case ParseEntry::kType:
      if (!ParseOpenMetricsTypeName(text, &type_)) {
        return Error(start, i + 1,
                     absl::StrCat("invalid metric type ", GoQuote(text)));
      }
      break;
    case ParseEntry::kHelp:
      if (!IsValidUtf8(text)) {
        return Error(start, i + 1, "help text is not a valid utf8 string");
      }
      raw_help_ = text;
      break;
    default:  // kUnit
      if (!text.empty() &&
          (!absl::EndsWith(name, text) || name.size() < text.size() + 1 ||
           name[name.size() - text.size() - 1] != '_')) {
        return Error(
            start, i + 1,
            absl::StrCat("unit not a suffix of metric ", GoQuote(name)));
      }
      unit_ = text;
      break;
  }
  family_name_ = name;
  pos_ = eol + 1;
  return absl::OkStatus();
}

absl::Status OpenMetricsParser::ParseLabelSet(size_t line_start, size_t* pos,
                                              bool exemplar,
                                              LabelViews* labels) {
  const absl::string_view b = body_;
  const size_t n = b.size();
  size_t i = *pos;
  bool first = true;
  for (;;) {
    const char c = At(b, i);
    if (i < n && c == '}') {
      *pos = i + 1;
      return absl::OkStatus();
    }
    if (i < n && c == ',') {
      if (first) {
        return Error(
            line_start, i,
            absl::StrCat("expected label name or left brace, got ", Got(b, i)));
      }
      ++i;
      if (i >= n || !Is(b[i], kLabelStart)) {
        return Error(line_start, i,
                     absl::StrCat("expected label name, got ", Got(b, i)));
      }
    } else if (i < n && Is(c, kLabelStart)) {
      if (!first) {
        return Error(line_start, i,
                     absl::StrCat("expected comma, got ", Got(b, i)));
      }
    } else {
      return Error(line_start, i,
                   absl::StrCat(first ? "expected label name or left brace"
                                      : "expected comma or left brace",
                                ", got ", Got(b, i)));
    }
    first = false;
    const size_t name_start = i++;
    while (i < n && Is(b[i], kLabelChar)) ++i;
    const absl::string_view name = b.substr(name_start, i - name_start);
    if (i >= n || b[i] != '=') {
      return Error(line_start, i,
                   absl::StrCat("expected equal, got ", Got(b, i)));
    }
    ++i;
    if (i >= n || b[i] != '"') {
      return Error(line_start, i,
                   absl::StrCat("expected label value, got ", Got(b, i)));
    }
    const size_t open = i++;
    bool ascii = true;
    for (;;) {
      while (i < n && Is(b[i], kQuotedPlain)) ++i;
      if (i >= n || b[i] == '\n') {
        return Error(line_start, open,
                     "expected label value, got unterminated string");
      }
      const char q = b[i];
      if (q == '"') break;
      if (q == '\0') {
        if (exemplar) {
          return Error(line_start, open,
                       "expected label value, got NUL byte in exemplar");
        }
        ++i;
        continue;
      }
      if (q == '\\') {
        // `\\.`: any byte but a newline; the lexer skips NULs first.
        i = exemplar ? i + 1 : SkipNuls(b, i + 1);
        if (i >= n || b[i] == '\n' || (exemplar && b[i] == '\0')) {
          return Error(line_start, open,
                       "expected label value, got unterminated string");
        }
        if (static_cast<unsigned char>(b[i]) >= 0x80) ascii = false;
        ++i;
        continue;
      }
      ascii = false;  // A byte >= 0x80.
      ++i;
    }
    const size_t token_end = exemplar ? i + 1 : SkipNuls(b, i + 1);
    if (!ascii && !IsValidUtf8(b.substr(open, token_end - open))) {
      return Error(line_start, open, "invalid UTF-8 label value");
    }
    labels->emplace_back(name, b.substr(open + 1, token_end - open - 2));
    i = token_end;
  }
}

absl::Status OpenMetricsParser::ParseFloatToken(
    size_t line_start, size_t at, absl::string_view timestamp_error,
    size_t* end, double* value) const {
  *end = TokenEnd(body_, at);
  if (absl::Status s = ParseGoFloat(body_.substr(at, *end - at), value);
      !s.ok()) {
    return Error(line_start, at, s.message());
  }
  if (!timestamp_error.empty() && (std::isnan(*value) || std::isinf(*value))) {
    return Error(line_start, at, timestamp_error);
  }
  return absl::OkStatus();
}

absl::Status OpenMetricsParser::ParseExemplar(size_t line_start, size_t i) {
  const absl::string_view b = body_;
  // `i` is at the `{` of ` # {`.
  if (!absl::EndsWith(metric_name_, "_total") &&
      !absl::EndsWith(metric_name_, "_bucket")) {
    return Error(line_start, i - 2,
                 absl::StrCat("metric name ", metric_name_,
                              " does not support exemplars"));
  }
  exemplar_views_.clear();
  ++i;
  if (absl::Status s = ParseLabelSet(line_start, &i, true, &exemplar_views_);
      !s.ok()) {
    return s;
  }
  if (At(b, i) != ' ' || i >= b.size() || !Is(At(b, i + 1), kTokenChar) ||
      i + 1 >= b.size()) {
    return Error(
        line_start, i,
        absl::StrCat("expected value after exemplar labels, got ", Got(b, i)));
  }
  size_t end;
  double value;
  if (absl::Status s = ParseFloatToken(line_start, i + 1, "", &end, &value);
      !s.ok()) {
    return s;
  }
  i = end;
  if (i >= b.size()) {
    return Error(line_start, i, "data does not end with # EOF");
  }
  if (b[i] == ' ' && i + 1 < b.size() && Is(b[i + 1], kTokenChar)) {
    double ts;
    if (absl::Status s = ParseFloatToken(
            line_start, i + 1, "invalid exemplar timestamp", &end, &ts);
        !s.ok()) {
      return s;
    }
    i = end;
    if (i >= b.size() || b[i] != '\n') {
      return Error(line_start, i,
                   absl::StrCat("expected next entry after exemplar "
                                "timestamp, got ",
                                Got(b, i)));
    }
  } else if (b[i] != '\n') {
    return Error(
        line_start, i,
        absl::StrCat("expected timestamp or comment, got ", Got(b, i)));
  }
  has_exemplar_ = true;
  pos_ = i + 1;
  return absl::OkStatus();
}

absl::Status OpenMetricsParser::ParseSeriesLine(size_t start) {
  const absl::string_view b = body_;
  const size_t n = b.size();
  size_t i = start + 1;
  while (i < n && Is(b[i], kMetricChar)) ++i;
  metric_name_ = b.substr(start, i - start);
  label_views_.clear();
  if (i < n && b[i] == '{') {
    ++i;
    if (absl::Status s = ParseLabelSet(start, &i, false, &label_views_);
        !s.ok()) {
      return s;
    }
  }
  series_text_ = b.substr(start, i - start);

  // `{S}[^ \n]+`: exactly one space, then the value.
  if (i >= n || b[i] != ' ' || i + 1 >= n || !Is(b[i + 1], kTokenChar)) {
    return Error(start, i,
                 absl::StrCat("expected value after metric, got ", Got(b, i)));
  }
  size_t end;
  if (absl::Status s = ParseFloatToken(start, i + 1, "", &end, &value_);
      !s.ok()) {
    return s;
  }
  i = end;
  timestamp_ms_.reset();
  pos_ = i;
  absl::Status result;
  auto exemplar_at = [&](size_t k) {
    return k + 3 < n && b[k] == ' ' && b[k + 1] == '#' && b[k + 2] == ' ' &&
           b[k + 3] == '{';
  };
  if (i >= n) return Error(start, i, "data does not end with # EOF");
  if (b[i] == '\n') {
    pos_ = i + 1;
  } else if (exemplar_at(i)) {
    result = ParseExemplar(start, i + 3);
  } else if (b[i] == ' ' && i + 1 < n && Is(b[i + 1], kTokenChar)) {
    double ts;
    if (absl::Status s =
            ParseFloatToken(start, i + 1, "invalid timestamp", &end, &ts);
        !s.ok()) {
      return s;
    }
    timestamp_ms_ = GoInt64(ts * 1000);
    i = end;
    if (i < n && b[i] == '\n') {
      pos_ = i + 1;
    } else if (exemplar_at(i)) {
      result = ParseExemplar(start, i + 3);
    } else {
      return Error(
          start, i,
          absl::StrCat("expected next entry after timestamp, got ", Got(b, i)));
    }
  } else {
    return Error(
        start, i,
        absl::StrCat("expected timestamp or # symbol, got ", Got(b, i)));
  }
  if (!result.ok()) return result;

  // The TSDB's check (2.42 head appender): `__name__` inside the braces or a
  // repeated label name fails the scrape.
  if (const int k = FindNonUniqueLabel(label_views_); k >= 0) {
    const absl::string_view name = label_views_[k].first;
    return SampleRejectedError(NonUniqueLabelMessage(name));
  }
  return absl::OkStatus();
}

void OpenMetricsParser::GetLabels(std::vector<Label>* labels) const {
  BuildSeriesLabels(metric_name_, label_views_, labels);
}

absl::string_view OpenMetricsParser::help_text(std::string* storage) const {
  return UnescapeHelpText(raw_help_, /*quotes=*/true, storage);
}

}  // namespace fedgate
