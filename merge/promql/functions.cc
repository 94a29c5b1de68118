#include "merge/promql/functions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/label_name.h"
#include "config/relabel_config.h"
#include "merge/labels.h"
#include "merge/relabel.h"

namespace fedgate {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

PromqlValue VectorValue(PromqlVector vector) {
  PromqlValue v;
  v.type = PromqlType::kVector;
  v.vector = std::move(vector);
  return v;
}

PromqlValue ScalarValue(double x) {
  PromqlValue v;
  v.type = PromqlType::kScalar;
  v.scalar = x;
  return v;
}

// Applies `f` to every sample, dropping the metric name (Prometheus's
// simpleFunc and the clamp/round family).
template <typename F>
PromqlValue MapValues(PromqlVector in, int64_t time_ms, F f) {
  for (PromqlSample& s : in) {
    s.labels.Remove(kMetricNameLabel);
    s.value = f(s.value);
    s.timestamp_ms = time_ms;
  }
  return VectorValue(std::move(in));
}

// Sorts by value, ascending or descending, NaN last either way (2.42 sorts
// with the reverse of its heap orderings, which rank NaN below everything).
PromqlValue SortByValue(PromqlVector in, bool descending) {
  std::stable_sort(in.begin(), in.end(),
                   [descending](const PromqlSample& a, const PromqlSample& b) {
                     if (std::isnan(a.value)) return false;
                     if (std::isnan(b.value)) return true;
                     return descending ? a.value > b.value : a.value < b.value;
                   });
  return VectorValue(std::move(in));
}

// The labels absent() gives its sample: the equality matchers of a selector
// argument, except `__name__` and labels matched more than once or by
// another matcher type.
Labels AbsentLabels(const PromqlExpr& arg) {
  Labels out;
  if (arg.kind != PromqlExpr::Kind::kSelector) return out;
  std::vector<std::string> ambiguous;
  for (const LabelMatcher& m : arg.selector) {
    if (m.name() == kMetricNameLabel) continue;
    if (m.type() == MatchType::kEqual && !out.Has(m.name())) {
      out.Set(m.name(), m.value());
    } else {
      ambiguous.push_back(m.name());
    }
  }
  for (const std::string& name : ambiguous) out.Remove(name);
  return out;
}

absl::StatusOr<PromqlValue> LabelReplace(PromqlVector in,
                                         const std::vector<PromqlValue>& args,
                                         int64_t time_ms) {
  const std::string& dst = args[1].string;
  const std::string& replacement = args[2].string;
  const std::string& src = args[3].string;
  const std::string& regex = args[4].string;
  // label_replace is the relabel action `replace` with one source label.
  RelabelConfig config;
  config.source_labels = {src};
  config.regex = regex;
  config.target_label = dst;
  config.replacement = replacement;
  config.action = RelabelAction::kReplace;
  absl::StatusOr<RelabelRule> rule = RelabelRule::Compile(config);
  if (!rule.ok()) {
    return PromqlExecutionError(
        absl::StrCat("invalid regular expression in label_replace(): ", regex));
  }
  if (!IsValidLabelName(dst)) {
    return PromqlExecutionError(absl::StrCat(
        "invalid destination label name in label_replace(): ", dst));
  }
  for (PromqlSample& s : in) {
    rule->Apply(&s.labels);
    s.timestamp_ms = time_ms;
  }
  return VectorValue(std::move(in));
}

absl::StatusOr<PromqlValue> LabelJoin(PromqlVector in,
                                      const std::vector<PromqlValue>& args,
                                      int64_t time_ms) {
  const std::string& dst = args[1].string;
  const std::string& separator = args[2].string;
  std::vector<std::string> sources;
  for (size_t i = 3; i < args.size(); ++i) {
    if (!IsValidLabelName(args[i].string)) {
      return PromqlExecutionError(absl::StrCat(
          "invalid source label name in label_join(): ", args[i].string));
    }
    sources.push_back(args[i].string);
  }
  if (!IsValidLabelName(dst)) {
    return PromqlExecutionError(
        absl::StrCat("invalid destination label name in label_join(): ", dst));
  }
  for (PromqlSample& s : in) {
    std::vector<absl::string_view> values;
    for (const std::string& source : sources) {
      values.push_back(s.labels.Get(source));
    }
    s.labels.Set(dst, absl::StrJoin(values, separator));
    s.timestamp_ms = time_ms;
  }
  return VectorValue(std::move(in));
}

PromqlValue HistogramQuantile(double phi, const PromqlVector& in,
                              int64_t time_ms) {
  struct Group {
    Labels labels;
    std::vector<std::pair<double, double>> buckets;
  };
  // Series are grouped by their labels without `le` (the name included).
  absl::flat_hash_map<Labels, size_t> index;
  std::vector<Group> groups;
  for (const PromqlSample& s : in) {
    double upper = 0;
    if (!absl::SimpleAtod(s.labels.Get("le"), &upper)) continue;
    Labels key = s.labels;
    key.Remove("le");
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) {
      key.Remove(kMetricNameLabel);
      groups.push_back(Group{std::move(key), {}});
    }
    groups[it->second].buckets.emplace_back(upper, s.value);
  }
  PromqlVector out;
  for (Group& g : groups) {
    out.push_back(PromqlSample{std::move(g.labels),
                               BucketQuantile(phi, std::move(g.buckets)),
                               time_ms});
  }
  return VectorValue(std::move(out));
}

}  // namespace

