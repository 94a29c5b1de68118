#include "gateway/api_handler.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "config/config_printer.h"
#include "config/duration.h"
#include "config/label_name.h"
#include "config/quote.h"
#include "gateway/writers/json_writer.h"
#include "merge/float_format.h"
#include "merge/labels.h"
#include "merge/promql/expr.h"
#include "merge/promql/expr_parser.h"
#include "merge/promql/instant_eval.h"
#include "merge/promql/value.h"
#include "merge/query/match_params.h"
#include "merge/query/series_query.h"

namespace fedgate {
namespace {

constexpr absl::string_view kTextPlain = "text/plain; charset=utf-8";

// Prometheus's minTime/maxTime (the default start/end) in milliseconds:
// time.Unix(math.MinInt64/1000+62135596801, 0) and
// time.Unix(math.MaxInt64/1000-62135596801, 999999999).
constexpr int64_t kMinTimeMs = -9223309901257974000;
constexpr int64_t kMaxTimeMs = 9223309901257974999;

// Prometheus's text for --query.max-samples (promql.ErrTooManySamples), for
// a /query past --query.max-series.
constexpr absl::string_view kTooManySamples =
    "query processing would load too many samples into memory in query "
    "execution";

// Streamed answers are handed to the sink in pieces of about this size.
constexpr size_t kChunkBytes = 64 * 1024;

// An `errorType` of Prometheus's API with the HTTP status it is sent with.
struct ErrorType {
  int status;
  absl::string_view name;
};
constexpr ErrorType kBadData = {400, "bad_data"};
constexpr ErrorType kExecution = {422, "execution"};
constexpr ErrorType kInternal = {500, "internal"};

ApiResponse JsonError(ErrorType type, absl::string_view message) {
  ApiResponse res;
  res.status = type.status;
  JsonWriter w(&res.body);
  w.BeginObject();
  w.Key("status");
  w.String("error");
  w.Key("errorType");
  w.String(type.name);
  w.Key("error");
  w.String(message);
  w.EndObject();
  return res;
}

ApiResponse BadData(absl::string_view message) {
  return JsonError(kBadData, message);
}

ApiResponse InvalidParam(absl::string_view param, absl::string_view message) {
  return BadData(
      absl::StrCat("invalid parameter ", GoQuote(param), ": ", message));
}

ApiResponse PlainText(int status, absl::string_view body) {
  ApiResponse res;
  res.status = status;
  res.content_type = std::string(kTextPlain);
  res.body = std::string(body);
  return res;
}

// Starts `{"status":"success","data":` in `w`; the caller writes the data
// and closes the object.
void BeginSuccess(JsonWriter& w) {
  w.BeginObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
}

std::vector<std::string> FormValues(
    const std::vector<std::pair<std::string, std::string>>& form,
    absl::string_view name) {
  std::vector<std::string> values;
  for (const auto& [k, v] : form) {
    if (k == name) values.push_back(v);
  }
  return values;
}

// Go's r.FormValue: the first value, or "".
std::string FormValue(
    const std::vector<std::pair<std::string, std::string>>& form,
    absl::string_view name) {
  for (const auto& [k, v] : form) {
    if (k == name) return v;
  }
  return "";
}

// parseTimeParam: absent or empty → `fallback`.
absl::StatusOr<int64_t> TimeParam(const ApiRequest& request,
                                  absl::string_view name, int64_t fallback) {
  const std::string value = FormValue(request.form, name);
  if (value.empty()) return fallback;
  absl::StatusOr<int64_t> t = ParseApiTime(value);
  if (!t.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid time value for '", name, "': ", t.status().message()));
  }
  return t;
}

// The `match[]` values of `request`, parsed by merge/query/match_params.h.
absl::StatusOr<std::vector<Selector>> MatchersParam(
    const std::vector<std::string>& values, const MatchLimits& limits) {
  const std::vector<absl::string_view> views(values.begin(), values.end());
  return ParseMatchParams(views, limits);
}

// The answer past --query.max-series: Prometheus's status and error type for
// a query that would load too many samples, with `message`.
ApiResponse TooManySeries(absl::string_view message) {
  ApiResponse res = JsonError(kExecution, message);
  res.refused_reason = "too_many_series";
  return res;
}

// Marks `res` with the MatchLimits bound `status` comes from, if any.
ApiResponse WithLimitReason(ApiResponse res, const absl::Status& status) {
  res.refused_reason = MatchLimitReason(status);
  return res;
}

// Returns the text of the refusal of `rows` series past `max_series`, or ""
// when they fit (0: no limit).
std::string SeriesLimitError(size_t rows, size_t max_series) {
  if (max_series == 0 || rows <= max_series) return "";
  return absl::StrCat("the answer would hold ", rows,
                      " series, more than the limit of ", max_series,
                      " (--query.max-series)");
}

// The selected series whose latest sample lies in [start_ms, end_ms],
// sorted by label set (Prometheus's labels.Compare).
std::vector<const Sample*> SelectInWindow(const StoreSnapshot& snapshot,
                                          absl::Span<const Selector> selectors,
                                          int64_t start_ms, int64_t end_ms) {
  std::vector<const Sample*> out;
  for (const SelectedSeries& row :
       SelectSeries(snapshot, selectors, SeriesOrder::kSorted,
                    SampleWindow{start_ms, end_ms})) {
    out.push_back(row.sample);
  }
  std::sort(out.begin(), out.end(), [](const Sample* a, const Sample* b) {
    return a->labels < b->labels;
  });
  return out;
}

// Applies CheckRegexComplexity to every selector of `expr`.
absl::Status CheckSelectorRegexes(const PromqlExpr& expr,
                                  const MatchLimits& limits) {
  if (expr.kind == PromqlExpr::Kind::kSelector) {
    return CheckRegexComplexity(expr.selector, limits);
  }
  for (const auto& arg : expr.args) {
    if (absl::Status s = CheckSelectorRegexes(*arg, limits); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// A JSON answer with one value per selected sample, written piece by piece
// as the connection takes it (rows selected beforehand, on the caller's
// thread). `rows` point into `snapshot`, which the body keeps alive.
BodyChunks JsonRowsBody(
    std::shared_ptr<const StoreSnapshot> snapshot,
    std::vector<const Sample*> rows,
    absl::AnyInvocable<void(JsonWriter&)> begin,
    absl::AnyInvocable<void(JsonWriter&, const Sample&)> row,
    absl::AnyInvocable<void(JsonWriter&)> end) {
  struct State {
    std::shared_ptr<const StoreSnapshot> snapshot;
    std::vector<const Sample*> rows;
    size_t next = 0;
    std::string buf;
    JsonWriter writer{&buf};
  };
  auto state = std::make_unique<State>();
  state->snapshot = std::move(snapshot);
  state->rows = std::move(rows);
  begin(state->writer);
  return [state = std::move(state), row = std::move(row),
          end = std::move(end)](std::string* out) mutable {
    while (state->next < state->rows.size() &&
           state->buf.size() < kChunkBytes) {
      row(state->writer, *state->rows[state->next++]);
    }
    const bool more = state->next < state->rows.size();
    if (!more) end(state->writer);
    out->append(state->buf);
    state->buf.clear();
    return more;
  };
}

// `L` is a Labels or a InternedLabels.
template <typename L>
void WriteLabels(JsonWriter& w, const L& labels) {
  w.BeginObject();
  for (const auto& l : labels) {
    w.Key(l.name);
    w.String(l.value);
  }
  w.EndObject();
}

// The envelope of an instant vector answer of /query, around its samples:
// `{"status":"success","data":{"resultType":"vector","result":[` and `]}}`.
void BeginVectorResult(JsonWriter& w) {
  BeginSuccess(w);
  w.BeginObject();
  w.Key("resultType");
  w.String("vector");
  w.Key("result");
  w.BeginArray();
}

void EndVectorResult(JsonWriter& w) {
  w.EndArray();
  w.EndObject();
  w.EndObject();
}

// One element of an instant vector answer:
// `{"metric":{...},"value":[<time>,"<value>"]}`. `L` as WriteLabels'.
template <typename L>
void WriteVectorElement(JsonWriter& w, const L& labels, int64_t time_ms,
                        double value) {
  w.BeginObject();
  w.Key("metric");
  WriteLabels(w, labels);
  w.Key("value");
  w.SamplePair(time_ms, value);
  w.EndObject();
}

// An instant vector answer of /query, written piece by piece as the
// connection takes it; every sample at the evaluation time `time_ms`.
BodyChunks VectorBody(PromqlVector samples, int64_t time_ms) {
  struct State {
    PromqlVector samples;
    size_t next = 0;
    std::string buf;
    JsonWriter writer{&buf};
  };
  auto state = std::make_unique<State>();
  state->samples = std::move(samples);
  BeginVectorResult(state->writer);
  return [state = std::move(state), time_ms](std::string* out) mutable {
    JsonWriter& w = state->writer;
    while (state->next < state->samples.size() &&
           state->buf.size() < kChunkBytes) {
      const PromqlSample& s = state->samples[state->next++];
      WriteVectorElement(w, s.labels, time_ms, s.value);
    }
    const bool more = state->next < state->samples.size();
    if (!more) EndVectorResult(w);
    out->append(state->buf);
    state->buf.clear();
    return more;
  };
}

// The answer of /query for a bare selector, the commonest query: what
// EvaluateInstant would answer, streamed from the snapshot's samples without
// copying their labels (a dump of 1M series holds 1M pointers, not 1M label
// sets).
ApiResponse SelectorAnswer(std::shared_ptr<const StoreSnapshot> snapshot,
                           const Selector& selector, int64_t time_ms,
                           size_t max_series) {
  const Selector selectors[] = {selector};
  std::vector<const Sample*> rows =
      SelectInWindow(*snapshot, selectors, time_ms - kLookbackDeltaMs, time_ms);
  if (!SeriesLimitError(rows.size(), max_series).empty()) {
    return TooManySeries(kTooManySamples);
  }
  ApiResponse res;
  res.body_chunks = JsonRowsBody(
      std::move(snapshot), std::move(rows), BeginVectorResult,
      [time_ms](JsonWriter& w, const Sample& s) {
        WriteVectorElement(w, s.labels, time_ms, s.value);
      },
      EndVectorResult);
  return res;
}

// The answer of /query for a scalar or a string result, as Prometheus 2.42
// marshals promql.Scalar and promql.String (promql/value.go, not the
// sample-pair encoder of vectors): `[<time>,"<value>"]` with the time as Go's
// encoding/json writes a float64 (`1795630040.5`, `10`) and a scalar's value
// as strconv.FormatFloat(v, 'f', -1, 64) (`1000000000000000000000`, `NaN`).
std::string ScalarOrStringBody(const PromqlValue& value, int64_t time_ms) {
  std::string time;
  AppendGoFloatLayout(static_cast<double>(time_ms) / 1000, /*fixed=*/true,
                      &time);
  std::string text = value.string;
  if (value.type == PromqlType::kScalar) {
    text.clear();
    if (std::isfinite(value.scalar)) {
      AppendGoFloatLayout(value.scalar, /*fixed=*/true, &text);
    } else {
      AppendGoFloat(value.scalar, &text);  // NaN, +Inf, -Inf.
    }
  }
  std::string body;
  JsonWriter w(&body);
  BeginSuccess(w);
  w.BeginObject();
  w.Key("resultType");
  w.String(value.type == PromqlType::kScalar ? "scalar" : "string");
  w.Key("result");
  w.BeginArray();
  w.Raw(time);
  w.String(text);
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return body;
}

ApiResponse StringList(const std::set<std::string>& values) {
  ApiResponse res;
  JsonWriter w(&res.body);
  BeginSuccess(w);
  w.BeginArray();
  for (const std::string& v : values) w.String(v);
  w.EndArray();
  w.EndObject();
  return res;
}

// Go's time.Time.Format(time.RFC3339Nano) in UTC; the zero time for a
// target never scraped.
std::string FormatRfc3339Nano(absl::Time t) {
  if (t == absl::InfinitePast()) return "0001-01-01T00:00:00Z";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

// Go's time.Duration.Seconds().
double GoSeconds(absl::Duration d) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  return static_cast<double>(ns / 1000000000) +
         static_cast<double>(ns % 1000000000) / 1e9;
}

// Prometheus's getGlobalURL with the default external URL
// (http://<hostname>:<web port>/): a loopback host becomes the host name.
std::string GlobalUrl(absl::string_view url, absl::string_view hostname,
                      int web_port) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return std::string(url);
  const size_t host_start = scheme_end + 3;
  size_t host_end = url.find('/', host_start);
  if (host_end == absl::string_view::npos) host_end = url.size();
  absl::string_view hostport = url.substr(host_start, host_end - host_start);
  const size_t colon = hostport.rfind(':');
  if (colon == absl::string_view::npos) return std::string(url);
  absl::string_view host = hostport.substr(0, colon);
  absl::string_view port = hostport.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host != "127.0.0.1" && host != "localhost" && host != "::1") {
    return std::string(url);
  }
  // A loopback target on our own port is fedgate itself: the external URL's
  // scheme too (its port is the same by default).
  absl::string_view scheme = url.substr(0, scheme_end);
  if (port == absl::StrCat(web_port)) scheme = "http";
  return absl::StrCat(scheme, "://", hostname, ":", port, url.substr(host_end));
}

std::string LocalHostname() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) return "localhost";
  return host;
}

// Routes: path → allowed methods (Prometheus 2.42's api.Register).
struct ApiRoute {
  enum Kind {
    kQuery,
    kSeries,
    kLabels,
    kLabelValues,
    kTargets,
    kStatusConfig,
    kBuildInfo,
    kUnknown
  } kind = kUnknown;
  std::vector<absl::string_view> methods;  // Without OPTIONS.
  std::string name;                        // The label of /label/<n>/values.
};

ApiRoute MatchRoute(absl::string_view path) {
  ApiRoute r;
  if (path == "/query") {
    r.kind = ApiRoute::kQuery;
    r.methods = {"GET", "POST"};
  } else if (path == "/series") {
    r.kind = ApiRoute::kSeries;
    r.methods = {"DELETE", "GET", "POST"};
  } else if (path == "/labels") {
    r.kind = ApiRoute::kLabels;
    r.methods = {"GET", "POST"};
  } else if (path == "/targets") {
    r.kind = ApiRoute::kTargets;
    r.methods = {"GET"};
  } else if (path == "/status/config") {
    r.kind = ApiRoute::kStatusConfig;
    r.methods = {"GET"};
  } else if (path == "/status/buildinfo") {
    r.kind = ApiRoute::kBuildInfo;
    r.methods = {"GET"};
  } else if (absl::ConsumePrefix(&path, "/label/") &&
             absl::ConsumeSuffix(&path, "/values") && !path.empty() &&
             path.find('/') == absl::string_view::npos) {
    // `/label/:name/values`: the name is one non-empty path segment.
    r.kind = ApiRoute::kLabelValues;
    r.methods = {"GET"};
    r.name = std::string(path);
  }
  return r;
}

}  // namespace

