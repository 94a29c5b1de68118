// gateway/writers/text_writer.h
//
// Writes the Prometheus text exposition format 0.0.4 line by line, byte for
// byte as `expfmt.MetricFamilyToText` does: the /federate handler calls it
// for every family and sample it serves. It is on the serialize hot path:
// each call appends to the caller's buffer (growing it geometrically, so a
// response costs O(log n) reallocations) and allocates nothing else.
//
// The writer does not validate names or order: the caller passes families
// and labels in the order Prometheus's federation emits them
// (prometheus-semantics.md §1.3) and with valid names.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_GATEWAY_WRITERS_TEXT_WRITER_H_
#define FEDGATE_GATEWAY_WRITERS_TEXT_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"

namespace fedgate {

// Appends `# HELP <family> <help>\n`, escaping `\` as `\\` and a line feed as
// `\n` (nothing else; quotes stay as they are). An empty `help` still gets
// the space after the name, as in Prometheus.
void AppendHelpLine(absl::string_view family, absl::string_view help,
                    std::string* out);

// Appends `# TYPE <family> <type>\n` with the text-format type word
// (`TextTypeName`).
void AppendTypeLine(absl::string_view family, MetricType type,
                    std::string* out);

// Appends one sample line, `name{l1="v1",l2="v2"} value[ timestamp_ms]\n`.
// Writes `labels` (the series' own labels) in the given order, skipping
// `__name__` and empty values, then every one of `extra_labels` in the given
// order, including empty values (federation's external labels, already
// filtered by the caller; this is how `instance=""` is written). No braces
// when no label is written. Label values escape `\`, `"` and line feed;
// `value` is formatted by `AppendGoFloat`.
// Appends `text` with the text formats' escapes: `\` and line feed, and `"`
// when `escape_quotes` (label values; OpenMetrics HELP). Text 0.0.4 HELP
// leaves `"` as it is. Runs without escapes are copied in one append.
void AppendEscapedText(absl::string_view text, bool escape_quotes,
                       std::string* out);

// Appends `{name="value"` (`first`) or `,name="value"`, the value escaped as
// both text 0.0.4 and OpenMetrics escape label values (`\`, `"`, line feed);
// a value known to be plain (LabelView::plain) is copied as it is.
void AppendLabelPair(LabelView label, bool first, std::string* out);

void AppendSampleLine(absl::string_view name, absl::Span<const Label> labels,
                      absl::Span<const Label> extra_labels, double value,
                      std::optional<int64_t> timestamp_ms, std::string* out);
void AppendSampleLine(absl::string_view name, const InternedLabels& labels,
                      absl::Span<const Label> extra_labels, double value,
                      std::optional<int64_t> timestamp_ms, std::string* out);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WRITERS_TEXT_WRITER_H_
