#include "merge/promql/expr.h"

namespace fedgate {

absl::string_view PromqlTypeName(PromqlType type) {
  switch (type) {
    case PromqlType::kScalar:
      return "scalar";
    case PromqlType::kVector:
      return "instant vector";
    case PromqlType::kString:
      return "string";
  }
  return "unknown";
}

absl::string_view BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "^";
    case BinaryOp::kEql:
      return "==";
    case BinaryOp::kNeq:
      return "!=";
    case BinaryOp::kGtr:
      return ">";
    case BinaryOp::kLss:
      return "<";
    case BinaryOp::kGte:
      return ">=";
    case BinaryOp::kLte:
      return "<=";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kUnless:
      return "unless";
  }
  return "?";
}

bool IsComparisonOp(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte:
      return true;
    default:
      return false;
  }
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
