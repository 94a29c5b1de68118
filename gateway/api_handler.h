// gateway/api_handler.h
//
// The Prometheus-compatible HTTP API under /api/v1, with Prometheus 2.42's
// routes, parameters, JSON envelopes, error types, HTTP codes, escaping and
// sorting (see docs/api.md):
//   /api/v1/series            GET, POST (form); DELETE: "not implemented"
//   /api/v1/labels            GET, POST
//   /api/v1/label/<n>/values  GET
//   /api/v1/query             GET, POST; PromQL over the latest samples
//   /api/v1/targets           GET
//   /api/v1/status/config     GET
//   /api/v1/status/buildinfo  GET
// Every /api/v1 path answers OPTIONS with 204; an unknown path is 404
// `404 page not found`; a known path with another method is 405. While
// fedgate is not ready, every other request is 503 `Service Unavailable`
// (Prometheus's testReady). A request with an Origin header gets Prometheus's
// CORS headers; `Access-Control-Allow-Origin` only for an origin that
// --web.cors.origin matches.
//
// The handler is independent of the HTTP library: the server
// (http_server.h) turns a request into an ApiRequest and writes the
// ApiResponse back. fedgate keeps only the latest sample of each series,
// so `start`/`end`/`time` select among latest samples (docs/api.md).
//
// Called once per request on a server worker thread. /series and /query
// touch every stored series once per selector (SelectSeries) and hand their
// answer out in 64 KiB pieces (memory: /series one pointer per selected
// series; /query a copy of each selected series' labels and value, as the
// evaluation computes on them; plus one piece).
//
// Thread-safety: thread-safe (const methods over immutable snapshots).

#ifndef FEDGATE_GATEWAY_API_HANDLER_H_
#define FEDGATE_GATEWAY_API_HANDLER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "gateway/writers/response_body.h"
#include "merge/query/match_params.h"
#include "merge/series_store.h"
#include "re2/re2.h"
#include "scraper/scrape_manager.h"

namespace fedgate {

// One /api/v1 request, parsed once by the HTTP layer.
struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // URL-decoded, below /api/v1: "/series".
  // Go's r.Form: the url-encoded POST/PUT/PATCH body's values first, then
  // the URL query's, each name in request order.
  std::vector<std::pair<std::string, std::string>> form;
  // The URL query alone (r.URL.Query()), used by /targets.
  std::vector<std::pair<std::string, std::string>> query;
  std::string origin;  // The Origin header, "" when absent (CORS).
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string allow;  // The Allow header of a 405 answer.
  // Further headers (CORS), in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set instead of `body` for answers that can be large (/series, /query):
  // the rows are selected by Handle(), the JSON written as it is sent.
  BodyChunks body_chunks;
  // The limit that refused the request (MatchLimitReason(), or
  // "too_many_series"), "" for none: the server counts it in
  // fedgate_http_requests_refused_total{reason}.
  std::string refused_reason;
};

// What /api/v1/status/buildinfo reports, in Prometheus's field names.
struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string go_version;  // fedgate: the C++ compiler that built it.
};

struct ApiOptions {
  SeriesStore* store = nullptr;  // Required.
  // Returns every target's status; null: no targets.
  std::function<std::vector<TargetStatus>()> targets;
  // Returns the targets relabel_configs dropped; null: none.
  std::function<std::vector<DroppedTarget>()> dropped_targets;
  // Returns the loaded configuration; null: /status/config shows defaults.
  std::function<std::shared_ptr<const Config>()> config;
  BuildInfo build_info;
  // The host name of the external URL, replacing loopback hosts in a
  // target's `globalUrl` as Prometheus does; "" means gethostname().
  std::string hostname;
  // Returns fedgate's own web port (a target on it is fedgate itself).
  std::function<int()> web_port;
  // Returns the current time (the default `time` of /query, and the time
  // /federate reads at); null: now.
  std::function<absl::Time()> now;
  // Returns whether fedgate is ready; null: always.
  std::function<bool()> ready;
  // --web.cors.origin, anchored as Prometheus compiles it (`^(?:re)$`);
  // null: `.*`, answered with `Access-Control-Allow-Origin: *`.
  std::shared_ptr<const RE2> cors_origin;
  // What the `match[]` selectors of one request may cost (/api/v1, and
  // /federate through the HTTP server).
  MatchLimits match_limits;
  // The most series one answer may hold (--query.max-series); 0: no limit.
  // Past it /federate answers 422 and /api/v1 a 422 `execution` error
  // before a byte of the answer is written, never a truncated answer. A
  // selected series costs 32 bytes until its answer is written: 1,000,000
  // keeps that to 32 MiB per answer.
  size_t max_series = 1000000;
};

class ApiHandler {
 public:
  explicit ApiHandler(ApiOptions options);

  // Answers one request; never fails (errors are JSON error envelopes).
  ApiResponse Handle(const ApiRequest& request) const;

 private:
  // Answers a request whose path is routed and whose method the route
  // takes, without the CORS headers.
  ApiResponse Dispatch(const ApiRequest& request) const;
  ApiResponse Series(const ApiRequest& request) const;
  // The series /api/v1/labels and /label/<name>/values read.
  struct LabelRows {
    std::shared_ptr<const StoreSnapshot> snapshot;  // Keeps `samples` alive.
    std::vector<const Sample*> samples;
  };
  // Parses start, end and match[] (none: every series) as Prometheus does
  // and selects the series of that window from one snapshot into `*rows`;
  // returns false with the error answer in `*error` for a bad parameter.
  bool SelectForLabels(const ApiRequest& request, LabelRows* rows,
                       ApiResponse* error) const;
  ApiResponse Labels(const ApiRequest& request) const;
  ApiResponse LabelValues(const ApiRequest& request,
                          absl::string_view name) const;
  ApiResponse Query(const ApiRequest& request) const;
  ApiResponse Targets(const ApiRequest& request) const;
  ApiResponse StatusConfig() const;
  ApiResponse StatusBuildInfo() const;

  ApiOptions options_;
};

// Parses an API time parameter as Prometheus 2.42's parseTime does: float
// unix seconds (rounded to milliseconds) or RFC 3339 with optional
// fractional seconds. Returns milliseconds since the epoch, or
// InvalidArgument `cannot parse "abc" to a valid timestamp`.
absl::StatusOr<int64_t> ParseApiTime(absl::string_view s);

// Returns the route `path` (below /api/v1) is served by, spelled as
// Prometheus's router names it (`/series`, `/label/:name/values`), or "" for
// a path no route serves. The bounded `handler` label of the HTTP metrics.
absl::string_view ApiRoutePattern(absl::string_view path);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_API_HANDLER_H_
