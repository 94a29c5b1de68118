// scraper/http_client.h
//
// The event-driven HTTP client every scrape goes through: one I/O thread
// drives all transfers with libcurl's multi interface, so thousands of
// targets cost one thread and their sockets, not a thread each. The thread
// waits in epoll_wait on its own epoll descriptor and drives libcurl with
// its socket API (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION,
// curl_multi_socket_action), so an event touches only the socket and the
// transfer that are ready, and idle kept connections are not in the wait
// set at all. Requests are queued from any thread and the I/O thread is
// woken through an eventfd; each request ends with exactly one call of its
// callback. Connections stay in libcurl's connection cache and are reused by
// the next scrape of the same host:port.
//
// Kept connections are spread over many small connection caches ("pools",
// libcurl shares of CURL_LOCK_DATA_CONNECT, created on first use), chosen
// by the request's schedule phase, else by the URL's host:port, so a target
// always finds its connection in the same pool. libcurl 7.88 walks the
// whole cache a transfer used when that transfer is removed
// (curl_multi_remove_handle, close_connect_only), and checks every idle
// connection of it for liveness with a poll() once a second when a transfer
// starts in it; with one cache of 5,000 idle keep-alive connections that
// was over a third of fedgate's CPU at 5,000 targets (docs/performance.md).
// Pools by phase hold targets scraped close together in time, so a pool is
// busy for a moment per interval and its liveness check runs about once per
// scrape interval rather than once a second (a poll() per idle connection
// each time). A pool costs about 6 KiB.
//
// Requests are sent as Prometheus 2.42 sends scrapes (scrape/scrape.go
// targetScraper): `GET`, `Accept` (2.42's, OpenMetrics first),
// `Accept-Encoding: gzip` (decoded here), `User-Agent`,
// `X-Prometheus-Scrape-Timeout-Seconds`; and with the scrape config's HTTP
// client settings (config.h HttpClientConfig, as prometheus/common applies
// them): TLS (CA file, client certificate, server_name, insecure_skip_verify,
// min/max version), `Authorization` (credentials and password files are
// re-read for every request, so rotated tokens work), proxy_url (proxies from
// the environment are never used, as in 2.42), follow_redirects and
// enable_http2 (HTTP/2 over TLS only when offered, as Go's transport). The
// timeout covers the whole transfer. body_size_limit is enforced on the
// decompressed body as it arrives: the transfer is aborted as soon as the
// limit is reached, so a huge body or a gzip bomb costs at most the limit in
// memory. Secrets are never put into error messages.
//
// The I/O thread also runs the caller's timers (HttpClient::Timers: the scrape
// scheduler), so a due scrape is sent from the thread that waits for its
// answer, without a thread switch or a wake-up in between; epoll_pwait2 waits
// with nanosecond precision for the earliest of them.
//
// Hot path: one request per scrape; the body is read into one buffer sized
// from the caller's hint (or a recycled one it hands in).
//
// Thread-safety: thread-safe. Fetch(), SetTimers(), Wake() and InFlight()
// may be called from any thread; the curl handles are used only by the I/O
// thread (and by Shutdown() once that thread has exited). Callbacks and
// timers run on the I/O thread and must be short (hand the response to
// another thread); they may call Fetch().

#ifndef FEDGATE_SCRAPER_HTTP_CLIENT_H_
#define FEDGATE_SCRAPER_HTTP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "config/config.h"