absl::string_view ApiRoutePattern(absl::string_view path) {
  switch (MatchRoute(path).kind) {
    case ApiRoute::kQuery:
      return "/query";
    case ApiRoute::kSeries:
      return "/series";
    case ApiRoute::kLabels:
      return "/labels";
    case ApiRoute::kLabelValues:
      return "/label/:name/values";
    case ApiRoute::kTargets:
      return "/targets";
    case ApiRoute::kStatusConfig:
      return "/status/config";
    case ApiRoute::kBuildInfo:
      return "/status/buildinfo";
    case ApiRoute::kUnknown:
      break;
  }
  return "";
}

absl::StatusOr<int64_t> ParseApiTime(absl::string_view s) {
  auto error = [s] {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot parse ", GoQuote(s), " to a valid timestamp"));
  };
  // strconv.ParseFloat: no surrounding spaces (absl would trim them).
  double f = 0;
  if (!s.empty() && !absl::ascii_isspace(static_cast<unsigned char>(s[0])) &&
      !absl::ascii_isspace(static_cast<unsigned char>(s.back())) &&
      absl::SimpleAtod(s, &f)) {
    double whole = 0;
    double frac = std::modf(f, &whole);
    frac = std::round(frac * 1000) / 1000;
    // Go converts out-of-range floats (and NaN) to int64 min on amd64.
    int64_t seconds = std::numeric_limits<int64_t>::min();
    if (whole >= -9.2e18 && whole <= 9.2e18) {
      seconds = static_cast<int64_t>(whole);
    }
    // timestamp.FromTime saturates here instead of overflowing.
    if (seconds < kMinTimeMs / 1000) return kMinTimeMs;
    if (seconds > kMaxTimeMs / 1000) return kMaxTimeMs;
    return seconds * 1000 + static_cast<int64_t>(std::llround(frac * 1000));
  }
  absl::Time t;
  std::string err;
  if (s.find(' ') == absl::string_view::npos &&
      absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", s, &t, &err)) {
    return absl::ToUnixMillis(t);
  }
  // The formatted minTime/maxTime, which Go's parser cannot read back.
  if (s == "-292273086-05-16T16:47:06Z") return kMinTimeMs;
  if (s == "292277025-08-18T07:12:54.999999999Z") return kMaxTimeMs;
  return error();
}

