// tests/fuzz/http_request_fuzzer.cc
//
// libFuzzer target: the request path of /federate and /api/v1 above the
// socket. The input is a raw HTTP/1.1 request (request line, headers, blank
// line, body). The request line and headers are split at spaces, CRLFs and
// colons (their real parsing is libmicrohttpd's, not fedgate's), the path
// is decoded by libmicrohttpd's MHD_http_unescape, then the request goes
// through what gateway/http_server.cc does with it: the query and the form
// body decoded by ParseUrlEncoded (gateway/url_form.h); /federate's match[]
// parsed by ParseFederateParams, its format and encoding negotiated and its
// answer written (and compressed) over a small fixed store; /api/v1
// answered by ApiHandler. The glue follows HttpServer::Federate and
// HttpServer::Api, which are private to the server. Checks: every answer
// has a status fedgate uses (200, 204, 400, 404, 405, 422), never a 5xx but
// Prometheus's 500 for DELETE /api/v1/series; every answer body is drained
// to its end; every JSON answer is valid JSON whose `status` agrees with
// the HTTP one.

// clang-format off
// First: RapidJSON must be declared inside its no_sanitize scope.
#include "bazel/rapidjson.h"
// clang-format on

#include <microhttpd.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gateway/api_handler.h"
#include "gateway/federate_handler.h"
#include "gateway/url_form.h"
#include "gateway/writers/content_negotiation.h"
#include "gateway/writers/response_body.h"
#include "gateway/writers/response_compression.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/query/series_query.h"
#include "merge/series_store.h"
#include "tests/fuzz/fuzz_checks.h"