namespace fedgate {

// The `Accept` header of scrapes: Prometheus 2.42's (scrape/scrape.go
// scrapeAcceptHeader), OpenMetrics preferred, then text 0.0.4; the scrape
// loop parses what comes back by its Content-Type (exposition_format.h).
inline constexpr absl::string_view kScrapeAcceptHeader =
    "application/openmetrics-text;version=1.0.0,"
    "application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
inline constexpr absl::string_view kDefaultUserAgent = "fedgate/0.1.0";

struct HttpRequest {
  std::string url;
  // Bounds the whole transfer (connect, request, body) and is announced in
  // `X-Prometheus-Scrape-Timeout-Seconds`.
  absl::Duration timeout = absl::Seconds(10);
  // Bytes the body is expected to have (e.g. the last scrape's); the buffer
  // is reserved up front so a steady target's body is read without copies.
  size_t body_size_hint = 0;
  // The decompressed body size at which the transfer is aborted with
  // ResourceExhausted `body size limit exceeded` (a body of exactly this
  // size fails too, as in Prometheus); <= 0 means no limit.
  int64_t body_size_limit = 0;
  // TLS, authentication, proxy and redirect settings; null means the
  // defaults (HttpClientConfig()).
  std::shared_ptr<const HttpClientConfig> client_config;
  // Where in its interval the target is scraped, in [0, 1) (the same for
  // every scrape of a target); picks the connection pool. Outside [0, 1)
  // (the default), the pool is picked by the URL's host:port.
  double schedule_phase = -1;
  // The buffer the body is read into: its capacity is reused (see
  // HttpResponse::body); may be empty.
  std::string body_buffer;
};

struct HttpResponse {
  int status_code = 0;       // Always 200: other codes are errors.
  std::string content_type;  // The `Content-Type` header, "" if none.
  std::string body;          // Decompressed.
  // Connections opened for this request: 0 when a kept one was reused.
  int new_connections = 0;
};

// Receives a 200 response, or an error naming the URL, with Prometheus's
// wording where it has one:
//   Unavailable       `server returned HTTP status 500 Internal Server Error`
//   DeadlineExceeded  `Get "http://h:1/metrics": context deadline exceeded`
//   Unavailable       `Get "http://h:1/metrics": dial tcp 127.0.0.1:1:
//                      connect: connection refused`, or curl's message
//   Unavailable       `Get "http://h:1/metrics": unable to read authorization
//                      credentials file /t: open /t: no such file or
//                      directory` (also for basic auth password files)
//   ResourceExhausted `body size limit exceeded`
//   Cancelled         the client shut down before the request finished.
using HttpCallback = absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)>;

class HttpClient {
 public:
  // Work the I/O thread runs between transfers, at times it is told.
  class Timers {
   public:
    virtual ~Timers() = default;
    // Runs what is due now, by the timers' own clock; returns how long
    // until they next have something to run (absl::InfiniteDuration() for
    // nothing; zero or less for at once). A wait rather than a time, so the
    // I/O thread needs no clock in common with them: it waits on the
    // monotonic clock (monotonic_clock.h). Called on the I/O thread only;
    // may call Fetch().
    virtual absl::Duration RunDue() = 0;
  };

  struct Options {
    std::string user_agent = std::string(kDefaultUserAgent);
    // Idle connections kept for reuse, capped to a sixth of RLIMIT_NOFILE.
    // At least the number of targets, so that every target keeps its
    // connection between scrapes; each idle connection costs a descriptor
    // and a few KiB in curl. Host:ports do not hash evenly into the pools,
    // so each pool keeps up to 3x its share + 8 (CURLMOPT_MAXCONNECTS
    // applies per pool): at most 5x this in all, reached only with many
    // more targets than this.
    size_t max_idle_connections = 10000;
    // Connection caches the kept connections are spread over by host:port;
    // lowered to max_idle_connections / 4 (a share of at least 4 each), and
    // at least 1. libcurl walks a cache after each transfer: 64 keep that
    // walk at ~80 connections at 5,000 targets, while each cache (made on
    // first use) costs several KiB.
    size_t connection_pools = 64;
    // A kept connection is not reused after this long idle (Prometheus's
    // transport uses a 5 minute IdleConnTimeout).
    absl::Duration max_idle_time = absl::Minutes(5);
  };

  // Starts the I/O thread. Fails (Internal) only if libcurl cannot be set up.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(Options options);
  // Shuts down (see Shutdown()).
  ~HttpClient();

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts `request`; `done` is called once on the I/O thread when it ends.
  // Credentials and password files are read here, on the calling thread; if
  // one cannot be read, `done` is called at once on the calling thread with
  // the error. After Shutdown() began, `done` is called at once with
  // Cancelled on the calling thread.
  void Fetch(HttpRequest request, HttpCallback done) ABSL_LOCKS_EXCLUDED(mu_);

