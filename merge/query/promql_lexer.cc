#include "merge/query/promql_lexer.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "config/quote.h"
#include "config/utf8.h"

namespace fedgate {
namespace {

// ---------------------------------------------------------------------------
// Runes. Prometheus builds its messages with Go's fmt verbs (%q on strings and
// runes, %#U on runes); config/quote.h produces the same bytes.

constexpr int32_t kEndOfInput = -1;

struct Rune {
  int32_t value;  // kEndOfInput at the end; kRuneError for a bad byte.
  size_t width;   // Bytes taken: 0 at the end, 1 for a bad byte.
};

// Returns the rune at `pos` (utf8.DecodeRuneInString), kEndOfInput past the
// end.
Rune RuneAt(absl::string_view s, size_t pos) {
  if (pos >= s.size()) return {kEndOfInput, 0};
  const DecodedRune r = DecodeRune(s.substr(pos));
  return {r.rune, r.width};
}

// Go's %.10q followed by "..." for texts over 10 bytes, as PromQL prints the
// text of strings, numbers and durations: truncated to 10 runes.
std::string QuoteTokenText(absl::string_view text) {
  if (text.size() <= 10) return GoQuote(text);
  size_t end = 0;
  for (int runes = 0; runes < 10 && end < text.size(); ++runes) {
    end += RuneAt(text, end).width;
  }
  return absl::StrCat(GoQuote(text.substr(0, end)), "...");
}

// ---------------------------------------------------------------------------
// Tokens.

struct Keyword {
  absl::string_view word;  // Lower case; matched case-insensitively.
  PromqlTokenKind kind;
  bool metric_name;  // Whether 2.42's `metric_identifier` rule accepts it.
};

// PromQL 2.42's keywords. Those with `metric_name` may also name a metric
// (`sum`, `offset`, `start`); `on`, `bool`, `atan2`, ... may not, and `inf` /
// `nan` are numbers.
constexpr Keyword kKeywords[] = {
    {"and", PromqlTokenKind::kOperator, true},
    {"or", PromqlTokenKind::kOperator, true},
    {"unless", PromqlTokenKind::kOperator, true},
    {"atan2", PromqlTokenKind::kOperator, false},
    {"avg", PromqlTokenKind::kAggregator, true},
    {"bottomk", PromqlTokenKind::kAggregator, true},
    {"count", PromqlTokenKind::kAggregator, true},
    {"count_values", PromqlTokenKind::kAggregator, true},
    {"group", PromqlTokenKind::kAggregator, true},
    {"max", PromqlTokenKind::kAggregator, true},
    {"min", PromqlTokenKind::kAggregator, true},
    {"quantile", PromqlTokenKind::kAggregator, true},
    {"stddev", PromqlTokenKind::kAggregator, true},
    {"stdvar", PromqlTokenKind::kAggregator, true},
    {"sum", PromqlTokenKind::kAggregator, true},
    {"topk", PromqlTokenKind::kAggregator, true},
    {"bool", PromqlTokenKind::kKeyword, false},
    {"by", PromqlTokenKind::kKeyword, true},
    {"group_left", PromqlTokenKind::kKeyword, false},
    {"group_right", PromqlTokenKind::kKeyword, false},
    {"ignoring", PromqlTokenKind::kKeyword, false},
    {"offset", PromqlTokenKind::kKeyword, true},
    {"on", PromqlTokenKind::kKeyword, false},
    {"without", PromqlTokenKind::kKeyword, true},
    {"start", PromqlTokenKind::kPreprocessor, true},
    {"end", PromqlTokenKind::kPreprocessor, true},
    {"inf", PromqlTokenKind::kNumber, false},
    {"nan", PromqlTokenKind::kNumber, false},
};

// Returns the token as PromQL names it in "unexpected ..." messages:
// `identifier "a"`, `"{"`, `<op:->`, `<offset>`, `end of input`.
}  // namespace

std::string DescribePromqlToken(const PromqlToken& token) {
  switch (token.kind) {
    case PromqlTokenKind::kEof:
      return "end of input";
    case PromqlTokenKind::kError:
      return token.error;
    case PromqlTokenKind::kIdentifier:
      return absl::StrCat("identifier ", GoQuote(token.text));
    case PromqlTokenKind::kMetricIdentifier:
      return absl::StrCat("metric identifier ", GoQuote(token.text));
    case PromqlTokenKind::kString:
      return absl::StrCat("string ", QuoteTokenText(token.text));
    case PromqlTokenKind::kNumber:
      return absl::StrCat("number ", QuoteTokenText(token.text));
    case PromqlTokenKind::kDuration:
      return absl::StrCat("duration ", QuoteTokenText(token.text));
    case PromqlTokenKind::kNotEqual:
    case PromqlTokenKind::kRegexMatch:
    case PromqlTokenKind::kRegexNoMatch:
    case PromqlTokenKind::kOperator:
      return absl::StrCat("<op:", token.text, ">");
    case PromqlTokenKind::kAt:
      // 2.42 has no name for the `@` token type, so Go prints the type's
      // number (57385 in its generated parser) before the operator.
      return "\"<Item 57385>\" <op:@>";
    case PromqlTokenKind::kAggregator:
      return absl::StrCat("<aggr:", token.text, ">");
    case PromqlTokenKind::kKeyword:
      return absl::StrCat("<", token.text, ">");
    case PromqlTokenKind::kLeftBrace:
    case PromqlTokenKind::kRightBrace:
    case PromqlTokenKind::kLeftParen:
    case PromqlTokenKind::kRightParen:
    case PromqlTokenKind::kLeftBracket:
    case PromqlTokenKind::kComma:
    case PromqlTokenKind::kEqual:
    case PromqlTokenKind::kPreprocessor:
      return GoQuote(token.text);
  }
  return GoQuote(token.text);
}

namespace {

bool IsDigit(int32_t r) { return r >= '0' && r <= '9'; }
bool IsAlpha(int32_t r) {
  return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
}
bool IsAlphaNumeric(int32_t r) { return IsAlpha(r) || IsDigit(r); }

uint32_t DigitValue(int32_t r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;  // Larger than any base.
}

}  // namespace

// ---------------------------------------------------------------------------
// The scanner: PromQL's tokens outside and inside braces, over a PromqlLexer's
// position (a friend of PromqlLexer, so outside the unnamed namespace). A
// range (`[5m]`) is cut at its '[': fedgate parses no ranges.
class PromqlScanner {
 public:
  explicit PromqlScanner(PromqlLexer& lexer)
      : input_(lexer.input_),
        pos_(lexer.pos_),
        brace_open_(lexer.brace_open_),
        paren_depth_(lexer.paren_depth_) {}

