#include "merge/query/selector_parser.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "config/quote.h"
#include "config/utf8.h"
#include "merge/labels.h"

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

enum class TokenKind {
  kEof,
  kError,  // A lexer error; `Token::error` holds the message.
  kIdentifier,
  kMetricIdentifier,  // An identifier containing ':'.
  kString,
  kNumber,
  kDuration,
  kLeftBrace,
  kRightBrace,
  kLeftParen,
  kLeftBracket,
  kComma,
  kEqual,
  kNotEqual,
  kRegexMatch,
  kRegexNoMatch,
  kOperator,      // Any other operator; printed `<op:text>`.
  kAt,            // `@`: an operator missing from 2.42's token name table.
  kAggregator,    // `sum`, `topk`, ...; printed `<aggr:text>`.
  kKeyword,       // `by`, `on`, `offset`, ...; printed `<text>`.
  kPreprocessor,  // `start`, `end`; printed `"text"`.
};

struct Token {
  TokenKind kind = TokenKind::kEof;
  size_t pos = 0;            // Byte offset in the input.
  absl::string_view text;    // The token's bytes (with quotes for strings).
  bool metric_name = false;  // Accepted as a metric name outside braces.
  std::string error;         // Message of a kError token.
};

struct Keyword {
  absl::string_view word;  // Lower case; matched case-insensitively.
  TokenKind kind;
  bool metric_name;  // Whether 2.42's `metric_identifier` rule accepts it.
};

// PromQL 2.42's keywords. Those with `metric_name` may also name a metric
// (`sum`, `offset`, `start`); `on`, `bool`, `atan2`, ... may not, and `inf` /
// `nan` are numbers.
constexpr Keyword kKeywords[] = {
    {"and", TokenKind::kOperator, true},
    {"or", TokenKind::kOperator, true},
    {"unless", TokenKind::kOperator, true},
    {"atan2", TokenKind::kOperator, false},
    {"avg", TokenKind::kAggregator, true},
    {"bottomk", TokenKind::kAggregator, true},
    {"count", TokenKind::kAggregator, true},
    {"count_values", TokenKind::kAggregator, true},
    {"group", TokenKind::kAggregator, true},
    {"max", TokenKind::kAggregator, true},
    {"min", TokenKind::kAggregator, true},
    {"quantile", TokenKind::kAggregator, true},
    {"stddev", TokenKind::kAggregator, true},
    {"stdvar", TokenKind::kAggregator, true},
    {"sum", TokenKind::kAggregator, true},
    {"topk", TokenKind::kAggregator, true},
    {"bool", TokenKind::kKeyword, false},
    {"by", TokenKind::kKeyword, true},
    {"group_left", TokenKind::kKeyword, false},
    {"group_right", TokenKind::kKeyword, false},
    {"ignoring", TokenKind::kKeyword, false},
    {"offset", TokenKind::kKeyword, true},
    {"on", TokenKind::kKeyword, false},
    {"without", TokenKind::kKeyword, true},
    {"start", TokenKind::kPreprocessor, true},
    {"end", TokenKind::kPreprocessor, true},
    {"inf", TokenKind::kNumber, false},
    {"nan", TokenKind::kNumber, false},
};

// Returns the token as PromQL names it in "unexpected ..." messages:
// `identifier "a"`, `"{"`, `<op:->`, `<offset>`, `end of input`.
std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEof:
      return "end of input";
    case TokenKind::kError:
      return token.error;
    case TokenKind::kIdentifier:
      return absl::StrCat("identifier ", GoQuote(token.text));
    case TokenKind::kMetricIdentifier:
      return absl::StrCat("metric identifier ", GoQuote(token.text));
    case TokenKind::kString:
      return absl::StrCat("string ", QuoteTokenText(token.text));
    case TokenKind::kNumber:
      return absl::StrCat("number ", QuoteTokenText(token.text));
    case TokenKind::kDuration:
      return absl::StrCat("duration ", QuoteTokenText(token.text));
    case TokenKind::kNotEqual:
    case TokenKind::kRegexMatch:
    case TokenKind::kRegexNoMatch:
    case TokenKind::kOperator:
      return absl::StrCat("<op:", token.text, ">");
    case TokenKind::kAt:
      // 2.42 has no name for the `@` token type, so Go prints the type's
      // number (57385 in its generated parser) before the operator.
      return "\"<Item 57385>\" <op:@>";
    case TokenKind::kAggregator:
      return absl::StrCat("<aggr:", token.text, ">");
    case TokenKind::kKeyword:
      return absl::StrCat("<", token.text, ">");
    case TokenKind::kLeftBrace:
    case TokenKind::kRightBrace:
    case TokenKind::kLeftParen:
    case TokenKind::kLeftBracket:
    case TokenKind::kComma:
    case TokenKind::kEqual:
    case TokenKind::kPreprocessor:
      return GoQuote(token.text);
  }
  return GoQuote(token.text);
}

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