  // Aborts the transfers in flight (their callbacks get Cancelled), waits
  // for the I/O thread to exit and frees every curl handle. Idempotent; call
  // from one thread at a time, never from a callback.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  // Returns the number of requests queued or in flight.
  size_t InFlight() const ABSL_LOCKS_EXCLUDED(mu_);

  // Has the I/O thread run `timers` (not owned; null: none) from now on.
  // Replacing them waits for a RunDue() in progress, so once this returns
  // the old ones are never called again; not from a timer or callback.
  void SetTimers(Timers* timers) ABSL_LOCKS_EXCLUDED(timers_mu_);
  // Wakes the I/O thread, which then asks its timers when they are next
  // due (call after scheduling something earlier than they said).
  void Wake();

 private:
  struct Transfer;  // One request in flight; defined in http_client.cc.

  explicit HttpClient(Options options);

  // The I/O thread's loop.
  void Run();
  // Adds the queued requests to the multi handle; returns false once
  // shutting down.
  bool StartQueued() ABSL_LOCKS_EXCLUDED(mu_);
  // Tells curl that socket `fd` (CURL_SOCKET_TIMEOUT: its timers) is ready
  // with epoll `events`, then finishes the transfers it reports done.
  void Act(int fd, uint32_t events) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the active transfer `transfer` with `result`: detaches its easy
  // handle, runs its callback and frees it.
  void Finish(Transfer* transfer, absl::StatusOr<HttpResponse> result)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Returns the outcome of a transfer curl reports done with `curl_code`.
  absl::StatusOr<HttpResponse> Outcome(Transfer* transfer, int curl_code);
  // Returns an easy handle set up for `transfer` (reused when possible).
  void* SetUpEasy(Transfer* transfer);
  // Returns the pool (CURLSH*) for `request` (its schedule phase, else the
  // host:port of its URL), made on first use.
  void* PoolFor(const HttpRequest& request);
  // Runs the timers that are due; sets `timers_due_`.
  void RunTimers() ABSL_LOCKS_EXCLUDED(timers_mu_);
  // epoll_wait for at most `timeout`, with epoll_pwait2's precision where
  // the kernel has it.
  int WaitForEvents(void* events, int max_events, absl::Duration timeout);
  // CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION (see the .cc).
  static int OnSocket(void* easy, int fd, int what, void* self,
                      void* socket_data);
  static int OnTimer(void* multi, long timeout_ms, void* self);

  const Options options_;
  // The multi handle, the epoll descriptor and the eventfd are created
  // before and destroyed after the I/O thread; in between only the I/O
  // thread uses the first two, and other threads only write to `wake_fd_`.
  void* multi_ = nullptr;  // CURLM*; void* keeps curl.h out of this header.
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread io_thread_;
  // Owned by the I/O thread: when curl wants its timers run (steady clock,
  // ms), or -1 for never.
  int64_t timer_deadline_ms_ = -1;
  // Owned by the I/O thread: when `timers_` are next due (MonotonicNow()).
  absl::Time timers_due_ = absl::InfiniteFuture();
  bool have_epoll_pwait2_ = true;  // Until the kernel says ENOSYS.

  // Held by the I/O thread while it runs the timers.
  absl::Mutex timers_mu_;
  Timers* timers_ ABSL_GUARDED_BY(timers_mu_) = nullptr;

  // Owned by the I/O thread. A transfer knows its index in `active_`.
  std::vector<std::unique_ptr<Transfer>> active_;
  std::vector<void*> free_easy_;  // CURL* handles kept for reuse.
  std::vector<void*> pools_;      // CURLSH* handles; null until first used.

  mutable absl::Mutex mu_;
  std::deque<std::unique_ptr<Transfer>> queue_ ABSL_GUARDED_BY(mu_);
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_HTTP_CLIENT_H_
