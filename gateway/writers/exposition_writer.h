// gateway/writers/exposition_writer.h
//
// The interface between the /federate driver (federate_handler.cc) and the
// format writers (text 0.0.4, OpenMetrics 1.0, protobuf delimited / text /
// compact-text): the driver walks the selected series family by family and
// lets the format's writer append bytes to a buffer that it flushes to the
// client every 64 KiB, so a family of any size is streamed.
//
// Also `ExternalLabels`: Prometheus's rule for appending
// `global.external_labels` (and `instance=""`) to a federated series, shared
// by every format.
//
// Read hot path: AppendSeries() runs once per served series and must not
// allocate (beyond the amortized growth of the output buffer).
//
// Thread-safety: thread-compatible; one writer per request.

#ifndef FEDGATE_GATEWAY_WRITERS_EXPOSITION_WRITER_H_
#define FEDGATE_GATEWAY_WRITERS_EXPOSITION_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "merge/query/series_query.h"

namespace fedgate {

// One family of the answer: the contiguous run of SelectSeries rows that
// share `SelectedSeries::family`, ordered by metric name and labels.
struct FamilyView {
  absl::string_view name;
  const FamilyMetadata* metadata = nullptr;  // Null: nothing scraped.
  absl::Span<const SelectedSeries> series;
};

// The external labels appended to each federated series, by Prometheus's
// rules (prometheus-semantics.md §1.3): every external label, in name order,
// whose name the series does not have; `instance` is an external label with
// value "" unless configured, so a series without `instance` gets
// `instance=""`.
class ExternalLabels {
 public:
  explicit ExternalLabels(const std::map<std::string, std::string>& labels);

  // Returns the labels to append to a series with `labels`. The span stays
  // valid for the lifetime of this object. Costs one label lookup per
  // external label; the result is shared by every series that lacks the same
  // external labels, so nothing is allocated per series in steady state.
  absl::Span<const Label> For(const Labels& labels);
  absl::Span<const Label> For(const InternedLabels& labels);

 private:
  template <typename L>
  absl::Span<const Label> ForSet(const L& labels);

  std::vector<Label> labels_;  // Sorted by name.
  // labels_' names, interned: a lookup in a InternedLabels compares ids.
  std::vector<InternedName> names_;
  // Appended labels per "which external labels are missing" mask; tiny.
  std::vector<std::pair<uint64_t, std::vector<Label>>> by_mask_;
};

// Writes one exposition format. The driver calls, for each family,
// BeginFamily(), AppendSeries(0..n-1) and EndFamily(), then Finish() once.
// Every call appends to `out` only.
class ExpositionWriter {
 public:
  virtual ~ExpositionWriter() = default;

  // Starts `family`; the view (and the rows it points to) stays valid until
  // EndFamily().
  virtual void BeginFamily(const FamilyView& family, std::string* out) = 0;
  // Appends the `index`-th series of the current family (indexes are passed
  // in increasing order; a writer may emit the series in its own order).
  virtual void AppendSeries(size_t index, std::string* out) = 0;
  // Ends the current family.
  virtual void EndFamily(std::string* out) = 0;
  // Appends what ends the answer (`# EOF` for OpenMetrics).
  virtual void Finish(std::string* out) = 0;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WRITERS_EXPOSITION_WRITER_H_
