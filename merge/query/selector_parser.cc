#include "merge/query/selector_parser.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/quote.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

// ---------------------------------------------------------------------------
// The parser. It follows the states of 2.42's generated LALR parser for
// `START_METRIC_SELECTOR vector_selector` and reports what its error rules
// report: inside braces "unexpected X in label matching, expected Y", outside
// a bare "unexpected X". A lexer error wins over the syntax error it causes.

constexpr absl::string_view kContext = "label matching";

absl::Status Unexpected(const PromqlLexer& lexer, const PromqlToken& token,
                        absl::string_view context, absl::string_view expected) {
  if (token.kind == PromqlTokenKind::kError) {
    return PromqlParseError(lexer.input(), token.pos, token.error);
  }
  std::string message = absl::StrCat("unexpected ", DescribePromqlToken(token));
  if (!context.empty()) absl::StrAppend(&message, " in ", context);
  if (!expected.empty()) absl::StrAppend(&message, ", expected ", expected);
  return PromqlParseError(lexer.input(), token.pos, message);
}

// The matcher each label matching operator token stands for.
struct MatchOperator {
  PromqlTokenKind token;
  MatchType type;
};
constexpr MatchOperator kMatchOperators[] = {
    {PromqlTokenKind::kEqual, MatchType::kEqual},
    {PromqlTokenKind::kNotEqual, MatchType::kNotEqual},
    {PromqlTokenKind::kRegexMatch, MatchType::kRegexMatch},
    {PromqlTokenKind::kRegexNoMatch, MatchType::kRegexNoMatch},
};

// Returns the matcher type of a label matching operator, or nullopt for any
// other token.
std::optional<MatchType> MatchTypeOf(PromqlTokenKind kind) {
  for (const MatchOperator& op : kMatchOperators) {
    if (op.token == kind) return op.type;
  }
  return std::nullopt;
}

// Parses the matchers after '{', through the closing '}'.
absl::Status ParseBraces(PromqlLexer& lexer, int max_regex_program_size,
                         Selector* selector) {
  PromqlToken token = lexer.Next();
  if (token.kind == PromqlTokenKind::kRightBrace) return absl::OkStatus();
  while (true) {
    if (token.kind != PromqlTokenKind::kIdentifier) {
      return Unexpected(lexer, token, kContext, "identifier or \"}\"");
    }
    const PromqlToken label = token;
    token = lexer.Next();
    const std::optional<MatchType> type = MatchTypeOf(token.kind);
    if (!type.has_value()) {
      return Unexpected(lexer, token, kContext, "label matching operator");
    }
    token = lexer.Next();
    if (token.kind != PromqlTokenKind::kString) {
      return Unexpected(lexer, token, kContext, "string");
    }
    // Built before the next token is read, as PromQL reduces the matcher
    // without a lookahead: a bad regex wins over a later lexer error.
    const std::optional<std::string> value = GoUnquote(token.text);
    if (!value.has_value()) {
      return absl::InternalError(
          absl::StrCat("string token not unquotable: ", GoQuote(token.text)));
    }
    absl::StatusOr<LabelMatcher> matcher =
        LabelMatcher::Create(*type, label.text, *value, max_regex_program_size);
    if (!matcher.ok()) {
      if (!MatchLimitReason(matcher.status()).empty()) return matcher.status();
      return PromqlParseError(lexer.input(), label.pos,
                              matcher.status().message());
    }
    selector->push_back(*std::move(matcher));
    token = lexer.Next();
    if (token.kind == PromqlTokenKind::kRightBrace) return absl::OkStatus();
    if (token.kind != PromqlTokenKind::kComma) {
      return Unexpected(lexer, token, kContext, "\",\" or \"}\"");
    }
    token = lexer.Next();
    if (token.kind == PromqlTokenKind::kRightBrace) return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<Selector> ParseSelectorRest(PromqlLexer& lexer,
                                           absl::string_view metric_name,
                                           bool braces,
                                           int max_regex_program_size) {
  Selector selector;
  if (braces) {
    if (absl::Status s = ParseBraces(lexer, max_regex_program_size, &selector);
        !s.ok()) {
      return s;
    }
  }
  if (!metric_name.empty()) {
    absl::StatusOr<LabelMatcher> matcher =
        LabelMatcher::Create(MatchType::kEqual, kMetricNameLabel, metric_name);
    if (!matcher.ok()) return matcher.status();
    selector.push_back(*std::move(matcher));
  }
  return selector;
}

absl::StatusOr<Selector> ParseSelector(absl::string_view input,
                                       int max_regex_program_size) {
  PromqlLexer lexer(input);
  PromqlToken token = lexer.Next();
  absl::string_view name;
  const bool has_name = token.metric_name;
  if (has_name) {
    name = token.text;
    token = lexer.Next();
  }
  const bool braces = token.kind == PromqlTokenKind::kLeftBrace;
  if (!braces && !has_name) return Unexpected(lexer, token, "", "");
  absl::StatusOr<Selector> selector =
      ParseSelectorRest(lexer, name, braces, max_regex_program_size);
  if (!selector.ok()) return selector.status();
  if (braces) token = lexer.Next();
  if (token.kind != PromqlTokenKind::kEof) {
    return Unexpected(lexer, token, "", "");
  }
  return selector;
}

bool HasNonEmptyMatcher(const Selector& selector) {
  for (const LabelMatcher& matcher : selector) {
    if (!matcher.MatchesEmpty()) return true;
  }
  return false;
}

}  // namespace fedgate
