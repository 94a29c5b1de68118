#include "gateway/writers/metric_family_proto.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace fedgate {
namespace {

using io::prometheus::client::Metric;
using io::prometheus::client::MetricFamily;
namespace dto = io::prometheus::client;

// Parses a float as Go's strconv.ParseFloat does for `le` and `quantile`
// values (`+Inf`, `-Inf`, `NaN` included).
bool ParseBound(absl::string_view text, double* out) {
  if (text == "+Inf" || text == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  return absl::SimpleAtod(text, out);
}

uint64_t ToCount(double value) {
  if (!(value >= 0)) return 0;  // NaN and negatives.
  if (value >= 18446744073709551615.0) return UINT64_MAX;
  return static_cast<uint64_t>(value);
}

// Adds the labels of `labels` except __name__ and `skip`, then the external
// labels the series lacks (federation order).
void AddLabels(const InternedLabels& labels, absl::string_view skip,
               ExternalLabels& external, Metric* metric) {
  for (LabelView label : labels) {
    if (label.name == kMetricNameLabel || label.name == skip) continue;
    auto* pair = metric->add_label();
    pair->set_name(std::string(label.name));
    pair->set_value(std::string(label.value));
  }
  for (LabelView label : external.For(labels)) {
    auto* pair = metric->add_label();
    pair->set_name(std::string(label.name));
    pair->set_value(std::string(label.value));
  }
}

// Returns the key that groups the samples of one histogram or summary
// metric: every label except __name__ and `skip`.
std::string GroupKey(const InternedLabels& labels, absl::string_view skip) {
  std::string key;
  for (LabelView label : labels) {
    if (label.name == kMetricNameLabel || label.name == skip) continue;
    absl::StrAppend(&key, label.name, "\xff", label.value, "\xfe");
  }
  return key;
}

MetricFamily NewFamily(absl::string_view name, dto::MetricType type,
                       const FamilyMetadata* metadata) {
  MetricFamily family;
  family.set_name(std::string(name));
  family.set_type(type);
  if (metadata != nullptr && !metadata->help.empty()) {
    family.set_help(metadata->help);
  }
  return family;
}

// Converts a counter, gauge or untyped family whose samples all carry the
// family's name. Returns false when a sample has another name.
bool ConvertSimple(absl::Span<const SelectedSeries> rows, dto::MetricType type,
                   ExternalLabels& external, MetricFamily* out) {
  const absl::string_view name = rows.front().family;
  for (const SelectedSeries& row : rows) {
    if (row.sample->labels.MetricName() != name) return false;
  }
  *out = NewFamily(name, type, rows.front().metadata);
  for (const SelectedSeries& row : rows) {
    Metric* metric = out->add_metric();
    AddLabels(row.sample->labels, "", external, metric);
    switch (type) {
      case dto::COUNTER:
        metric->mutable_counter()->set_value(row.sample->value);
        break;
      case dto::GAUGE:
        metric->mutable_gauge()->set_value(row.sample->value);
        break;
      default:
        metric->mutable_untyped()->set_value(row.sample->value);
        break;
    }
    metric->set_timestamp_ms(row.timestamp_ms);
  }
  return true;
}

// Converts a histogram (`is_histogram`) or summary family, one metric per
// label set without `le`/`quantile`. Returns false when a sample does not
// fit (unknown suffix, missing or unparsable bound).
bool ConvertGrouped(absl::Span<const SelectedSeries> rows, bool is_histogram,
                    ExternalLabels& external, MetricFamily* out) {
  const absl::string_view name = rows.front().family;
  const absl::string_view bound_label = is_histogram ? "le" : "quantile";
  const std::string bucket_name = absl::StrCat(name, "_bucket");
  const std::string sum_name = absl::StrCat(name, "_sum");
  const std::string count_name = absl::StrCat(name, "_count");
  *out = NewFamily(name, is_histogram ? dto::HISTOGRAM : dto::SUMMARY,
                   rows.front().metadata);
  absl::flat_hash_map<std::string, int> index;
  for (const SelectedSeries& row : rows) {
    const InternedLabels& labels = row.sample->labels;
    const absl::string_view metric_name = labels.MetricName();
    const bool is_bound_sample =
        is_histogram ? metric_name == bucket_name : metric_name == name;
    if (!is_bound_sample && metric_name != sum_name &&
        metric_name != count_name) {
      return false;
    }
    double bound = 0;
    if (is_bound_sample && !ParseBound(labels.Get(bound_label), &bound)) {
      return false;
    }
    const absl::string_view skip = is_bound_sample ? bound_label : "";
    auto [it, inserted] =
        index.try_emplace(GroupKey(labels, skip), out->metric_size());
    Metric* metric =
        inserted ? out->add_metric() : out->mutable_metric(it->second);
    if (inserted) AddLabels(labels, skip, external, metric);
    metric->set_timestamp_ms(
        std::max(metric->timestamp_ms(), row.timestamp_ms));
    const double value = row.sample->value;
    if (is_histogram) {
      auto* histogram = metric->mutable_histogram();
      if (is_bound_sample) {
        auto* bucket = histogram->add_bucket();
        bucket->set_upper_bound(bound);
        bucket->set_cumulative_count(ToCount(value));
      } else if (metric_name == sum_name) {
        histogram->set_sample_sum(value);
      } else {
        histogram->set_sample_count(ToCount(value));
      }
    } else {
      auto* summary = metric->mutable_summary();
      if (is_bound_sample) {
        auto* quantile = summary->add_quantile();
        quantile->set_quantile(bound);
        quantile->set_value(value);
      } else if (metric_name == sum_name) {
        summary->set_sample_sum(value);
      } else {
        summary->set_sample_count(ToCount(value));
      }
    }
  }
  // Label order sorts `le="+Inf"` before `le="0.1"`; buckets and quantiles
  // go by bound.
  for (Metric& metric : *out->mutable_metric()) {
    if (is_histogram) {
      auto* buckets = metric.mutable_histogram()->mutable_bucket();
      std::stable_sort(buckets->begin(), buckets->end(),
                       [](const auto& a, const auto& b) {
                         return a.upper_bound() < b.upper_bound();
                       });
    } else {
      auto* quantiles = metric.mutable_summary()->mutable_quantile();
      std::stable_sort(quantiles->begin(), quantiles->end(),
                       [](const auto& a, const auto& b) {
                         return a.quantile() < b.quantile();
                       });
    }
  }
  return true;
}

// Converts a family as Prometheus's federation does: one UNTYPED family per
// metric name, in row order (rows are sorted by metric name inside a
// family).
void ConvertUntypedPerName(absl::Span<const SelectedSeries> rows,
                           ExternalLabels& external,
                           std::deque<MetricFamily>* out) {
  for (const SelectedSeries& row : rows) {
    const absl::string_view name = row.sample->labels.MetricName();
    if (out->empty() || out->back().name() != name) {
      out->push_back(NewFamily(name, dto::UNTYPED,
                               name == row.family ? row.metadata : nullptr));
    }
    Metric* metric = out->back().add_metric();
    AddLabels(row.sample->labels, "", external, metric);
    metric->mutable_untyped()->set_value(row.sample->value);
    metric->set_timestamp_ms(row.timestamp_ms);
  }
}

}  // namespace

MetricFamilyStream::MetricFamilyStream(
    std::vector<SelectedSeries> rows,
    const std::map<std::string, std::string>& external_labels)
    : rows_(std::move(rows)), external_(external_labels) {}

void MetricFamilyStream::ConvertNextFamily() {
  size_t end = next_row_;
  while (end < rows_.size() && rows_[end].family == rows_[next_row_].family) {
    ++end;
  }
  const absl::Span<const SelectedSeries> rows =
      absl::MakeConstSpan(rows_).subspan(next_row_, end - next_row_);
  next_row_ = end;

  const MetricType type = rows.front().metadata != nullptr
                              ? rows.front().metadata->type
                              : MetricType::kUntyped;
  MetricFamily family;
  bool converted = false;
  switch (type) {
    case MetricType::kCounter:
      converted = ConvertSimple(rows, dto::COUNTER, external_, &family);
      break;
    case MetricType::kGauge:
      converted = ConvertSimple(rows, dto::GAUGE, external_, &family);
      break;
    case MetricType::kUntyped:
      converted = ConvertSimple(rows, dto::UNTYPED, external_, &family);
      break;
    case MetricType::kHistogram:
      converted =
          ConvertGrouped(rows, /*is_histogram=*/true, external_, &family);
      break;
    case MetricType::kSummary:
      converted =
          ConvertGrouped(rows, /*is_histogram=*/false, external_, &family);
      break;
    default:
      break;
  }
  std::deque<MetricFamily> families;
  if (converted) {
    families.push_back(std::move(family));
  } else {
    ConvertUntypedPerName(rows, external_, &families);
  }

  // Split families too large for one message.
  for (MetricFamily& f : families) {
    if (static_cast<size_t>(f.metric_size()) <= kMaxMetricsPerMessage) {
      pending_.push_back(std::move(f));
      continue;
    }
    for (int start = 0; start < f.metric_size();
         start += static_cast<int>(kMaxMetricsPerMessage)) {
      MetricFamily part;
      part.set_name(f.name());
      part.set_type(f.type());
      if (f.has_help()) part.set_help(f.help());
      const int stop = std::min<int>(
          f.metric_size(), start + static_cast<int>(kMaxMetricsPerMessage));
      for (int i = start; i < stop; ++i) {
        part.add_metric()->Swap(f.mutable_metric(i));
      }
      pending_.push_back(std::move(part));
    }
  }
}

bool MetricFamilyStream::Next(MetricFamily* out) {
  out->Clear();
  while (pending_.empty() && next_row_ < rows_.size()) ConvertNextFamily();
  if (pending_.empty()) return false;
  *out = std::move(pending_.front());
  pending_.pop_front();
  return true;
}

}  // namespace fedgate
