#include "gateway/writers/openmetrics_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "gateway/writers/text_writer.h"
#include "merge/float_format.h"

namespace fedgate {
namespace {

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr - buf);
}

// Whether `v` can be written as an OpenMetrics count: a non-negative integer
// that fits uint64.
bool IsCount(double v) {
  return v >= 0 && v < 18446744073709551616.0 && v == std::floor(v);
}

// Parses an `le` or `quantile` value as Prometheus does (Go ParseFloat, so
// `+Inf` and `inf` too); returns false when it is not a number.
bool ParseBound(absl::string_view text, double* bound) {
  if (text == "+Inf") {
    *bound = std::numeric_limits<double>::infinity();
    return true;
  }
  return absl::SimpleAtod(text, bound);
}

// The role of a sample inside a typed family.
enum class Role { kBare, kBucket, kSum, kCount, kInvalid };

Role RoleOf(absl::string_view name, absl::string_view family, MetricType type) {
  if (name == family) return Role::kBare;
  if (!absl::StartsWith(name, family)) return Role::kInvalid;
  const absl::string_view suffix = name.substr(family.size());
  switch (type) {
    case MetricType::kHistogram:
      if (suffix == "_bucket") return Role::kBucket;
      if (suffix == "_sum") return Role::kSum;
      if (suffix == "_count") return Role::kCount;
      return Role::kInvalid;
    case MetricType::kGaugeHistogram:
      if (suffix == "_bucket") return Role::kBucket;
      if (suffix == "_gsum") return Role::kSum;
      if (suffix == "_gcount") return Role::kCount;
      return Role::kInvalid;
    case MetricType::kSummary:
      if (suffix == "_sum") return Role::kSum;
      if (suffix == "_count") return Role::kCount;
      return Role::kInvalid;
    default:
      return Role::kInvalid;
  }
}

// The label that orders a grouped family's first role (`le`/`quantile`).
absl::string_view BoundLabel(MetricType type) {
  return type == MetricType::kSummary ? "quantile" : "le";
}

bool IsGrouped(MetricType type) {
  return type == MetricType::kHistogram ||
         type == MetricType::kGaugeHistogram || type == MetricType::kSummary;
}

// Returns whether every series of `family` fits the OpenMetrics rules of its
// scraped type (see the header), and the TYPE line's name in `*short_name`.
bool FitsType(const FamilyView& family, absl::string_view* short_name) {
  const MetricType type = family.metadata->type;
  *short_name = family.name;
  switch (type) {
    case MetricType::kCounter:
      if (!absl::EndsWith(family.name, "_total")) return false;
      *short_name = family.name.substr(0, family.name.size() - 6);
      return true;  // Every series is named like the family.
    case MetricType::kGauge:
      return true;
    case MetricType::kInfo:
      if (!absl::EndsWith(family.name, "_info")) return false;
      *short_name = family.name.substr(0, family.name.size() - 5);
      for (const SelectedSeries& s : family.series) {
        if (s.sample->value != 1) return false;
      }
      return true;
    case MetricType::kStateset:
      for (const SelectedSeries& s : family.series) {
        const double v = s.sample->value;
        if ((v != 0 && v != 1) || !s.sample->labels.Has(family.name)) {
          return false;
        }
      }
      return true;
    case MetricType::kHistogram:
    case MetricType::kGaugeHistogram:
    case MetricType::kSummary: {
      const absl::string_view bound_label = BoundLabel(type);
      for (const SelectedSeries& s : family.series) {
        const Role role =
            RoleOf(s.sample->labels.MetricName(), family.name, type);
        const double v = s.sample->value;
        switch (role) {
          case Role::kInvalid:
            return false;
          case Role::kBare:
            if (type != MetricType::kSummary) return false;
            [[fallthrough]];
          case Role::kBucket: {
            double bound;
            if (!ParseBound(s.sample->labels.Get(bound_label), &bound)) {
              return false;
            }
            if (role == Role::kBucket && !IsCount(v)) return false;
            break;
          }
          case Role::kCount:
            if (!IsCount(v)) return false;
            break;
          case Role::kSum:
            break;
        }
      }
      return true;
    }
    case MetricType::kUntyped:
      return false;
  }
  return false;
}

// Appends the HELP, TYPE and UNIT lines of a family named `name`.
void AppendMetadata(absl::string_view name, absl::string_view type,
                    const FamilyMetadata* metadata, std::string* out) {
  if (metadata != nullptr && !metadata->help.empty()) {
    out->append("# HELP ");
    out->append(name.data(), name.size());
    out->push_back(' ');
    AppendEscapedText(metadata->help, /*escape_quotes=*/true, out);
    out->push_back('\n');
  }
  out->append("# TYPE ");
  out->append(name.data(), name.size());
  out->push_back(' ');
  out->append(type.data(), type.size());
  out->push_back('\n');
  if (metadata != nullptr && !metadata->unit.empty() &&
      name.size() > metadata->unit.size() &&
      absl::EndsWith(name, metadata->unit) &&
      name[name.size() - metadata->unit.size() - 1] == '_') {
    out->append("# UNIT ");
    out->append(name.data(), name.size());
    out->push_back(' ');
    out->append(metadata->unit);
    out->push_back('\n');
  }
}