double GoLog(double x) {
  // fdlibm's __ieee754_log, the algorithm of Go's math.Log: x = 2^k * (1+f)
  // with sqrt(2)/2 < 1+f < sqrt(2), then a minimax polynomial in
  // s = f/(2+f).
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kLg1 = 6.666666666666735130e-01;
  constexpr double kLg2 = 3.999999999940941908e-01;
  constexpr double kLg3 = 2.857142874366239149e-01;
  constexpr double kLg4 = 2.222219843214978396e-01;
  constexpr double kLg5 = 1.818357216161805012e-01;
  constexpr double kLg6 = 1.531383769920937332e-01;
  constexpr double kLg7 = 1.479819860511658591e-01;
  if (std::isnan(x) || (std::isinf(x) && x > 0)) return x;
  if (x < 0) return kNaN;
  if (x == 0) return -kInf;
  int exponent = 0;
  double mantissa = std::frexp(x, &exponent);
  if (mantissa < M_SQRT1_2) {
    mantissa *= 2;
    --exponent;
  }
  const double f = mantissa - 1;
  const double k = exponent;
  const double s = f / (2 + f);
  const double s2 = s * s;
  const double s4 = s2 * s2;
  const double t1 = s2 * (kLg1 + s4 * (kLg3 + s4 * (kLg5 + s4 * kLg7)));
  const double t2 = s4 * (kLg2 + s4 * (kLg4 + s4 * kLg6));
  const double r = t1 + t2;
  const double hfsq = 0.5 * f * f;
  return k * kLn2Hi - ((hfsq - (s * (hfsq + r) + k * kLn2Lo)) - f);
}

double GoLog2(double x) {
  int exponent = 0;
  const double mantissa = std::frexp(x, &exponent);
  // An exact power of two is exact.
  if (mantissa == 0.5) return exponent - 1;
  return GoLog(mantissa) * 1.44269504088896340735992468100189214 + exponent;
}

double GoLog10(double x) {
  return GoLog(x) * 0.434294481903251827651128918916605082;  // 1/ln(10).
}

