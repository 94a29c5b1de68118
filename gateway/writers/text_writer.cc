#include "gateway/writers/text_writer.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "merge/float_format.h"

namespace fedgate {
namespace {

// Room for " <value> <timestamp>\n": a value is at most 24 characters, an
// int64 at most 20.
constexpr size_t kValueAndTimestampChars = 1 + 24 + 1 + 20 + 1;

// Makes room for `n` more bytes in one step, doubling at least, so that
// reserving before every line never degrades to linear growth.
void Reserve(size_t n, std::string* out) {
  const size_t need = out->size() + n;
  if (need > out->capacity()) {
    out->reserve(std::max(need, 2 * out->capacity()));
  }
}

// `L` is a Label or a LabelView.
template <typename L>
bool IsWritten(const L& label) {
  return !label.value.empty() && label.name != kMetricNameLabel;
}

// Copies `text` to `p`, escaping `\`, `"` and line feed; returns the end.
char* CopyEscaped(absl::string_view text, char* p) {
  for (const char c : text) {
    switch (c) {
      case '\\':
        *p++ = '\\';
        *p++ = '\\';
        break;
      case '\n':
        *p++ = '\\';
        *p++ = 'n';
        break;
      case '"':
        *p++ = '\\';
        *p++ = '"';
        break;
      default:
        *p++ = c;
    }
  }
  return p;
}

char* CopyLabel(LabelView label, bool first, char* p) {
  *p++ = first ? '{' : ',';
  std::memcpy(p, label.name.data(), label.name.size());
  p += label.name.size();
  *p++ = '=';
  *p++ = '"';
  if (label.plain) {
    std::memcpy(p, label.value.data(), label.value.size());
    p += label.value.size();
  } else {
    p = CopyEscaped(label.value, p);
  }
  *p++ = '"';
  return p;
}
}  // namespace

void AppendEscapedText(absl::string_view text, bool escape_quotes,
                       std::string* out) {
  const char* run = text.data();
  const char* const end = text.data() + text.size();
  for (const char* p = run; p < end; ++p) {
    const char* escaped;
    if (*p == '\\') {
      escaped = "\\\\";
    } else if (*p == '\n') {
      escaped = "\\n";
    } else if (*p == '"' && escape_quotes) {
      escaped = "\\\"";
    } else {
      continue;
    }
    out->append(run, p - run);
    out->append(escaped, 2);
    run = p + 1;
  }
  out->append(run, end - run);
}

void AppendLabelPair(LabelView label, bool first, std::string* out) {
  // A value that may need escapes is counted at twice its size.
  const size_t start = out->size();
  const size_t bound =
      label.name.size() + 4 +
      (label.plain ? label.value.size() : 2 * label.value.size());
  Reserve(bound, out);
  out->resize(start + bound);
  char* const begin = &(*out)[start];
  out->resize(start + (CopyLabel(label, first, begin) - begin));
}

void AppendHelpLine(absl::string_view family, absl::string_view help,
                    std::string* out) {
  Reserve(7 + family.size() + 1 + help.size() + 1, out);
  out->append("# HELP ", 7);
  out->append(family.data(), family.size());
  out->push_back(' ');
  AppendEscapedText(help, /*escape_quotes=*/false, out);
  out->push_back('\n');
}

void AppendTypeLine(absl::string_view family, MetricType type,
                    std::string* out) {
  const absl::string_view type_name = TextTypeName(type);
  Reserve(7 + family.size() + 1 + type_name.size() + 1, out);
  out->append("# TYPE ", 7);
  out->append(family.data(), family.size());
  out->push_back(' ');
  out->append(type_name.data(), type_name.size());
  out->push_back('\n');
}

namespace {

template <typename LabelRange>
void AppendSampleLineOf(absl::string_view name, const LabelRange& labels,
                        absl::Span<const Label> extra_labels, double value,
                        std::optional<int64_t> timestamp_ms, std::string* out) {
  // The written labels are looked up once (for an interned set, each a
  // symbol lookup) and measured; the line up to `}` is then copied into room
  // made in one step, rather than appended piece by piece.
  absl::InlinedVector<LabelView, 32> written;
  // `name{` + `n="v",` per label + `}`; a value that may need escapes is
  // counted at twice its size.
  size_t size = name.size() + 2;
  for (const LabelView label : labels) {
    if (!IsWritten(label)) continue;
    written.push_back(label);
    size += label.name.size() + 4 +
            (label.plain ? label.value.size() : 2 * label.value.size());
  }
  for (const Label& label : extra_labels) {
    size += label.name.size() + 4 + 2 * label.value.size();
  }
  const size_t start = out->size();
  Reserve(size + kValueAndTimestampChars, out);
  out->resize(start + size);
  char* const begin = &(*out)[start];
  char* p = begin;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  bool first = true;
  for (const LabelView label : written) {
    p = CopyLabel(label, first, p);
    first = false;
  }
  for (const Label& label : extra_labels) {
    p = CopyLabel(label, first, p);
    first = false;
  }
  if (!first) *p++ = '}';
  *p++ = ' ';
  out->resize(start + (p - begin));

  AppendGoFloat(value, out);
  if (timestamp_ms.has_value()) {
    char buf[24];
    const std::to_chars_result r =
        std::to_chars(buf, buf + sizeof(buf), *timestamp_ms);
    out->push_back(' ');
    out->append(buf, r.ptr - buf);
  }
  out->push_back('\n');
}

}  // namespace

void AppendSampleLine(absl::string_view name, absl::Span<const Label> labels,
                      absl::Span<const Label> extra_labels, double value,
                      std::optional<int64_t> timestamp_ms, std::string* out) {
  AppendSampleLineOf(name, labels, extra_labels, value, timestamp_ms, out);
}

void AppendSampleLine(absl::string_view name, const InternedLabels& labels,
                      absl::Span<const Label> extra_labels, double value,
                      std::optional<int64_t> timestamp_ms, std::string* out) {
  AppendSampleLineOf(name, labels, extra_labels, value, timestamp_ms, out);
}

}  // namespace fedgate