// Compares the label sets of `a` and `b` as Labels' operator< does, ignoring
// `__name__` and `skip`.
int CompareLabelsExcept(const InternedLabels& a, const InternedLabels& b,
                        absl::string_view skip) {
  auto ia = a.begin(), ib = b.begin();
  auto skipped = [skip](LabelView l) {
    return l.name == kMetricNameLabel || l.name == skip;
  };
  while (true) {
    while (ia != a.end() && skipped(*ia)) ++ia;
    while (ib != b.end() && skipped(*ib)) ++ib;
    if (ia == a.end() || ib == b.end()) {
      return (ia == a.end() ? 0 : 1) - (ib == b.end() ? 0 : 1);
    }
    if (int c = (*ia).name.compare((*ib).name); c != 0) return c;
    if (int c = (*ia).value.compare((*ib).value); c != 0) return c;
    ++ia;
    ++ib;
  }
}

}  // namespace

void AppendOpenMetricsFloat(double v, std::string* out) {
  if (v == 0) {
    out->append("0.0");
    return;
  }
  const size_t start = out->size();
  AppendGoFloat(v, out);
  if (std::isnan(v) || std::isinf(v)) return;
  const absl::string_view written(out->data() + start, out->size() - start);
  if (written.find_first_of(".e") == absl::string_view::npos) {
    out->append(".0");
  }
}

void OpenMetricsWriter::BeginFamily(const FamilyView& family,
                                    std::string* out) {
  family_ = family;
  last_name_ = absl::string_view();
  order_.clear();
  absl::string_view short_name;
  if (family.metadata == nullptr || !FitsType(family, &short_name)) {
    mode_ = Mode::kUnknownPerName;
    return;
  }
  mode_ = Mode::kTyped;
  const MetricType type = family.metadata->type;
  AppendMetadata(short_name, OpenMetricsTypeName(type), family.metadata, out);
  if (!IsGrouped(type)) return;

  // One MetricPoint's lines together: per label set (without le/quantile),
  // in order of first appearance; buckets by bound, then sum, then count.
  // Label sets are grouped through a hash and compared in full only against
  // the group they hash to, so a family of 650k bucket series costs one hash
  // and one comparison per series plus a sort of integers.
  const size_t n = family.series.size();
  const absl::string_view bound_label = BoundLabel(type);
  std::vector<double> bounds(n, 0);
  std::vector<uint8_t> ranks(n, 0);
  std::vector<uint32_t> group(n, 0);
  absl::flat_hash_map<size_t, uint32_t> first_of;  // hash -> first row
  std::vector<uint32_t> collided;                  // first rows, rare
  for (size_t i = 0; i < n; ++i) {
    const InternedLabels& labels = family.series[i].sample->labels;
    const Role role = RoleOf(labels.MetricName(), family.name, type);
    ranks[i] = role == Role::kSum ? 1 : role == Role::kCount ? 2 : 0;
    if (ranks[i] == 0) ParseBound(labels.Get(bound_label), &bounds[i]);
    size_t h = 0;
    for (LabelView label : labels) {
      if (label.name == kMetricNameLabel || label.name == bound_label) continue;
      h = absl::HashOf(h, label.name, label.value);
    }
    auto same = [&](uint32_t first) {
      return CompareLabelsExcept(family.series[first].sample->labels, labels,
                                 bound_label) == 0;
    };
    auto [it, added] = first_of.try_emplace(h, static_cast<uint32_t>(i));
    if (added || same(it->second)) {
      group[i] = it->second;
      continue;
    }
    group[i] = static_cast<uint32_t>(i);
    for (uint32_t first : collided) {
      if (same(first)) {
        group[i] = first;
        break;
      }
    }
    if (group[i] == i) collided.push_back(static_cast<uint32_t>(i));
  }
  order_.resize(n);
  for (size_t i = 0; i < n; ++i) order_[i] = static_cast<uint32_t>(i);
  std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
    if (group[a] != group[b]) return group[a] < group[b];
    if (ranks[a] != ranks[b]) return ranks[a] < ranks[b];
    if (bounds[a] != bounds[b]) return bounds[a] < bounds[b];
    return a < b;
  });
}

void OpenMetricsWriter::AppendSeries(size_t index, std::string* out) {
  const SelectedSeries& row =
      family_.series[order_.empty() ? index : order_[index]];
  const Sample& sample = *row.sample;
  const absl::string_view name = sample.labels.MetricName();
  bool as_count = false;
  if (mode_ == Mode::kUnknownPerName) {
    if (name != last_name_) {
      last_name_ = name;
      AppendMetadata(name, "unknown",
                     name == family_.name ? family_.metadata : nullptr, out);
    }
  } else if (IsGrouped(family_.metadata->type)) {
    const Role role = RoleOf(name, family_.name, family_.metadata->type);
    as_count = role == Role::kBucket || role == Role::kCount;
  }

  out->append(name.data(), name.size());
  bool first = true;
  for (LabelView label : sample.labels) {
    if (label.value.empty() || label.name == kMetricNameLabel) continue;
    AppendLabelPair(label, first, out);
    first = false;
  }
  for (LabelView label : external_->For(sample.labels)) {
    AppendLabelPair(label, first, out);
    first = false;
  }
  if (!first) out->push_back('}');
  out->push_back(' ');
  if (as_count) {
    AppendUint(static_cast<uint64_t>(sample.value), out);
  } else {
    AppendOpenMetricsFloat(sample.value, out);
  }
  out->push_back(' ');
  AppendOpenMetricsFloat(static_cast<double>(row.timestamp_ms) / 1000, out);
  out->push_back('\n');
}

void OpenMetricsWriter::EndFamily(std::string* out) {}

void OpenMetricsWriter::Finish(std::string* out) { out->append("# EOF\n"); }

}  // namespace fedgate
