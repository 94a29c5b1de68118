#include "merge/promql/expr_parser.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "config/quote.h"
#include "merge/labels.h"
#include "merge/query/promql_lexer.h"
#include "merge/query/selector_parser.h"

namespace fedgate {
namespace {

using Kind = PromqlTokenKind;
using ExprPtr = std::unique_ptr<PromqlExpr>;

// Binding strength of the binary operators, as Prometheus 2.42's grammar
// declares them (%left LOR; %left LAND LUNLESS; %left comparisons;
// %left ADD SUB; %left MUL DIV MOD ATAN2; %right POW).
constexpr int kPrecPow = 6;

// The tallest tree (and deepest nesting) accepted: parsing, evaluation and
// freeing the tree recurse once per level; 256 levels take well under 1 MiB
// of stack (about 2 MiB with AddressSanitizer's frames), and no hand-written
// query comes near.
constexpr int kMaxHeight = 256;

// The binary operators and their precedence; BinaryOpName() spells them.
struct BinaryOpInfo {
  BinaryOp op;
  int precedence;
};

constexpr BinaryOpInfo kBinaryOps[] = {
    {BinaryOp::kOr, 1},  {BinaryOp::kAnd, 2}, {BinaryOp::kUnless, 2},
    {BinaryOp::kEql, 3}, {BinaryOp::kNeq, 3}, {BinaryOp::kGtr, 3},
    {BinaryOp::kLss, 3}, {BinaryOp::kGte, 3}, {BinaryOp::kLte, 3},
    {BinaryOp::kAdd, 4}, {BinaryOp::kSub, 4}, {BinaryOp::kMul, 5},
    {BinaryOp::kDiv, 5}, {BinaryOp::kMod, 5}, {BinaryOp::kPow, kPrecPow},
};

struct AggregatorInfo {
  absl::string_view name;
  AggregateOp op;
  std::optional<PromqlType> param;  // The first argument's type, if any.
};

constexpr AggregatorInfo kAggregators[] = {
    {"sum", AggregateOp::kSum, std::nullopt},
    {"min", AggregateOp::kMin, std::nullopt},
    {"max", AggregateOp::kMax, std::nullopt},
    {"avg", AggregateOp::kAvg, std::nullopt},
    {"count", AggregateOp::kCount, std::nullopt},
    {"group", AggregateOp::kGroup, std::nullopt},
    {"stddev", AggregateOp::kStddev, std::nullopt},
    {"stdvar", AggregateOp::kStdvar, std::nullopt},
    {"topk", AggregateOp::kTopk, PromqlType::kScalar},
    {"bottomk", AggregateOp::kBottomk, PromqlType::kScalar},
    {"count_values", AggregateOp::kCountValues, PromqlType::kString},
    {"quantile", AggregateOp::kQuantile, PromqlType::kScalar},
};

// Prometheus 2.42's functions that read a range of samples (their argument
// is a range vector): fedgate keeps one sample per series.
constexpr absl::string_view kRangeFunctions[] = {
    "absent_over_time",
    "avg_over_time",
    "changes",
    "count_over_time",
    "delta",
    "deriv",
    "holt_winters",
    "idelta",
    "increase",
    "irate",
    "last_over_time",
    "max_over_time",
    "min_over_time",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rate",
    "resets",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
};

// Prometheus 2.42's other functions, which fedgate does not evaluate yet.
constexpr absl::string_view kOtherFunctions[] = {
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "cos",
    "cosh",
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "deg",
    "histogram_count",
    "histogram_fraction",
    "histogram_sum",
    "hour",
    "minute",
    "month",
    "pi",
    "rad",
    "sin",
    "sinh",
    "tan",
    "tanh",
    "year",
};

constexpr absl::string_view kInstantOnly =
    "fedgate evaluates instant queries over the latest sample of each series";

bool Contains(absl::Span<const absl::string_view> list,
              absl::string_view name) {
  for (absl::string_view n : list) {
    if (n == name) return true;
  }
  return false;
}

// Go's strconv.ParseInt(s, 0, 64) for the digits PromQL's lexer lets
// through: `0x` hex, a leading `0` octal, else decimal.
std::optional<int64_t> ParseGoInt(absl::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    if (value > (uint64_t{INT64_MAX} - digit) / base) return std::nullopt;
    value = value * base + digit;
  }
  return static_cast<int64_t>(value);
}

// Prometheus's parser.number: strconv.ParseInt(s, 0, 64), else
// strconv.ParseFloat(s, 64) (decimal only here: a hex float needs a `p`
// exponent, which PromQL's lexer never takes).
std::optional<double> ParseNumberLiteral(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "inf") return std::numeric_limits<double>::infinity();
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (std::optional<int64_t> n = ParseGoInt(text)) {
    return static_cast<double>(*n);
  }
  if (lower.size() > 1 && lower[0] == '0' && lower[1] == 'x') {
    return std::nullopt;
  }
  // strtod accepts "inf", hex and leading blanks, none of which reach here
  // (the lexer gives digits, '.', and one exponent).
  if (lower.empty() || lower.back() == 'e' || lower.back() == '+' ||
      lower.back() == '-') {
    return std::nullopt;
  }
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(lower.c_str(), &end);
  if (end != lower.c_str() + lower.size()) return std::nullopt;
  // Out of range: Go returns ±Inf with an error; PromQL reports it.
  if (errno == ERANGE && std::abs(value) > 1) return std::nullopt;
  return value;
}

