// merge/promql/expr.h
//
// The syntax tree of a PromQL expression as fedgate evaluates it: number and
// string literals, instant vector selectors, parentheses, unary and binary
// operators with vector matching, aggregations and function calls, each node
// typed as Prometheus 2.42 types it (scalar, instant vector, string). Built
// by merge/promql/expr_parser.h, evaluated by merge/promql/instant_eval.h;
// the function table here is what both share (names, argument types).
// Recording-rule files are to reuse the same tree.
//
// Thread-safety: immutable after parsing; safe to share across threads.

#ifndef FEDGATE_MERGE_PROMQL_EXPR_H_
#define FEDGATE_MERGE_PROMQL_EXPR_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "merge/query/label_matcher.h"

namespace fedgate {

// The value types of PromQL that an instant query can produce.
enum class PromqlType { kScalar, kVector, kString };

// Returns the type as Prometheus's messages name it: "scalar",
// "instant vector", "string".
absl::string_view PromqlTypeName(PromqlType type);

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEql,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,
  kAnd,
  kOr,
  kUnless,
};

// Returns the operator as written: "+", "==", "and".
absl::string_view BinaryOpName(BinaryOp op);
bool IsComparisonOp(BinaryOp op);
bool IsSetOp(BinaryOp op);

enum class AggregateOp {
  kSum,
  kMin,
  kMax,
  kAvg,
  kCount,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};

// The functions fedgate evaluates (a subset of Prometheus 2.42's).
enum class PromqlFunctionId {
  kAbs,
  kAbsent,
  kCeil,
  kClamp,
  kClampMax,
  kClampMin,
  kExp,
  kFloor,
  kHistogramQuantile,
  kLabelJoin,
  kLabelReplace,
  kLn,
  kLog10,
  kLog2,
  kRound,
  kScalar,
  kSgn,
  kSort,
  kSortDesc,
  kSqrt,
  kTime,
  kTimestamp,
  kVector,
};

// A function's signature, as Prometheus 2.42's parser checks calls.
struct PromqlFunction {
  absl::string_view name;
  PromqlFunctionId id;
  std::vector<PromqlType> arg_types;
  // 0: exactly arg_types; -1: the last type repeats without bound; n > 0:
  // the last argument is optional and up to n of them may be given (as
  // Prometheus's Variadic).
  int variadic;
  PromqlType return_type;
};

// Returns the function named `name` that fedgate evaluates, or null.
const PromqlFunction* FindPromqlFunction(absl::string_view name);

// How two vectors' samples are paired (`on`, `ignoring`, `group_left`).
struct VectorMatching {
  enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
  Cardinality cardinality = Cardinality::kOneToOne;
  bool on = false;                   // `on(labels)`; else `ignoring(labels)`.
  std::vector<std::string> labels;   // The matching labels.
  std::vector<std::string> include;  // `group_left(include)`.
};

struct PromqlExpr {
  enum class Kind {
    kNumber,
    kString,
    kSelector,
    kParen,
    kUnary,  // `-x` (`+x` parses to x itself).
    kBinary,
    kAggregate,
    kCall,
  };

  Kind kind = Kind::kNumber;
  PromqlType type = PromqlType::kScalar;
  size_t pos = 0;  // Byte offset of the node's first token in the query.
  int height = 1;  // 1 for a leaf; the parser bounds it (expr_parser.h).

  double number = 0;                    // kNumber.
  std::string text;                     // kString: the unquoted value.
  Selector selector;                    // kSelector.
  BinaryOp binary_op = BinaryOp::kAdd;  // kBinary.
  bool return_bool = false;             // kBinary: the `bool` modifier.
  VectorMatching matching;              // kBinary between two vectors.
  AggregateOp aggregate_op = AggregateOp::kSum;  // kAggregate.
  std::vector<std::string> grouping;             // kAggregate: `by`/`without`.
  bool without = false;                          // kAggregate.
  const PromqlFunction* function = nullptr;      // kCall.
  // The operands: kParen and kUnary one; kBinary lhs, rhs; kAggregate the
  // parameter (topk's k, quantile's φ, count_values' label) if any, then the
  // vector; kCall the arguments.
  std::vector<std::unique_ptr<PromqlExpr>> args;
};

}  // namespace fedgate

#endif  // FEDGATE_MERGE_PROMQL_EXPR_H_
