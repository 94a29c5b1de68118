#include "scraper/http_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/types/span.h"
#include "scraper/curl_request_options.h"
#include "scraper/monotonic_clock.h"
#include "scraper/request_authorization.h"
#include "scraper/thread_name.h"

namespace fedgate {
namespace {

// Easy handles kept for reuse. Scrapes take milliseconds, so even thousands
// of targets have few transfers at once; a handle holds its receive buffer
// and ~10 KiB more.
constexpr size_t kMaxFreeEasyHandles = 16;
// libcurl's receive buffer (its default is 16 KiB). Each read of a body
// costs a recv() and a poll() for more data; bodies are tens to hundreds of
// KiB, so a larger buffer reads them in fewer calls.
constexpr long kReceiveBufferBytes = 128 * 1024;
// How long epoll_wait sleeps when no curl timer is due; any new request or
// Shutdown() wakes it earlier.
constexpr int kPollTimeoutMs = 1000;
// Events taken per epoll_wait.
constexpr int kMaxEvents = 256;
// The epoll tag of the wake-up eventfd (sockets are tagged with their fd).
constexpr uint64_t kWakeTag = ~uint64_t{0};
// No curl timer pending.
constexpr int64_t kNoDeadline = -1;

// The client whose I/O thread this is (null on other threads): Fetch() from
// a callback or timer needs no wake-up.
thread_local const HttpClient* io_thread_client = nullptr;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A number (an HTTP status, an errno) and how Go spells it.
struct NumberText {
  long number;
  absl::string_view text;
};

// Returns the text of `number` in `table`, or "" if it has none.
absl::string_view TextOf(absl::Span<const NumberText> table, long number) {
  for (const NumberText& entry : table) {
    if (entry.number == number) return entry.text;
  }
  return "";
}

// Go's http.StatusText, for status lines without a reason phrase (HTTP/2).
absl::string_view StatusText(int code) {
  static constexpr NumberText kTexts[] = {
      {200, "OK"},
      {204, "No Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {304, "Not Modified"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {408, "Request Timeout"},
      {429, "Too Many Requests"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
  };
  return TextOf(kTexts, code);
}

// Go's syscall error strings for the connect failures worth spelling out.
absl::string_view ConnectErrorText(long os_errno) {
  static constexpr NumberText kTexts[] = {
      {ECONNREFUSED, "connection refused"},
      {EHOSTUNREACH, "no route to host"},
      {ENETUNREACH, "network is unreachable"},
      {ECONNRESET, "connection reset by peer"},
  };
  return TextOf(kTexts, os_errno);
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

// Caps `wanted` to a sixth of the descriptors the process may open, so that
// kept connections (at most 5x this in all, see Create) never starve the
// rest (the store, the HTTP server, new connects). Raise RLIMIT_NOFILE to
// keep one connection per target.
size_t MaxIdleConnections(size_t wanted) {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 ||
      limit.rlim_cur == RLIM_INFINITY) {
    return std::max<size_t>(1, wanted);
  }
  return std::max<size_t>(1, std::min<size_t>(wanted, limit.rlim_cur / 6));
}

// Returns the `host:port` part of `url` (what lies between `://` and the
// path), which picks a transfer's pool.
absl::string_view Authority(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end != absl::string_view::npos) url.remove_prefix(scheme_end + 3);
  return url.substr(0, url.find_first_of("/?#"));
}

}  // namespace

struct HttpClient::Transfer {
  HttpRequest request;
  HttpCallback done;
  // `Authorization` value (secret: never logged), "" for none.
  std::string authorization;
  CURL* easy = nullptr;
  CurlRequestOptions options;  // URL, headers, TLS... while it runs.
  bool body_limit_exceeded = false;
  size_t active_index = 0;
  // The last status line seen (redirects and 1xx come first).
  HttpStatusLine status;
  std::string body;
  char error[CURL_ERROR_SIZE] = {};

