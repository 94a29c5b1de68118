// gateway/federate_handler.h
//
// The /federate answer: every stored series matching any of the request's
// `match[]` selectors, with its latest value and timestamp, grouped into
// families with the TYPE and HELP scraped from the targets, and
// `global.external_labels` appended where a series lacks them (Prometheus's
// rules, including `instance=""`). Text format 0.0.4.
//
// Called by the HTTP server once per request; on the read hot path (a full
// dump touches every stored series once, plus a sort of the selected ones).
//
// Thread-safety: pure functions over an immutable snapshot; thread-safe.

#ifndef FEDGATE_GATEWAY_FEDERATE_HANDLER_H_
#define FEDGATE_GATEWAY_FEDERATE_HANDLER_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/label_matcher.h"
#include "merge/series_store.h"

namespace fedgate {

inline constexpr absl::string_view kTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

struct FederateParams {
  std::vector<Selector> selectors;  // OR-ed.
};

// Parses the values of the `match[]` parameters. Fails with InvalidArgument:
// Prometheus's parse error text for a bad selector (the first one wins), or
// `no match[] parameter provided` when there is none (where Prometheus
// silently answers nothing; see docs/api.md).
absl::StatusOr<FederateParams> ParseFederateParams(
    const std::vector<std::string>& match_values);

// Receives the answer in pieces of about 64 KiB; returns false when the
// client went away, which stops the work.
using ChunkSink = std::function<bool(absl::string_view chunk)>;

// Writes the federation answer for `snapshot` to `sink`. Returns false when
// the sink gave up.
bool WriteFederation(const StoreSnapshot& snapshot,
                     const FederateParams& params,
                     const std::map<std::string, std::string>& external_labels,
                     const ChunkSink& sink);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_FEDERATE_HANDLER_H_
