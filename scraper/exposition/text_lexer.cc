// scraper/exposition/text_lexer.cc
//
// The general lexer of the text format 0.0.4 (text_lexer.h). It accepts
// exactly what Prometheus 2.42 accepts: the rules of its golex lexer
// (model/textparse/promlex.l), its parser (promparse.go), and the two checks
// its scrape loop makes right after parsing a series (the metric name must be
// valid, label names must be unique). Each rule below was checked against the
// real 2.42 binary; text_parser_test.cc pins them.
//
// The lexer's odd corners are kept on purpose, because a body that Prometheus
// scrapes must not fail here, and the other way round:
//  * Commas between labels are optional (`a{b="1" c="2"}`), blanks are allowed
//    around every token, and a label value may contain raw newlines.
//  * Only a series line may not start with blanks; blank-led `#` lines and
//    blank lines are fine.
//  * HELP/TYPE text is the rest of the line minus its first byte, so
//    `# TYPE a counter ` (trailing blank) is the unknown type "counter ".
//  * NUL bytes: one at the start of a line, or in a `#` comment that is not
//    followed by a blank, ends the body (golex reports EOF). Inside label
//    values, HELP text and `# ` comments they are skipped over like text, and
//    NULs right after a label value's closing quote become part of the value.
//
// Hot path for the lines the client-shape shortcut (text_series_shortcut.h)
// does not take. Cost: one pass; token bodies are scanned with SSE2
// (exposition_scan.h), the label-name uniqueness check runs while lexing (the
// Bloom filter of text_lexer.h, exact comparisons only on a filter hit), and
// raw newlines in label values are counted on the way for the next line
// number. Nothing is allocated except when a series has more than 64 labels
// (the duplicate check then sorts a copy of the names). Errors are cold and
// may rescan their line.

#include "scraper/exposition/text_lexer.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "scraper/exposition/exposition_scan.h"

