// scraper/exposition/text_series_shortcut.cc
//
// The shortcut that TextParser (text_parser.h) takes for series lines of the
// shape client libraries write (text_series_shortcut.h): most lines of every
// scrape, so this is the hottest code of the scraper. It checks a label set
// 64 bytes at a time with bitmasks (ParseClassifiedSeriesLine()), hands label
// sets over 1 KiB to the token-by-token ParseSimpleSeriesLine(), and values
// of up to 7 digits to ParseShortInteger(); any other line, and any error,
// is left to the general lexer (text_lexer.h), which decides.
//
// The 64-byte walk is compiled twice, once per instruction set of the label
// block kernels (exposition_scan.h): SSE2, which every x86-64 CPU has, and
// AVX2 with BMI1, BMI2, PCLMULQDQ and POPCNT through target attributes, which
// takes a fifth (k3s) to a quarter (mesh proxy) fewer instructions per
// sample. TextParser picks one copy per process. Each copy is one function
// that inlines the whole walk, so that the walk gets the instructions of its
// copy; TextParser calls it through one call per line, as it would within
// one file, since a function with other target attributes is never inlined
// into its caller.

#include "scraper/exposition/text_series_shortcut.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "scraper/exposition/exposition_scan.h"
#include "scraper/exposition/text_lexer.h"