double GoPow(double x, double y) {
  // The special cases (zeros, infinities, NaN, x == 1, y == ±1) are C99's
  // and Go's alike.
  if (y == 0 || x == 1) return 1;
  if (y == 1) return x;
  if (std::isnan(x) || std::isnan(y) || x == 0 || std::isinf(x) ||
      std::isinf(y)) {
    return std::pow(x, y);
  }
  if (y == 0.5) return std::sqrt(x);
  if (y == -0.5) return 1 / std::sqrt(x);
  double integral = 0;
  double fraction = std::modf(std::fabs(y), &integral);
  if (fraction != 0 && x < 0) return kNaN;
  if (integral >= 9.223372036854775808e18) {
    // A huge even exponent: overflow or underflow, but for -1.
    if (x == -1) return 1;
    return (std::fabs(x) < 1) == (y > 0) ? 0 : kInf;
  }
  // x^y = x^fraction * x^integral, the latter by repeated squaring of x's
  // mantissa with its binary exponent kept apart (as Go does, so that the
  // roundings, and the result's last bit, are Go's).
  double mantissa_product = 1;
  int64_t exponent_sum = 0;
  if (fraction != 0) {
    if (fraction > 0.5) {
      fraction -= 1;
      integral += 1;
    }
    mantissa_product = std::exp(fraction * GoLog(x));
  }
  int exponent = 0;
  double mantissa = std::frexp(x, &exponent);
  int64_t x_exponent = exponent;
  for (int64_t i = static_cast<int64_t>(integral); i != 0; i >>= 1) {
    if (x_exponent < -(1 << 12) || (1 << 12) < x_exponent) {
      exponent_sum += x_exponent;  // Certain overflow: ldexp says so.
      break;
    }
    if (i & 1) {
      mantissa_product *= mantissa;
      exponent_sum += x_exponent;
    }
    mantissa *= mantissa;
    x_exponent *= 2;  // May be negative: a shift would be undefined.
    if (mantissa < 0.5) {
      mantissa += mantissa;
      --x_exponent;
    }
  }
  if (y < 0) {
    mantissa_product = 1 / mantissa_product;
    exponent_sum = -exponent_sum;
  }
  const int64_t clamped =
      std::max<int64_t>(-100000, std::min<int64_t>(100000, exponent_sum));
  return std::ldexp(mantissa_product, static_cast<int>(clamped));
}

