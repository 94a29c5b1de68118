#include "scraper/http_client.h"

#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/base/call_once.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace fedgate {
namespace {

// Easy handles kept for reuse. Scrapes take milliseconds, so even thousands
// of targets have few transfers at once; a handle holds ~30 KiB of buffers.
constexpr size_t kMaxFreeEasyHandles = 64;
// How long curl_multi_poll sleeps when nothing happens; any new request or
// Shutdown() wakes it earlier.
constexpr int kPollTimeoutMs = 1000;

// Go's http.StatusText, for status lines without a reason phrase (HTTP/2).
absl::string_view StatusText(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

// Go's syscall error strings for the connect failures worth spelling out.
absl::string_view ConnectErrorText(long os_errno) {
  switch (os_errno) {
    case ECONNREFUSED:
      return "connection refused";
    case EHOSTUNREACH:
      return "no route to host";
    case ENETUNREACH:
      return "network is unreachable";
    case ECONNRESET:
      return "connection reset by peer";
    default:
      return "";
  }
}

// Formats like Go's strconv.FormatFloat(seconds, 'f', -1, 64) for whole
// nanoseconds: `10`, `0.5`, `1.25`.
std::string FormatSeconds(absl::Duration d) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  std::string out = absl::StrCat(ns / 1000000000);
  if (const int64_t frac = ns % 1000000000; frac != 0) {
    std::string digits = absl::StrFormat("%09d", frac);
    digits.erase(digits.find_last_not_of('0') + 1);
    absl::StrAppend(&out, ".", digits);
  }
  return out;
}

// Returns `host:port` of the URL `easy` last tried (`[::1]:80` for IPv6),
// or "" if it cannot be parsed. curl does not report the address of a
// connect that failed, so this is the URL's host, which Go would resolve.
std::string HostPort(CURL* easy) {
  char* effective = nullptr;
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective == nullptr) return "";
  CURLU* url = curl_url();
  std::string out;
  char* host = nullptr;
  char* port = nullptr;
  if (curl_url_set(url, CURLUPART_URL, effective, 0) == CURLUE_OK &&
      curl_url_get(url, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
          CURLUE_OK) {
    out = absl::StrCat(host, ":", port);
  }
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(url);
  return out;
}

// Caps `wanted` to half the descriptors the process may open, so that kept
// connections never starve the rest (the store, the HTTP server, new
// connects). Raise RLIMIT_NOFILE to keep one connection per target.
size_t MaxIdleConnections(size_t wanted) {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 ||
      limit.rlim_cur == RLIM_INFINITY) {
    return wanted;
  }
  return std::max<size_t>(1, std::min<size_t>(wanted, limit.rlim_cur / 2));
}

void InitCurlOnce() {
  static absl::once_flag once;
  // Never cleaned up: curl_global_cleanup is not thread-safe, and the
  // process keeps its client until exit.
  absl::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct HttpClient::Transfer {
  HttpRequest request;
  HttpCallback done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  size_t active_index = 0;
  // The last status line seen (redirects and 1xx come first).
  int status_code = 0;
  std::string reason;
  std::string body;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() { curl_slist_free_all(headers); }

  static size_t OnHeader(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    absl::string_view line(data, size * n);
    if (absl::StartsWith(line, "HTTP/")) {
      // `HTTP/1.1 500 Internal Server Error\r\n`, or `HTTP/2 500 \r\n`.
      line = absl::StripTrailingAsciiWhitespace(line);
      const size_t sp = line.find(' ');
      absl::string_view rest =
          sp == absl::string_view::npos ? "" : line.substr(sp + 1);
      const size_t sp2 = rest.find(' ');
      int code = 0;
      if (absl::SimpleAtoi(rest.substr(0, sp2), &code)) {
        t->status_code = code;
        t->reason =
            sp2 == absl::string_view::npos
                ? ""
                : std::string(absl::StripAsciiWhitespace(rest.substr(sp2 + 1)));
      }
    }
    return size * n;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    // Other answers fail the scrape; their bodies are read but not kept.
    if (t->status_code == 200) t->body.append(data, size * n);
    return size * n;
  }
};

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(
    Options options) {
  InitCurlOnce();
  std::unique_ptr<HttpClient> client(new HttpClient(std::move(options)));
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) {
    return absl::InternalError("curl_multi_init failed");
  }
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(MaxIdleConnections(
                        client->options_.max_idle_connections)));
  client->multi_ = multi;
  client->io_thread_ = std::thread([c = client.get()] { c->Run(); });
  return client;
}

HttpClient::HttpClient(Options options) : options_(std::move(options)) {}

HttpClient::~HttpClient() { Shutdown(); }

