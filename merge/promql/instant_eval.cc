#include "merge/promql/instant_eval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/label_name.h"
#include "config/quote.h"
#include "merge/float_format.h"
#include "merge/labels.h"
#include "merge/promql/functions.h"
#include "merge/query/series_query.h"

namespace fedgate {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool Listed(const std::vector<std::string>& names, absl::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The labels of `labels` that `on(names)` (keep) or `ignoring(names)`
// (drop them and `__name__`) match on; also the grouping of `by`/`without`.
Labels MatchingLabels(const Labels& labels,
                      const std::vector<std::string>& names, bool keep) {
  std::vector<Label> out;
  for (const Label& l : labels) {
    const bool listed = Listed(names, l.name);
    if (keep ? listed : (!listed && l.name != kMetricNameLabel)) {
      out.push_back(l);
    }
  }
  return Labels(std::move(out));
}

// MatchingLabels as a hashable key.
std::string Signature(const Labels& labels,
                      const std::vector<std::string>& names, bool keep) {
  std::string key;
  for (const Label& l : labels) {
    const bool listed = Listed(names, l.name);
    if (keep ? listed : (!listed && l.name != kMetricNameLabel)) {
      absl::StrAppend(&key, l.name, "\xff", l.value, "\xff");
    }
  }
  return key;
}

// The arithmetic operators, as Prometheus's shouldDropMetricName lists them.
bool DropsMetricName(BinaryOp op) {
  return op == BinaryOp::kAdd || op == BinaryOp::kSub || op == BinaryOp::kMul ||
         op == BinaryOp::kDiv || op == BinaryOp::kMod || op == BinaryOp::kPow;
}

// Go's math.Mod is exact, as C's fmod is; math.Pow is GoPow.
struct ElemResult {
  double value;
  bool keep;
};

ElemResult ApplyOp(BinaryOp op, double lhs, double rhs) {
  switch (op) {
    case BinaryOp::kAdd:
      return {lhs + rhs, true};
    case BinaryOp::kSub:
      return {lhs - rhs, true};
    case BinaryOp::kMul:
      return {lhs * rhs, true};
    case BinaryOp::kDiv:
      return {lhs / rhs, true};
    case BinaryOp::kMod:
      return {std::fmod(lhs, rhs), true};
    case BinaryOp::kPow:
      return {GoPow(lhs, rhs), true};
    case BinaryOp::kEql:
      return {lhs, lhs == rhs};
    case BinaryOp::kNeq:
      return {lhs, lhs != rhs};
    case BinaryOp::kGtr:
      return {lhs, lhs > rhs};
    case BinaryOp::kLss:
      return {lhs, lhs < rhs};
    case BinaryOp::kGte:
      return {lhs, lhs >= rhs};
    case BinaryOp::kLte:
      return {lhs, lhs <= rhs};
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
    case BinaryOp::kUnless:
      break;
  }
  return {kNaN, false};
}

PromqlValue Scalar(double x) {
  PromqlValue v;
  v.type = PromqlType::kScalar;
  v.scalar = x;
  return v;
}

PromqlValue Vector(PromqlVector samples) {
  PromqlValue v;
  v.type = PromqlType::kVector;
  v.vector = std::move(samples);
  return v;
}

class Evaluator {
 public:
  Evaluator(const StoreSnapshot& snapshot, const InstantEvalOptions& options)
      : snapshot_(snapshot), options_(options) {}

  absl::StatusOr<PromqlValue> Eval(const PromqlExpr& expr) {
    switch (expr.kind) {
      case PromqlExpr::Kind::kNumber:
        return Scalar(expr.number);
      case PromqlExpr::Kind::kString: {
        PromqlValue v;
        v.type = PromqlType::kString;
        v.string = expr.text;
        return v;
      }
      case PromqlExpr::Kind::kSelector:
        return Select(expr);
      case PromqlExpr::Kind::kParen:
        return Eval(*expr.args[0]);
      case PromqlExpr::Kind::kUnary:
        return Negate(expr);
      case PromqlExpr::Kind::kBinary:
        return Checked(Binary(expr));
      case PromqlExpr::Kind::kAggregate:
        return Checked(Aggregate(expr));
      case PromqlExpr::Kind::kCall:
        return Checked(Call(expr));
    }
    return absl::InternalError("unknown expression kind");
  }

 private:
  // 2.42 refuses a computed vector with two equal label sets.
  static absl::StatusOr<PromqlValue> Checked(absl::StatusOr<PromqlValue> v) {
    if (v.ok() && v->type == PromqlType::kVector &&
        ContainsSameLabelset(v->vector)) {
      return PromqlExecutionError(
          "vector cannot contain metrics with the same labelset");
    }
    return v;
  }

  absl::StatusOr<PromqlValue> Select(const PromqlExpr& expr) {
    const Selector selectors[] = {expr.selector};
    const std::vector<SelectedSeries> rows =
        SelectSeries(snapshot_, selectors, SeriesOrder::kSorted,
                     LookbackWindow(options_.time_ms));
    selected_ += rows.size();
    if (options_.max_series != 0 && selected_ > options_.max_series) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the query would select ", selected_,
                       " series, more than the limit of ", options_.max_series,
                       " (--query.max-series)"));
    }
    PromqlVector out;
    out.reserve(rows.size());
    for (const SelectedSeries& row : rows) {
      out.push_back(PromqlSample{row.sample->labels.ToLabels(),
                                 row.sample->value, row.timestamp_ms});
    }
    std::sort(out.begin(), out.end(),
              [](const PromqlSample& a, const PromqlSample& b) {
                return a.labels < b.labels;
              });
    return Vector(std::move(out));
  }

  absl::StatusOr<PromqlValue> Negate(const PromqlExpr& expr) {
    absl::StatusOr<PromqlValue> v = Eval(*expr.args[0]);
    if (!v.ok()) return v.status();
    if (v->type == PromqlType::kScalar) return Scalar(-v->scalar);
    for (PromqlSample& s : v->vector) {
      s.labels.Remove(kMetricNameLabel);
      s.value = -s.value;
      s.timestamp_ms = options_.time_ms;
    }
    return Checked(*std::move(v));
  }

  absl::StatusOr<PromqlValue> Binary(const PromqlExpr& expr) {
    absl::StatusOr<PromqlValue> lhs = Eval(*expr.args[0]);
    if (!lhs.ok()) return lhs.status();
    absl::StatusOr<PromqlValue> rhs = Eval(*expr.args[1]);
    if (!rhs.ok()) return rhs.status();
    const BinaryOp op = expr.binary_op;
    if (lhs->type == PromqlType::kScalar && rhs->type == PromqlType::kScalar) {
      const ElemResult r = ApplyOp(op, lhs->scalar, rhs->scalar);
      // Between scalars a comparison always has `bool` (the parser checks).
      return Scalar(IsComparisonOp(op) ? (r.keep ? 1 : 0) : r.value);
    }
    if (lhs->type == PromqlType::kVector && rhs->type == PromqlType::kVector) {
      if (IsSetOp(op)) return SetOperation(expr, lhs->vector, rhs->vector);
      return VectorBinary(expr, std::move(lhs->vector), std::move(rhs->vector));
    }
    const bool swap = lhs->type == PromqlType::kScalar;
    PromqlVector vector =
        swap ? std::move(rhs->vector) : std::move(lhs->vector);
    const double scalar = swap ? lhs->scalar : rhs->scalar;
    PromqlVector out;
    for (PromqlSample& s : vector) {
      const double lv = swap ? scalar : s.value;
      const double rv = swap ? s.value : scalar;
      ElemResult r = ApplyOp(op, lv, rv);
      // A comparison keeps the vector's value, on either side.
      if (IsComparisonOp(op) && swap) r.value = rv;
      if (expr.return_bool) {
        r.value = r.keep ? 1 : 0;
        r.keep = true;
      }
      if (!r.keep) continue;
      s.value = r.value;
      s.timestamp_ms = options_.time_ms;
      if (DropsMetricName(op) || expr.return_bool) {
        s.labels.Remove(kMetricNameLabel);
      }
      out.push_back(std::move(s));
    }
    return Vector(std::move(out));
  }

  std::string Sig(const PromqlExpr& expr, const Labels& labels) const {
    return Signature(labels, expr.matching.labels, expr.matching.on);
  }

  absl::StatusOr<PromqlValue> SetOperation(const PromqlExpr& expr,
                                           PromqlVector& lhs,
                                           PromqlVector& rhs) {
    PromqlVector out;
    const auto stamp = [this](PromqlSample s) {
      s.timestamp_ms = options_.time_ms;
      return s;
    };
    switch (expr.binary_op) {
      case BinaryOp::kAnd:
      case BinaryOp::kUnless: {
        const bool keep_matched = expr.binary_op == BinaryOp::kAnd;
        absl::flat_hash_set<std::string> right;
        for (const PromqlSample& s : rhs) right.insert(Sig(expr, s.labels));
        for (PromqlSample& s : lhs) {
          if (right.contains(Sig(expr, s.labels)) == keep_matched) {
            out.push_back(stamp(std::move(s)));
          }
        }
        break;
      }
      default: {  // or
        absl::flat_hash_set<std::string> left;
        for (PromqlSample& s : lhs) {
          left.insert(Sig(expr, s.labels));
          out.push_back(stamp(std::move(s)));
        }
        for (PromqlSample& s : rhs) {
          if (!left.contains(Sig(expr, s.labels))) {
            out.push_back(stamp(std::move(s)));
          }
        }
        break;
      }
    }
    return Vector(std::move(out));
  }

  // The labels of a matched pair's result (2.42's resultMetric).
  Labels ResultLabels(const PromqlExpr& expr, const Labels& lhs,
                      const Labels& rhs) const {
    const VectorMatching& m = expr.matching;
    Labels out = lhs;
    if (DropsMetricName(expr.binary_op)) out.Remove(kMetricNameLabel);
    if (m.cardinality == VectorMatching::Cardinality::kOneToOne) {
      if (m.on) {
        out = MatchingLabels(out, m.labels, /*keep=*/true);
      } else {
        for (const std::string& name : m.labels) out.Remove(name);
      }
    }
    for (const std::string& name : m.include) {
      out.Set(name, rhs.Get(name));  // An absent label removes it.
    }
    return out;
  }

  absl::StatusOr<PromqlValue> VectorBinary(const PromqlExpr& expr,
                                           PromqlVector lhs, PromqlVector rhs) {
    const VectorMatching& m = expr.matching;
    using Card = VectorMatching::Cardinality;
    if (lhs.empty() || rhs.empty()) return Vector({});
    // group_right: the "one" side is the left; match from the right.
    const bool swapped = m.cardinality == Card::kOneToMany;
    if (swapped) std::swap(lhs, rhs);
    absl::flat_hash_map<std::string, const PromqlSample*> one_side;
    for (const PromqlSample& s : rhs) {
      auto [it, inserted] = one_side.try_emplace(Sig(expr, s.labels), &s);
      if (!inserted) {
        return PromqlExecutionError(absl::StrCat(
            "found duplicate series for the match group ",
            MatchingLabels(s.labels, m.labels, m.on).ToString(), " on the ",
            swapped ? "left" : "right", " hand-side of the operation: [",
            s.labels.ToString(), ", ", it->second->labels.ToString(),
            "];many-to-many matching not allowed: matching labels must be "
            "unique on one side"));
      }
    }
    // Per match group, the result label sets produced so far.
    absl::flat_hash_map<std::string, absl::flat_hash_set<Labels>> matched;
    PromqlVector out;
    for (const PromqlSample& ls : lhs) {
      const std::string sig = Sig(expr, ls.labels);
      auto found = one_side.find(sig);
      if (found == one_side.end()) continue;
      const PromqlSample& rs = *found->second;
      const double vl = swapped ? rs.value : ls.value;
      const double vr = swapped ? ls.value : rs.value;
      ElemResult r = ApplyOp(expr.binary_op, vl, vr);
      if (expr.return_bool) {
        r.value = r.keep ? 1 : 0;
      } else if (!r.keep) {
        continue;
      }
      Labels labels = ResultLabels(expr, ls.labels, rs.labels);
      if (expr.return_bool) labels.Remove(kMetricNameLabel);
      auto [group, first] = matched.try_emplace(sig);
      if (m.cardinality == Card::kOneToOne) {
        if (!first) {
          return PromqlExecutionError(
              "multiple matches for labels: many-to-one matching must be "
              "explicit (group_left/group_right)");
        }
      } else if (!group->second.insert(labels).second) {
        return PromqlExecutionError(
            "multiple matches for labels: grouping labels must ensure unique "
            "matches");
      }
      out.push_back(PromqlSample{std::move(labels), r.value, options_.time_ms});
    }
    return Vector(std::move(out));
  }

  absl::StatusOr<PromqlValue> Aggregate(const PromqlExpr& expr) {
    PromqlValue param;
    if (expr.args.size() == 2) {
      absl::StatusOr<PromqlValue> p = Eval(*expr.args[0]);
      if (!p.ok()) return p.status();
      param = *std::move(p);
    }
    absl::StatusOr<PromqlValue> input = Eval(*expr.args.back());
    if (!input.ok()) return input.status();
    return Aggregation(expr, param, std::move(input->vector));
  }

  absl::StatusOr<PromqlValue> Aggregation(const PromqlExpr& expr,
                                          const PromqlValue& param,
                                          PromqlVector input) {
    const AggregateOp op = expr.aggregate_op;
    std::vector<std::string> grouping = expr.grouping;
    int64_t k = 0;
    if (op == AggregateOp::kTopk || op == AggregateOp::kBottomk) {
      const double f = param.scalar;
      // Go's convertibleToInt64: within int64 (NaN is not).
      if (!(f <= 9.223372036854775807e18 && f >= -9.223372036854775808e18)) {
        return PromqlExecutionError(absl::StrCat(
            "Scalar value ", FormatGoFloat(f), " overflows int64"));
      }
      k = static_cast<int64_t>(f);
      if (k < 1) return Vector({});
    }
    if (op == AggregateOp::kCountValues) {
      if (!IsValidLabelName(param.string)) {
        return PromqlExecutionError(
            absl::StrCat("invalid label name ", GoQuote(param.string)));
      }
      if (!expr.without) grouping.push_back(param.string);
      for (PromqlSample& s : input) {
        std::string value;
        if (std::isfinite(s.value)) {
          AppendGoFloatLayout(s.value, /*fixed=*/true, &value);
        } else {
          value = FormatGoFloat(s.value);
        }
        s.labels.Set(param.string, value);
      }
    }
    struct Group {
      Labels labels;
      double value = 0;
      double mean = 0;
      int64_t count = 0;
      PromqlVector samples;  // topk, bottomk, quantile.
    };
    absl::flat_hash_map<std::string, size_t> index;
    std::vector<Group> groups;
    const bool by = !expr.without;
    for (PromqlSample& s : input) {
      const std::string key = Signature(s.labels, grouping, by);
      auto [it, inserted] = index.try_emplace(key, groups.size());
      if (inserted) {
        Group g;
        if (by) {
          g.labels = MatchingLabels(s.labels, grouping, /*keep=*/true);
        } else {
          g.labels = MatchingLabels(s.labels, grouping, /*keep=*/false);
        }
        g.value = s.value;
        g.mean = s.value;
        g.count = 1;
        if (op == AggregateOp::kStddev || op == AggregateOp::kStdvar) {
          g.value = 0;
        }
        if (op == AggregateOp::kGroup) g.value = 1;
        g.samples.push_back(std::move(s));
        groups.push_back(std::move(g));
        continue;
      }
      Group& g = groups[it->second];
      const double v = s.value;
      switch (op) {
        case AggregateOp::kSum:
          g.value += v;
          break;
        case AggregateOp::kAvg:
          ++g.count;
          if (std::isinf(g.mean)) {
            // An infinite mean stays unless a NaN or the opposite infinity
            // comes (`Inf - Inf` would make it NaN).
            if (std::isinf(v) && (g.mean > 0) == (v > 0)) break;
            if (!std::isinf(v) && !std::isnan(v)) break;
          }
          g.mean += v / g.count - g.mean / g.count;
          break;
        case AggregateOp::kMax:
          if (g.value < v || std::isnan(g.value)) g.value = v;
          break;
        case AggregateOp::kMin:
          if (g.value > v || std::isnan(g.value)) g.value = v;
          break;
        case AggregateOp::kCount:
        case AggregateOp::kCountValues:
          ++g.count;
          break;
        case AggregateOp::kStddev:
        case AggregateOp::kStdvar: {
          ++g.count;
          const double delta = v - g.mean;
          g.mean += delta / g.count;
          g.value += delta * (v - g.mean);
          break;
        }
        case AggregateOp::kGroup:
          break;
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk:
        case AggregateOp::kQuantile:
          g.samples.push_back(std::move(s));
          break;
      }
    }
    PromqlVector out;
    for (Group& g : groups) {
      double value = g.value;
      switch (op) {
        case AggregateOp::kAvg:
          value = g.mean;
          break;
        case AggregateOp::kCount:
        case AggregateOp::kCountValues:
          value = static_cast<double>(g.count);
          break;
        case AggregateOp::kStdvar:
          value = g.value / g.count;
          break;
        case AggregateOp::kStddev:
          value = std::sqrt(g.value / g.count);
          break;
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk:
          TopK(op == AggregateOp::kTopk, k, &g.samples, &out);
          continue;
        case AggregateOp::kQuantile: {
          std::vector<double> values;
          for (const PromqlSample& s : g.samples) values.push_back(s.value);
          value = ValuesQuantile(param.scalar, std::move(values));
          break;
        }
        default:
          break;
      }
      out.push_back(PromqlSample{std::move(g.labels), value, options_.time_ms});
    }
    return Vector(std::move(out));
  }

  // The k largest (topk) or smallest samples of a group, in that order, with
  // their own labels; NaN ranks last either way, as 2.42's heaps rank it.
  void TopK(bool top, int64_t k, PromqlVector* samples,
            PromqlVector* out) const {
    std::stable_sort(samples->begin(), samples->end(),
                     [top](const PromqlSample& a, const PromqlSample& b) {
                       if (std::isnan(a.value)) return false;
                       if (std::isnan(b.value)) return true;
                       return top ? a.value > b.value : a.value < b.value;
                     });
    const size_t n = std::min<size_t>(samples->size(), k);
    for (size_t i = 0; i < n; ++i) {
      PromqlSample s = std::move((*samples)[i]);
      s.timestamp_ms = options_.time_ms;
      out->push_back(std::move(s));
    }
  }

  absl::StatusOr<PromqlValue> Call(const PromqlExpr& expr) {
    std::vector<PromqlValue> args;
    for (const auto& arg : expr.args) {
      absl::StatusOr<PromqlValue> v = Eval(*arg);
      if (!v.ok()) return v.status();
      // timestamp() reads a selector's own sample times (through
      // parentheses); every other value is stamped with the evaluation time.
      args.push_back(*std::move(v));
    }
    if (expr.function->id != PromqlFunctionId::kTimestamp ||
        !IsSelector(*expr.args[0])) {
      for (PromqlValue& v : args) {
        for (PromqlSample& s : v.vector) s.timestamp_ms = options_.time_ms;
      }
    }
    return CallPromqlFunction(expr, std::move(args), options_.time_ms);
  }

  static bool IsSelector(const PromqlExpr& expr) {
    const PromqlExpr* e = &expr;
    while (e->kind == PromqlExpr::Kind::kParen) e = e->args[0].get();
    return e->kind == PromqlExpr::Kind::kSelector;
  }

  const StoreSnapshot& snapshot_;
  const InstantEvalOptions& options_;
  size_t selected_ = 0;  // Series selected so far, for max_series.
};

}  // namespace

absl::StatusOr<PromqlValue> EvaluateInstant(const PromqlExpr& expr,
                                            const StoreSnapshot& snapshot,
                                            const InstantEvalOptions& options) {
  return Evaluator(snapshot, options).Eval(expr);
}

}  // namespace fedgate