double GoMax(double a, double b) {
  if (std::isinf(a) && a > 0) return a;
  if (std::isinf(b) && b > 0) return b;
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  if (a == 0 && b == 0) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

double GoMin(double a, double b) {
  if (std::isinf(a) && a < 0) return a;
  if (std::isinf(b) && b < 0) return b;
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  if (a == 0 && b == 0) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

double BucketQuantile(double phi,
                      std::vector<std::pair<double, double>> buckets) {
  if (std::isnan(phi)) return kNaN;
  if (phi < 0) return -kInf;
  if (phi > 1) return kInf;
  if (buckets.empty()) return kNaN;
  std::stable_sort(
      buckets.begin(), buckets.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  if (!(std::isinf(buckets.back().first) && buckets.back().first > 0)) {
    return kNaN;
  }
  // Buckets with the same bound add up; counts are made monotonic.
  std::vector<std::pair<double, double>> merged;
  for (const auto& b : buckets) {
    if (!merged.empty() && merged.back().first == b.first) {
      merged.back().second += b.second;
    } else {
      merged.push_back(b);
    }
  }
  double max = merged[0].second;
  for (size_t i = 1; i < merged.size(); ++i) {
    if (merged[i].second > max) {
      max = merged[i].second;
    } else if (merged[i].second < max) {
      merged[i].second = max;
    }
  }
  if (merged.size() < 2) return kNaN;
  const double observations = merged.back().second;
  if (observations == 0) return kNaN;
  double rank = phi * observations;
  // The first bucket (the +Inf one excluded) whose count reaches the rank.
  size_t b = 0;
  while (b < merged.size() - 1 && !(merged[b].second >= rank)) ++b;
  if (b == merged.size() - 1) return merged[merged.size() - 2].first;
  if (b == 0 && merged[0].first <= 0) return merged[0].first;
  double start = 0;
  const double end = merged[b].first;
  double count = merged[b].second;
  if (b > 0) {
    start = merged[b - 1].first;
    count -= merged[b - 1].second;
    rank -= merged[b - 1].second;
  }
  return start + (end - start) * (rank / count);
}

double ValuesQuantile(double phi, std::vector<double> values) {
  if (values.empty()) return kNaN;
  if (phi < 0) return -kInf;
  if (phi > 1) return kInf;
  if (std::isnan(phi)) return kNaN;
  // NaN sorts first, as in Prometheus's vectorByValueHeap.
  std::stable_sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(b)) return false;
    if (std::isnan(a)) return true;
    return a < b;
  });
  const double n = static_cast<double>(values.size());
  const double rank = phi * (n - 1);
  const double lower = std::max(0.0, std::floor(rank));
  const double upper = std::min(n - 1, lower + 1);
  const double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

absl::StatusOr<PromqlValue> CallPromqlFunction(const PromqlExpr& call,
                                               std::vector<PromqlValue> args,
                                               int64_t time_ms) {
  using F = PromqlFunctionId;
  auto vec = [&args]() { return std::move(args[0].vector); };
  switch (call.function->id) {
    case F::kAbs:
      return MapValues(vec(), time_ms, [](double v) { return std::fabs(v); });
    case F::kCeil:
      return MapValues(vec(), time_ms, [](double v) { return std::ceil(v); });
    case F::kFloor:
      return MapValues(vec(), time_ms, [](double v) { return std::floor(v); });
    case F::kExp:
      return MapValues(vec(), time_ms, [](double v) { return std::exp(v); });
    case F::kLn:
      return MapValues(vec(), time_ms, [](double v) { return GoLog(v); });
    case F::kLog2:
      return MapValues(vec(), time_ms, [](double v) { return GoLog2(v); });
    case F::kLog10:
      return MapValues(vec(), time_ms, [](double v) { return GoLog10(v); });
    case F::kSqrt:
      return MapValues(vec(), time_ms, [](double v) { return std::sqrt(v); });
    case F::kSgn:
      return MapValues(vec(), time_ms, [](double v) {
        return v < 0 ? -1.0 : v > 0 ? 1.0 : v;
      });
    case F::kRound: {
      const double to_nearest = args.size() > 1 ? args[1].scalar : 1;
      const double inverse = 1.0 / to_nearest;
      return MapValues(vec(), time_ms, [inverse](double v) {
        return std::floor(v * inverse + 0.5) / inverse;
      });
    }
    case F::kClamp: {
      const double min = args[1].scalar;
      const double max = args[2].scalar;
      if (max < min) return VectorValue({});
      return MapValues(vec(), time_ms, [min, max](double v) {
        return GoMax(min, GoMin(max, v));
      });
    }
    case F::kClampMax: {
      const double max = args[1].scalar;
      return MapValues(vec(), time_ms,
                       [max](double v) { return GoMin(max, v); });
    }
    case F::kClampMin: {
      const double min = args[1].scalar;
      return MapValues(vec(), time_ms,
                       [min](double v) { return GoMax(min, v); });
    }
    case F::kScalar:
      return ScalarValue(args[0].vector.size() == 1 ? args[0].vector[0].value
                                                    : kNaN);
    case F::kVector:
      return VectorValue({PromqlSample{Labels(), args[0].scalar, time_ms}});
    case F::kTime:
      return ScalarValue(static_cast<double>(time_ms) / 1000);
    case F::kTimestamp: {
      // A selector's samples carry their own time; others the evaluation's.
      PromqlVector in = vec();
      for (PromqlSample& s : in) {
        s.labels.Remove(kMetricNameLabel);
        s.value = static_cast<double>(s.timestamp_ms) / 1000;
        s.timestamp_ms = time_ms;
      }
      return VectorValue(std::move(in));
    }
    case F::kSort:
      return SortByValue(vec(), /*descending=*/false);
    case F::kSortDesc:
      return SortByValue(vec(), /*descending=*/true);
    case F::kAbsent:
      if (!args[0].vector.empty()) return VectorValue({});
      return VectorValue(
          {PromqlSample{AbsentLabels(*call.args[0]), 1, time_ms}});
    case F::kLabelReplace:
      return LabelReplace(vec(), args, time_ms);
    case F::kLabelJoin:
      return LabelJoin(vec(), args, time_ms);
    case F::kHistogramQuantile:
      return HistogramQuantile(args[0].scalar, args[1].vector, time_ms);
  }
  return absl::InternalError(absl::StrCat(
      "function without an implementation: ", call.function->name));
}

}  // namespace fedgate