class ExprParser {
 public:
  ExprParser(absl::string_view input, int max_regex_program_size)
      : input_(input),
        lexer_(input),
        max_regex_program_size_(max_regex_program_size) {}

  absl::StatusOr<ExprPtr> Parse() {
    Advance();
    if (cur_.kind == Kind::kEof) {
      return PromqlParseError(input_, 0, "no expression found in input");
    }
    absl::StatusOr<ExprPtr> expr = ParseBinary(1);
    if (!expr.ok()) return expr.status();
    if (cur_.kind != Kind::kEof) return Unexpected(cur_);
    return expr;
  }

 private:
  void Advance() { cur_ = lexer_.Next(); }

  // The token after the current one, without taking it.
  PromqlToken PeekNext() const {
    PromqlLexer copy = lexer_;
    return copy.Next();
  }

  absl::Status ErrorAt(size_t pos, absl::string_view message) const {
    return PromqlParseError(input_, pos, message);
  }

  absl::Status Unexpected(const PromqlToken& token,
                          absl::string_view context = "") const {
    if (token.kind == Kind::kError) return ErrorAt(token.pos, token.error);
    std::string message =
        absl::StrCat("unexpected ", DescribePromqlToken(token));
    if (!context.empty()) absl::StrAppend(&message, " in ", context);
    return ErrorAt(token.pos, message);
  }

  // A refusal of what needs more than the latest samples: InvalidArgument
  // (bad_data) located at `pos`, saying why (`why`, then kInstantOnly).
  absl::Status RefuseHistory(size_t pos, absl::string_view why) const {
    return Refuse(pos, absl::StrCat(why, "; ", kInstantOnly,
                                    ", so it cannot answer this query "
                                    "(docs/api.md)"));
  }

  // `<line>:<column>: <message>`, the location of a parse error without
  // "parse error" (this is a refusal, not a syntax error).
  absl::Status Refuse(size_t pos, absl::string_view message) const {
    const absl::Status located = PromqlParseError(input_, pos, "");
    absl::string_view prefix = located.message();
    prefix = prefix.substr(0, prefix.find(' ') + 1);
    return absl::InvalidArgumentError(absl::StrCat(prefix, message));
  }

  std::optional<BinaryOpInfo> CurrentBinaryOp() const {
    if (cur_.kind != Kind::kOperator) return std::nullopt;
    const std::string text = absl::AsciiStrToLower(cur_.text);
    for (const BinaryOpInfo& info : kBinaryOps) {
      if (BinaryOpName(info.op) == text) return info;
    }
    return std::nullopt;
  }

  bool AtKeyword(absl::string_view word) const {
    return cur_.kind == Kind::kKeyword &&
           absl::AsciiStrToLower(cur_.text) == word;
  }