// ---------------------------------------------------------------------------
// The lexer: PromQL's tokens outside and inside braces, on demand. The parser
// stops at the first error, so only the states a selector can reach exist.

class Lexer {
 public:
  explicit Lexer(absl::string_view input) : input_(input) {}

  Token Next() {
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

  Token Make(TokenKind kind, size_t start, bool metric_name = false) const {
    Token token;
    token.kind = kind;
    token.pos = start;
    token.text = input_.substr(start, pos_ - start);
    token.metric_name = metric_name;
    return token;
  }
  static Token Error(size_t pos, std::string message) {
    Token token;
    token.kind = TokenKind::kError;
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

  Token NextOutsideBraces() {
    const size_t start = pos_;
    const Rune r = Advance();
    if (r.width == 0) return Make(TokenKind::kEof, start);
    switch (r.value) {
      case ',':
        return Make(TokenKind::kComma, start);
      case '*':
      case '/':
      case '%':
      case '+':
      case '-':
      case '^':
        return Make(TokenKind::kOperator, start);
      case '@':
        return Make(TokenKind::kAt, start);
      case '<':
      case '>':
        Accept("=");
        return Make(TokenKind::kOperator, start);
      case '=':
        if (Accept("=")) return Make(TokenKind::kOperator, start);
        if (Peek().value == '~') {
          return Error(start, "unexpected character after '=': '~'");
        }
        return Make(TokenKind::kEqual, start);
      case '!': {
        const Rune next = Advance();
        if (next.value == '=') return Make(TokenKind::kOperator, start);
        return Error(start, absl::StrCat("unexpected character after '!': ",
                                         GoQuoteRune(next.value)));
      }
      case '"':
      case '\'':
        return LexQuotedString(start, r.value);
      case '`':
        return LexRawString(start);
      case '(':
        return Make(TokenKind::kLeftParen, start);
      case ')':
        // PromQL reports an unbalanced ')' just after it.
        return Error(pos_, "unexpected right parenthesis ')'");
      case '{':
        brace_open_ = true;
        return Make(TokenKind::kLeftBrace, start);
      case '[':
        return Make(TokenKind::kLeftBracket, start);
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

  Token NextInsideBraces() {
    const size_t start = pos_;
    const Rune r = Advance();
    if (r.width == 0) {
      return Error(start, "unexpected end of input inside braces");
    }
    if (IsAlpha(r.value)) {
      while (IsAlphaNumeric(Peek().value)) Advance();
      return Make(TokenKind::kIdentifier, start);
    }
    switch (r.value) {
      case ',':
        return Make(TokenKind::kComma, start);
      case '"':
      case '\'':
        return LexQuotedString(start, r.value);
      case '`':
        return LexRawString(start);
      case '=':
        if (Accept("~")) return Make(TokenKind::kRegexMatch, start);
        return Make(TokenKind::kEqual, start);
      case '!': {
        const Rune next = Advance();
        if (next.value == '~') return Make(TokenKind::kRegexNoMatch, start);
        if (next.value == '=') return Make(TokenKind::kNotEqual, start);
        return Error(start,
                     absl::StrCat("unexpected character after '!' inside "
                                  "braces: ",
                                  GoQuoteRune(next.value)));
      }
      case '{':
        return Error(start, "unexpected left brace '{'");
      case '}':
        brace_open_ = false;
        return Make(TokenKind::kRightBrace, start);
      default:
        return Error(start, absl::StrCat("unexpected character inside braces: ",
                                         GoQuoteRune(r.value)));
    }
  }

  // A "..." or '...' string; the opening quote is taken. Errors point at the
  // opening quote.
  Token LexQuotedString(size_t start, int32_t quote) {
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
        return Make(TokenKind::kString, start);
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
  Token LexRawString(size_t start) {
    while (true) {
      const Rune r = Advance();
      if (r.width == 0) return Error(start, "unterminated raw string");
      if (r.value == kRuneError) return Error(start, "invalid UTF-8 rune");
      if (r.value == '`') return Make(TokenKind::kString, start);
    }
  }

  // Numbers and durations never fit a selector, but their extent and kind
  // appear in the error (`unexpected number "1"`, `unexpected duration "5m"`,
  // `bad number or duration syntax: "5mx"`).
  Token LexNumberOrDuration(size_t start) {
    if (ScanNumber()) return Make(TokenKind::kNumber, start);
    if (AcceptRemainingDuration()) return Make(TokenKind::kDuration, start);
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

  Token LexKeywordOrIdentifier(size_t start) {
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
      return Make(TokenKind::kMetricIdentifier, start, /*metric_name=*/true);
    }
    return Make(TokenKind::kIdentifier, start, /*metric_name=*/true);
  }

  absl::string_view input_;
  size_t pos_ = 0;
  bool brace_open_ = false;
};

// ---------------------------------------------------------------------------
// The parser. It follows the states of 2.42's generated LALR parser for
// `START_METRIC_SELECTOR vector_selector` and reports what its error rules
// report: inside braces "unexpected X in label matching, expected Y", outside
// a bare "unexpected X". A lexer error wins over the syntax error it causes.

class Parser {
 public:
  Parser(absl::string_view input, int max_regex_program_size)
      : input_(input),
        lexer_(input),
        max_regex_program_size_(max_regex_program_size) {}

  absl::StatusOr<Selector> Parse() {
    Token token = lexer_.Next();
    absl::string_view name;
    const bool has_name = token.metric_name;
    if (has_name) {
      name = token.text;
      token = lexer_.Next();
    }
    Selector selector;
    if (token.kind == TokenKind::kLeftBrace) {
      if (absl::Status s = ParseBraces(&selector); !s.ok()) return s;
      token = lexer_.Next();
    } else if (!has_name) {
      return Unexpected(token, "", "");
    }
    if (token.kind != TokenKind::kEof) return Unexpected(token, "", "");
    if (has_name) {
      absl::StatusOr<LabelMatcher> matcher =
          LabelMatcher::Create(MatchType::kEqual, kMetricNameLabel, name);
      if (!matcher.ok()) return matcher.status();
      selector.push_back(*std::move(matcher));
    }
    return selector;
  }

 private:
  static constexpr absl::string_view kContext = "label matching";

  // Parses the matchers after '{', through the closing '}'.
  absl::Status ParseBraces(Selector* selector) {
    Token token = lexer_.Next();
    if (token.kind == TokenKind::kRightBrace) return absl::OkStatus();
    while (true) {
      if (token.kind != TokenKind::kIdentifier) {
        return Unexpected(token, kContext, "identifier or \"}\"");
      }
      const Token label = token;
      token = lexer_.Next();
      MatchType type;
      switch (token.kind) {
        case TokenKind::kEqual:
          type = MatchType::kEqual;
          break;
        case TokenKind::kNotEqual:
          type = MatchType::kNotEqual;
          break;
        case TokenKind::kRegexMatch:
          type = MatchType::kRegexMatch;
          break;
        case TokenKind::kRegexNoMatch:
          type = MatchType::kRegexNoMatch;
          break;
        default:
          return Unexpected(token, kContext, "label matching operator");
      }
      token = lexer_.Next();
      if (token.kind != TokenKind::kString) {
        return Unexpected(token, kContext, "string");
      }
      // Built before the next token is read, as PromQL reduces the matcher
      // without a lookahead: a bad regex wins over a later lexer error.
      const std::optional<std::string> value = GoUnquote(token.text);
      if (!value.has_value()) {
        return absl::InternalError(
            absl::StrCat("string token not unquotable: ", GoQuote(token.text)));
      }
      absl::StatusOr<LabelMatcher> matcher = LabelMatcher::Create(
          type, label.text, *value, max_regex_program_size_);
      if (!matcher.ok()) {
        if (!MatchLimitReason(matcher.status()).empty()) {
          return matcher.status();
        }
        return ErrorAt(label.pos, matcher.status().message());
      }
      selector->push_back(*std::move(matcher));
      token = lexer_.Next();
      if (token.kind == TokenKind::kRightBrace) return absl::OkStatus();
      if (token.kind != TokenKind::kComma) {
        return Unexpected(token, kContext, "\",\" or \"}\"");
      }
      token = lexer_.Next();
      if (token.kind == TokenKind::kRightBrace) return absl::OkStatus();
    }
  }

  absl::Status Unexpected(const Token& token, absl::string_view context,
                          absl::string_view expected) const {
    if (token.kind == TokenKind::kError) return ErrorAt(token.pos, token.error);
    std::string message = absl::StrCat("unexpected ", Describe(token));
    if (!context.empty()) absl::StrAppend(&message, " in ", context);
    if (!expected.empty()) absl::StrAppend(&message, ", expected ", expected);
    return ErrorAt(token.pos, message);
  }

  // `<line>:<column>: parse error: <message>`, both 1-based, the column in
  // bytes from the start of the line.
  absl::Status ErrorAt(size_t pos, absl::string_view message) const {
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos && i < input_.size(); ++i) {
      if (input_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(
        line, ":", pos - line_start + 1, ": parse error: ", message));
  }

  absl::string_view input_;
  Lexer lexer_;
  const int max_regex_program_size_;
};

}  // namespace

absl::StatusOr<Selector> ParseSelector(absl::string_view input,
                                       int max_regex_program_size) {
  return Parser(input, max_regex_program_size).Parse();
}

bool HasNonEmptyMatcher(const Selector& selector) {
  for (const LabelMatcher& matcher : selector) {
    if (!matcher.MatchesEmpty()) return true;
  }
  return false;
}

}  // namespace fedgate