  PromqlToken Next() {
    SkipBlanksAndComments();
    return brace_open_ ? NextInsideBraces() : NextOutsideBraces();
  }

 private:
  Rune Peek() const { return RuneAt(input_, pos_); }
  Rune Advance() {
    const Rune r = Peek();
    pos_ += r.width;
    return r;
  }
  // Takes the next rune if it is one of the ASCII characters in `set`.
  bool Accept(absl::string_view set) {
    const Rune r = Peek();
    if (r.value < 0 || r.value >= 0x80 ||
        set.find(static_cast<char>(r.value)) == absl::string_view::npos) {
      return false;
    }
    pos_ += r.width;
    return true;
  }
  void AcceptRun(absl::string_view set) {
    while (Accept(set)) {
    }
  }

  PromqlToken Make(PromqlTokenKind kind, size_t start,
                   bool metric_name = false) const {
    PromqlToken token;
    token.kind = kind;
    token.pos = start;
    token.text = input_.substr(start, pos_ - start);
    token.metric_name = metric_name;
    return token;
  }
  static PromqlToken Error(size_t pos, std::string message) {
    PromqlToken token;
    token.kind = PromqlTokenKind::kError;
    token.pos = pos;
    token.error = std::move(message);
    return token;
  }

  // Whitespace is ' ', \t, \n, \r; a comment runs from '#' to the end of the
  // line (both are ASCII, so a byte scan is exact).
  void SkipBlanksAndComments() {
    while (pos_ < input_.size()) {
      const char c = input_[pos_];
      if (c == '#') {
        while (pos_ < input_.size() && input_[pos_] != '\n' &&
               input_[pos_] != '\r') {
          ++pos_;
        }
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  PromqlToken NextOutsideBraces() {
    const size_t start = pos_;
    const Rune r = Advance();
    if (r.width == 0) {
      if (paren_depth_ > 0) return Error(start, "unclosed left parenthesis");
      return Make(PromqlTokenKind::kEof, start);
    }
    switch (r.value) {
      case ',':
        return Make(PromqlTokenKind::kComma, start);
      case '*':
      case '/':
      case '%':
      case '+':
      case '-':
      case '^':
        return Make(PromqlTokenKind::kOperator, start);
      case '@':
        return Make(PromqlTokenKind::kAt, start);
      case '<':
      case '>':
        Accept("=");
        return Make(PromqlTokenKind::kOperator, start);
      case '=':
        if (Accept("=")) return Make(PromqlTokenKind::kOperator, start);
        if (Peek().value == '~') {
          return Error(start, "unexpected character after '=': '~'");
        }
        return Make(PromqlTokenKind::kEqual, start);
      case '!': {
        const Rune next = Advance();
        if (next.value == '=') return Make(PromqlTokenKind::kOperator, start);
        return Error(start, absl::StrCat("unexpected character after '!': ",
                                         GoQuoteRune(next.value)));
      }
      case '"':
      case '\'':
        return LexQuotedString(start, r.value);
      case '`':
        return LexRawString(start);
      case '(':
        ++paren_depth_;
        return Make(PromqlTokenKind::kLeftParen, start);
      case ')':
        // PromQL reports an unbalanced ')' just after it.
        if (--paren_depth_ < 0) {
          return Error(pos_, "unexpected right parenthesis ')'");
        }
        return Make(PromqlTokenKind::kRightParen, start);
      case '{':
        brace_open_ = true;
        return Make(PromqlTokenKind::kLeftBrace, start);
      case '[':
        return Make(PromqlTokenKind::kLeftBracket, start);
      case ']':
        return Error(start, "unexpected right bracket ']'");
      default:
        break;
    }
    if (IsDigit(r.value) || (r.value == '.' && IsDigit(Peek().value))) {
      pos_ = start;
      return LexNumberOrDuration(start);
    }
    if (IsAlpha(r.value) || r.value == ':') {
      return LexKeywordOrIdentifier(start);
    }
    return Error(start,
                 absl::StrCat("unexpected character: ", GoQuoteRune(r.value)));
  }

  PromqlToken NextInsideBraces() {
    const size_t start = pos_;
    const Rune r = Advance();
    if (r.width == 0) {
      return Error(start, "unexpected end of input inside braces");
    }
    if (IsAlpha(r.value)) {
      while (IsAlphaNumeric(Peek().value)) Advance();
      return Make(PromqlTokenKind::kIdentifier, start);
    }
    switch (r.value) {
      case ',':
        return Make(PromqlTokenKind::kComma, start);
      case '"':
      case '\'':
        return LexQuotedString(start, r.value);
      case '`':
        return LexRawString(start);
      case '=':
        if (Accept("~")) return Make(PromqlTokenKind::kRegexMatch, start);
        return Make(PromqlTokenKind::kEqual, start);
      case '!': {
        const Rune next = Advance();
        if (next.value == '~')
          return Make(PromqlTokenKind::kRegexNoMatch, start);
        if (next.value == '=') return Make(PromqlTokenKind::kNotEqual, start);
        return Error(start,
                     absl::StrCat("unexpected character after '!' inside "
                                  "braces: ",
                                  GoQuoteRune(next.value)));
      }
      case '{':
        return Error(start, "unexpected left brace '{'");
      case '}':
        brace_open_ = false;
        return Make(PromqlTokenKind::kRightBrace, start);
      default:
        return Error(start, absl::StrCat("unexpected character inside braces: ",
                                         GoQuoteRune(r.value)));
    }
  }

  // A "..." or '...' string; the opening quote is taken. Errors point at the
  // opening quote.
  PromqlToken LexQuotedString(size_t start, int32_t quote) {
    while (true) {
      const Rune r = Advance();
      if (r.width == 0 || r.value == '\n') {
        return Error(start, "unterminated quoted string");
      }
      if (r.value == '\\') {
        std::string error = CheckEscape(quote);
        if (!error.empty()) return Error(start, std::move(error));
      } else if (r.value == kRuneError) {
        // Also a literal U+FFFD: PromQL cannot tell it from a bad byte.
        return Error(start, "invalid UTF-8 rune");
      } else if (r.value == quote) {
        return Make(PromqlTokenKind::kString, start);
      }
    }
  }

  // Validates the escape after a backslash (Go's rules: \a \b \f \n \r \t \v
  // \\, the opening quote, \NNN octal, \xHH, \uHHHH, \UHHHHHHHH). Returns the
  // error message, or "" when valid.
  std::string CheckEscape(int32_t quote) {
    Rune c = Advance();
    if (c.value == quote) return "";
    // \a \b \f \n \r \t \v \\ stand alone.
    if (c.value > 0 && c.value < 0x80 &&
        absl::string_view("abfnrtv\\").find(static_cast<char>(c.value)) !=
            absl::string_view::npos) {
      return "";
    }
    int digits = 0;
    uint32_t base = 0;
    uint32_t max = 0;
    switch (c.value) {
      case 'x':
        c = Advance();
        digits = 2, base = 16, max = 255;
        break;
      case 'u':
        c = Advance();
        digits = 4, base = 16, max = kMaxRune;
        break;
      case 'U':
        c = Advance();
        digits = 8, base = 16, max = kMaxRune;
        break;
      case kEndOfInput:
        return "escape sequence not terminated";
      default:
        if (c.value < '0' || c.value > '7') {
          return absl::StrCat("unknown escape sequence ",
                              GoUnicodeRune(c.value));
        }
        digits = 3, base = 8, max = 255;  // \NNN octal.
    }
    uint32_t value = 0;
    while (digits > 0) {
      const uint32_t digit = DigitValue(c.value);
      if (digit >= base) {
        if (c.width == 0) return "escape sequence not terminated";
        return absl::StrCat("illegal character ", GoUnicodeRune(c.value),
                            " in escape sequence");
      }
      value = value * base + digit;
      if (--digits > 0) c = Advance();
    }
    if (value > max || (value >= 0xD800 && value < 0xE000)) {
      return "escape sequence is an invalid Unicode code point";
    }
    return "";
  }

  // A `...` string: no escapes, newlines allowed.
  PromqlToken LexRawString(size_t start) {
    while (true) {
      const Rune r = Advance();
      if (r.width == 0) return Error(start, "unterminated raw string");
      if (r.value == kRuneError) return Error(start, "invalid UTF-8 rune");
      if (r.value == '`') return Make(PromqlTokenKind::kString, start);
    }
  }

  // Numbers and durations never fit a selector, but their extent and kind
  // appear in the error (`unexpected number "1"`, `unexpected duration "5m"`,
  // `bad number or duration syntax: "5mx"`).
  PromqlToken LexNumberOrDuration(size_t start) {
    if (ScanNumber()) return Make(PromqlTokenKind::kNumber, start);
    if (AcceptRemainingDuration())
      return Make(PromqlTokenKind::kDuration, start);
    return Error(start,
                 absl::StrCat("bad number or duration syntax: ",
                              GoQuote(input_.substr(start, pos_ - start))));
  }

  bool ScanNumber() {
    absl::string_view digits = "0123456789";
    if (Accept("0") && Accept("xX")) digits = "0123456789abcdefABCDEF";
    AcceptRun(digits);
    if (Accept(".")) AcceptRun(digits);
    if (Accept("eE")) {
      Accept("+-");
      AcceptRun("0123456789");
    }
    return !IsAlphaNumeric(Peek().value);
  }

  // After a number that ran into a letter: a unit, optionally more
  // number+unit pairs, then a non-alphanumeric rune. On failure the position
  // stays past what was examined (it is part of the error text).
  bool AcceptRemainingDuration() {
    if (!Accept("smhdwy")) return false;
    Accept("s");
    while (Accept("0123456789")) {
      AcceptRun("0123456789");
      if (!Accept("smhdw")) return false;
      Accept("s");
    }
    const Rune after = Advance();
    if (IsAlphaNumeric(after.value)) return false;
    pos_ -= after.width;
    return true;
  }

  PromqlToken LexKeywordOrIdentifier(size_t start) {
    while (true) {
      const Rune r = Peek();
      if (!IsAlphaNumeric(r.value) && r.value != ':') break;
      pos_ += r.width;
    }
    const absl::string_view word = input_.substr(start, pos_ - start);
    const std::string lower = absl::AsciiStrToLower(word);
    for (const Keyword& keyword : kKeywords) {
      if (keyword.word == lower) {
        return Make(keyword.kind, start, keyword.metric_name);
      }
    }
    if (word.find(':') != absl::string_view::npos) {
      return Make(PromqlTokenKind::kMetricIdentifier, start,
                  /*metric_name=*/true);
    }
    return Make(PromqlTokenKind::kIdentifier, start, /*metric_name=*/true);
  }

  absl::string_view input_;
  size_t& pos_;
  bool& brace_open_;
  int& paren_depth_;
};

PromqlToken PromqlLexer::Next() { return PromqlScanner(*this).Next(); }

absl::Status PromqlParseError(absl::string_view input, size_t pos,
                              absl::string_view message) {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos && i < input.size(); ++i) {
    if (input[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      line, ":", pos - line_start + 1, ": parse error: ", message));
}

}  // namespace fedgate