  static size_t OnBody(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    // Other answers fail the scrape; their bodies are read but not kept.
    if (t->status.code != 200) return size * n;
    // Prometheus reads at most `limit` bytes and fails when it got that
    // many; stopping here keeps a huge or gzip-bombed body out of memory.
    const int64_t limit = t->request.body_size_limit;
    if (limit > 0 && static_cast<int64_t>(t->body.size() + size * n) >= limit) {
      t->body_limit_exceeded = true;
      return 0;  // Aborts the transfer with CURLE_WRITE_ERROR.
    }
    t->body.append(data, size * n);
    return size * n;
  }
};

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(
    Options options) {
  InitCurlOnce();
  std::unique_ptr<HttpClient> client(new HttpClient(std::move(options)));
  client->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  client->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event wake = {};
  wake.events = EPOLLIN;
  wake.data.u64 = kWakeTag;
  if (client->epoll_fd_ < 0 || client->wake_fd_ < 0 ||
      epoll_ctl(client->epoll_fd_, EPOLL_CTL_ADD, client->wake_fd_, &wake) !=
          0) {
    return absl::InternalError(
        absl::StrCat("cannot set up epoll: ", std::strerror(errno)));
  }
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) {
    return absl::InternalError("curl_multi_init failed");
  }
  client->multi_ = multi;
  const size_t max_idle =
      MaxIdleConnections(client->options_.max_idle_connections);
  // Each pool's share of the limit is at least 4 connections. Host:ports
  // do not hash evenly, so a pool may keep 3x its share + 8 (libcurl
  // applies the multi handle's limit to each share's cache): with as many
  // targets as `max_idle`, the fullest pool then stays below its
  // limit (Poisson), and in all at most 3 x max_idle + 8 x pools <=
  // 5 x max_idle connections are kept.
  const size_t pools = std::clamp<size_t>(client->options_.connection_pools, 1,
                                          std::max<size_t>(1, max_idle / 4));
  client->pools_.assign(pools, nullptr);
  const size_t per_pool = (max_idle + pools - 1) / pools;
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(3 * per_pool + 8));
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &HttpClient::OnSocket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, client.get());
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &HttpClient::OnTimer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, client.get());
  client->io_thread_ = std::thread([c = client.get()] {
    NameCurrentThread("scrape-io");
    c->Run();
  });
  return client;
}

HttpClient::HttpClient(Options options) : options_(std::move(options)) {}

HttpClient::~HttpClient() {
  Shutdown();
  // Here, not in Shutdown(): a client whose Create() failed has no thread.
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
  for (void* pool : pools_) curl_share_cleanup(static_cast<CURLSH*>(pool));
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void HttpClient::Wake() {
  const uint64_t one = 1;
  // Fails only with EAGAIN, when the counter is already huge: it still
  // wakes the thread.
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof(one));
}

