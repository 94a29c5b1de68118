#include "scraper/curl_request_options.h"

#include <cstdint>
#include <string>

#include "absl/base/call_once.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace fedgate {
namespace {

// Go's TLS version numbers and curl's minimum and maximum settings for
// them; an unset minimum is Go's client default, TLS 1.2, and an unset
// maximum is none.
struct TlsVersion {
  uint16_t go;
  long curl_min;
  long curl_max;
};
constexpr TlsVersion kTlsVersions[] = {
    {0x0301, CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_0},
    {0x0302, CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_MAX_TLSv1_1},
    {0x0303, CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_2},
    {0x0304, CURL_SSLVERSION_TLSv1_3, CURL_SSLVERSION_MAX_TLSv1_3},
};
long CurlTlsVersions(uint16_t min, uint16_t max) {
  long curl_min = CURL_SSLVERSION_TLSv1_2;
  long curl_max = CURL_SSLVERSION_MAX_DEFAULT;
  for (const TlsVersion& v : kTlsVersions) {
    if (v.go == min) curl_min = v.curl_min;
    if (v.go == max) curl_max = v.curl_max;
  }
  return curl_min | curl_max;
}

// For a `server_name` that differs from the URL's host: the URL with the
// host replaced, the CURLOPT_CONNECT_TO entry that still connects to the
// real host and port, and the real `host:port` for the Host header.
struct ServerNameRoute {
  std::string url;
  std::string connect_to;
  std::string host_header;
};
bool RouteForServerName(const std::string& url, const std::string& server_name,
                        ServerNameRoute* route) {
  CURLU* u = curl_url();
  char* host = nullptr;
  char* port = nullptr;
  char* explicit_port = nullptr;
  char* rewritten = nullptr;
  bool ok =
      curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
  if (ok) {
    const bool has_port =
        curl_url_get(u, CURLUPART_PORT, &explicit_port, 0) == CURLUE_OK;
    route->host_header =
        has_port ? absl::StrCat(host, ":", explicit_port) : std::string(host);
    route->connect_to =
        absl::StrCat(server_name, ":", port, ":", host, ":", port);
    ok = curl_url_set(u, CURLUPART_HOST, server_name.c_str(), 0) == CURLUE_OK &&
         curl_url_get(u, CURLUPART_URL, &rewritten, 0) == CURLUE_OK;
    if (ok) route->url = rewritten;
  }
  curl_free(host);
  curl_free(port);
  curl_free(explicit_port);
  curl_free(rewritten);
  curl_url_cleanup(u);
  return ok;
}

}  // namespace

void InitCurlOnce() {
  static absl::once_flag once;
  absl::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlRequestOptions::~CurlRequestOptions() {
  curl_slist_free_all(headers_);
  curl_slist_free_all(connect_to_);
}

void CurlRequestOptions::AddHeader(absl::string_view line) {
  headers_ = curl_slist_append(headers_, std::string(line).c_str());
}

void CurlRequestOptions::Apply(CURL* easy, const std::string& url,
                               const HttpClientConfig& config) {
  const TlsConfig& tls = config.tls_config;
  url_ = url;
  ServerNameRoute route;
  if (!tls.server_name.empty() && absl::StartsWithIgnoreCase(url, "https:") &&
      RouteForServerName(url, tls.server_name, &route)) {
    url_ = route.url;
    connect_to_ = curl_slist_append(connect_to_, route.connect_to.c_str());
    curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect_to_);
    AddHeader(absl::StrCat("Host: ", route.host_header));
  }
  curl_easy_setopt(easy, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_);
  if (!tls.ca_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, tls.ca_file.c_str());
  }
  if (!tls.cert_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_SSLCERT, tls.cert_file.c_str());
  }
  if (!tls.key_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_SSLKEY, tls.key_file.c_str());
  }
  if (tls.insecure_skip_verify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(easy, CURLOPT_SSLVERSION,
                   CurlTlsVersions(tls.min_version, tls.max_version));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION,
                   config.follow_redirects ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);  // Go's limit.
  curl_easy_setopt(
      easy, CURLOPT_HTTP_VERSION,
      config.enable_http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  // "" disables proxies, also those named by http_proxy and friends.
  curl_easy_setopt(easy, CURLOPT_PROXY, config.proxy_url.c_str());
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
}

size_t HttpStatusLine::OnHeader(char* data, size_t size, size_t n, void* self) {
  auto* status = static_cast<HttpStatusLine*>(self);
  ParseHttpStatusLine(absl::string_view(data, size * n), &status->code,
                      &status->reason);
  return size * n;
}

bool ParseHttpStatusLine(absl::string_view line, int* code,
                         std::string* reason) {
  if (!absl::StartsWith(line, "HTTP/")) return false;
  line = absl::StripTrailingAsciiWhitespace(line);
  const size_t sp = line.find(' ');
  absl::string_view rest =
      sp == absl::string_view::npos ? "" : line.substr(sp + 1);
  const size_t sp2 = rest.find(' ');
  int parsed = 0;
  if (!absl::SimpleAtoi(rest.substr(0, sp2), &parsed)) return false;
  *code = parsed;
  *reason = sp2 == absl::string_view::npos
                ? ""
                : std::string(absl::StripAsciiWhitespace(rest.substr(sp2 + 1)));
  return true;
}

}  // namespace fedgate
