// gateway/http_server.h
//
// fedgate's HTTP front door: /federate, /metrics (self-metrics), /-/healthy,
// /-/ready, /-/reload and the /api/v1/* API (api_handler.h), on
// libmicrohttpd's event loops.
//
// Why event loops: a connection costs a thread only while its request is
// computed, never while it is idle, sends its headers slowly or reads its
// answer slowly. The probes (/-/healthy, /-/ready) are answered on the event
// loop itself; every request that touches the store or the configuration
// runs on a small worker pool, and its answer is produced piece by piece as
// the client takes it (response_body.h). So idle or slow clients cannot
// starve the probes (docs/reliability.md has the figures).
//
// Every request is bounded (Limits): the URL and headers, the body (a
// declared Content-Length over the limit is refused before a byte of the
// body is read; a chunked body is cut at the limit), the bodies held in
// memory at once, the open connections and their inactivity, the /federate
// and /api/v1 requests in progress (503 with Retry-After past it) and each
// one's deadline (still queued: 503; still being written: cut).
//
// A graceful stop (BeginShutdown(), AwaitRequestsDone(), Stop()) refuses new
// connections at once, lets the answers in progress finish until a deadline
// and cuts the rest.
//
// Every answered request is counted by route and status code, with its
// latency up to the last byte handed to the socket and its body size
// (serving_metrics.h), refusals before the route included; /federate
// answers also report their series and bytes.
//
// With a web config (Options::security, docs/security.md) connections are
// HTTPS, each handshake with the credentials in force when it is accepted,
// and every path but the probes needs credentials: tokens and cached basic
// auth outcomes are checked on the event loop, bcrypt on a worker.
//
// Thread-safety: Start(), BeginShutdown(), AwaitRequestsDone() and Stop() from
// one thread; handlers are thread-safe.

#ifndef FEDGATE_GATEWAY_HTTP_SERVER_H_
#define FEDGATE_GATEWAY_HTTP_SERVER_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/api_handler.h"
#include "gateway/security/web_security.h"
#include "gateway/serving_metrics.h"
#include "gateway/writers/response_body.h"
#include "gateway/writers/response_compression.h"
#include "merge/series_store.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "scraper/worker_pool.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace fedgate {

// Splits `host:port`, `:port` (all interfaces) or `[v6]:port`.
absl::Status SplitListenAddress(const std::string& address, std::string* host,
                                int* port);

// What protects the server from its clients (docs/reliability.md).
struct HttpLimits {
  // Open connections at once; more are closed as they are accepted
  // (--web.max-connections, Prometheus's default).
  size_t max_connections = 512;
  // A connection that sends and receives nothing for this long is closed:
  // idle keep-alive connections, and clients that stall while sending
  // their request (--web.read-timeout). Whole seconds, at least one.
  absl::Duration read_timeout = absl::Seconds(30);
  // The request line and headers: `match[]` lists of about 60,000
  // characters fit in the URL (Prometheus, through Go, allows 1 MiB). Each
  // connection reserves four times this (http_server.cc); a new connection
  // cost 7 ms with 1.1 MiB reserved against 1.0-1.3 ms with 256 KiB.
  size_t max_header_bytes = 64 << 10;
  // One request's body (Go's limit for url-encoded forms, as Prometheus
  // parses them). Only /api/v1 form bodies are kept; other bodies are read
  // and dropped.
  size_t max_body_bytes = 10 << 20;
  // The form bodies held in memory by all requests at once; a request whose
  // body would pass it is refused (its connection is closed).
  size_t max_buffered_body_bytes = 64 << 20;
  // Threads that compute answers (/federate, /api/v1, /metrics, reload).
  int workers = 4;
  // Event-loop threads (they also write the answers out).
  int event_threads = 2;
  // /federate and /api/v1 requests being computed or waiting for a worker
  // at once (--web.max-concurrent-requests); past it a request is answered
  // 503 with `Retry-After` at once, without touching the store. 64 is 16 per
  // worker: a full /federate of 1M series takes 150-300 ms of a worker, so
  // the last one queued waits about 5 s, within a 10 s scrape timeout.
  // /metrics, the probes and /-/reload are not counted.
  size_t max_concurrent_requests = 64;
  // How long a /federate or /api/v1 request may take from its headers to
  // the last byte of its answer (--web.request-timeout, as Prometheus's
  // --query.timeout): a request still waiting for a worker then is answered
  // 503 without being computed; an answer still being written (a slow
  // reader) is cut, its connection closed without the final chunk.
  absl::Duration request_timeout = absl::Minutes(2);
};

