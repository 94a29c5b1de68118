#include "merge/promql/expr_parser.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "merge/promql/expr.h"
#include "merge/query/label_matcher.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// A Lisp-like print of the tree, so that shape and precedence are literal.
std::string Print(const PromqlExpr& e) {
  std::vector<std::string> args;
  for (const auto& a : e.args) args.push_back(Print(*a));
  switch (e.kind) {
    case PromqlExpr::Kind::kNumber: {
      if (std::isnan(e.number)) return "NaN";
      if (std::isinf(e.number)) return e.number > 0 ? "+Inf" : "-Inf";
      std::string s = std::to_string(e.number);
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.') s.pop_back();
      return s;
    }
    case PromqlExpr::Kind::kString:
      return absl::StrCat("'", e.text, "'");
    case PromqlExpr::Kind::kSelector: {
      std::vector<std::string> m;
      for (const LabelMatcher& lm : e.selector) m.push_back(lm.ToString());
      return absl::StrCat("{", absl::StrJoin(m, ","), "}");
    }
    case PromqlExpr::Kind::kParen:
      return absl::StrCat("(", args[0], ")");
    case PromqlExpr::Kind::kUnary:
      return absl::StrCat("(neg ", args[0], ")");
    case PromqlExpr::Kind::kBinary: {
      std::string mods;
      if (e.return_bool) mods += " bool";
      if (!e.matching.labels.empty() || e.matching.on) {
        absl::StrAppend(&mods, e.matching.on ? " on" : " ignoring", "(",
                        absl::StrJoin(e.matching.labels, ","), ")");
      }
      if (e.matching.cardinality == VectorMatching::Cardinality::kManyToOne) {
        absl::StrAppend(&mods, " group_left(",
                        absl::StrJoin(e.matching.include, ","), ")");
      }
      if (e.matching.cardinality == VectorMatching::Cardinality::kOneToMany) {
        absl::StrAppend(&mods, " group_right(",
                        absl::StrJoin(e.matching.include, ","), ")");
      }
      return absl::StrCat("(", BinaryOpName(e.binary_op), mods, " ", args[0],
                          " ", args[1], ")");
    }
    case PromqlExpr::Kind::kAggregate:
      return absl::StrCat("(agg", static_cast<int>(e.aggregate_op),
                          e.without ? " without(" : " by(",
                          absl::StrJoin(e.grouping, ","), ") ",
                          absl::StrJoin(args, " "), ")");
    case PromqlExpr::Kind::kCall:
      return absl::StrCat("(", e.function->name, " ", absl::StrJoin(args, " "),
                          ")");
  }
  return "?";
}

// The type of a PromQL value as the cases name it.
PromqlType TypeNamed(const std::string& name) {
  if (name == "scalar") return PromqlType::kScalar;
  if (name == "vector") return PromqlType::kVector;
  if (name == "string") return PromqlType::kString;
  ADD_FAILURE() << "unknown type " << name;
  return PromqlType::kScalar;
}

TEST(ExprParserTest, ParsesWithPrometheusPrecedence) {
  const std::string path = "merge/promql/testdata/parsed_exprs.yml";
  YAML::Node cases;
  try {
    cases = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    FAIL() << path << ": " << e.what();
  }
  ASSERT_GT(cases.size(), 0u);
  for (const YAML::Node& c : cases) {
    const std::string input = c["input"].as<std::string>();
    SCOPED_TRACE(input);
    absl::StatusOr<std::unique_ptr<PromqlExpr>> e = ParsePromqlExpr(input);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(Print(**e), c["want"].as<std::string>());
    EXPECT_EQ((*e)->type, TypeNamed(c["type"].as<std::string>()));
  }
}

// Expects `input` to fail to parse with InvalidArgument(`message`).
void ExpectParseError(absl::string_view input, absl::string_view message) {
  SCOPED_TRACE(input);
  absl::StatusOr<std::unique_ptr<PromqlExpr>> e = ParsePromqlExpr(input);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.status().message(), message);
}

struct ErrorCase {
  absl::string_view input;
  absl::string_view want;
};

