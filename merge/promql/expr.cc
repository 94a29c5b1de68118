#include "merge/promql/expr.h"

#include <cstddef>
#include <iterator>

namespace fedgate {

namespace {

// The names of PromqlType's values in Prometheus's messages, in its order.
constexpr absl::string_view kPromqlTypeNames[] = {"scalar", "instant vector",
                                                  "string"};
static_assert(std::size(kPromqlTypeNames) ==
              static_cast<size_t>(PromqlType::kString) + 1);

// BinaryOp's values as PromQL writes them, in its order.
constexpr absl::string_view kBinaryOpNames[] = {
    "+", "-", "*",  "/",  "%",   "^",  "==",    "!=",
    ">", "<", ">=", "<=", "and", "or", "unless"};
static_assert(std::size(kBinaryOpNames) ==
              static_cast<size_t>(BinaryOp::kUnless) + 1);

}  // namespace

absl::string_view PromqlTypeName(PromqlType type) {
  return kPromqlTypeNames[static_cast<size_t>(type)];
}

absl::string_view BinaryOpName(BinaryOp op) {
  return kBinaryOpNames[static_cast<size_t>(op)];
}

bool IsComparisonOp(BinaryOp op) {
  return op == BinaryOp::kEql || op == BinaryOp::kNeq || op == BinaryOp::kGtr ||
         op == BinaryOp::kLss || op == BinaryOp::kGte || op == BinaryOp::kLte;
}

bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

const PromqlFunction* FindPromqlFunction(absl::string_view name) {
  using T = PromqlType;
  using F = PromqlFunctionId;
  constexpr T kS = T::kScalar;
  constexpr T kV = T::kVector;
  constexpr T kStr = T::kString;
  // Prometheus 2.42's promql/parser/functions.go signatures.
  static const auto* const kFunctions = new std::vector<PromqlFunction>{
      {"abs", F::kAbs, {kV}, 0, kV},
      {"absent", F::kAbsent, {kV}, 0, kV},
      {"ceil", F::kCeil, {kV}, 0, kV},
      {"clamp", F::kClamp, {kV, kS, kS}, 0, kV},
      {"clamp_max", F::kClampMax, {kV, kS}, 0, kV},
      {"clamp_min", F::kClampMin, {kV, kS}, 0, kV},
      {"exp", F::kExp, {kV}, 0, kV},
      {"floor", F::kFloor, {kV}, 0, kV},
      {"histogram_quantile", F::kHistogramQuantile, {kS, kV}, 0, kV},
      {"label_join", F::kLabelJoin, {kV, kStr, kStr, kStr}, -1, kV},
      {"label_replace", F::kLabelReplace, {kV, kStr, kStr, kStr, kStr}, 0, kV},
      {"ln", F::kLn, {kV}, 0, kV},
      {"log10", F::kLog10, {kV}, 0, kV},
      {"log2", F::kLog2, {kV}, 0, kV},
      {"round", F::kRound, {kV, kS}, 1, kV},
      {"scalar", F::kScalar, {kV}, 0, kS},
      {"sgn", F::kSgn, {kV}, 0, kV},
      {"sort", F::kSort, {kV}, 0, kV},
      {"sort_desc", F::kSortDesc, {kV}, 0, kV},
      {"sqrt", F::kSqrt, {kV}, 0, kV},
      {"time", F::kTime, {}, 0, kS},
      {"timestamp", F::kTimestamp, {kV}, 0, kV},
      {"vector", F::kVector, {kS}, 0, kV},
  };
  for (const PromqlFunction& f : *kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace fedgate