  absl::StatusOr<ExprPtr> ParseBinary(int min_precedence) {
    // Parsing recurses per nesting level: bounded, as the tree's height is.
    if (++nesting_ > kMaxHeight) return TooDeep(cur_.pos);
    absl::StatusOr<ExprPtr> lhs = ParseBinaryNested(min_precedence);
    --nesting_;
    return lhs;
  }

  absl::Status TooDeep(size_t pos) const {
    return ErrorAt(pos, absl::StrCat("expression nested more than ", kMaxHeight,
                                     " levels deep"));
  }

  // Sets `node`'s height from its operands'; too tall is an error.
  absl::Status SetHeight(PromqlExpr* node) const {
    int height = 0;
    for (const ExprPtr& arg : node->args)
      height = std::max(height, arg->height);
    node->height = height + 1;
    if (node->height > kMaxHeight) return TooDeep(node->pos);
    return absl::OkStatus();
  }

  absl::StatusOr<ExprPtr> ParseBinaryNested(int min_precedence) {
    absl::StatusOr<ExprPtr> lhs = ParseUnary();
    if (!lhs.ok()) return lhs.status();
    while (true) {
      const std::optional<BinaryOpInfo> info = CurrentBinaryOp();
      if (!info.has_value()) {
        if (cur_.kind == Kind::kOperator &&
            absl::AsciiStrToLower(cur_.text) == "atan2") {
          return Refuse(cur_.pos,
                        "the atan2 operator is not supported by fedgate");
        }
        return lhs;
      }
      if (info->precedence < min_precedence) return lhs;
      const size_t op_pos = cur_.pos;
      Advance();
      auto node = std::make_unique<PromqlExpr>();
      node->kind = PromqlExpr::Kind::kBinary;
      node->binary_op = info->op;
      node->pos = (*lhs)->pos;
      if (absl::Status s = ParseBinaryModifiers(node.get()); !s.ok()) return s;
      // `^` is right-associative: its right operand may hold another `^`.
      absl::StatusOr<ExprPtr> rhs = ParseBinary(
          info->op == BinaryOp::kPow ? info->precedence : info->precedence + 1);
      if (!rhs.ok()) return rhs.status();
      node->args.push_back(*std::move(lhs));
      node->args.push_back(*std::move(rhs));
      if (absl::Status s = CheckBinary(node.get(), op_pos); !s.ok()) return s;
      if (absl::Status s = SetHeight(node.get()); !s.ok()) return s;
      lhs = std::move(node);
    }
  }

  // `bool`, `on(...)`/`ignoring(...)`, `group_left(...)`/`group_right(...)`.
  absl::Status ParseBinaryModifiers(PromqlExpr* node) {
    if (AtKeyword("bool")) {
      node->return_bool = true;
      Advance();
    }
    VectorMatching& m = node->matching;
    if (AtKeyword("on") || AtKeyword("ignoring")) {
      m.on = AtKeyword("on");
      Advance();
      if (absl::Status s = ParseLabelList(&m.labels); !s.ok()) return s;
      if (AtKeyword("group_left") || AtKeyword("group_right")) {
        m.cardinality = AtKeyword("group_left")
                            ? VectorMatching::Cardinality::kManyToOne
                            : VectorMatching::Cardinality::kOneToMany;
        Advance();
        if (cur_.kind == Kind::kLeftParen) {
          if (absl::Status s = ParseLabelList(&m.include); !s.ok()) return s;
        }
      }
    }
    return absl::OkStatus();
  }

