#include "merge/query/promql_lexer.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

std::vector<std::string> Describe(absl::string_view input) {
  PromqlLexer lexer(input);
  std::vector<std::string> out;
  for (int i = 0; i < 100; ++i) {
    const PromqlToken t = lexer.Next();
    out.push_back(DescribePromqlToken(t));
    if (t.kind == PromqlTokenKind::kEof || t.kind == PromqlTokenKind::kError) {
      break;
    }
  }
  return out;
}

TEST(PromqlLexerTest, ExpressionTokens) {
  EXPECT_EQ(Describe("sum by (a) (x{b=\"c\"} + 0x1F) # note"),
            (std::vector<std::string>{
                "<aggr:sum>", "<by>", "\"(\"", "identifier \"a\"", "\")\"",
                "\"(\"", "identifier \"x\"", "\"{\"", "identifier \"b\"",
                "\"=\"", "string \"\\\"c\\\"\"", "\"}\"", "<op:+>",
                "number \"0x1F\"", "\")\"", "end of input"}));
}

TEST(PromqlLexerTest, KeywordsNumbersAndComparisons) {
  EXPECT_EQ(Describe("a >= bool Inf and NaN"),
            (std::vector<std::string>{"identifier \"a\"", "<op:>=>", "<bool>",
                                      "number \"Inf\"", "<op:and>",
                                      "number \"NaN\"", "end of input"}));
}

TEST(PromqlLexerTest, UnbalancedRightParenthesisIsAnError) {
  EXPECT_EQ(Describe("(a))"),
            (std::vector<std::string>{"\"(\"", "identifier \"a\"", "\")\"",
                                      "unexpected right parenthesis ')'"}));
}

TEST(PromqlLexerTest, CopyIsALookahead) {
  PromqlLexer lexer("a b");
  EXPECT_EQ(lexer.Next().text, "a");
  PromqlLexer peek = lexer;
  EXPECT_EQ(peek.Next().text, "b");
  EXPECT_EQ(lexer.Next().text, "b");
}

TEST(PromqlLexerTest, ParseErrorLocatesLineAndColumn) {
  const absl::Status s = PromqlParseError("a +\n  b", 6, "boom");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "2:3: parse error: boom");
}

}  // namespace
}  // namespace fedgate
