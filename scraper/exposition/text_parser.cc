// scraper/exposition/text_parser.cc
//
// TextParser: the text format 0.0.4 parser behind every scrape, as one loop
// over the lines of the body. Per line it tries, in order, the scrape cache
// (a known series text needs only its value and timestamp parsed), the
// client-shape shortcut (text_series_shortcut.h), and the general lexer
// (text_lexer.h), which takes every corner of Prometheus 2.42's lexer and
// reports every error. The loop stays in this file so that its shortcuts
// are inlined into Next(): a series line costs one call into the shortcut.
//
// Hot path: Next() runs per line. It allocates nothing (it reuses
// label_views_) except when a series has more than 64 labels. Unescaping
// happens only in GetLabels() and help().
//
// Which copy of the shortcut runs (SSE2 or AVX2) is chosen once per process
// from the CPU (TextParserSimd); tests, benchmarks and fuzzers may change it.

#include "scraper/exposition/text_parser.h"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "scraper/exposition/exposition_scan.h"
#include "scraper/exposition/help_text.h"
#include "scraper/exposition/text_lexer.h"
#include "scraper/exposition/text_series_shortcut.h"

namespace fedgate {
namespace {

using text_parser_internal::Cursor;
using text_parser_internal::Got;
using text_parser_internal::HashLine;
using text_parser_internal::Is;
using text_parser_internal::ParseClassifiedSeriesLineBaseline;
using text_parser_internal::ParseHashLine;
using text_parser_internal::ParseSeriesLine;
using text_parser_internal::ParseTimestamp;
using text_parser_internal::SeriesLine;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
using text_parser_internal::ParseClassifiedSeriesLineAvx2;

TextParserSimd WidestSimd() {
  return CpuHasLabelBlocksAvx2() ? TextParserSimd::kAvx2
                                 : TextParserSimd::kBaseline;
}
#else
TextParserSimd WidestSimd() { return TextParserSimd::kBaseline; }
#endif

// Parses the line at `name_start` with the client-shape shortcut in the
// instructions of `simd` (text_series_shortcut.h).
inline bool ParseClassifiedSeriesLine(TextParserSimd simd,
                                      absl::string_view body, size_t name_start,
                                      LabelViews* labels, SeriesLine* out) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (simd == TextParserSimd::kAvx2) {
    return ParseClassifiedSeriesLineAvx2(body, name_start, labels, out);
  }
#endif
  return ParseClassifiedSeriesLineBaseline(body, name_start, labels, out);
}

std::atomic<TextParserSimd>& ActiveSimdLevel() {
  static std::atomic<TextParserSimd> level{WidestSimd()};
  return level;
}

}  // namespace

absl::string_view TextParserSimdName(TextParserSimd simd) {
  return simd == TextParserSimd::kAvx2 ? "avx2" : "baseline";
}

namespace text_parser_internal {

TextParserSimd ActiveSimd() {
  return ActiveSimdLevel().load(std::memory_order_relaxed);
}

bool SetActiveSimd(TextParserSimd simd) {
  if (simd == TextParserSimd::kAvx2 && WidestSimd() != TextParserSimd::kAvx2) {
    return false;
  }
  ActiveSimdLevel().store(simd, std::memory_order_relaxed);
  return true;
}

}  // namespace text_parser_internal

TextParser::TextParser(absl::string_view body)
    : simd_(text_parser_internal::ActiveSimd()), body_(body) {}

absl::StatusOr<ParseEntry> TextParser::Next() {
  // Most lines are series of the client shape: they take the shortcuts in a
  // small frame; NextEntry()'s locals for its rare paths (comments, blank
  // lines, errors) cost about 25 instructions of prologue per call.
  const bool series_line = pos_ < body_.size() && Is(body_[pos_], kMetricStart);
  // The line at pos_: one past the previous entry's, plus any newlines its
  // label values held.
  if (series_line && NextShapedSeries(line_ + 1 + series_newlines_)) {
    return ParseEntry::kSeries;
  }
  return NextEntry(/*shortcuts_failed=*/series_line);
}

// Inlined into both callers: as a call it costs 22 instructions more per
// line.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool TextParser::NextShapedSeries(
    int line) {
  if (cache_ != nullptr && NextCachedSeries()) {
    line_ = line;
    series_newlines_ = 0;
    return true;
  }
  SeriesLine series;
  if (!ParseClassifiedSeriesLine(simd_, body_, pos_, &label_views_, &series)) {
    return false;
  }
  line_ = line;
  TakeSeries(series);
  return true;
}

void TextParser::TakeSeries(const SeriesLine& series) {
  cached_ = nullptr;
  labels_pending_ = false;
  series_text_ = series.series_text;
  series_newlines_ = series.newlines;
  metric_name_ = series.metric_name;
  value_ = series.value;
  timestamp_ms_ = series.timestamp_ms;
  pos_ = series.end;
}