  // Prometheus's checkAST for a BinaryExpr, in its order.
  absl::Status CheckBinary(PromqlExpr* node, size_t op_pos) {
    const PromqlType lt = node->args[0]->type;
    const PromqlType rt = node->args[1]->type;
    const BinaryOp op = node->binary_op;
    VectorMatching& m = node->matching;
    if (node->return_bool && !IsComparisonOp(op)) {
      return ErrorAt(op_pos,
                     "bool modifier can only be used on comparison operators");
    }
    if (IsComparisonOp(op) && !node->return_bool && lt == PromqlType::kScalar &&
        rt == PromqlType::kScalar) {
      return ErrorAt(op_pos,
                     "comparisons between scalars must use BOOL modifier");
    }
    if (IsSetOp(op) &&
        m.cardinality == VectorMatching::Cardinality::kOneToOne) {
      m.cardinality = VectorMatching::Cardinality::kManyToMany;
    }
    if (m.on) {
      for (const std::string& l : m.labels) {
        for (const std::string& i : m.include) {
          if (l == i) {
            return ErrorAt(op_pos,
                           absl::StrCat("label ", GoQuote(l),
                                        " must not occur in ON and GROUP "
                                        "clause at once"));
          }
        }
      }
    }
    if (lt == PromqlType::kString) {
      return ErrorAt(node->args[0]->pos,
                     "binary expression must contain only scalar and instant "
                     "vector types");
    }
    if (rt == PromqlType::kString) {
      return ErrorAt(node->args[1]->pos,
                     "binary expression must contain only scalar and instant "
                     "vector types");
    }
    if (lt != PromqlType::kVector || rt != PromqlType::kVector) {
      if (!m.labels.empty()) {
        return ErrorAt(node->pos,
                       "vector matching only allowed between instant vectors");
      }
      m = VectorMatching();
    } else if (IsSetOp(op) &&
               (m.cardinality == VectorMatching::Cardinality::kManyToOne ||
                m.cardinality == VectorMatching::Cardinality::kOneToMany)) {
      return ErrorAt(node->pos,
                     absl::StrCat("no grouping allowed for ",
                                  GoQuote(BinaryOpName(op)), " operation"));
    }
    if ((lt == PromqlType::kScalar || rt == PromqlType::kScalar) &&
        IsSetOp(op)) {
      return ErrorAt(node->pos,
                     absl::StrCat("set operator ", GoQuote(BinaryOpName(op)),
                                  " not allowed in binary scalar "
                                  "expression"));
    }
    node->type = lt == PromqlType::kScalar && rt == PromqlType::kScalar
                     ? PromqlType::kScalar
                     : PromqlType::kVector;
    return absl::OkStatus();
  }

  absl::StatusOr<ExprPtr> ParseUnary() {
    if (cur_.kind == Kind::kOperator &&
        (cur_.text == "-" || cur_.text == "+")) {
      const bool negate = cur_.text == "-";
      const size_t pos = cur_.pos;
      Advance();
      // Unary minus binds as `*` does: only `^` is tighter (-2^2 is -4).
      absl::StatusOr<ExprPtr> operand = ParseBinary(kPrecPow);
      if (!operand.ok()) return operand.status();
      ExprPtr inner = *std::move(operand);
      if (inner->type == PromqlType::kString) {
        return ErrorAt(pos,
                       "unary expression only allowed on expressions of type "
                       "scalar or instant vector, got \"string\"");
      }
      if (inner->kind == PromqlExpr::Kind::kNumber) {
        // A signed literal is one number, as in Prometheus.
        if (negate) inner->number = -inner->number;
        inner->pos = pos;
        return inner;
      }
      if (!negate) return inner;
      auto node = std::make_unique<PromqlExpr>();
      node->kind = PromqlExpr::Kind::kUnary;
      node->type = inner->type;
      node->pos = pos;
      node->args.push_back(std::move(inner));
      if (absl::Status s = SetHeight(node.get()); !s.ok()) return s;
      return node;
    }
    absl::StatusOr<ExprPtr> primary = ParsePrimary();
    if (!primary.ok()) return primary.status();
    if (absl::Status s = RefuseModifiers(); !s.ok()) return s;
    return primary;
  }