namespace fedgate {
namespace text_parser_internal {

// Describes what the lexer found at `at` for "expected X, got Y" messages.
std::string Got(absl::string_view body, size_t at) {
  if (at >= body.size() || body[at] == '\n') return "end of line";
  const char c = body[at];
  size_t end = at + 1;
  if (Is(c, kMetricChar)) {
    while (end < body.size() && Is(body[end], kMetricChar)) ++end;
  } else if (c != '{' && c != '}' && c != '=' && c != ',' && c != '"') {
    while (end < body.size() && !IsBlank(body[end]) && body[end] != '\n') {
      ++end;
    }
  }
  return QuoteExcerpt(body, at, end);
}

// Parses the sample line whose metric name starts at `name_start`, filling
// `labels` with raw label views.
absl::Status ParseSeriesLine(const Cursor& cur, size_t name_start,
                             LabelViews* labels, SeriesLine* out) {
  const absl::string_view body = cur.body;
  const size_t n = body.size();
  const char* const b = body.data();
  size_t i = TakeMetricName(body, name_start, out);
  size_t series_end = i;
  out->newlines = 0;
  // Label-name uniqueness (FindNonUniqueLabel's rule), found while lexing:
  // the first `__name__` and the first name repeating an earlier one, each
  // by index. Reported after the value and timestamp, in Prometheus's order.
  int reserved = -1;
  int repeated = -1;
  uint64_t seen_a = 0;  // NameFilterAdd() of the earlier names.
  uint64_t seen_b = 0;

  i = cur.SkipBlanks(i);
  if (cur.At(i) == '{') {
    ++i;
    for (;;) {
      i = cur.SkipBlanks(i);
      const char c = cur.At(i);
      if (c == '}') {
        ++i;
        break;
      }
      if (!Is(c, kLabelStart)) {
        return cur.Error(
            i, absl::StrCat("expected label name, got ", Got(body, i)));
      }
      const size_t label_start = i;
      i = SkipLabelNameBytes(b, i + 1, n);
      const absl::string_view name(b + label_start, i - label_start);
      const size_t index = labels->size();
      if (index < kMaxLexedUniquenessCheck) {
        if (reserved < 0 && name == kMetricNameLabel) {
          reserved = static_cast<int>(index);
        }
        if (repeated < 0 && NameFilterAdd(name, &seen_a, &seen_b)) {
          for (size_t j = 0; j < index; ++j) {
            if ((*labels)[j].first == name) {
              repeated = static_cast<int>(index);
              break;
            }
          }
        }
      }
      i = cur.SkipBlanks(i);
      if (cur.At(i) != '=') {
        return cur.Error(i, absl::StrCat("expected equal, got ", Got(body, i)));
      }
      ++i;
      // Blanks before the value; once past the first one the lexer is inside
      // the value state, which skips NULs.
      if (IsBlank(cur.At(i))) {
        ++i;
        while (i < n && (IsBlank(b[i]) || b[i] == '\0')) ++i;
      }
      if (cur.At(i) != '"') {
        return cur.Error(
            i, absl::StrCat("expected label value, got ", Got(body, i)));
      }
      const size_t open = i++;
      bool ascii = true;
      for (;;) {
        i = SkipQuotedPlainBytes(b, i, n);
        if (i >= n) {
          return cur.Error(open,
                           "expected label value, got unterminated string");
        }
        const char c2 = b[i];
        if (c2 == '"') break;
        if (c2 == '\n') {  // Plain too, but counted for line numbers.
          ++out->newlines;
          ++i;
          continue;
        }
        if (c2 == '\\') {
          // An escape takes the next byte but a newline, NULs skipped.
          i = cur.SkipNuls(i + 1);
          if (cur.At(i) == '\n') {
            return cur.Error(
                i, "expected label value, got backslash at end of line");
          }
          if (static_cast<unsigned char>(b[i]) >= 0x80) ascii = false;
          ++i;
          continue;
        }
        ascii = false;  // A byte >= 0x80.
        ++i;
      }
      // NULs after the closing quote end up inside the value, as in
      // Prometheus, which strips one byte from each end of the token.
      const size_t token_end = cur.SkipNuls(i + 1);
      if (!ascii && !IsValidUtf8(body.substr(open, token_end - open))) {
        return cur.Error(open, "invalid UTF-8 label value");
      }
      // Field by field: built as one pair, the value's view goes through
      // the stack as two 8-byte stores and one 16-byte load, a failed
      // store-to-load forward per label (a fifth of the parse time).
      auto& label = labels->emplace_back();
      label.first = name;
      label.second = absl::string_view(b + open + 1, token_end - open - 2);
      i = cur.SkipBlanks(token_end);
      if (cur.At(i) == ',') ++i;
    }
    series_end = i;
    i = cur.SkipBlanks(i);
  }
  out->series_text = body.substr(name_start, series_end - name_start);

  if (!Is(cur.At(i), kValueChar)) {
    return cur.Error(
        i, absl::StrCat("expected value after metric, got ", Got(body, i)));
  }
  const size_t value_start = i;
  i = SkipSampleValueBytes(b, i, n);
  if (absl::Status s =
          ParseGoFloat(body.substr(value_start, i - value_start), &out->value);
      !s.ok()) {
    return cur.Error(value_start, s.message());
  }

  i = cur.SkipBlanks(i);
  char c = cur.At(i);
  out->timestamp_ms.reset();
  if (c >= '0' && c <= '9') {
    const size_t ts_start = i;
    while (i < n && b[i] >= '0' && b[i] <= '9') ++i;
    int64_t ts = 0;
    if (absl::Status s =
            ParseTimestamp(body.substr(ts_start, i - ts_start), &ts);
        !s.ok()) {
      return cur.Error(ts_start, s.message());
    }
    out->timestamp_ms = ts;
    i = cur.SkipBlanks(i);
    c = cur.At(i);
    if (c != '\n') {
      return cur.Error(i, absl::StrCat("expected next entry after timestamp, "
                                       "got ",
                                       Got(body, i)));
    }
  } else if (c != '\n') {
    return cur.Error(i, absl::StrCat("expected timestamp or new record, got ",
                                     Got(body, i)));
  }
  out->end = cur.NextLine(i);

  // Checks of Prometheus's scrape loop and TSDB, in their order: a line with
  // leading blanks parses, but its metric name then includes the blanks.
  if (name_start != cur.entry_start) {
    return cur.Error(cur.entry_start, "invalid metric name");
  }
  const int k = labels->size() > kMaxLexedUniquenessCheck
                    ? FindNonUniqueLabel(*labels)
                    : (reserved >= 0 ? reserved : repeated);
  if (k >= 0) {
    const absl::string_view name = (*labels)[k].first;
    return SampleRejectedError(NonUniqueLabelMessage(name));
  }
  return absl::OkStatus();
}

namespace {

// Matches `keyword` followed by blanks at `*i`, skipping NULs after every
// byte as the lexer does in its comment state; on success moves `*i` past
// the blanks.
bool MatchKeyword(const Cursor& cur, absl::string_view keyword, size_t* i) {
  size_t j = *i;
  for (const char k : keyword) {
    if (cur.At(j) != k) return false;
    j = cur.SkipNuls(j + 1);
  }
  if (!IsBlank(cur.At(j))) return false;
  do {
    j = cur.SkipNuls(j + 1);
  } while (IsBlank(cur.At(j)));
  *i = j;
  return true;
}

}  // namespace

// Parses the line whose `#` is at `hash`.
absl::Status ParseHashLine(const Cursor& cur, size_t hash, HashLine* out) {
  const absl::string_view body = cur.body;
  size_t i = hash + 1;
  if (!IsBlank(cur.At(i))) {
    // `#foo`: a comment, lexed outside the comment state, so a NUL is EOF.
    const size_t eol = cur.LineEnd(i);
    if (i < eol && std::memchr(body.data() + i, '\0', eol - i) != nullptr) {
      out->entry = ParseEntry::kEof;
      out->end = body.size();
      return absl::OkStatus();
    }
    out->entry = ParseEntry::kComment;
    out->end = cur.NextLine(eol);
    return absl::OkStatus();
  }
  i = cur.SkipBlanks(i);
  if (cur.At(i) == '\0') {
    out->entry = ParseEntry::kEof;
    out->end = body.size();
    return absl::OkStatus();
  }
  absl::string_view keyword;
  if (MatchKeyword(cur, "HELP", &i)) {
    out->entry = ParseEntry::kHelp;
    keyword = "HELP";
  } else if (MatchKeyword(cur, "TYPE", &i)) {
    out->entry = ParseEntry::kType;
    keyword = "TYPE";
  } else {
    out->entry = ParseEntry::kComment;
    out->end = cur.NextLine(cur.LineEnd(i));
    return absl::OkStatus();
  }

  if (!Is(cur.At(i), kMetricStart)) {
    return cur.Error(i, absl::StrCat("expected metric name after ", keyword,
                                     ", got ", Got(body, i)));
  }
  const size_t name_start = i++;
  while (i < body.size() && Is(body[i], kMetricChar)) ++i;
  out->family_name = body.substr(name_start, i - name_start);

  // The text token is the rest of the line; Prometheus drops its first byte
  // (normally the separating blank). Blanks alone are no text.
  const size_t eol = cur.LineEnd(i);
  const absl::string_view rest = body.substr(i, eol - i);
  size_t text_start = i;
  if (!rest.empty()) {
    if (rest[0] == '\0') {
      return cur.Error(i, absl::StrCat("linebreak expected after metadata, "
                                       "got ",
                                       GoQuote(rest.substr(0, 1))));
    }
    text_start = eol;
    if (!IsBlank(rest[0])) {
      text_start = i + 1;
    } else {
      for (const char c : rest) {
        if (!IsBlank(c) && c != '\0') {
          text_start = i + 1;
          break;
        }
      }
    }
  }
  const absl::string_view text = body.substr(text_start, eol - text_start);
  if (out->entry == ParseEntry::kType) {
    if (!ParseTextTypeName(text, &out->type)) {
      return cur.Error(text_start,
                       absl::StrCat("invalid metric type ", GoQuote(text)));
    }
  } else {
    if (!IsValidUtf8(text)) {
      return cur.Error(text_start, "help text is not a valid utf8 string");
    }
    out->raw_help = text;
  }
  out->end = cur.NextLine(eol);
  return absl::OkStatus();
}

}  // namespace text_parser_internal
}  // namespace fedgate