TEST(ExprParserTest, ErrorsHavePrometheusShapeAndText) {
  const ErrorCase cases[] = {
      {"", "1:1: parse error: no expression found in input"},
      {"1 +", "1:4: parse error: unexpected end of input"},
      {"foo(1)", "1:1: parse error: unknown function with name \"foo\""},
      {"1 > 2",
       "1:3: parse error: comparisons between scalars must use BOOL "
       "modifier"},
      {"1 + bool 2",
       "1:3: parse error: bool modifier can only be used on "
       "comparison operators"},
      {"1 and 2",
       "1:1: parse error: set operator \"and\" not allowed in "
       "binary scalar expression"},
      {"a and on(x) group_left b",
       "1:1: parse error: no grouping allowed for \"and\" operation"},
      {"1 + on(x) a",
       "1:1: parse error: vector matching only allowed "
       "between instant vectors"},
      {"a + on(x) group_left(x) b",
       "1:3: parse error: label \"x\" must not occur in ON and GROUP clause "
       "at once"},
      {"\"a\" + 1",
       "1:1: parse error: binary expression must contain only "
       "scalar and instant vector types"},
      {"-\"a\"",
       "1:1: parse error: unary expression only allowed on "
       "expressions of type scalar or instant vector, got "
       "\"string\""},
      {"abs(1)",
       "1:5: parse error: expected type instant vector in call to "
       "function \"abs\", got scalar"},
      {"abs(a, b)",
       "1:1: parse error: expected 1 argument(s) in call to "
       "\"abs\", got 2"},
      {"round()",
       "1:1: parse error: expected at least 1 argument(s) in call "
       "to \"round\", got 0"},
      {"round(a, 1, 2)",
       "1:1: parse error: expected at most 2 argument(s) in "
       "call to \"round\", got 3"},
      {"sum(1)",
       "1:5: parse error: expected type instant vector in "
       "aggregation expression, got scalar"},
      {"topk(a)",
       "1:1: parse error: wrong number of arguments for aggregate "
       "expression provided, expected 2, got 1"},
      {"topk(\"x\", a)",
       "1:6: parse error: expected type scalar in "
       "aggregation parameter, got string"},
      {"sum()",
       "1:1: parse error: no arguments for aggregate expression "
       "provided"},
      {"{}",
       "1:1: parse error: vector selector must contain at least one "
       "non-empty matcher"},
      {"a{__name__=\"b\"}",
       "1:1: parse error: metric name must not be set "
       "twice: \"a\" or \"b\""},
      {"(1", "1:3: parse error: unclosed left parenthesis"},
      {"sum(", "1:5: parse error: unclosed left parenthesis"},
      {"1)", "1:3: parse error: unexpected right parenthesis ')'"},
      {"0x",
       "1:1: parse error: error parsing number: strconv.ParseFloat: "
       "parsing \"0x\": invalid syntax"},
      {"a{b=~\"(\"}",
       "1:3: parse error: error parsing regexp: missing "
       "closing ): `^(?:()$`"},
  };
  for (const ErrorCase& c : cases) ExpectParseError(c.input, c.want);
}

TEST(ExprParserTest, RefusesWhatNeedsHistoryAndSaysWhy) {
  const ErrorCase cases[] = {
      {"up[5m]",
       "1:3: the range selector [5m] needs the samples of a past "
       "time range"},
      {"up[5m:1m]",
       "1:3: the subquery [5m:1m] needs the samples of a past "
       "time range"},
      {"up offset 5m",
       "1:4: the offset modifier needs samples from the "
       "past"},
      {"up @ 100", "1:4: the @ modifier needs samples at another time"},
      {"rate(up[5m])",
       "1:1: the function rate() reads a range of past "
       "samples"},
      {"sum(increase(x[1h]))",
       "1:5: the function increase() reads a range "
       "of past samples"},
  };
  for (const ErrorCase& c : cases) {
    ExpectParseError(c.input,
                     absl::StrCat(c.want,
                                  "; fedgate evaluates instant queries over "
                                  "the latest sample of each series, so it "
                                  "cannot answer this query (docs/api.md)"));
  }
  ExpectParseError("sin(up)",
                   "1:1: the function sin() is not supported by fedgate "
                   "(docs/api.md lists the functions it evaluates)");
}

TEST(ExprParserTest, ParsesEveryOperatorThatBinaryOpNameSpells) {
  for (int i = 0; i <= static_cast<int>(BinaryOp::kUnless); ++i) {
    const BinaryOp op = static_cast<BinaryOp>(i);
    const std::string query = absl::StrCat("a ", BinaryOpName(op), " b");
    SCOPED_TRACE(query);
    absl::StatusOr<std::unique_ptr<PromqlExpr>> e = ParsePromqlExpr(query);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ((*e)->kind, PromqlExpr::Kind::kBinary);
    EXPECT_EQ((*e)->binary_op, op);
  }
}

TEST(ExprParserTest, RefusesTreesTallerThan256Levels) {
  const std::string parens =
      std::string(255, '(') + "1" + std::string(255, ')');
  EXPECT_TRUE(ParsePromqlExpr(parens).ok());
  ExpectParseError(
      "(" + parens + ")",
      "1:257: parse error: expression nested more than 256 levels deep");
  std::string sum = "1";
  for (int i = 0; i < 300; ++i) sum += "+1";
  ExpectParseError(
      sum, "1:1: parse error: expression nested more than 256 levels deep");
  EXPECT_FALSE(ParsePromqlExpr(std::string(100000, '(')).ok());
}

TEST(ExprParserTest, RegexLimitAppliesToSelectorsInExpressions) {
  absl::StatusOr<std::unique_ptr<PromqlExpr>> e =
      ParsePromqlExpr("sum(a{b=~\"\\\\pL{283}\"})", 100);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(MatchLimitReason(e.status()), "regex_too_complex") << e.status();
}

}  // namespace
}  // namespace fedgate
