// merge/query/promql_lexer.h
//
// PromQL 2.42's tokens, as its lexer (promql/parser/lex.go) cuts them: numbers
// (decimal, hex, `Inf`, `NaN`), durations, quoted and raw strings with Go's
// escapes, identifiers and metric identifiers, keywords, aggregators,
// operators, braces and parentheses, whitespace and `# comments` skipped. Its
// errors carry 2.42's texts (`unterminated quoted string`). One lexer for
// every PromQL text fedgate reads: `match[]` selectors
// (merge/query/selector_parser.h) and expressions (merge/promql/). Not on the
// per-sample path: a query is lexed once per request.
//
// Thread-safety: a PromqlLexer is a small copyable value (a copy is a saved
// position for lookahead); thread-compatible. The functions are pure.

#ifndef FEDGATE_MERGE_QUERY_PROMQL_LEXER_H_
#define FEDGATE_MERGE_QUERY_PROMQL_LEXER_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace fedgate {

enum class PromqlTokenKind {
  kEof,
  kError,  // A lexer error; `PromqlToken::error` holds the message.
  kIdentifier,
  kMetricIdentifier,  // An identifier containing ':'.
  kString,
  kNumber,
  kDuration,
  kLeftBrace,
  kRightBrace,
  kLeftParen,
  kRightParen,
  kLeftBracket,
  kComma,
  kEqual,  // `=`: a label matcher inside braces, an error elsewhere.
  kNotEqual,
  kRegexMatch,
  kRegexNoMatch,
  kOperator,      // Any other operator; printed `<op:text>`.
  kAt,            // `@`: an operator missing from 2.42's token name table.
  kAggregator,    // `sum`, `topk`, ...; printed `<aggr:text>`.
  kKeyword,       // `by`, `on`, `offset`, ...; printed `<text>`.
  kPreprocessor,  // `start`, `end`; printed `"text"`.
};

struct PromqlToken {
  PromqlTokenKind kind = PromqlTokenKind::kEof;
  size_t pos = 0;            // Byte offset in the input.
  absl::string_view text;    // The token's bytes (with quotes for strings).
  bool metric_name = false;  // Accepted as a metric name outside braces.
  std::string error;         // Message of a kError token.
};

// Cuts a PromQL text into tokens on demand. The caller stops at the first
// kError or kEof token.
class PromqlLexer {
 public:
  explicit PromqlLexer(absl::string_view input) : input_(input) {}

  // Returns the next token, skipping whitespace and comments.
  PromqlToken Next();

  absl::string_view input() const { return input_; }

 private:
  friend class PromqlScanner;

  absl::string_view input_;
  size_t pos_ = 0;
  bool brace_open_ = false;
  int paren_depth_ = 0;  // A ')' past the matching '(' is a lexer error.
};

// Returns the token as PromQL names it in "unexpected ..." messages:
// `identifier "a"`, `"{"`, `<op:->`, `<offset>`, `end of input`.
std::string DescribePromqlToken(const PromqlToken& token);

// Returns InvalidArgument `<line>:<column>: parse error: <message>`, both
// 1-based, the column in bytes from the start of the line of byte `pos` of
// `input`: the shape of every PromQL parse error.
absl::Status PromqlParseError(absl::string_view input, size_t pos,
                              absl::string_view message);

}  // namespace fedgate

#endif  // FEDGATE_MERGE_QUERY_PROMQL_LEXER_H_