namespace fedgate {
namespace text_parser_internal {
namespace {
// Parses the sample value at b[start] as ParseGoFloat() does if it is 1 to 7
// decimal digits (`0`, `909085`: most values of counters and histogram
// buckets) followed by a space or a newline, and b[start, start + 8) lies in
// the body `b[0, n)`: returns the offset just past the digits, or 0 (for
// anything else, changing nothing). Why: the digits are found, checked and
// converted 8 bytes at a time (SWAR), without the token scan, the call and
// the loop per digit, whose exit depends on each value's length. The result
// is the integer's double, as ParseGoFloat()'s (exact: below 2^53).
inline size_t ParseShortInteger(const char* b, size_t start, size_t n,
                                double* value) {
  if (start + 8 > n) return 0;
  uint64_t w = 0;
  std::memcpy(&w, b + start, 8);  // Byte k is b[start + k].
  // Bit 7 of byte k: b[start + k] is no digit. A digit's high nibble is 3
  // and stays 3 when 6 is added; a carry out of a byte >= 0xFA reaches only
  // later bytes, which are past a non-digit then.
  constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0u;
  constexpr uint64_t kThrees = 0x3030303030303030u;
  const uint64_t off =
      ((w & kHigh) ^ kThrees) | (((w + 0x0606060606060606u) & kHigh) ^ kThrees);
  const uint64_t off_bits =
      (off | off << 1 | off << 2 | off << 3) & 0x8080808080808080u;
  if (off_bits == 0) return 0;  // 8 digits or more.
  const unsigned length = static_cast<unsigned>(__builtin_ctzll(off_bits)) / 8;
  const char after = b[start + length];
  if (length == 0 || (after != ' ' && after != '\n')) return 0;
  // The digits' values, most significant first, moved up to end in byte 7
  // with zeros (leading zero digits) before them; the shift is 8 to 56.
  uint64_t v = (w - kThrees) << (8 * (8 - length));
  v = v * 10 + (v >> 8);  // Byte 2k + 1: the pair of digits 2k, 2k + 1.
  v = ((v & 0x000000FF000000FFu) * (100 + (uint64_t{1000000} << 32)) +
       ((v >> 16) & 0x000000FF000000FFu) * (1 + (uint64_t{10000} << 32))) >>
      32;
  *value = static_cast<double>(v);
  return start + length;
}

// ParseSimpleSampleTail() from the value on, which starts at
// body[value_start]; not inlined, so that the common case there takes no
// call and saves no registers.
ABSL_ATTRIBUTE_NOINLINE bool ParseSampleValueAndTimestamp(
    absl::string_view body, size_t value_start, SeriesLine* out) {
  const char* const b = body.data();
  const size_t n = body.size();
  // The end of the body reads as a newline, as in Cursor::At().
  auto at = [b, n](size_t i) { return i < n ? b[i] : '\n'; };
  size_t i = ParseShortInteger(b, value_start, n, &out->value);
  if (i == 0) {
    i = SkipSampleValueBytes(b, value_start, n);
    if (i == value_start ||
        !ParseGoFloat(body.substr(value_start, i - value_start), &out->value)
             .ok()) {
      return false;
    }
  }
  out->timestamp_ms.reset();
  if (at(i) == ' ') {
    const size_t ts_start = ++i;
    while (i < n && b[i] >= '0' && b[i] <= '9') ++i;
    int64_t ts = 0;
    if (i == ts_start ||
        !ParseTimestamp(body.substr(ts_start, i - ts_start), &ts).ok()) {
      return false;
    }
    out->timestamp_ms = ts;
  }
  if (at(i) != '\n') return false;
  out->newlines = 0;
  out->end = std::min(i + 1, n);
  return true;
}

// Parses the rest of a sample line of the shape client libraries write,
// ` value[ timestamp]` and the newline, after a series text that spans
// body[name_start, i). Returns false if the rest has another shape or does
// not parse. Inlined: a value of up to 7 digits followed by the newline,
// most lines, is done here.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ParseSimpleSampleTail(
    absl::string_view body, size_t name_start, size_t i, SeriesLine* out) {
  const char* const b = body.data();
  const size_t n = body.size();
  out->series_text = body.substr(name_start, i - name_start);
  if (i >= n || b[i] != ' ') return false;
  // ParseShortInteger() reads 8 bytes from i + 1, so `end` is in the body.
  const size_t end = ParseShortInteger(b, i + 1, n, &out->value);
  if (end != 0 && b[end] == '\n') {
    out->timestamp_ms.reset();
    out->newlines = 0;
    out->end = end + 1;
    return true;
  }
  return ParseSampleValueAndTimestamp(body, i + 1, out);
}

// Parses the sample line starting at `name_start` (a metric name byte at the
// start of its line) if it has the shape client libraries write, with none
// of the lexer's corners: `name{l="v",...} value[ timestamp]`, labels
// separated by single commas (one may trail), single spaces, label values
// of ASCII without escapes or newlines, at most 32 labels, none `__name__`
// or repeated. Returns false otherwise, or on any error, leaving `*out`
// unspecified and `labels` with extra entries; ParseSeriesLine() then
// decides. Why: most lines have this shape, and checking it skips the
// blank, NUL and escape handling that ParseSeriesLine does around every
// token. Whatever this accepts, ParseSeriesLine accepts with the same
// views, value, timestamp and end.
bool ParseSimpleSeriesLine(absl::string_view body, size_t name_start,
                           LabelViews* labels, SeriesLine* out) {
  const char* const b = body.data();
  const size_t n = body.size();
  // The end of the body reads as a newline, as in Cursor::At().
  auto at = [b, n](size_t i) { return i < n ? b[i] : '\n'; };
  size_t i = TakeMetricName(body, name_start, out);
  if (at(i) == '{') {
    ++i;
    uint64_t seen_a = 0;  // NameFilterAdd() of the earlier names.
    uint64_t seen_b = 0;
    for (;;) {
      const size_t label_start = i;
      if (!Is(at(i), kLabelStart)) return false;
      i = SkipLabelNameBytes(b, i + 1, n);
      if (at(i) != '=' || at(i + 1) != '"') return false;
      const absl::string_view name(b + label_start, i - label_start);
      const size_t value_start = i + 2;
      i = SkipQuotedPlainBytes(b, value_start, n);
      if (at(i) != '"') return false;  // An escape, a newline, non-ASCII.
      if (labels->size() >= kMaxLexedUniquenessCheck ||
          name == kMetricNameLabel) {
        return false;
      }
      if (NameFilterAdd(name, &seen_a, &seen_b)) {
        for (const auto& earlier : *labels) {
          if (earlier.first == name) return false;
        }
      }
      auto& label = labels->emplace_back();
      label.first = name;
      label.second = absl::string_view(b + value_start, i - value_start);
      ++i;
      char c = at(i);
      if (c == ',') c = at(++i);
      if (c == '}') {
        ++i;
        break;
      }
      // No comma before the next label (`{a="1"b="2"}`) is rare: the
      // general lexer's business.
      if (b[i - 1] != ',') return false;
    }
  }
  return ParseSimpleSampleTail(body, name_start, i, out);
}

// Up to this many 64-byte blocks after `{` (1 KiB),
// ParseClassifiedSeriesLine() keeps a label set's masks on the stack; longer
// label sets take ParseSimpleSeriesLine().
constexpr int kMaxLabelBlocks = 16;

// Walks the quotes of a label set that starts at b[base]
// (ParseClassifiedSeriesLine()'s second pass), replacing `*labels` with its
// labels. quotes[k] is the quote mask of the block at b[base + 64 * k]; the
// blocks end with the one holding `stop`, followed by a sentinel block of all
// ones: its quotes lie past `stop`, where the walk fails, and are too many to
// run out of within a label, so that next_quote() needs no bound (nor a
// branch per block boundary). Returns the offset of the closing `}`, or 0 if
// the quotes do not pair up into at most 32 unique labels of the client shape
// (`*labels` is then unspecified).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t WalkLabelQuotes(
    const char* b, size_t base, size_t stop, const uint64_t* quotes,
    LabelViews* labels) {
  const uint64_t* next_block = quotes + 1;
  size_t block_base = base;      // The byte of bit 0 of the walked block.
  uint64_t pending = quotes[0];  // The quotes not yet walked in it.
  auto next_quote = [&]() {
    while (pending == 0) {
      block_base += 64;
      pending = *next_block++;
    }
    const size_t quote =
        block_base + static_cast<uint32_t>(__builtin_ctzll(pending));
    pending &= pending - 1;
    return quote;
  };
  // `*labels` keeps the previous line's labels: overwritten in place,
  // they cost no size update and no zeroing per label (a vector's
  // emplace_back() does both).
  auto* views = labels->data();
  auto* view = views;  // The next label's.
  // Up to here without growing `*labels` or passing the label limit.
  auto* room = views + std::min(labels->size(), kMaxLexedUniquenessCheck);
  // FilterMark() of the names, in registers.
  uint64_t seen_a = 0;
  uint64_t seen_b = 0;
  // Ends the label set at `end` (its `}`) unless a name repeats: a test
  // once per line, not one per label (a filter test and its branch).
  auto finish = [&](size_t end) -> size_t {
    const size_t count = static_cast<size_t>(view - views);
    if (!SurelyUniqueNames(count, seen_a, seen_b)) {
      for (size_t i = 1; i < count; ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (views[i].first == views[j].first) return 0;
        }
      }
    }
    labels->resize(count);
    return end;
  };
  size_t name_begin = base;
  for (;;) {
    const size_t open = next_quote();
    const size_t close = next_quote();
    // Before `stop`, b[close + 1] is in the body (the body's end reads as
    // a stop byte). (open >= name_begin: `""` or `",="` fail below.)
    if (close + 1 >= stop || b[open - 1] != '=' ||
        !Is(b[name_begin], kLabelStart)) {
      // A comma before the `}` (`{a="1",}`) ends the set too.
      if (view != views && name_begin < stop && b[name_begin] == '}') {
        return finish(name_begin);
      }
      return 0;
    }
    const char* const name = b + name_begin;
    // 32 bits (a label set here is at most 1 KiB): a string_view's length
    // then needs no check against its maximum (two instructions per view).
    const uint32_t name_size = static_cast<uint32_t>(open - 1 - name_begin);
    if (view == room) {
      const size_t count = static_cast<size_t>(view - views);
      if (count == kMaxLexedUniquenessCheck) return 0;
      // More labels than the previous line's.
      labels->emplace_back();
      views = labels->data();
      view = views + count;
      room = view + 1;
    }
    if (name_size == kMetricNameLabel.size() &&
        std::memcmp(name, kMetricNameLabel.data(), name_size) == 0) {
      return 0;
    }
    // The name's first two and last two bytes, counting the `=` after
    // it: two loads, where NameFilterAdd() takes three and a select.
    uint16_t head = 0;
    uint16_t tail_bytes = 0;
    std::memcpy(&head, name, 2);
    std::memcpy(&tail_bytes, b + open - 2, 2);
    FilterMark(uint64_t{name_size} << 32 | uint64_t{tail_bytes} << 16 | head,
               &seen_a, &seen_b);
    view->first = absl::string_view(name, name_size);
    view->second = absl::string_view(b + open + 1,
                                     static_cast<uint32_t>(close - open - 1));
    ++view;
    const char after = b[close + 1];
    if (after == '}') return finish(close + 1);
    if (after != ',') return 0;
    name_begin = close + 2;
  }
}