// Mirrors what curl wants to wait for on `fd` into the epoll set. Kept
// connections are removed from it while idle.
int HttpClient::OnSocket(void*, int fd, int what, void* self,
                         void* socket_data) {
  auto* client = static_cast<HttpClient*>(self);
  if (what == CURL_POLL_REMOVE) {
    // Fails harmlessly if curl has already closed the socket.
    epoll_ctl(client->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event event = {};
  event.events = ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0u) |
                 ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0u);
  event.data.u64 = static_cast<uint32_t>(fd);
  // curl keeps `socket_data` (set below) until it calls with
  // CURL_POLL_REMOVE, so it tells whether `fd` is in the set already.
  if (socket_data != nullptr) {
    epoll_ctl(client->epoll_fd_, EPOLL_CTL_MOD, fd, &event);
    return 0;
  }
  if (epoll_ctl(client->epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0 &&
      errno == EEXIST) {
    epoll_ctl(client->epoll_fd_, EPOLL_CTL_MOD, fd, &event);
  }
  curl_multi_assign(static_cast<CURLM*>(client->multi_), fd, client);
  return 0;
}

// Remembers when curl wants its timers run; Run() does it (curl must not be
// called back from here).
int HttpClient::OnTimer(void*, long timeout_ms, void* self) {
  auto* client = static_cast<HttpClient*>(self);
  client->timer_deadline_ms_ =
      timeout_ms < 0 ? kNoDeadline : NowMs() + timeout_ms;
  return 0;
}

void HttpClient::Fetch(HttpRequest request, HttpCallback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  if (const HttpClientConfig* config = transfer->request.client_config.get();
      config != nullptr) {
    absl::StatusOr<std::string> authorization = AuthorizationValue(*config);
    if (!authorization.ok()) {
      transfer->done(absl::UnavailableError(
          absl::StrCat("Get \"", transfer->request.url,
                       "\": ", authorization.status().message())));
      return;
    }
    transfer->authorization = *std::move(authorization);
  }
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
  // On the I/O thread, Run() starts the queue before it waits again.
  if (io_thread_client != this) Wake();
}

void HttpClient::SetTimers(Timers* timers) {
  absl::MutexLock lock(&timers_mu_);
  timers_ = timers;
  // The I/O thread asks the new ones when they are due.
  if (timers != nullptr) Wake();
}

void HttpClient::RunTimers() {
  absl::MutexLock lock(&timers_mu_);
  if (timers_ == nullptr) {
    timers_due_ = absl::InfiniteFuture();
    return;
  }
  // The clock is read after RunDue(): never early.
  const absl::Duration wait = timers_->RunDue();
  timers_due_ = MonotonicNow() + wait;
}

int HttpClient::WaitForEvents(void* events, int max_events,
                              absl::Duration timeout) {
  auto* out = static_cast<epoll_event*>(events);
  timeout = std::max(timeout, absl::ZeroDuration());
  if (have_epoll_pwait2_) {
    const timespec ts = absl::ToTimespec(timeout);
    const int n = epoll_pwait2(epoll_fd_, out, max_events, &ts, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    have_epoll_pwait2_ = false;  // Before Linux 5.11.
  }
  // Whole milliseconds, rounded up: never early.
  return epoll_wait(epoll_fd_, out, max_events,
                    static_cast<int>(absl::ToInt64Milliseconds(
                        absl::Ceil(timeout, absl::Milliseconds(1)))));
}

void HttpClient::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  if (!io_thread_.joinable()) return;
  Wake();
  io_thread_.join();
  for (void* easy : free_easy_) curl_easy_cleanup(static_cast<CURL*>(easy));
  free_easy_.clear();
  // Calls OnSocket, so the epoll descriptor outlives it.
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
  multi_ = nullptr;
  // Closes the kept connections; no easy handle uses a pool any more.
  for (void*& pool : pools_) {
    curl_share_cleanup(static_cast<CURLSH*>(pool));
    pool = nullptr;
  }
}

size_t HttpClient::InFlight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

void HttpClient::Run() {
  io_thread_client = this;
  epoll_event events[kMaxEvents];
  RunTimers();
  while (StartQueued()) {
    absl::Duration wait = absl::Milliseconds(kPollTimeoutMs);
    if (timer_deadline_ms_ != kNoDeadline) {
      wait = std::min(wait, absl::Milliseconds(timer_deadline_ms_ - NowMs()));
    }
    if (timers_due_ != absl::InfiniteFuture()) {
      wait = std::min(wait, timers_due_ - MonotonicNow());
    }
    // Returns when a socket is ready, when curl's timers (connect and
    // transfer timeouts, starting new transfers) or ours are due, after
    // kPollTimeoutMs, or at once after Wake().
    const int n = WaitForEvents(events, kMaxEvents, wait);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeTag) {
        uint64_t count;
        [[maybe_unused]] const ssize_t r =
            read(wake_fd_, &count, sizeof(count));
        continue;
      }
      Act(static_cast<int>(events[i].data.u64), events[i].events);
    }
    if (timer_deadline_ms_ != kNoDeadline && timer_deadline_ms_ <= NowMs()) {
      // Cleared first: curl sets the next deadline from inside Act().
      timer_deadline_ms_ = kNoDeadline;
      Act(CURL_SOCKET_TIMEOUT, 0);
    }
    // After every wake-up: Wake() may mean that they changed.
    RunTimers();
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

void HttpClient::Act(int fd, uint32_t events) {
  CURLM* multi = static_cast<CURLM*>(multi_);
  int mask = 0;
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) mask |= CURL_CSELECT_IN;
  if ((events & (EPOLLOUT | EPOLLERR)) != 0) mask |= CURL_CSELECT_OUT;
  if ((events & EPOLLERR) != 0) mask |= CURL_CSELECT_ERR;
  int running = 0;
  curl_multi_socket_action(multi, fd, mask, &running);
  int pending = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &pending)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* transfer = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &transfer);
    const CURLcode code = msg->data.result;
    Finish(transfer, Outcome(transfer, code));
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
    // Sets curl's timer to now: Run() starts the transfer next.
    curl_multi_add_handle(static_cast<CURLM*>(multi_), transfer->easy);
    active_.push_back(std::move(transfer));
  }
  return true;
}