  // `[5m]`, `[5m:1m]`, `offset`, `@` after an operand: they need history.
  absl::Status RefuseModifiers() {
    if (cur_.kind == Kind::kLeftBracket) {
      const size_t close = input_.find(']', cur_.pos);
      const absl::string_view range =
          close == absl::string_view::npos
              ? input_.substr(cur_.pos)
              : input_.substr(cur_.pos, close - cur_.pos + 1);
      const bool subquery = range.find(':') != absl::string_view::npos;
      return RefuseHistory(
          cur_.pos,
          absl::StrCat(subquery ? "the subquery " : "the range selector ",
                       range, " needs the samples of a past time range"));
    }
    if (AtKeyword("offset")) {
      return RefuseHistory(cur_.pos,
                           "the offset modifier needs samples from the past");
    }
    if (cur_.kind == Kind::kAt) {
      return RefuseHistory(cur_.pos,
                           "the @ modifier needs samples at another time");
    }
    return absl::OkStatus();
  }

  // The recursion of nested expressions runs through ParsePrimary, so each
  // case that needs locals has a function of its own: a small frame per
  // nesting level.
  absl::StatusOr<ExprPtr> ParsePrimary() {
    switch (cur_.kind) {
      case Kind::kNumber:
        return ParseNumber();
      case Kind::kString:
        return ParseString();
      case Kind::kLeftParen:
        return ParseParen();
      case Kind::kLeftBrace: {
        const PromqlToken brace = cur_;  // ParseSelector advances cur_.
        return ParseSelector(brace, "");
      }
      case Kind::kAggregator:
        if (AggregationFollows()) return ParseAggregate();
        break;
      case Kind::kIdentifier:
        if (PeekNext().kind == Kind::kLeftParen) return ParseCall();
        break;
      default:
        break;
    }
    if (cur_.metric_name) {
      const PromqlToken name = cur_;
      Advance();
      return ParseSelector(name, name.text);
    }
    return Unexpected(cur_);
  }

  absl::StatusOr<ExprPtr> ParseNumber() {
    const std::optional<double> value = ParseNumberLiteral(cur_.text);
    if (!value.has_value()) {
      return ErrorAt(cur_.pos,
                     absl::StrCat("error parsing number: "
                                  "strconv.ParseFloat: parsing ",
                                  GoQuote(cur_.text), ": invalid syntax"));
    }
    auto node = std::make_unique<PromqlExpr>();
    node->kind = PromqlExpr::Kind::kNumber;
    node->pos = cur_.pos;
    node->number = *value;
    Advance();
    return node;
  }

  absl::StatusOr<ExprPtr> ParseString() {
    std::optional<std::string> value = GoUnquote(cur_.text);
    if (!value.has_value()) {
      return ErrorAt(cur_.pos, absl::StrCat("error unquoting string ",
                                            GoQuote(cur_.text)));
    }
    auto node = std::make_unique<PromqlExpr>();
    node->kind = PromqlExpr::Kind::kString;
    node->type = PromqlType::kString;
    node->pos = cur_.pos;
    node->text = *std::move(value);
    Advance();
    return node;
  }

  absl::StatusOr<ExprPtr> ParseParen() {
    auto node = std::make_unique<PromqlExpr>();
    node->kind = PromqlExpr::Kind::kParen;
    node->pos = cur_.pos;
    Advance();
    absl::StatusOr<ExprPtr> inner = ParseBinary(1);
    if (!inner.ok()) return inner.status();
    if (cur_.kind != Kind::kRightParen) {
      return Unexpected(cur_, "paren expression");
    }
    Advance();
    node->type = (*inner)->type;
    node->args.push_back(*std::move(inner));
    if (absl::Status s = SetHeight(node.get()); !s.ok()) return s;
    return node;
  }

  // Whether the aggregator at hand starts an aggregation (`sum(`, `sum by`)
  // rather than naming a metric (`sum`, `sum{job="a"}`).
  bool AggregationFollows() const {
    const PromqlToken next = PeekNext();
    if (next.kind == Kind::kLeftParen) return true;
    if (next.kind != Kind::kKeyword) return false;
    const std::string word = absl::AsciiStrToLower(next.text);
    return word == "by" || word == "without";
  }

