// scraper/curl_request_options.h
//
// How a request is sent with a config's HTTP client settings (config.h
// HttpClientConfig, as prometheus/common applies them), for every libcurl
// transfer fedgate makes: scrapes (HttpClient) and the Kubernetes API's
// lists and watches (kubernetes_api_client.h). One place sets TLS (CA,
// client certificate, server_name, insecure_skip_verify, min/max version),
// proxy_url (proxies from the environment are never used, as in Prometheus
// 2.42), follow_redirects (at most 10, Go's limit), enable_http2 (HTTP/2
// only where TLS offers it, as Go's transport), and the request headers;
// and one place reads a response's status line.
//
// Called once per request when its transfer is set up; not per byte.
//
// Thread-safety: a CurlRequestOptions belongs to one transfer and is used by
// the thread that runs it; the functions are pure.

#ifndef FEDGATE_SCRAPER_CURL_REQUEST_OPTIONS_H_
#define FEDGATE_SCRAPER_CURL_REQUEST_OPTIONS_H_

#include <curl/curl.h>

#include <string>

#include "absl/strings/string_view.h"
#include "config/config.h"

namespace fedgate {

// Initializes libcurl for the process once (curl_global_init); every
// client calls it before its first handle. Never cleaned up:
// curl_global_cleanup is not thread-safe, and clients live until exit.
void InitCurlOnce();

// The libcurl options of one request, and what they point at while the
// transfer runs (curl keeps pointers to the header lists).
class CurlRequestOptions {
 public:
  CurlRequestOptions() = default;
  ~CurlRequestOptions();
  CurlRequestOptions(const CurlRequestOptions&) = delete;
  CurlRequestOptions& operator=(const CurlRequestOptions&) = delete;

  // Adds a request header line (`Accept: application/json`); call before
  // Apply().
  void AddHeader(absl::string_view line);

  // Sets on `easy`: the URL (for a tls_config.server_name other than the
  // URL's host, the URL names server_name, so curl verifies it and sends it
  // as SNI, while CURLOPT_CONNECT_TO still dials the real host and the Host
  // header keeps it, as Go does), the headers, and the TLS, proxy, redirect,
  // HTTP version and protocol settings of `config`. Files named by `config`
  // are read by curl when the transfer connects.
  void Apply(CURL* easy, const std::string& url,
             const HttpClientConfig& config);

 private:
  curl_slist* headers_ = nullptr;
  curl_slist* connect_to_ = nullptr;
  std::string url_;  // The URL curl is given (rerouted for server_name).
};

// The status line of a transfer's answer, filled by its header callback:
//   curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &HttpStatusLine::OnHeader);
//   curl_easy_setopt(easy, CURLOPT_HEADERDATA, &status_line);
// Redirects and 1xx answers come first: the last status line is the answer's.
struct HttpStatusLine {
  int code = 0;
  std::string reason;

  static size_t OnHeader(char* data, size_t size, size_t n, void* self);
};

// Reads a status line (`HTTP/1.1 500 Internal Server Error`, `HTTP/2 500 `)
// from a header callback's line: its code and reason. Returns false for any
// other header line.
bool ParseHttpStatusLine(absl::string_view line, int* code,
                         std::string* reason);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_CURL_REQUEST_OPTIONS_H_
