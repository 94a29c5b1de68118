#include "gateway/writers/protobuf_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "config/quote.h"
#include "merge/float_format.h"

namespace fedgate {
namespace {

// Field tags (field number << 3 | wire type) of metrics.proto.
constexpr char kTagFamilyName = 0x0a;       // MetricFamily.name, bytes.
constexpr char kTagFamilyHelp = 0x12;       // MetricFamily.help, bytes.
constexpr char kTagFamilyType = 0x18;       // MetricFamily.type, varint.
constexpr char kTagFamilyMetric = 0x22;     // MetricFamily.metric, bytes.
constexpr char kTagFamilyUnit = 0x2a;       // MetricFamily.unit, bytes.
constexpr char kTagMetricLabel = 0x0a;      // Metric.label, bytes.
constexpr char kTagMetricGauge = 0x12;      // Metric.gauge, bytes.
constexpr char kTagMetricCounter = 0x1a;    // Metric.counter, bytes.
constexpr char kTagMetricUntyped = 0x2a;    // Metric.untyped, bytes.
constexpr char kTagMetricTimestamp = 0x30;  // Metric.timestamp_ms, varint.
constexpr char kTagPairName = 0x0a;         // LabelPair.name, bytes.
constexpr char kTagPairValue = 0x12;        // LabelPair.value, bytes.
constexpr char kTagValue = 0x09;  // Gauge/Counter/Untyped.value, double.

constexpr int kCounter = 0;
constexpr int kGauge = 1;
constexpr int kUntyped = 3;

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void AppendVarint(uint64_t v, std::string* out) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

// Size of a length-delimited field with a 1-byte tag and `len` bytes.
size_t FieldSize(size_t len) { return 1 + VarintSize(len) + len; }

size_t LabelPairSize(LabelView label) {
  return FieldSize(label.name.size()) + FieldSize(label.value.size());
}

void AppendBytesField(char tag, absl::string_view bytes, std::string* out) {
  out->push_back(tag);
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

void AppendLabelPair(LabelView label, std::string* out) {
  out->push_back(kTagMetricLabel);
  AppendVarint(LabelPairSize(label), out);
  AppendBytesField(kTagPairName, label.name, out);
  AppendBytesField(kTagPairValue, label.value, out);
}

bool IsWritten(LabelView label) {
  return !label.value.empty() && label.name != kMetricNameLabel;
}

// golang/protobuf's legacy text quoting: `\n \r \t \" \\`, printable ASCII
// as is, every other byte as a three-digit octal escape.
void AppendQuoted(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (AppendShortEscape(ch, out)) continue;
    if (c >= 0x20 && c < 0x7f) {
      out->push_back(ch);
    } else {
      const char octal[4] = {'\\', static_cast<char>('0' + (c >> 6)),
                             static_cast<char>('0' + ((c >> 3) & 7)),
                             static_cast<char>('0' + (c & 7))};
      out->append(octal, 4);
    }
  }
  out->push_back('"');
}

// golang/protobuf's text float: Go's shortest 'g', with `nan`, `inf`, `-inf`
// and `-0` (unlike the exposition text format).
void AppendTextDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("nan");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "inf" : "-inf");
  } else if (v == 0) {
    out->append(std::signbit(v) ? "-0" : "0");
  } else {
    AppendGoFloat(v, out);
  }
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr - buf);
}

absl::string_view TypeEnumName(int type) {
  switch (type) {
    case kCounter:
      return "COUNTER";
    case kGauge:
      return "GAUGE";
    default:
      return "UNTYPED";
  }
}

absl::string_view ValueFieldName(int type) {
  switch (type) {
    case kCounter:
      return "counter";
    case kGauge:
      return "gauge";
    default:
      return "untyped";
  }
}

// Writes fields of protobuf messages as golang/protobuf's text format
// (kText, proto.MarshalTextString: one field a line, nested messages indented
// by two spaces) or compact text format (kCompactText,
// proto.CompactTextString: every field followed by a space).
class TextFieldWriter {
 public:
  TextFieldWriter(ProtobufEncoding encoding, std::string* out)
      : compact_(encoding == ProtobufEncoding::kCompactText), out_(out) {}

  void BeginMessage(absl::string_view field) {
    Indent();
    out_->append(field.data(), field.size());
    out_->append(compact_ ? ":<" : ": <\n");
    ++depth_;
  }
  void EndMessage() {
    --depth_;
    Indent();
    out_->append(compact_ ? "> " : ">\n");
  }
  // Starts the scalar field `field`: the caller appends its value to `out`,
  // then calls EndField().
  void BeginField(absl::string_view field) {
    Indent();
    out_->append(field.data(), field.size());
    out_->append(compact_ ? ":" : ": ");
  }
  void EndField() { out_->push_back(compact_ ? ' ' : '\n'); }
  void StringField(absl::string_view field, absl::string_view value) {
    BeginField(field);
    AppendQuoted(value, out_);
    EndField();
  }

 private:
  void Indent() {
    if (!compact_) out_->append(2 * depth_, ' ');
  }

  const bool compact_;
  std::string* out_;
  int depth_ = 0;
};

}  // namespace

int ProtobufWriter::WireType() const {
  if (per_name_ || family_.metadata == nullptr) return kUntyped;
  switch (family_.metadata->type) {
    case MetricType::kCounter:
      return kCounter;
    case MetricType::kGauge:
      return kGauge;
    default:
      return kUntyped;
  }
}