  // A selector whose first token is `first`: '{' (then the current token is
  // it) or a metric name (then the current token is the one after it).
  absl::StatusOr<ExprPtr> ParseSelector(const PromqlToken& first,
                                        absl::string_view name) {
    const bool braces = cur_.kind == Kind::kLeftBrace;
    absl::StatusOr<Selector> selector =
        ParseSelectorRest(lexer_, name, braces, max_regex_program_size_);
    if (!selector.ok()) return selector.status();
    if (braces) Advance();
    if (!name.empty()) {
      // The name's matcher is the last one; any other on __name__ sets it
      // twice.
      for (size_t i = 0; i + 1 < selector->size(); ++i) {
        const LabelMatcher& m = (*selector)[i];
        if (m.name() == kMetricNameLabel) {
          return ErrorAt(
              first.pos,
              absl::StrCat("metric name must not be set twice: ", GoQuote(name),
                           " or ", GoQuote(m.value())));
        }
      }
    } else if (!HasNonEmptyMatcher(*selector)) {
      return ErrorAt(first.pos,
                     "vector selector must contain at least one non-empty "
                     "matcher");
    }
    auto node = std::make_unique<PromqlExpr>();
    node->kind = PromqlExpr::Kind::kSelector;
    node->type = PromqlType::kVector;
    node->pos = first.pos;
    node->selector = *std::move(selector);
    return node;
  }

  // `(label, ...)` with an optional trailing comma; the current token is
  // the '('.
  absl::Status ParseLabelList(std::vector<std::string>* labels) {
    if (cur_.kind != Kind::kLeftParen) {
      return Unexpected(cur_, "grouping opts");
    }
    Advance();
    while (cur_.kind != Kind::kRightParen) {
      const bool word =
          cur_.kind == Kind::kIdentifier || cur_.kind == Kind::kKeyword ||
          cur_.kind == Kind::kAggregator || cur_.kind == Kind::kPreprocessor ||
          (cur_.kind == Kind::kOperator && absl::ascii_isalpha(cur_.text[0]));
      if (!word) return Unexpected(cur_, "grouping opts");
      labels->emplace_back(cur_.text);
      Advance();
      if (cur_.kind == Kind::kComma) {
        Advance();
      } else if (cur_.kind != Kind::kRightParen) {
        return Unexpected(cur_, "grouping opts");
      }
    }
    Advance();
    return absl::OkStatus();
  }

  // The arguments of a call or an aggregation: '(' expr, ... ')'.
  absl::Status ParseArguments(std::vector<ExprPtr>* args) {
    if (cur_.kind != Kind::kLeftParen) return Unexpected(cur_);
    Advance();
    if (cur_.kind == Kind::kRightParen) {
      Advance();
      return absl::OkStatus();
    }
    while (true) {
      absl::StatusOr<ExprPtr> arg = ParseBinary(1);
      if (!arg.ok()) return arg.status();
      args->push_back(*std::move(arg));
      if (cur_.kind == Kind::kRightParen) {
        Advance();
        return absl::OkStatus();
      }
      if (cur_.kind != Kind::kComma) {
        return Unexpected(cur_, "function call arguments");
      }
      Advance();
    }
  }

  absl::Status ExpectType(const PromqlExpr& expr, PromqlType want,
                          absl::string_view context) const {
    if (expr.type == want) return absl::OkStatus();
    return ErrorAt(expr.pos,
                   absl::StrCat("expected type ", PromqlTypeName(want), " in ",
                                context, ", got ", PromqlTypeName(expr.type)));
  }