ApiHandler::ApiHandler(ApiOptions options) : options_(std::move(options)) {
  if (options_.hostname.empty()) options_.hostname = LocalHostname();
}

ApiResponse ApiHandler::Handle(const ApiRequest& request) const {
  // Prometheus's router answers an unknown path (404) and a method the path
  // does not take (405) itself; every routed handler, OPTIONS included, is
  // wrapped in testReady, then httputil.SetCORS.
  if (request.method != "OPTIONS") {
    const ApiRoute route = MatchRoute(request.path);
    if (route.kind == ApiRoute::kUnknown) {
      return PlainText(404, "404 page not found\n");
    }
    if (std::find(route.methods.begin(), route.methods.end(), request.method) ==
        route.methods.end()) {
      std::vector<absl::string_view> allow = route.methods;
      allow.push_back("OPTIONS");
      std::sort(allow.begin(), allow.end());
      ApiResponse res = PlainText(405, "Method Not Allowed\n");
      res.allow = absl::StrJoin(allow, ", ");
      return res;
    }
  }
  if (options_.ready && !options_.ready()) {
    return PlainText(503, "Service Unavailable");
  }
  // OPTIONS answers every path below /api/v1 (the CORS preflight).
  ApiResponse res =
      request.method == "OPTIONS" ? PlainText(204, "") : Dispatch(request);
  if (request.origin.empty()) return res;
  res.headers = {
      {"Access-Control-Allow-Headers",
       "Accept, Authorization, Content-Type, Origin"},
      {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
      {"Access-Control-Expose-Headers", "Date"},
      {"Vary", "Origin"},
  };
  if (options_.cors_origin == nullptr) {
    res.headers.emplace_back("Access-Control-Allow-Origin", "*");
  } else if (RE2::FullMatch(request.origin, *options_.cors_origin)) {
    res.headers.emplace_back("Access-Control-Allow-Origin", request.origin);
  }
  return res;
}

ApiResponse ApiHandler::Dispatch(const ApiRequest& request) const {
  const ApiRoute route = MatchRoute(request.path);
  switch (route.kind) {
    case ApiRoute::kQuery:
      return Query(request);
    case ApiRoute::kSeries:
      if (request.method == "DELETE") {
        return JsonError(kInternal, "not implemented");
      }
      return Series(request);
    case ApiRoute::kLabels:
      return Labels(request);
    case ApiRoute::kLabelValues:
      return LabelValues(request, route.name);
    case ApiRoute::kTargets:
      return Targets(request);
    case ApiRoute::kStatusConfig:
      return StatusConfig();
    case ApiRoute::kBuildInfo:
      return StatusBuildInfo();
    case ApiRoute::kUnknown:
      break;
  }
  return PlainText(404, "404 page not found\n");
}

ApiResponse ApiHandler::Series(const ApiRequest& request) const {
  const std::vector<std::string> matches = FormValues(request.form, "match[]");
  if (matches.empty()) return BadData("no match[] parameter provided");
  absl::StatusOr<int64_t> start = TimeParam(request, "start", kMinTimeMs);
  if (!start.ok()) return InvalidParam("start", start.status().message());
  absl::StatusOr<int64_t> end = TimeParam(request, "end", kMaxTimeMs);
  if (!end.ok()) return InvalidParam("end", end.status().message());
  absl::StatusOr<std::vector<Selector>> selectors =
      MatchersParam(matches, options_.match_limits);
  if (!selectors.ok()) {
    return WithLimitReason(
        InvalidParam("match[]", selectors.status().message()),
        selectors.status());
  }
  ApiResponse res;
  std::shared_ptr<const StoreSnapshot> snapshot = options_.store->Snapshot();
  std::vector<const Sample*> rows =
      SelectInWindow(*snapshot, *selectors, *start, *end);
  if (std::string error = SeriesLimitError(rows.size(), options_.max_series);
      !error.empty()) {
    return TooManySeries(error);
  }
  res.body_chunks = JsonRowsBody(
      std::move(snapshot), std::move(rows),
      [](JsonWriter& w) {
        BeginSuccess(w);
        w.BeginArray();
      },
      [](JsonWriter& w, const Sample& s) { WriteLabels(w, s.labels); },
      [](JsonWriter& w) {
        w.EndArray();
        w.EndObject();
      });
  return res;
}

bool ApiHandler::SelectForLabels(const ApiRequest& request, LabelRows* rows,
                                 ApiResponse* error) const {
  absl::StatusOr<int64_t> start = TimeParam(request, "start", kMinTimeMs);
  if (!start.ok()) {
    *error = InvalidParam("start", start.status().message());
    return false;
  }
  absl::StatusOr<int64_t> end = TimeParam(request, "end", kMaxTimeMs);
  if (!end.ok()) {
    *error = InvalidParam("end", end.status().message());
    return false;
  }
  absl::StatusOr<std::vector<Selector>> selectors =
      MatchersParam(FormValues(request.form, "match[]"), options_.match_limits);
  // Here Prometheus returns the raw error, without `invalid parameter`.
  if (!selectors.ok()) {
    *error = WithLimitReason(BadData(selectors.status().message()),
                             selectors.status());
    return false;
  }
  if (selectors->empty()) selectors->push_back(Selector());  // All series.
  rows->snapshot = options_.store->Snapshot();
  rows->samples = SelectInWindow(*rows->snapshot, *selectors, *start, *end);
  return true;
}

ApiResponse ApiHandler::Labels(const ApiRequest& request) const {
  LabelRows rows;
  if (ApiResponse error; !SelectForLabels(request, &rows, &error)) {
    return error;
  }
  std::set<std::string> names;
  for (const Sample* s : rows.samples) {
    for (const LabelView l : s->labels) names.insert(std::string(l.name));
  }
  return StringList(names);
}

ApiResponse ApiHandler::LabelValues(const ApiRequest& request,
                                    absl::string_view name) const {
  if (!IsValidLabelName(name)) {
    return BadData(absl::StrCat("invalid label name: ", GoQuote(name)));
  }
  LabelRows rows;
  if (ApiResponse error; !SelectForLabels(request, &rows, &error)) {
    return error;
  }
  std::set<std::string> values;
  for (const Sample* s : rows.samples) {
    absl::string_view v = s->labels.Get(name);
    if (!v.empty()) values.insert(std::string(v));
  }
  return StringList(values);
}

ApiResponse ApiHandler::Query(const ApiRequest& request) const {
  std::shared_ptr<const StoreSnapshot> snapshot = options_.store->Snapshot();
  const absl::Time now = options_.now ? options_.now() : absl::Now();
  absl::StatusOr<int64_t> time =
      TimeParam(request, "time", ReadTimeMs(*snapshot, now));
  if (!time.ok()) return InvalidParam("time", time.status().message());
  const std::string timeout = FormValue(request.form, "timeout");
  if (!timeout.empty()) {
    double seconds = 0;
    if (!absl::SimpleAtod(timeout, &seconds) &&
        !ParsePrometheusDuration(timeout).ok()) {
      return InvalidParam("timeout",
                          absl::StrCat("cannot parse ", GoQuote(timeout),
                                       " to a valid duration"));
    }
  }
  const std::string query = FormValue(request.form, "query");
  if (absl::StripAsciiWhitespace(query).empty()) {
    return InvalidParam("query",
                        "1:1: parse error: no expression found in input");
  }
  absl::StatusOr<std::unique_ptr<PromqlExpr>> expr =
      ParsePromqlExpr(query, options_.match_limits.max_regex_program_size);
  if (!expr.ok()) {
    return WithLimitReason(InvalidParam("query", expr.status().message()),
                           expr.status());
  }
  if (absl::Status s = CheckSelectorRegexes(**expr, options_.match_limits);
      !s.ok()) {
    return WithLimitReason(InvalidParam("query", s.message()), s);
  }
  if ((*expr)->kind == PromqlExpr::Kind::kSelector) {
    return SelectorAnswer(std::move(snapshot), (*expr)->selector, *time,
                          options_.max_series);
  }
  InstantEvalOptions eval;
  eval.time_ms = *time;
  eval.max_series = options_.max_series;
  absl::StatusOr<PromqlValue> value = EvaluateInstant(**expr, *snapshot, eval);
  snapshot.reset();
  if (!value.ok()) {
    switch (value.status().code()) {
      case absl::StatusCode::kResourceExhausted:
        return TooManySeries(kTooManySamples);
      case absl::StatusCode::kFailedPrecondition:
        return JsonError(kExecution, value.status().message());
      default:
        return JsonError(kInternal, value.status().message());
    }
  }
  ApiResponse res;
  if (value->type != PromqlType::kVector) {
    res.body = ScalarOrStringBody(*value, *time);
    return res;
  }
  res.body_chunks = VectorBody(std::move(value->vector), *time);
  return res;
}

ApiResponse ApiHandler::Targets(const ApiRequest& request) const {
  const std::string state =
      absl::AsciiStrToLower(FormValue(request.query, "state"));
  const std::string pool = FormValue(request.query, "scrapePool");
  const bool show_active = state.empty() || state == "any" || state == "active";
  const bool show_dropped =
      state.empty() || state == "any" || state == "dropped";
  std::vector<TargetStatus> targets;
  if (options_.targets) targets = options_.targets();
  std::stable_sort(targets.begin(), targets.end(),
                   [](const TargetStatus& a, const TargetStatus& b) {
                     return a.scrape_pool < b.scrape_pool;
                   });
  const int web_port = options_.web_port ? options_.web_port() : 0;
  // Per target: series another group member serves, and series lost to a
  // conflict with a target outside the group (one pass over the store).
  MergeStats merge;
  if (show_active && options_.store != nullptr) {
    merge = ComputeMergeStats(*options_.store->Snapshot());
  }

  ApiResponse res;
  JsonWriter w(&res.body);
  BeginSuccess(w);
  w.BeginObject();
  w.Key("activeTargets");
  w.BeginArray();
  if (show_active) {
    for (const TargetStatus& t : targets) {
      if (!pool.empty() && t.scrape_pool != pool) continue;
      w.BeginObject();
      w.Key("discoveredLabels");
      WriteLabels(w, t.discovered_labels);
      w.Key("labels");
      WriteLabels(w, t.labels);
      w.Key("scrapePool");
      w.String(t.scrape_pool);
      w.Key("scrapeUrl");
      w.String(t.scrape_url);
      w.Key("globalUrl");
      w.String(GlobalUrl(t.scrape_url, options_.hostname, web_port));
      w.Key("lastError");
      w.String(t.last_error);
      w.Key("lastScrape");
      w.String(FormatRfc3339Nano(t.last_scrape));
      w.Key("lastScrapeDuration");
      w.Float(GoSeconds(t.last_scrape_duration));
      w.Key("health");
      w.String(TargetHealthName(t.health));
      w.Key("scrapeInterval");
      w.String(FormatPrometheusDuration(t.scrape_interval));
      w.Key("scrapeTimeout");
      w.String(FormatPrometheusDuration(t.scrape_timeout));
      // fedgate's own (docs/api.md): the target's dedup group, whether it
      // leads it, and how many of its series are not served and why.
      w.Key("dedupGroup");
      w.String(t.dedup_group);
      w.Key("dedupLeader");
      w.Bool(t.dedup_leader);
      MergeStats::PerTarget counts;
      if (auto it = merge.targets.find(t.id); it != merge.targets.end()) {
        counts = it->second;
      }
      w.Key("deduplicatedSeries");
      w.Int(static_cast<int64_t>(counts.deduplicated));
      w.Key("conflictingSeries");
      w.Int(static_cast<int64_t>(counts.conflicting));
      w.EndObject();
    }
  }
  w.EndArray();
  w.Key("droppedTargets");
  w.BeginArray();
  if (show_dropped && options_.dropped_targets) {
    std::vector<DroppedTarget> dropped = options_.dropped_targets();
    // Pools by name; inside a pool, configuration order.
    std::stable_sort(dropped.begin(), dropped.end(),
                     [](const DroppedTarget& a, const DroppedTarget& b) {
                       return a.scrape_pool < b.scrape_pool;
                     });
    for (const DroppedTarget& t : dropped) {
      if (!pool.empty() && t.scrape_pool != pool) continue;
      w.BeginObject();
      w.Key("discoveredLabels");
      WriteLabels(w, t.discovered_labels);
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return res;
}

ApiResponse ApiHandler::StatusConfig() const {
  std::shared_ptr<const Config> config;
  if (options_.config) config = options_.config();
  const std::string yaml = PrintConfigYaml(config ? *config : Config());
  ApiResponse res;
  JsonWriter w(&res.body);
  BeginSuccess(w);
  w.BeginObject();
  w.Key("yaml");
  w.String(yaml);
  w.EndObject();
  w.EndObject();
  return res;
}

ApiResponse ApiHandler::StatusBuildInfo() const {
  const BuildInfo& b = options_.build_info;
  ApiResponse res;
  JsonWriter w(&res.body);
  BeginSuccess(w);
  w.BeginObject();
  // Prometheus's order and names.
  const std::pair<const char*, const std::string*> fields[] = {
      {"version", &b.version},      {"revision", &b.revision},
      {"branch", &b.branch},        {"buildUser", &b.build_user},
      {"buildDate", &b.build_date}, {"goVersion", &b.go_version},
  };
  for (const auto& [key, value] : fields) {
    w.Key(key);
    w.String(*value);
  }
  w.EndObject();
  w.EndObject();
  return res;
}

}  // namespace fedgate