// Does what ParseSimpleSeriesLine() does, with its contract (same lines, same
// results), except that it replaces `*labels` (reusing its entries) instead
// of appending to an empty vector, checking the label set 64 bytes at a time.
// Why: token by token, each token's end is the address of the next token's
// load, a chain of about 15 cycles per token; the masks of a block (quotes,
// stop bytes, non-name bytes: exposition_scan.h ClassifyLabelBlock) depend only
// on its address, and the walk over them chains only a bit clear per quote.
//
// Two passes over the label set `{...}`:
//  1. Classify each block up to the first stop byte (`\`, newline,
//     >= 0x80; the line's newline is one). The prefix xor of the quotes
//     gives the bytes inside strings. Outside them, every byte that is not a
//     name byte must be right before an opening quote or right after a
//     closing one (`=`, `,`), or it is "unexplained".
//  2. Walk the quotes in pairs: each opening quote follows `=` and a label
//     name that starts with [a-zA-Z_]; each closing quote is followed by
//     `,` or `}` (`,}` ends it too). The label set is valid if it ends
//     before the first stop byte and none of its bytes is unexplained.
//
// Compiled twice, with each LabelBlocks below: `Classify` is
// ClassifyLabelBlock() and `PrefixXor` PrefixXor() in some instruction set.
// Always inlined, so that the whole walk of each copy gets its instructions.
template <typename LabelBlocks>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ParseClassifiedSeriesLine(
    absl::string_view body, size_t name_start, LabelViews* labels,
    SeriesLine* out) {
  const char* const b = body.data();
  const size_t n = body.size();
  auto at = [b, n](size_t i) { return i < n ? b[i] : '\n'; };
  size_t i = TakeMetricName(body, name_start, out);
  if (at(i) == '{') {
    const size_t base = i + 1;  // The byte of bit 0 of block 0.
    uint64_t quotes[kMaxLabelBlocks + 1];
    uint64_t unexplained[kMaxLabelBlocks];
    int blocks = 0;
    size_t stop = 0;           // The first stop byte.
    uint64_t in_string = 0;    // All ones if the block starts inside a string.
    uint64_t quote_carry = 0;  // A quote ended the previous block.
    char tail[64];
    for (;;) {
      if (blocks == kMaxLabelBlocks) {
        labels->clear();
        return ParseSimpleSeriesLine(body, name_start, labels, out);
      }
      const size_t s = base + 64 * static_cast<size_t>(blocks);
      const char* block = b + s;
      if (s + 64 > n) {  // The body's end reads as newlines.
        std::memset(tail, '\n', sizeof(tail));
        if (s < n) std::memcpy(tail, b + s, n - s);
        block = tail;
      }
      const LabelBlockMasks m = LabelBlocks::Classify(block);
      const uint64_t inside = LabelBlocks::PrefixXor(m.quote) ^ in_string;
      in_string = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
      // Right before or after any quote: the bytes right after an opening
      // quote and right before a closing one are inside the string or a
      // quote, so opening and closing quotes need no telling apart.
      unexplained[blocks] = m.non_name & ~inside & ~(m.quote >> 1) &
                            ~((m.quote << 1) | quote_carry);
      if (blocks > 0) unexplained[blocks - 1] &= ~(m.quote << 63);
      quote_carry = m.quote >> 63;
      quotes[blocks++] = m.quote;
      if (m.stop != 0) {
        stop = s + static_cast<size_t>(__builtin_ctzll(m.stop));
        break;
      }
    }
    quotes[blocks] = ~uint64_t{0};  // WalkLabelQuotes()'s sentinel.
    const size_t end = WalkLabelQuotes(b, base, stop, quotes, labels);
    if (end == 0 || end >= stop) return false;
    const size_t length = end - base;
    for (size_t k = 0; k < length / 64; ++k) {
      if (unexplained[k] != 0) return false;
    }
    if ((unexplained[length / 64] & ((uint64_t{1} << (length % 64)) - 1)) !=
        0) {
      return false;
    }
    i = end + 1;
  } else {
    labels->clear();
  }
  return ParseSimpleSampleTail(body, name_start, i, out);
}