  absl::StatusOr<ExprPtr> ParseAggregate() {
    const PromqlToken op_token = cur_;
    const std::string name = absl::AsciiStrToLower(op_token.text);
    const AggregatorInfo* info = nullptr;
    for (const AggregatorInfo& a : kAggregators) {
      if (a.name == name) info = &a;
    }
    if (info == nullptr) return Unexpected(op_token);
    Advance();
    auto node = std::make_unique<PromqlExpr>();
    node->kind = PromqlExpr::Kind::kAggregate;
    node->type = PromqlType::kVector;
    node->pos = op_token.pos;
    node->aggregate_op = info->op;
    bool grouped = false;
    if (AtKeyword("by") || AtKeyword("without")) {
      node->without = AtKeyword("without");
      Advance();
      if (absl::Status s = ParseLabelList(&node->grouping); !s.ok()) return s;
      grouped = true;
    }
    if (absl::Status s = ParseArguments(&node->args); !s.ok()) return s;
    if (!grouped && (AtKeyword("by") || AtKeyword("without"))) {
      node->without = AtKeyword("without");
      Advance();
      if (absl::Status s = ParseLabelList(&node->grouping); !s.ok()) return s;
    }
    const size_t want = info->param.has_value() ? 2 : 1;
    if (node->args.empty()) {
      return ErrorAt(node->pos,
                     "no arguments for aggregate expression provided");
    }
    if (node->args.size() != want) {
      return ErrorAt(node->pos,
                     absl::StrCat("wrong number of arguments for aggregate "
                                  "expression provided, expected ",
                                  want, ", got ", node->args.size()));
    }
    if (absl::Status s = ExpectType(*node->args.back(), PromqlType::kVector,
                                    "aggregation expression");
        !s.ok()) {
      return s;
    }
    if (info->param.has_value()) {
      if (absl::Status s = ExpectType(*node->args.front(), *info->param,
                                      "aggregation parameter");
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = SetHeight(node.get()); !s.ok()) return s;
    return node;
  }

  absl::StatusOr<ExprPtr> ParseCall() {
    const PromqlToken name_token = cur_;
    const absl::string_view name = name_token.text;
    const PromqlFunction* function = FindPromqlFunction(name);
    if (function == nullptr) {
      if (Contains(kRangeFunctions, name)) {
        return RefuseHistory(name_token.pos,
                             absl::StrCat("the function ", name,
                                          "() reads a range of past samples"));
      }
      if (Contains(kOtherFunctions, name)) {
        return Refuse(name_token.pos,
                      absl::StrCat("the function ", name,
                                   "() is not supported by fedgate "
                                   "(docs/api.md lists the functions it "
                                   "evaluates)"));
      }
      return ErrorAt(name_token.pos, absl::StrCat("unknown function with name ",
                                                  GoQuote(name)));
    }
    Advance();
    auto node = std::make_unique<PromqlExpr>();
    node->kind = PromqlExpr::Kind::kCall;
    node->type = function->return_type;
    node->pos = name_token.pos;
    node->function = function;
    if (absl::Status s = ParseArguments(&node->args); !s.ok()) return s;
    const size_t nargs = function->arg_types.size();
    const size_t got = node->args.size();
    if (function->variadic == 0) {
      if (got != nargs) {
        return ErrorAt(node->pos, absl::StrCat("expected ", nargs,
                                               " argument(s) in call to ",
                                               GoQuote(name), ", got ", got));
      }
    } else {
      const size_t at_least = nargs - 1;
      if (got < at_least) {
        return ErrorAt(node->pos, absl::StrCat("expected at least ", at_least,
                                               " argument(s) in call to ",
                                               GoQuote(name), ", got ", got));
      }
      if (function->variadic > 0 &&
          got > at_least + static_cast<size_t>(function->variadic)) {
        return ErrorAt(node->pos, absl::StrCat("expected at most ",
                                               at_least + function->variadic,
                                               " argument(s) in call to ",
                                               GoQuote(name), ", got ", got));
      }
    }
    const std::string context =
        absl::StrCat("call to function ", GoQuote(name));
    for (size_t i = 0; i < got; ++i) {
      const size_t t = i < nargs ? i : nargs - 1;
      if (absl::Status s =
              ExpectType(*node->args[i], function->arg_types[t], context);
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = SetHeight(node.get()); !s.ok()) return s;
    return node;
  }

  absl::string_view input_;
  PromqlLexer lexer_;
  PromqlToken cur_;
  const int max_regex_program_size_;
  int nesting_ = 0;  // ParseBinary calls in progress.
};

}  // namespace

absl::StatusOr<std::unique_ptr<PromqlExpr>> ParsePromqlExpr(
    absl::string_view input, int max_regex_program_size) {
  return ExprParser(input, max_regex_program_size).Parse();
}

}  // namespace fedgate