absl::StatusOr<ParseEntry> TextParser::NextEntry(bool shortcuts_failed) {
  const size_t n = body_.size();
  if (pos_ >= n) return ParseEntry::kEof;
  // The line at pos_: one past the previous entry's, plus any newlines its
  // label values held.
  int line = line_ + 1 + series_newlines_;
  series_text_ = absl::string_view();
  series_newlines_ = 0;
  while (pos_ < n) {
    const Cursor cur{body_, pos_, line};
    const size_t i = cur.SkipBlanks(pos_);
    const char c = cur.At(i);
    if (c == '\n') {  // A blank line.
      pos_ = cur.NextLine(i);
      ++line;
      continue;
    }
    line_ = line;
    if (Is(c, kMetricStart)) {
      // The shortcuts take lines that start at pos_ (no leading blanks). At
      // the first line, Next() tried them already (`shortcuts_failed`).
      if (i == pos_ && !shortcuts_failed && NextShapedSeries(line)) {
        return ParseEntry::kSeries;
      }
      label_views_.clear();
      SeriesLine series;
      if (absl::Status s = ParseSeriesLine(cur, i, &label_views_, &series);
          !s.ok()) {
        return s;
      }
      TakeSeries(series);
      return ParseEntry::kSeries;
    }
    if (c == '#') {
      HashLine hash_line;
      if (absl::Status s = ParseHashLine(cur, i, &hash_line); !s.ok()) {
        return s;
      }
      pos_ = hash_line.end;
      if (hash_line.entry == ParseEntry::kHelp ||
          hash_line.entry == ParseEntry::kType) {
        family_name_ = hash_line.family_name;
        type_ = hash_line.type;
        raw_help_ = hash_line.raw_help;
      }
      return hash_line.entry;
    }
    if (c == '\0') {  // The lexer reads a NUL at a line start as EOF.
      pos_ = n;
      return ParseEntry::kEof;
    }
    return cur.Error(
        i, absl::StrCat("expected a valid start token, got ", Got(body_, i)));
  }
  line_ = line;
  return ParseEntry::kEof;
}

bool TextParser::NextCachedSeries() {
  const char* const b = body_.data();
  const size_t n = body_.size();
  const char* nl =
      static_cast<const char*>(std::memchr(b + pos_, '\n', n - pos_));
  const size_t end = nl == nullptr ? n : static_cast<size_t>(nl - b);
  const absl::string_view line = body_.substr(pos_, end - pos_);
  // `<series> <value>` or `<series> <value> <timestamp>`, single spaces:
  // what every client library writes. Anything else takes the full parser.
  // (A value token is checked by ParseGoFloat alone: the bytes that would
  // end it early, blanks, NUL and `{`, are no float syntax either.)
  auto last_space = [&line](size_t end) -> size_t {
    const void* p = memrchr(line.data(), ' ', end);
    return p == nullptr
               ? 0
               : static_cast<size_t>(static_cast<const char*>(p) - line.data());
  };
  const size_t last = last_space(line.size());
  if (last == 0) return false;  // No space, or a blank at the line start.
  double value = 0;
  std::optional<int64_t> timestamp;
  absl::string_view text = line.substr(0, last);
  void* entry = nullptr;
  const absl::string_view tail = line.substr(last + 1);
  if (ParseGoFloat(tail, &value).ok()) entry = cache_->Find(text);
  if (entry == nullptr) {
    // With a timestamp: the value is the token before.
    const size_t before = last_space(last);
    if (before == 0 || tail.empty() || tail.size() > 19) return false;
    for (char c : tail) {
      if (c < '0' || c > '9') return false;
    }
    const absl::string_view v = line.substr(before + 1, last - before - 1);
    int64_t ts = 0;
    if (!ParseGoFloat(v, &value).ok() || !ParseTimestamp(tail, &ts).ok()) {
      return false;
    }
    text = line.substr(0, before);
    entry = cache_->Find(text);
    if (entry == nullptr) return false;
    timestamp = ts;
  }
  // A known text was fully parsed before: the same bytes parse the same.
  // The metric name and labels are found when asked for.
  series_text_ = text;
  metric_name_ = absl::string_view();
  value_ = value;
  timestamp_ms_ = timestamp;
  cached_ = entry;
  labels_pending_ = true;
  pos_ = nl == nullptr ? n : end + 1;
  return true;
}

absl::string_view TextParser::metric_name() const {
  if (labels_pending_ && metric_name_.empty()) {
    size_t end = 1;
    while (end < series_text_.size() && Is(series_text_[end], kMetricChar)) {
      ++end;
    }
    metric_name_ = series_text_.substr(0, end);
  }
  return metric_name_;
}

void TextParser::GetLabels(std::vector<Label>* labels) const {
  if (labels_pending_) {
    // Recognised through the cache: parse the labels now, rarely needed.
    metric_name();
    labels_pending_ = false;
    label_views_.clear();
    const size_t start =
        static_cast<size_t>(series_text_.data() - body_.data());
    const Cursor cur{body_, start, line_};
    SeriesLine series;
    ParseSeriesLine(cur, start, &label_views_, &series).IgnoreError();
  }
  BuildSeriesLabels(metric_name(), label_views_, labels);
}

absl::string_view TextParser::help_text(std::string* storage) const {
  return UnescapeHelpText(raw_help_, /*quotes=*/false, storage);
}

}  // namespace fedgate
