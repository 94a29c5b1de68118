// scraper/exposition/protobuf_parser.cc
//
// The state machine of Prometheus 2.42's ProtobufParser.Next(): a family is
// read when the previous one is exhausted (empty families are skipped), HELP
// and TYPE entries come first, then every metric, and summaries and
// histograms walk their fields in the order _count, _sum, quantiles/buckets.

#include "scraper/exposition/protobuf_parser.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/casts.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/unknown_field_set.h"
#include "merge/float_format.h"
#include "merge/labels.h"
#include "proto/metrics.pb.h"
#include "scraper/exposition/exposition_scan.h"

namespace fedgate {
namespace {

namespace dto = ::io::prometheus::client;

// Go's binary.MaxVarintLen32: Prometheus refuses longer length prefixes.
constexpr int kMaxVarintLen32 = 5;

// The field number of MetricFamily.type.
constexpr int kTypeFieldNumber = 3;

// Prometheus 2.42's isNativeHistogram.
bool IsNativeHistogram(const dto::Histogram& h) {
  return h.negative_span_size() > 0 || h.positive_span_size() > 0 ||
         h.zero_threshold() > 0 || h.zero_count() > 0 ||
         h.zero_count_float() > 0 || h.negative_delta_size() > 0 ||
         h.positive_delta_size() > 0 || h.negative_count_size() > 0 ||
         h.positive_count_size() > 0;
}

// Appends `v` as 2.42's formatOpenMetricsFloat writes `le` and `quantile`
// values of protobuf histograms and summaries: Go's shortest 'g' form with
// ".0" added when it has neither '.' nor 'e' (`10.0`, `0.5`, `1e+06`,
// `+Inf`, `-0.0`).
void AppendOpenMetricsFloat(double v, std::string* out) {
  if (v == 0 && std::signbit(v)) {
    out->append("-0.0");
    return;
  }
  const size_t start = out->size();
  AppendGoFloat(v, out);
  if (std::isnan(v) || std::isinf(v)) return;
  if (out->find_first_of(".e", start) == std::string::npos) {
    out->append(".0");
  }
}

double HistogramCount(const dto::Histogram& h) {
  const double v = h.sample_count_float();
  return v != 0 ? v : static_cast<double>(h.sample_count());
}

// Returns the value of a MetricFamily.type that is not a known MetricType
// (kept by protobuf among the unknown fields), if there is one.
std::optional<uint64_t> UnknownType(const dto::MetricFamily& family) {
  const google::protobuf::UnknownFieldSet& unknown =
      family.GetReflection()->GetUnknownFields(family);
  for (int k = 0; k < unknown.field_count(); ++k) {
    const google::protobuf::UnknownField& field = unknown.field(k);
    if (field.number() == kTypeFieldNumber &&
        field.type() == google::protobuf::UnknownField::TYPE_VARINT) {
      return field.varint();
    }
  }
  return std::nullopt;
}

}  // namespace

ProtobufParser::ProtobufParser(absl::string_view body)
    : body_(body), family_(std::make_unique<dto::MetricFamily>()) {}

ProtobufParser::~ProtobufParser() = default;

absl::string_view ProtobufParser::family_name() const {
  return family_->name();
}

absl::string_view ProtobufParser::help_text(std::string* storage) const {
  return family_->help();
}

absl::string_view ProtobufParser::unit() const { return family_->unit(); }

absl::Status ProtobufParser::FamilyError(absl::string_view reason) const {
  return absl::InvalidArgumentError(
      absl::StrCat("metric family ", family_index_ + 1, " (byte ",
                   family_offset_, "): ", reason));
}

absl::Status ProtobufParser::ReadFamily() {
  for (;;) {
    if (pos_ >= body_.size()) {
      state_ = State::kEof;
      return absl::OkStatus();
    }
    ++family_index_;
    family_offset_ = pos_;
    const size_t remaining = body_.size() - pos_;
    google::protobuf::io::CodedInputStream in(
        reinterpret_cast<const uint8_t*>(body_.data() + pos_),
        static_cast<int>(
            std::min<size_t>(remaining, std::numeric_limits<int>::max())));
    uint64_t length = 0;
    if (!in.ReadVarint64(&length) || in.CurrentPosition() > kMaxVarintLen32) {
      return FamilyError("protobufparse: invalid varint encountered");
    }
    const size_t varint_length = static_cast<size_t>(in.CurrentPosition());
    const uint64_t total = varint_length + length;
    if (total > remaining) {
      return FamilyError(absl::StrCat(
          "protobufparse: insufficient length of buffer, expected at least ",
          total, " bytes, got ", remaining, " bytes"));
    }
    if (!family_->ParseFromArray(body_.data() + pos_ + varint_length,
                                 static_cast<int>(length))) {
      return FamilyError(
          "protobufparse: cannot decode io.prometheus.client.MetricFamily");
    }
    pos_ += static_cast<size_t>(total);
    if (family_->metric_size() == 0) continue;  // Skipped, as in 2.42.

    const std::string& name = family_->name();
    if (!IsValidMetricName(name)) {
      return FamilyError(absl::StrCat("invalid metric name: ", name));
    }
    if (!IsValidUtf8(family_->help())) {
      return FamilyError(absl::StrCat("invalid help for metric ", GoQuote(name),
                                      ": ", family_->help()));
    }
    if (std::optional<uint64_t> t = UnknownType(*family_); t.has_value()) {
      return FamilyError(absl::StrCat("unknown metric type for metric ",
                                      GoQuote(name), ": ", *t));
    }
    type_ = MetricTypeFromProto(family_->type());
    state_ = State::kHelp;
    return absl::OkStatus();
  }
}

absl::Status ProtobufParser::UpdateSeries() {
  const dto::Metric& m = family_->metric(metric_pos_);
  const std::string& family_name = family_->name();
  const dto::MetricType t = family_->type();
  const bool summary = t == dto::SUMMARY;
  const bool histogram = t == dto::HISTOGRAM || t == dto::GAUGE_HISTOGRAM;

  metric_name_.assign(family_name);
  magic_name_ = absl::string_view();
  if (summary || histogram) {
    if (field_pos_ == -2) {
      metric_name_.append("_count");
    } else if (field_pos_ == -1) {
      metric_name_.append("_sum");
    } else if (histogram) {
      metric_name_.append("_bucket");
    }
  }

  switch (t) {
    case dto::COUNTER:
      value_ = m.counter().value();
      break;
    case dto::GAUGE:
      value_ = m.gauge().value();
      break;
    case dto::UNTYPED:
      value_ = m.untyped().value();
      break;
    case dto::SUMMARY: {
      const dto::Summary& s = m.summary();
      if (field_pos_ == -2) {
        value_ = static_cast<double>(s.sample_count());
      } else if (field_pos_ == -1) {
        value_ = s.sample_sum();
        fields_done_ = s.quantile_size() == 0;
      } else {
        const dto::Quantile& q = s.quantile(field_pos_);
        value_ = q.value();
        magic_name_ = "quantile";
        magic_value_.clear();
        AppendOpenMetricsFloat(q.quantile(), &magic_value_);
        fields_done_ = field_pos_ == s.quantile_size() - 1;
      }
      break;
    }
    case dto::HISTOGRAM:
    case dto::GAUGE_HISTOGRAM: {
      const dto::Histogram& h = m.histogram();
      if (field_pos_ == -2) {
        value_ = HistogramCount(h);
        if (IsNativeHistogram(h)) ++native_histograms_;
      } else if (field_pos_ == -1) {
        value_ = h.sample_sum();
      } else {
        magic_name_ = "le";
        magic_value_.clear();
        if (field_pos_ >= h.bucket_size()) {
          value_ = HistogramCount(h);
          magic_value_.assign("+Inf");
          fields_done_ = true;
        } else {
          const dto::Bucket& b = h.bucket(field_pos_);
          value_ = b.cumulative_count_float();
          if (value_ == 0) value_ = static_cast<double>(b.cumulative_count());
          AppendOpenMetricsFloat(b.upper_bound(), &magic_value_);
          fields_done_ = std::isinf(b.upper_bound()) && b.upper_bound() > 0;
        }
      }
      break;
    }
  }
  if (std::isnan(value_)) value_ = absl::bit_cast<double>(kNormalNaNBits);
  if (m.timestamp_ms() != 0) {
    timestamp_ms_ = m.timestamp_ms();
  } else {
    timestamp_ms_.reset();
  }

  series_text_.assign(metric_name_);
  label_views_.clear();
  for (const dto::LabelPair& pair : m.label()) {
    if (!IsValidLabelName(pair.name())) {
      return FamilyError(absl::StrCat("invalid label name: ", pair.name()));
    }
    if (!IsValidUtf8(pair.value())) {
      return FamilyError(
          absl::StrCat("invalid label value ", GoQuote(pair.value())));
    }
    series_text_.push_back('\xff');
    series_text_.append(pair.name());
    series_text_.push_back('\xff');
    series_text_.append(pair.value());
    label_views_.emplace_back(pair.name(), pair.value());
  }
  if (!magic_name_.empty()) {
    series_text_.push_back('\xff');
    series_text_.append(magic_name_.data(), magic_name_.size());
    series_text_.push_back('\xff');
    series_text_.append(magic_value_);
    label_views_.emplace_back(magic_name_, magic_value_);
  }
  if (const int k = FindNonUniqueLabel(label_views_); k >= 0) {
    return FamilyError(NonUniqueLabelMessage(label_views_[k].first));
  }
  return absl::OkStatus();
}

absl::StatusOr<ParseEntry> ProtobufParser::Next() {
  for (;;) {
    switch (state_) {
      case State::kEof:
        return ParseEntry::kEof;
      case State::kFamily:
        if (absl::Status s = ReadFamily(); !s.ok()) return s;
        if (state_ == State::kEof) return ParseEntry::kEof;
        return ParseEntry::kHelp;
      case State::kHelp:
        state_ = State::kType;
        return ParseEntry::kType;
      case State::kType:
        if (!family_->unit().empty()) {
          state_ = State::kUnit;
          return ParseEntry::kUnit;
        }
        [[fallthrough]];
      case State::kUnit:
        state_ = State::kSeries;
        metric_pos_ = 0;
        field_pos_ = -2;
        fields_done_ = false;
        if (absl::Status s = UpdateSeries(); !s.ok()) return s;
        return ParseEntry::kSeries;
      case State::kSeries: {
        const dto::MetricType t = family_->type();
        const bool fields = t == dto::SUMMARY || t == dto::HISTOGRAM ||
                            t == dto::GAUGE_HISTOGRAM;
        if (fields && !fields_done_) {
          ++field_pos_;
        } else {
          ++metric_pos_;
          field_pos_ = -2;
          fields_done_ = false;
        }
        if (metric_pos_ >= family_->metric_size()) {
          state_ = State::kFamily;
          continue;
        }
        if (absl::Status s = UpdateSeries(); !s.ok()) return s;
        return ParseEntry::kSeries;
      }
    }
  }
}

void ProtobufParser::GetLabels(std::vector<Label>* labels) const {
  labels->resize(label_views_.size() + 1);
  Label& name = (*labels)[0];
  name.name.assign(kMetricNameLabel.data(), kMetricNameLabel.size());
  name.value.assign(metric_name_);
  for (size_t k = 0; k < label_views_.size(); ++k) {
    Label& label = (*labels)[k + 1];
    label.name.assign(label_views_[k].first.data(),
                      label_views_[k].first.size());
    label.value.assign(label_views_[k].second.data(),
                       label_views_[k].second.size());
  }
}

MetricType MetricTypeFromProto(dto::MetricType t) {
  switch (t) {
    case dto::COUNTER:
      return MetricType::kCounter;
    case dto::GAUGE:
      return MetricType::kGauge;
    case dto::SUMMARY:
      return MetricType::kSummary;
    case dto::HISTOGRAM:
      return MetricType::kHistogram;
    case dto::GAUGE_HISTOGRAM:
      return MetricType::kGaugeHistogram;
    case dto::UNTYPED:
      break;
  }
  return MetricType::kUntyped;
}

}  // namespace fedgate