struct BaselineLabelBlocks {
  static LabelBlockMasks Classify(const char* p) {
    return ClassifyLabelBlock(p);
  }
  static uint64_t PrefixXor(uint64_t x) { return fedgate::PrefixXor(x); }
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
struct Avx2LabelBlocks {
  __attribute__((target("avx2"))) static LabelBlockMasks Classify(
      const char* p) {
    return ClassifyLabelBlockAvx2(p);
  }
  __attribute__((target("pclmul"))) static uint64_t PrefixXor(uint64_t x) {
    return PrefixXorClmul(x);
  }
};
#endif

}  // namespace

bool ParseClassifiedSeriesLineBaseline(absl::string_view body,
                                       size_t name_start, LabelViews* labels,
                                       SeriesLine* out) {
  return ParseClassifiedSeriesLine<BaselineLabelBlocks>(body, name_start,
                                                        labels, out);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// The walk compiled for AVX2 CPUs: besides the wider masks, BMI1 and BMI2
// clear and count bits and shift by variable counts in one instruction each.
__attribute__((target("avx2,bmi,bmi2,pclmul,popcnt"))) bool
ParseClassifiedSeriesLineAvx2(absl::string_view body, size_t name_start,
                              LabelViews* labels, SeriesLine* out) {
  return ParseClassifiedSeriesLine<Avx2LabelBlocks>(body, name_start, labels,
                                                    out);
}
#endif

}  // namespace text_parser_internal
}  // namespace fedgate
