// gateway/federate_handler.h
//
// The /federate answer: every stored series matching any of the request's
// `match[]` selectors, with its latest value and timestamp, grouped into
// families with the TYPE and HELP scraped from the targets, and
// `global.external_labels` appended where a series lacks them (Prometheus's
// rules, including `instance=""`). In any negotiated format: text 0.0.4
// (text_writer.h), OpenMetrics 1.0 (openmetrics_writer.h) or protobuf
// (protobuf_writer.h); compression is the HTTP server's business.
//
// Called by the HTTP server once per request; on the read hot path (a full
// dump touches every stored series once, plus a sort of the selected ones).
//
// Thread-safety: pure functions over an immutable snapshot; thread-safe.

#ifndef FEDGATE_GATEWAY_FEDERATE_HANDLER_H_
#define FEDGATE_GATEWAY_FEDERATE_HANDLER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/writers/content_negotiation.h"
#include "gateway/writers/response_body.h"
#include "merge/query/label_matcher.h"
#include "merge/query/match_params.h"
#include "merge/query/series_query.h"
#include "merge/series_store.h"

namespace fedgate {

inline constexpr absl::string_view kTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

struct FederateParams {
  // OR-ed; never an empty selector (`{}` selects nothing, as in Prometheus).
  std::vector<Selector> selectors;
  // The samples the answer may hold: the server sets LookbackWindow(now),
  // so that a series is served only if its sample lies in [now - 5m, now]
  // (an exposed timestamp can be older or in the future). The default, all,
  // is for callers that pass a snapshot of their own.
  SampleWindow window;
  // The most series the answer may hold (--query.max-series); 0: no limit.
  size_t max_series = 0;
};

// Parses the values of the `match[]` parameters. Fails with InvalidArgument:
// Prometheus's parse error text for a bad selector (the first one wins), or
// `no match[] parameter provided` when there is none (where Prometheus
// silently answers nothing; see docs/api.md), or the texts of
// CheckMatchParamSizes and CheckRegexComplexity past `limits`
// (merge/query/match_params.h). A selector without matchers (`{}`) is left
// out: it selects nothing, as in Prometheus 2.42.
absl::StatusOr<FederateParams> ParseFederateParams(
    const std::vector<std::string>& match_values,
    const MatchLimits& limits = MatchLimits());

// Receives the answer in pieces of about 64 KiB; returns false when the
// client went away, which stops the work.
using ChunkSink = std::function<bool(absl::string_view chunk)>;

// Told the series and bytes (before compression) of an answer once its
// last piece is written (the self-metrics of /federate).
using FederateAnswerObserver =
    std::function<void(size_t series, uint64_t bytes)>;

// Returns the federation answer for `snapshot` in `format`, produced piece by
// piece (about 64 KiB each) as the connection takes them: the rows are
// selected and sorted at once, the text is written on demand, so a slow
// reader costs no thread and at most one piece of memory. Fails with
// ResourceExhausted (`the answer would hold 12 series, more than the limit of
// 10 (--query.max-series)`) when more than `params.max_series` are selected.
// `on_complete`, if set, is called with the last piece; an answer its client
// abandons is not reported.
absl::StatusOr<BodyChunks> FederationBody(
    std::shared_ptr<const StoreSnapshot> snapshot, const FederateParams& params,
    const std::map<std::string, std::string>& external_labels,
    ExpositionFormat format, FederateAnswerObserver on_complete = nullptr);

// Writes the federation answer for `snapshot` in `format` to `sink`, in
// chunks of about 64 KiB. Returns false when the sink gave up (the rest of
// the work is skipped).
bool WriteFederation(const StoreSnapshot& snapshot,
                     const FederateParams& params,
                     const std::map<std::string, std::string>& external_labels,
                     ExpositionFormat format, const ChunkSink& sink);

// Writes the answer in the text format 0.0.4.
inline bool WriteFederation(
    const StoreSnapshot& snapshot, const FederateParams& params,
    const std::map<std::string, std::string>& external_labels,
    const ChunkSink& sink) {
  return WriteFederation(snapshot, params, external_labels,
                         ExpositionFormat::kText, sink);
}

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_FEDERATE_HANDLER_H_