void HttpClient::Fetch(HttpRequest request, HttpCallback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  {
    absl::MutexLock lock(&mu_);
    if (!shutting_down_) {
      queue_.push_back(std::move(transfer));
      ++in_flight_;
    }
  }
  if (transfer != nullptr) {  // Not queued: shutting down.
    transfer->done(absl::CancelledError("HTTP client is shutting down"));
    return;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void HttpClient::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  if (!io_thread_.joinable()) return;
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  io_thread_.join();
  for (void* easy : free_easy_) curl_easy_cleanup(static_cast<CURL*>(easy));
  free_easy_.clear();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
  multi_ = nullptr;
}

size_t HttpClient::InFlight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

void HttpClient::Run() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  while (StartQueued()) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &pending)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* transfer = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &transfer);
      const CURLcode code = msg->data.result;
      Finish(transfer, Outcome(transfer, code));
    }
    // Returns when a socket is ready, when curl's own timers (timeouts)
    // are due, after kPollTimeoutMs, or at once after curl_multi_wakeup().
    curl_multi_poll(multi, nullptr, 0, kPollTimeoutMs, nullptr);
  }
  // Shutting down: abort what is in flight, then what is still queued.
  while (!active_.empty()) {
    Finish(active_.back().get(),
           absl::CancelledError("HTTP client is shutting down"));
  }
  std::deque<std::unique_ptr<Transfer>> queued;
  {
    absl::MutexLock lock(&mu_);
    queued.swap(queue_);
    in_flight_ -= queued.size();
  }
  for (std::unique_ptr<Transfer>& transfer : queued) {
    transfer->done(absl::CancelledError("HTTP client is shutting down"));
  }
}

bool HttpClient::StartQueued() {
  std::deque<std::unique_ptr<Transfer>> queued;
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return false;
    queued.swap(queue_);
  }
  for (std::unique_ptr<Transfer>& transfer : queued) {
    transfer->easy = static_cast<CURL*>(SetUpEasy(transfer.get()));
    transfer->active_index = active_.size();
    curl_multi_add_handle(static_cast<CURLM*>(multi_), transfer->easy);
    active_.push_back(std::move(transfer));
  }
  return true;
}

void* HttpClient::SetUpEasy(Transfer* t) {
  CURL* easy;
  if (free_easy_.empty()) {
    easy = curl_easy_init();
  } else {
    easy = static_cast<CURL*>(free_easy_.back());
    free_easy_.pop_back();
    curl_easy_reset(easy);
  }
  const HttpRequest& r = t->request;
  t->body.reserve(r.body_size_hint + r.body_size_hint / 16 + 4096);
  t->headers = curl_slist_append(
      t->headers, absl::StrCat("Accept: ", kScrapeAcceptHeader).c_str());
  t->headers = curl_slist_append(
      t->headers, absl::StrCat("X-Prometheus-Scrape-Timeout-Seconds: ",
                               FormatSeconds(r.timeout))
                      .c_str());
  curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  // Sends `Accept-Encoding: gzip` and gunzips what comes back.
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(r.timeout)));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);  // Go's limit.
  // "" disables proxies, also those named by http_proxy and friends.
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(
      easy, CURLOPT_MAXAGE_CONN,
      static_cast<long>(absl::ToInt64Seconds(options_.max_idle_time)));
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  return easy;
}

absl::StatusOr<HttpResponse> HttpClient::Outcome(Transfer* t, int curl_code) {
  const std::string& url = t->request.url;
  CURL* easy = t->easy;
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OK:
      break;
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(
          absl::StrCat("Get \"", url, "\": context deadline exceeded"));
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      const absl::string_view text = ConnectErrorText(os_errno);
      if (std::string address = HostPort(easy);
          !text.empty() && !address.empty()) {
        return absl::UnavailableError(absl::StrCat(
            "Get \"", url, "\": dial tcp ", address, ": connect: ", text));
      }
      [[fallthrough]];
    }
    default: {
      const absl::string_view detail =
          t->error[0] != '\0' ? absl::string_view(t->error)
                              : absl::string_view(curl_easy_strerror(
                                    static_cast<CURLcode>(curl_code)));
      return absl::UnavailableError(
          absl::StrCat("Get \"", url, "\": ", absl::StripSuffix(detail, "\n")));
    }
  }
  long code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) {
    const absl::string_view reason =
        t->status_code == code && !t->reason.empty()
            ? absl::string_view(t->reason)
            : StatusText(code);
    return absl::UnavailableError(absl::StrCat("server returned HTTP status ",
                                               code, reason.empty() ? "" : " ",
                                               reason));
  }
  HttpResponse response;
  response.status_code = static_cast<int>(code);
  char* content_type = nullptr;
  curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
  if (content_type != nullptr) response.content_type = content_type;
  long connects = 0;
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
  response.new_connections = static_cast<int>(connects);
  response.body = std::move(t->body);
  return response;
}

void HttpClient::Finish(Transfer* t, absl::StatusOr<HttpResponse> result) {
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);
  if (free_easy_.size() < kMaxFreeEasyHandles) {
    free_easy_.push_back(t->easy);
  } else {
    curl_easy_cleanup(t->easy);
  }
  t->easy = nullptr;
  // Swap-remove from the active list; the transfer is ours from here on.
  const size_t index = t->active_index;
  std::unique_ptr<Transfer> owned = std::move(active_[index]);
  if (index + 1 != active_.size()) {
    active_[index] = std::move(active_.back());
    active_[index]->active_index = index;
  }
  active_.pop_back();
  {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }
  owned->done(std::move(result));
}

}  // namespace fedgate