void* HttpClient::PoolFor(const HttpRequest& request) {
  const double phase = request.schedule_phase;
  const size_t index =
      phase >= 0 && phase < 1
          ? std::min(static_cast<size_t>(phase * pools_.size()),
                     pools_.size() - 1)
          : absl::Hash<absl::string_view>()(Authority(request.url)) %
                pools_.size();
  void*& pool = pools_[index];
  if (pool == nullptr) {
    CURLSH* share = curl_share_init();
    // Only connections: no DNS cache (see SetUpEasy), and TLS sessions stay
    // per easy handle as before. No lock functions: only the I/O thread
    // uses the pools.
    if (share != nullptr &&
        curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) !=
            CURLSHE_OK) {
      curl_share_cleanup(share);
      share = nullptr;
    }
    // Without a pool (out of memory) the multi handle's own cache is used.
    pool = share;
  }
  return pool;
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
  HttpRequest& r = t->request;
  t->body = std::move(r.body_buffer);
  t->body.clear();
  t->body.reserve(r.body_size_hint + r.body_size_hint / 16 + 4096);
  t->options.AddHeader(absl::StrCat("Accept: ", kScrapeAcceptHeader));
  t->options.AddHeader(absl::StrCat("X-Prometheus-Scrape-Timeout-Seconds: ",
                                    FormatSeconds(r.timeout)));
  static const HttpClientConfig* const kDefaults = new HttpClientConfig();
  const HttpClientConfig& config =
      r.client_config != nullptr ? *r.client_config : *kDefaults;
  if (!t->authorization.empty()) {
    t->options.AddHeader(absl::StrCat("Authorization: ", t->authorization));
  }
  t->options.Apply(easy, r.url, config);
  curl_easy_setopt(easy, CURLOPT_SHARE, PoolFor(r));
  curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  // Sends `Accept-Encoding: gzip` and gunzips what comes back.
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  // Whole milliseconds, rounded up and at least 1: curl reads 0 as "no
  // timeout", which a sub-millisecond (or non-positive) timeout must not be.
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(
                       1, absl::ToInt64Milliseconds(
                              absl::Ceil(r.timeout, absl::Milliseconds(1))))));
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  // No DNS cache, as in Prometheus (Go resolves at every dial). libcurl's is
  // keyed by host and port, so it held one entry per target and walked them
  // all on every transfer: with 5,000 targets that was a third of fedgate's
  // CPU (docs/performance.md). Connections are reused, so names are resolved
  // only when a connection is opened.
  curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  curl_easy_setopt(
      easy, CURLOPT_MAXAGE_CONN,
      static_cast<long>(absl::ToInt64Seconds(options_.max_idle_time)));
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &HttpStatusLine::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t->status);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  return easy;
}

absl::StatusOr<HttpResponse> HttpClient::Outcome(Transfer* t, int curl_code) {
  const std::string& url = t->request.url;
  CURL* easy = t->easy;
  if (t->body_limit_exceeded) {
    // Prometheus's errBodySizeLimit, not wrapped in the URL.
    return absl::ResourceExhaustedError("body size limit exceeded");
  }
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
        t->status.code == code && !t->status.reason.empty()
            ? absl::string_view(t->status.reason)
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