size_t ProtobufWriter::MetricSize(const SelectedSeries& row) {
  const Sample& sample = *row.sample;
  size_t size = 0;
  for (LabelView label : sample.labels) {
    if (IsWritten(label)) size += FieldSize(LabelPairSize(label));
  }
  for (LabelView label : external_->For(sample.labels)) {
    size += FieldSize(LabelPairSize(label));
  }
  size += FieldSize(9);  // {value: double}
  size += 1 + VarintSize(static_cast<uint64_t>(row.timestamp_ms));
  return size;
}

void ProtobufWriter::BeginFamily(const FamilyView& family, std::string* out) {
  family_ = family;
  open_ = false;
  per_name_ = family.metadata != nullptr &&
              family.metadata->type != MetricType::kCounter &&
              family.metadata->type != MetricType::kGauge &&
              family.metadata->type != MetricType::kUntyped;
  if (!per_name_ && !family.series.empty()) {
    OpenMessage(family.name, 0, family.series.size(), true, out);
  }
}

void ProtobufWriter::OpenMessage(absl::string_view name, size_t begin,
                                 size_t end, bool with_metadata,
                                 std::string* out) {
  open_ = true;
  open_name_ = name;
  open_with_metadata_ = with_metadata && family_.metadata != nullptr;
  const absl::string_view help =
      open_with_metadata_ ? family_.metadata->help : absl::string_view();
  const int type = WireType();
  switch (encoding_) {
    case ProtobufEncoding::kDelimited: {
      size_t size = FieldSize(name.size()) + 2;  // name + type
      if (!help.empty()) size += FieldSize(help.size());
      if (open_with_metadata_ && !family_.metadata->unit.empty()) {
        size += FieldSize(family_.metadata->unit.size());
      }
      for (size_t i = begin; i < end; ++i) {
        size += FieldSize(MetricSize(family_.series[i]));
      }
      AppendVarint(size, out);
      AppendBytesField(kTagFamilyName, name, out);
      if (!help.empty()) AppendBytesField(kTagFamilyHelp, help, out);
      out->push_back(kTagFamilyType);
      out->push_back(static_cast<char>(type));
      break;
    }
    case ProtobufEncoding::kText:
    case ProtobufEncoding::kCompactText: {
      TextFieldWriter text(encoding_, out);
      text.StringField("name", name);
      if (!help.empty()) text.StringField("help", help);
      text.BeginField("type");
      out->append(TypeEnumName(type).data(), TypeEnumName(type).size());
      text.EndField();
      break;
    }
  }
}

void ProtobufWriter::CloseMessage(std::string* out) {
  if (!open_) return;
  open_ = false;
  const absl::string_view unit =
      open_with_metadata_ ? family_.metadata->unit : absl::string_view();
  switch (encoding_) {
    case ProtobufEncoding::kDelimited:
      if (!unit.empty()) AppendBytesField(kTagFamilyUnit, unit, out);
      break;
    case ProtobufEncoding::kText:
    case ProtobufEncoding::kCompactText:
      if (!unit.empty())
        TextFieldWriter(encoding_, out).StringField("unit", unit);
      // A blank line after a family in the text format; a family is one line
      // in the compact text format.
      out->push_back('\n');
      break;
  }
}

void ProtobufWriter::AppendSeries(size_t index, std::string* out) {
  const SelectedSeries& row = family_.series[index];
  const Sample& sample = *row.sample;
  if (per_name_) {
    const absl::string_view name = sample.labels.MetricName();
    if (!open_ || name != open_name_) {
      CloseMessage(out);
      size_t end = index + 1;
      while (end < family_.series.size() &&
             family_.series[end].sample->labels.MetricName() == name) {
        ++end;
      }
      OpenMessage(name, index, end, false, out);
    }
  }
  const absl::Span<const Label> extra = external_->For(sample.labels);
  const int type = WireType();
  switch (encoding_) {
    case ProtobufEncoding::kDelimited: {
      out->push_back(kTagFamilyMetric);
      AppendVarint(MetricSize(row), out);
      for (LabelView label : sample.labels) {
        if (IsWritten(label)) AppendLabelPair(label, out);
      }
      for (LabelView label : extra) AppendLabelPair(label, out);
      out->push_back(type == kCounter ? kTagMetricCounter
                     : type == kGauge ? kTagMetricGauge
                                      : kTagMetricUntyped);
      out->push_back(9);
      out->push_back(kTagValue);
      char bytes[8];
      std::memcpy(bytes, &sample.value, 8);  // Little-endian hosts only.
      out->append(bytes, 8);
      out->push_back(kTagMetricTimestamp);
      AppendVarint(static_cast<uint64_t>(row.timestamp_ms), out);
      break;
    }
    case ProtobufEncoding::kText:
    case ProtobufEncoding::kCompactText: {
      TextFieldWriter text(encoding_, out);
      text.BeginMessage("metric");
      auto label_text = [&text](LabelView label) {
        text.BeginMessage("label");
        text.StringField("name", label.name);
        text.StringField("value", label.value);
        text.EndMessage();
      };
      for (LabelView label : sample.labels) {
        if (IsWritten(label)) label_text(label);
      }
      for (LabelView label : extra) label_text(label);
      text.BeginMessage(ValueFieldName(type));
      text.BeginField("value");
      AppendTextDouble(sample.value, out);
      text.EndField();
      text.EndMessage();
      text.BeginField("timestamp_ms");
      AppendInt(row.timestamp_ms, out);
      text.EndField();
      text.EndMessage();
      break;
    }
  }
}

void ProtobufWriter::EndFamily(std::string* out) { CloseMessage(out); }

}  // namespace fedgate
