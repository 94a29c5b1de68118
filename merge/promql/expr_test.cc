#include "merge/promql/expr.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(ExprTest, TypeNamesAreThoseOfPrometheusMessages) {
  EXPECT_EQ(PromqlTypeName(PromqlType::kScalar), "scalar");
  EXPECT_EQ(PromqlTypeName(PromqlType::kVector), "instant vector");
  EXPECT_EQ(PromqlTypeName(PromqlType::kString), "string");
}

TEST(ExprTest, OperatorClasses) {
  EXPECT_EQ(BinaryOpName(BinaryOp::kPow), "^");
  EXPECT_EQ(BinaryOpName(BinaryOp::kUnless), "unless");
  EXPECT_TRUE(IsComparisonOp(BinaryOp::kGte));
  EXPECT_FALSE(IsComparisonOp(BinaryOp::kAdd));
  EXPECT_TRUE(IsSetOp(BinaryOp::kOr));
  EXPECT_FALSE(IsSetOp(BinaryOp::kEql));
}

TEST(ExprTest, OperatorNamesAreAsPromqlWritesThem) {
  std::string names;
  for (int i = 0; i <= static_cast<int>(BinaryOp::kUnless); ++i) {
    absl::StrAppend(&names, BinaryOpName(static_cast<BinaryOp>(i)), " ");
  }
  EXPECT_EQ(names, "+ - * / % ^ == != > < >= <= and or unless ");
}

TEST(ExprTest, FunctionTableHasPrometheusSignatures) {
  const PromqlFunction* f = FindPromqlFunction("label_join");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->id, PromqlFunctionId::kLabelJoin);
  EXPECT_EQ(f->arg_types.size(), 4u);
  EXPECT_EQ(f->variadic, -1);
  const PromqlFunction* round = FindPromqlFunction("round");
  ASSERT_NE(round, nullptr);
  EXPECT_EQ(round->variadic, 1);
  EXPECT_EQ(FindPromqlFunction("time")->return_type, PromqlType::kScalar);
  EXPECT_EQ(FindPromqlFunction("rate"), nullptr);
  EXPECT_EQ(FindPromqlFunction("Abs"), nullptr);  // Names are case-sensitive.
}

}  // namespace
}  // namespace fedgate