class HttpServer {
 public:
  struct Request;
  struct Reply;
  struct Options {
    std::string listen_address;  // `host:port`; port 0 picks a free port.
    HttpLimits limits;
    SeriesStore* store = nullptr;
    prometheus::Registry* registry = nullptr;
    // Called before /metrics collects `registry` (process metrics).
    std::function<void()> update_metrics;
    std::map<std::string, std::string> external_labels;
    // Returns the external labels of the running configuration (they change
    // on reload); when unset, `external_labels` is used.
    std::function<std::map<std::string, std::string>()> current_external_labels;
    // Returns whether fedgate is ready. While it is not, /-/ready, /federate
    // and routed /api/v1 requests answer 503, as Prometheus's testReady.
    std::function<bool()> ready;
    // Whether POST/PUT /-/reload and /-/quit act (--web.enable-lifecycle);
    // when false they answer 403 `Lifecycle API is not enabled.`.
    bool enable_lifecycle = false;
    // Reloads the configuration for POST/PUT /-/reload; unset: 404.
    std::function<absl::Status()> reload;
    // Asks the process to stop, for the first POST/PUT /-/quit; must not
    // block (the stop runs elsewhere). Unset: 404.
    std::function<void()> quit;
    // What /api/v1 serves besides the store (targets, configuration, build
    // info); the server fills in `api.store` and `api.web_port`.
    ApiOptions api;
    // The web config (--web.config.file): HTTPS when it has TLS settings,
    // and the credentials every path but /-/healthy and /-/ready needs; its
    // headers are added to every answer. Null: plain HTTP, no credentials.
    // Must outlive the server.
    WebSecurity* security = nullptr;
    // Answers /debug and /debug/* on a worker, behind the same credentials
    // as /api/v1 (--web.enable-debug, debug/debug_handler.h). Unset: they
    // are 404 like any unknown path.
    std::function<Reply(const Request&)> debug;
    // zlib level (1-9) of gzip and deflate /federate answers
    // (--web.compression-level; response_compression.h has the costs).
    int compression_level = kDefaultCompressionLevel;
  };

  // One request, as the routes see it.
  struct Request {
    std::string method;
    std::string path;  // URL-decoded, without the query.
    std::vector<std::pair<std::string, std::string>> query;
    std::string body;  // Kept for /api/v1 form posts only.
    MHD_Connection* connection = nullptr;
    // Returns the value of header `name` (any case), "" when absent.
    std::string Header(const char* name) const;
  };

  // One answer: `body`, or `chunks` produced as the client reads.
  struct Reply {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    BodyChunks chunks;
    // When `chunks` are cut (the request's deadline): the connection is
    // closed without the final chunk, so the client sees an error.
    absl::Time deadline = absl::InfiniteFuture();
  };

  // Binds the address and starts serving. Fails with Unavailable when the
  // address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(Options options);
  ~HttpServer();

  // Returns the bound port.
  int port() const { return port_.load(); }
  // Begins a graceful stop: closes the listening socket (new connections are
  // refused) and closes each connection after its current answer; answers in
  // progress go on. Idempotent; a no-op once stopped.
  void BeginShutdown();
  // Waits until every request received so far has been answered (or its
  // client has gone), but not past `deadline`. Returns whether none is left.
  bool AwaitRequestsDone(absl::Time deadline) ABSL_LOCKS_EXCLUDED(requests_mu_);
  // Stops serving: finishes the requests being computed, closes every
  // connection (cutting answers still being sent) and joins the threads.
  void Stop();