namespace fedgate {
namespace {

constexpr int64_t kNowMs = 1795630035000;
constexpr absl::string_view kApiPrefix = "/api/v1";

// A raw request split into its parts.
struct RawRequest {
  std::string method;
  std::string path;  // URL-decoded, without the query.
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string Header(absl::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (absl::EqualsIgnoreCase(k, name)) return v;
    }
    return "";
  }
};

// Returns false for what libmicrohttpd answers 400 itself (no request line).
bool SplitRequest(absl::string_view input, RawRequest* request) {
  const size_t head_end = input.find("\r\n\r\n");
  const absl::string_view head = input.substr(0, head_end);
  if (head_end != absl::string_view::npos) {
    request->body = std::string(input.substr(head_end + 4));
  }
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> words =
      absl::StrSplit(lines[0], ' ', absl::SkipEmpty());
  if (words.size() < 2) return false;
  request->method = std::string(words[0]);
  const absl::string_view target = words[1];
  const size_t question = target.find('?');
  // Decoded by libmicrohttpd itself, as the server gets it (a C string: a
  // NUL ends it).
  request->path = std::string(target.substr(0, question));
  request->path.resize(MHD_http_unescape(request->path.data()));
  if (question != absl::string_view::npos) {
    request->query = ParseUrlEncoded(target.substr(question + 1));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) return false;
    request->headers.emplace_back(
        std::string(lines[i].substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  return true;
}

// Returns the whole body of `chunks`.
std::string Drain(BodyChunks& chunks) {
  std::string out;
  while (chunks(&out)) {
  }
  return out;
}

struct Answer {
  int status = 200;
  std::string content_type;
  std::string body;
};

SeriesStore& Store() {
  static SeriesStore* const store = [] {
    auto* s = new SeriesStore;
    auto batch = std::make_shared<ScrapeBatch>();
    batch->timestamp_ms = kNowMs;
    const Labels series[] = {
        {{"__name__", "up"}, {"job", "node"}, {"instance", "a:9100"}},
        {{"__name__", "up"}, {"job", "node"}, {"instance", "b:9100"}},
        {{"__name__", "http_requests_total"},
         {"code", "200"},
         {"path", "/x\"y\\z\n"}},
        {{"__name__", "rpc_duration_seconds_bucket"}, {"le", "+Inf"}},
        {{"__name__", "weird"}, {"v", "ls\u2028<&>"}},
    };
    double value = 0;
    for (const Labels& labels : series) {
      batch->Add(InternedLabels::Intern(labels), value, kNowMs - 1000);
      value += 1.5;
    }
    s->Publish(1, batch);
    return s;
  }();
  return *store;
}

Answer Federate(const RawRequest& request) {
  std::vector<std::string> matches;
  for (const auto& [name, value] : request.query) {
    if (name == "match[]") matches.push_back(value);
  }
  absl::StatusOr<FederateParams> params =
      ParseFederateParams(matches, MatchLimits());
  if (!params.ok()) return {400, "text/plain", ""};
  params->window = LookbackWindow(kNowMs);
  params->max_series = 3;
  const ExpositionFormat format = NegotiateFormat(request.Header("Accept"));
  const ContentEncoding encoding =
      NegotiateEncoding(request.Header("Accept-Encoding"));
  absl::StatusOr<BodyChunks> body =
      FederationBody(Store().Snapshot(), *params, {{"fleet", "eu"}}, format);
  if (!body.ok()) return {422, "text/plain", ""};
  Answer answer{200, std::string(ContentTypeOf(format)), ""};
  if (encoding == ContentEncoding::kIdentity) {
    answer.body = Drain(*body);
    return answer;
  }
  absl::StatusOr<std::unique_ptr<ResponseCompressor>> compressor =
      ResponseCompressor::Create(encoding);
  FuzzCheck(compressor.ok(), "the compressor did not start");
  BodyChunks compressed =
      CompressedBody(*std::move(body), *std::move(compressor));
  Drain(compressed);
  return answer;
}

Answer Api(const RawRequest& request, const ApiHandler& handler) {
  ApiRequest api_request;
  api_request.method = request.method;
  api_request.path = request.path.substr(kApiPrefix.size());
  api_request.origin = request.Header("Origin");
  const bool keep_body = (request.method == "POST" || request.method == "PUT" ||
                          request.method == "PATCH") &&
                         absl::StartsWith(request.Header("Content-Type"),
                                          "application/x-www-form-urlencoded");
  if (keep_body) api_request.form = ParseUrlEncoded(request.body);
  for (const auto& [k, v] : request.query) {
    api_request.form.emplace_back(k, v);
    api_request.query.emplace_back(k, v);
  }
  ApiResponse response = handler.Handle(api_request);
  Answer answer{response.status, response.content_type,
                std::move(response.body)};
  if (response.body_chunks) answer.body += Drain(response.body_chunks);
  return answer;
}

void Run(absl::string_view input) {
  RawRequest request;
  if (!SplitRequest(input, &request)) return;
  static const ApiHandler* const handler = [] {
    ApiOptions options;
    options.store = &Store();
    options.hostname = "fuzz";
    options.now = [] { return absl::FromUnixMillis(kNowMs); };
    options.max_series = 3;
    return new ApiHandler(std::move(options));
  }();
  Answer answer;
  if (request.path == "/federate") {
    if (request.method != "GET" && request.method != "HEAD") return;  // 405
    answer = Federate(request);
  } else if (request.path == kApiPrefix ||
             absl::StartsWith(request.path, "/api/v1/")) {
    answer = Api(request, *handler);
  } else {
    return;  // 404 from the server's own routes.
  }
  const int s = answer.status;
  // DELETE /api/v1/series is Prometheus 2.42's 500 "not implemented".
  const bool delete_series =
      request.method == "DELETE" && request.path == "/api/v1/series";
  FuzzCheck(s == 200 || s == 204 || s == 400 || s == 404 || s == 405 ||
                s == 422 || (s == 500 && delete_series),
            "an answer with a status fedgate must not give");
  if (answer.content_type == "application/json" && s != 204) {
    rapidjson::Document doc;
    doc.Parse(answer.body.data(), answer.body.size());
    FuzzCheck(!doc.HasParseError(), "a JSON answer that does not parse");
    FuzzCheck(
        doc.IsObject() && doc.HasMember("status") && doc["status"].IsString(),
        "a JSON answer without a status");
    const bool success =
        absl::string_view(doc["status"].GetString()) == "success";
    FuzzCheck(success == (s == 200), "the JSON status and the HTTP one differ");
  }
}

}  // namespace
}  // namespace fedgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fedgate::Run(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