 private:
  struct Pending;
  friend struct HttpServerCallbacks;
  explicit HttpServer(Options options);

  // Handles one call of libmicrohttpd's access handler; returns whether the
  // connection lives on.
  bool Access(MHD_Connection* connection, const char* url, const char* method,
              const char* upload_data, size_t* upload_data_size,
              Pending* pending);
  // Answers on the event loop, or returns false for a request that a worker
  // must answer (Compute()).
  bool AnswerInline(const Request& request, Reply* reply);
  // Every credential check `request` needs, the slow ones included (bcrypt,
  // Kubernetes reviews): the refusal (401, 403, 503), or nullopt when the
  // request may go on. On a worker.
  std::optional<Reply> Refusal(const Request& request);
  Reply Compute(const Request& request);
  Reply Federate(const Request& request);
  Reply Metrics();
  Reply Api(const Request& request);
  // Queues `reply` to the request of `pending` with the web config's
  // headers, asking to close the connection after it once a shutdown has
  // begun; records its status for the HTTP metrics.
  bool Queue(Pending* pending, Reply reply);
  // Gives a new TLS connection the credentials in force (certificates
  // changed on disk apply to new connections).
  void StartTlsConnection(MHD_Connection* connection, void** socket_context);
  void UpdateMergeGauges();
  void Refuse(const char* reason);
  // Takes one of the limits.max_concurrent_requests places; returns false
  // when none is free.
  bool AdmitRequest();
  // Counts a request from its request line until libmicrohttpd completes it.
  void RequestStarted() ABSL_LOCKS_EXCLUDED(requests_mu_);
  void RequestCompleted() ABSL_LOCKS_EXCLUDED(requests_mu_);

  Options options_;
  std::shared_ptr<const ApiHandler> api_;
  std::unique_ptr<WorkerPool> workers_;
  // Set by Start() once the daemon runs: requests may already read them.
  std::atomic<MHD_Daemon*> daemon_{nullptr};
  std::atomic<int> port_{0};
  std::atomic<size_t> buffered_body_bytes_{0};
  // /federate and /api/v1 requests admitted and not yet computed.
  std::atomic<size_t> admitted_requests_{0};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> quit_requested_{false};
  // The listening socket once BeginShutdown() took it from libmicrohttpd:
  // shut down at once, closed only after the daemon stops (its threads may
  // still hold it).
  int quiesced_socket_ = -1;
  absl::Mutex requests_mu_;
  // Signalled when open_requests_ drops to 0 (a condition variable, so that
  // ThreadSanitizer sees the wait, unlike Mutex::Await).
  absl::CondVar requests_done_;
  int64_t open_requests_ ABSL_GUARDED_BY(requests_mu_) = 0;

  prometheus::Gauge* series_gauge_ = nullptr;
  prometheus::Gauge* connections_gauge_ = nullptr;
  // The merge stage's gauges, refreshed by /metrics from the store; the
  // O(series) merge statistics at most every kMergeStatsMaxAge.
  prometheus::Gauge* dedup_groups_gauge_ = nullptr;
  prometheus::Gauge* dedup_leaders_gauge_ = nullptr;
  prometheus::Gauge* deduplicated_gauge_ = nullptr;
  prometheus::Gauge* conflicting_gauge_ = nullptr;
  prometheus::Gauge* metadata_conflicts_gauge_ = nullptr;
  std::atomic<int64_t> merge_stats_at_ns_{0};
  prometheus::Counter* federate_requests_ok_ = nullptr;
  prometheus::Counter* federate_requests_bad_ = nullptr;
  prometheus::Family<prometheus::Counter>* refused_ = nullptr;
  prometheus::Counter* unauthorized_ = nullptr;
  // fedgate_http_requests_total and the rest (serving_metrics.h): every
  // answered request, counted when libmicrohttpd completes it.
  std::unique_ptr<HttpRequestMetrics> http_metrics_;
  FederateAnswerMetrics federate_metrics_;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_HTTP_SERVER_H_
