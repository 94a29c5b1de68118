#include "gateway/http_server.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gateway/federate_handler.h"
#include "gateway/logger.h"
#include "gateway/serving_metrics.h"
#include "gateway/url_form.h"
#include "gateway/web/targets_page.h"
#include "gateway/writers/content_negotiation.h"
#include "gateway/writers/response_compression.h"
#include "prometheus/histogram.h"
#include "prometheus/text_serializer.h"
#include "scraper/monotonic_clock.h"

namespace fedgate {
namespace {

constexpr size_t kPieceBytes = 64 * 1024;
constexpr absl::string_view kApiPrefix = "/api/v1";

HttpServer::Reply PlainReply(int status, std::string body) {
  HttpServer::Reply reply;
  reply.status = status;
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.body = std::move(body);
  return reply;
}

// The answer to missing or wrong credentials, as exporter-toolkit writes it.
HttpServer::Reply Unauthorized(const std::string& challenge) {
  HttpServer::Reply reply = PlainReply(401, "Unauthorized\n");
  reply.headers.emplace_back("WWW-Authenticate", challenge);
  return reply;
}

// The probes answer without credentials: the kubelet has none.
bool IsOpenPath(const std::string& path) {
  return path == "/-/healthy" || path == "/-/ready";
}

// The paths of Options::debug.
bool IsDebugPath(const std::string& path) {
  return path == "/debug" || absl::StartsWith(path, "/debug/");
}

// Whether a request counts against limits.max_concurrent_requests and
// limits.request_timeout: the routes that read the store for a client.
bool IsQueryPath(const std::string& path) {
  return path == "/federate" || path == kApiPrefix ||
         absl::StartsWith(path, absl::StrCat(kApiPrefix, "/"));
}

// The 503 past --web.max-concurrent-requests or --web.request-timeout: plain
// text for /federate, Prometheus's error envelope for /api/v1 with
// `error_type` ("unavailable", or "timeout" as for a query timeout).
HttpServer::Reply Unavailable(const std::string& path,
                              absl::string_view error_type,
                              absl::string_view message) {
  HttpServer::Reply reply;
  reply.status = 503;
  reply.headers.emplace_back("Retry-After", "1");
  if (absl::StartsWith(path, kApiPrefix)) {
    reply.content_type = "application/json";
    reply.body = absl::StrCat(R"({"status":"error","errorType":")", error_type,
                              R"(","error":")", message, R"("})");
  } else {
    reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
    reply.body = absl::StrCat(message, "\n");
  }
  return reply;
}

HttpServer::Reply MethodNotAllowed(const char* allow) {
  HttpServer::Reply reply = PlainReply(405, "Method Not Allowed\n");
  reply.headers.emplace_back("Allow", allow);
  return reply;
}

// The body of a chunked answer as libmicrohttpd pulls it: one piece of
// BodyChunks at a time, copied out as the socket takes it.
struct BodySource {
  BodyChunks chunks;
  std::string piece;
  size_t offset = 0;
  bool ended = false;
  absl::Time deadline = absl::InfiniteFuture();
  // The request's count of body bytes sent (HttpServer::Pending, which
  // outlives every call of ReadBody: libmicrohttpd completes the request
  // only after the last one).
  uint64_t* sent = nullptr;
};

ssize_t ReadBody(void* cls, uint64_t /*pos*/, char* buf, size_t max) {
  auto* source = static_cast<BodySource*>(cls);
  if (source->deadline != absl::InfiniteFuture() &&
      absl::Now() > source->deadline) {
    // libmicrohttpd closes the connection without the final chunk: the
    // client sees a broken answer, never a complete-looking one.
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  while (source->offset == source->piece.size()) {
    if (source->ended) return MHD_CONTENT_READER_END_OF_STREAM;
    source->piece.clear();
    source->offset = 0;
    source->ended = !source->chunks(&source->piece);
  }
  const size_t n = std::min(max, source->piece.size() - source->offset);
  std::memcpy(buf, source->piece.data() + source->offset, n);
  source->offset += n;
  *source->sent += n;
  return static_cast<ssize_t>(n);
}

void FreeBody(void* cls) { delete static_cast<BodySource*>(cls); }

// Queues `reply` on `connection`; its body bytes are counted in `*sent` as
// they are handed to the socket (a whole buffered body at once).
bool QueueReply(MHD_Connection* connection, HttpServer::Reply reply, bool head,
                uint64_t* sent) {
  MHD_Response* response;
  if (reply.chunks) {
    auto* source = new BodySource;
    source->chunks = std::move(reply.chunks);
    source->deadline = reply.deadline;
    source->sent = sent;
    response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, kPieceBytes,
                                                 &ReadBody, source, &FreeBody);
    if (response == nullptr) {
      delete source;
      return false;
    }
  } else {
    response = MHD_create_response_from_buffer(
        reply.body.size(), reply.body.data(), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) return false;
    if (!head && reply.status != 204 && reply.status != 304) {
      *sent = reply.body.size();
    }
  }
  if (!reply.content_type.empty() && reply.status != 204) {
    MHD_add_response_header(response, "Content-Type",
                            reply.content_type.c_str());
  }
  for (const auto& [name, value] : reply.headers) {
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  const MHD_Result queued = MHD_queue_response(
      connection, static_cast<unsigned>(reply.status), response);
  MHD_destroy_response(response);
  return queued == MHD_YES;
}

// libmicrohttpd's messages (malformed requests, limits, socket errors):
// debug lines, as a hostile client must not fill the log.
void LogLibraryMessage(void* /*cls*/, const char* format, va_list args) {
  char text[512];
  vsnprintf(text, sizeof(text), format, args);
  std::string message(text);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  Log(LogLevel::kDebug, "HTTP server", {{"detail", message}});
}

}  // namespace

// The state of one request between the calls of the access handler.
struct HttpServer::Pending {
  HttpServer::Request request;
  bool started = false;
  bool keep_body = false;
  size_t body_bytes = 0;      // Read so far.
  size_t buffered_bytes = 0;  // Of them, counted in buffered_body_bytes_.
  bool dispatched = false;
  absl::Time deadline = absl::InfiniteFuture();  // Of a query path.
  // For the HTTP metrics: the route, when the request line came (on the
  // monotonic clock), the status queued (0: none, the connection was
  // closed without an answer) and the body bytes handed to the socket.
  HttpRoute route = HttpRoute::kOther;
  absl::Time start = MonotonicNow();
  int status = 0;
  uint64_t sent_bytes = 0;
  absl::Mutex mu;
  std::optional<HttpServer::Reply> reply ABSL_GUARDED_BY(mu);
};

// libmicrohttpd's callbacks.
struct HttpServerCallbacks {
  static MHD_Result Access(void* cls, MHD_Connection* connection,
                           const char* url, const char* method,
                           const char* /*version*/, const char* upload_data,
                           size_t* upload_data_size, void** req_cls) {
    auto* server = static_cast<HttpServer*>(cls);
    auto* pending = static_cast<HttpServer::Pending*>(*req_cls);
    if (pending == nullptr) {  // The URI callback always sets it.
      pending = new HttpServer::Pending;
      *req_cls = pending;
      server->RequestStarted();
    }
    return server->Access(connection, url, method, upload_data,
                          upload_data_size, pending)
               ? MHD_YES
               : MHD_NO;
  }

  // Called first, with the raw request target: the query is parsed from it
  // with ParseUrlEncoded (one decoder for the URL and for form bodies).
  static void* Uri(void* cls, const char* uri, MHD_Connection* connection) {
    static_cast<HttpServer*>(cls)->RequestStarted();
    auto* pending = new HttpServer::Pending;
    pending->request.connection = connection;
    absl::string_view target(uri);
    const size_t question = target.find('?');
    if (question != absl::string_view::npos) {
      pending->request.query = ParseUrlEncoded(target.substr(question + 1));
    }
    return pending;
  }

  static void Connection(void* cls, MHD_Connection* connection,
                         void** socket_context,
                         MHD_ConnectionNotificationCode code) {
    auto* server = static_cast<HttpServer*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      server->StartTlsConnection(connection, socket_context);
    } else if (*socket_context != nullptr) {  // Closed; the session is gone.
      delete static_cast<std::shared_ptr<const ServerTlsCredentials>*>(
          *socket_context);
      *socket_context = nullptr;
    }
  }

  static void Completed(void* cls, MHD_Connection* /*connection*/,
                        void** req_cls, MHD_RequestTerminationCode /*code*/) {
    auto* server = static_cast<HttpServer*>(cls);
    auto* pending = static_cast<HttpServer::Pending*>(*req_cls);
    if (pending == nullptr) return;
    // The last piece of the answer was handed to the socket, or the
    // connection failed.
    if (pending->status != 0 && server->http_metrics_ != nullptr) {
      server->http_metrics_->Observe(pending->route, pending->status,
                                     MonotonicNow() - pending->start,
                                     pending->sent_bytes);
    }
    server->buffered_body_bytes_ -= pending->buffered_bytes;
    delete pending;
    *req_cls = nullptr;
    server->RequestCompleted();
  }
};

absl::Status SplitListenAddress(const std::string& address, std::string* host,
                                int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", address, "\": missing port (want host:port)"));
  }
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  int p = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &p) || p < 0 || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", address, "\": invalid port"));
  }
  *host = h.empty() ? "0.0.0.0" : h;
  *port = p;
  return absl::OkStatus();
}

std::string HttpServer::Request::Header(const char* name) const {
  const char* value =
      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
  return value == nullptr ? std::string() : std::string(value);
}

void HttpServer::UpdateMergeGauges() {
  const SeriesStore::GroupCounts groups = options_.store->Groups();
  dedup_groups_gauge_->Set(static_cast<double>(groups.groups));
  dedup_leaders_gauge_->Set(static_cast<double>(groups.leaders));
  // A full pass over the store (~50 ms per million series): not for every
  // scrape of /metrics by several Prometheus servers.
  constexpr absl::Duration kMergeStatsMaxAge = absl::Seconds(5);
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = merge_stats_at_ns_.load();
  if (now - last < absl::ToInt64Nanoseconds(kMergeStatsMaxAge) ||
      !merge_stats_at_ns_.compare_exchange_strong(last, now)) {
    return;
  }
  const MergeStats stats = ComputeMergeStats(*options_.store->Snapshot());
  deduplicated_gauge_->Set(static_cast<double>(stats.deduplicated));
  conflicting_gauge_->Set(static_cast<double>(stats.conflicting));
  metadata_conflicts_gauge_->Set(static_cast<double>(stats.metadata_conflicts));
}

HttpServer::HttpServer(Options options) : options_(std::move(options)) {
  if (options_.registry != nullptr) {
    auto gauge = [this](const char* name, const char* help) {
      return &prometheus::BuildGauge()
                  .Name(name)
                  .Help(help)
                  .Register(*options_.registry)
                  .Add({});
    };
    series_gauge_ = gauge("fedgate_series",
                          "Series held in the store, synthetic series (up, "
                          "scrape_*) included.");
    connections_gauge_ = gauge("fedgate_http_connections",
                               "Open connections to the HTTP server.");
    dedup_groups_gauge_ =
        gauge("fedgate_dedup_groups", "Dedup groups with at least one member.");
    dedup_leaders_gauge_ =
        gauge("fedgate_dedup_leaders", "Dedup groups that have a leader.");
    deduplicated_gauge_ =
        gauge("fedgate_dedup_deduplicated_series",
              "Series not served because another member of their dedup group "
              "serves them.");
    conflicting_gauge_ =
        gauge("fedgate_series_conflicts",
              "Series not served because a target outside their dedup group "
              "has the same label set and wins.");
    metadata_conflicts_gauge_ =
        gauge("fedgate_metadata_conflicts",
              "Metric families whose TYPE, HELP or UNIT differ between "
              "targets.");
    auto& requests =
        prometheus::BuildCounter()
            .Name("fedgate_federate_requests_total")
            .Help("/federate requests by result (ok, bad_request).")
            .Register(*options_.registry);
    federate_requests_ok_ = &requests.Add({{"result", "ok"}});
    federate_requests_bad_ = &requests.Add({{"result", "bad_request"}});
    refused_ = &prometheus::BuildCounter()
                    .Name("fedgate_http_requests_refused_total")
                    .Help(
                        "HTTP requests refused by a limit, by reason "
                        "(body_too_large, bodies_in_memory, "
                        "too_many_requests, timeout, too_many_series, "
                        "too_many_match_params, selector_too_long, "
                        "regex_too_complex).")
                    .Register(*options_.registry);
    unauthorized_ = &prometheus::BuildCounter()
                         .Name("fedgate_http_unauthorized_requests_total")
                         .Help(
                             "HTTP requests answered 401: credentials "
                             "missing or wrong (--web.config.file).")
                         .Register(*options_.registry)
                         .Add({});
    refused_->Add({{"reason", "body_too_large"}});
    refused_->Add({{"reason", "bodies_in_memory"}});
  }
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Refuse(const char* reason) {
  if (refused_ != nullptr) refused_->Add({{"reason", reason}}).Increment();
}

bool HttpServer::AdmitRequest() {
  const size_t max = options_.limits.max_concurrent_requests;
  if (max == 0) return true;
  size_t admitted = admitted_requests_.load();
  while (admitted < max) {
    if (admitted_requests_.compare_exchange_weak(admitted, admitted + 1)) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(Options options) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitListenAddress(options.listen_address, &host, &port);
      !s.ok()) {
    return s;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* resolved = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc =
          getaddrinfo(host.c_str(), service.c_str(), &hints, &resolved);
      rc != 0 || resolved == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on \"",
                                               options.listen_address,
                                               "\": ", gai_strerror(rc)));
  }
  sockaddr_storage address{};
  std::memcpy(&address, resolved->ai_addr,
              std::min<size_t>(resolved->ai_addrlen, sizeof(address)));
  const bool v6 = resolved->ai_family == AF_INET6;
  freeaddrinfo(resolved);

  std::unique_ptr<HttpServer> server(new HttpServer(std::move(options)));
  HttpServer* raw = server.get();
  if (raw->options_.registry != nullptr) {
    absl::StatusOr<std::unique_ptr<HttpRequestMetrics>> http_metrics =
        HttpRequestMetrics::Create(*raw->options_.registry);
    if (!http_metrics.ok()) return http_metrics.status();
    raw->http_metrics_ = *std::move(http_metrics);
    absl::StatusOr<FederateAnswerMetrics> federate_metrics =
        FederateAnswerMetrics::Register(*raw->options_.registry);
    if (!federate_metrics.ok()) return federate_metrics.status();
    raw->federate_metrics_ = *federate_metrics;
  }
  const HttpLimits& limits = raw->options_.limits;
  ApiOptions api = raw->options_.api;
  api.store = raw->options_.store;
  api.web_port = [raw] { return raw->port_.load(); };
  api.ready = raw->options_.ready;
  raw->api_ = std::make_shared<const ApiHandler>(std::move(api));
  raw->workers_ = std::make_unique<WorkerPool>(limits.workers, "http-worker");

  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                       MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (v6) flags |= MHD_USE_IPv6;
  // HTTPS: the daemon starts with the credentials in force; each connection
  // then gets those in force when it is accepted (StartTlsConnection).
  std::shared_ptr<const WebSecurityState> security_state;
  if (raw->options_.security != nullptr) {
    security_state = raw->options_.security->Current();
  }
  const ServerTlsCredentials* tls =
      security_state != nullptr ? security_state->tls.get() : nullptr;
  MHD_OptionItem tls_options[] = {
      {MHD_OPTION_HTTPS_MEM_CERT, 0,
       tls != nullptr ? const_cast<char*>(tls->cert_pem().c_str()) : nullptr},
      {MHD_OPTION_HTTPS_MEM_KEY, 0,
       tls != nullptr ? const_cast<char*>(tls->key_pem().c_str()) : nullptr},
      {MHD_OPTION_HTTPS_PRIORITIES, 0,
       tls != nullptr ? const_cast<char*>(tls->priorities().c_str()) : nullptr},
      {MHD_OPTION_END, 0, nullptr}};
  if (tls != nullptr) {
    flags |= MHD_USE_TLS;
  } else {
    tls_options[0] = tls_options[3];
  }
  const unsigned int timeout_s = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(limits.read_timeout)));
  // The connection's memory holds the request line and headers (a request
  // that does not fit gets 414 or 431), libmicrohttpd's entry for each query
  // parameter (a URL of 1,700 `match[]` took 100 KiB more), then the
  // answer's headers and the buffer its body is written from.
  const size_t connection_memory = 4 * limits.max_header_bytes;
  // One event thread is no pool: the option is left out (any value of it,
  // 0 too, makes libmicrohttpd print a warning).
  MHD_OptionItem pool[] = {
      {MHD_OPTION_THREAD_POOL_SIZE, limits.event_threads, nullptr},
      {MHD_OPTION_END, 0, nullptr}};
  if (limits.event_threads <= 1) pool[0] = pool[1];
  // Without MHD_OPTION_LISTENING_ADDRESS_REUSE the socket gets SO_REUSEADDR
  // only: a restart binds despite connections in TIME_WAIT, but a port
  // another process listens on stays an error (no SO_REUSEPORT; passing the
  // option as 0 would drop SO_REUSEADDR too).
  MHD_Daemon* daemon = MHD_start_daemon(
      flags, static_cast<uint16_t>(port), nullptr, nullptr,
      &HttpServerCallbacks::Access, raw, MHD_OPTION_EXTERNAL_LOGGER,
      &LogLibraryMessage, raw, MHD_OPTION_SOCK_ADDR,
      reinterpret_cast<const sockaddr*>(&address), MHD_OPTION_ARRAY, pool,
      MHD_OPTION_ARRAY, tls_options, MHD_OPTION_NOTIFY_CONNECTION,
      &HttpServerCallbacks::Connection, raw, MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned int>(limits.max_connections),
      MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, connection_memory,
      MHD_OPTION_URI_LOG_CALLBACK, &HttpServerCallbacks::Uri, raw,
      MHD_OPTION_NOTIFY_COMPLETED, &HttpServerCallbacks::Completed, raw,
      MHD_OPTION_END);
  if (daemon == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on \"", raw->options_.listen_address,
                     "\": address in use or not available"));
  }
  const MHD_DaemonInfo* info =
      MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  raw->port_.store(info != nullptr ? info->port : port);
  raw->daemon_.store(daemon);
  return server;
}

void HttpServer::BeginShutdown() {
  MHD_Daemon* const daemon = daemon_.load();
  if (daemon == nullptr || shutting_down_.exchange(true)) return;
  // libmicrohttpd stops polling the socket; shutting it down makes the
  // kernel refuse new connections (and reset those not yet accepted) at
  // once, where an open socket would queue them unanswered until the stop.
  const MHD_socket socket = MHD_quiesce_daemon(daemon);
  if (socket == MHD_INVALID_SOCKET) return;
  quiesced_socket_ = socket;
  shutdown(socket, SHUT_RDWR);
}

bool HttpServer::AwaitRequestsDone(absl::Time deadline) {
  absl::MutexLock lock(&requests_mu_);
  while (open_requests_ > 0 && absl::Now() < deadline) {
    requests_done_.WaitWithDeadline(&requests_mu_, deadline);
  }
  return open_requests_ == 0;
}

void HttpServer::RequestStarted() {
  absl::MutexLock lock(&requests_mu_);
  ++open_requests_;
}

void HttpServer::RequestCompleted() {
  absl::MutexLock lock(&requests_mu_);
  if (--open_requests_ == 0) requests_done_.SignalAll();
}

bool HttpServer::Queue(Pending* pending, Reply reply) {
  if (options_.security != nullptr) {
    std::shared_ptr<const WebSecurityState> state =
        options_.security->Current();
    for (const auto& [name, value] : state->config.http.headers) {
      const bool set =
          std::any_of(reply.headers.begin(), reply.headers.end(),
                      [&name = name](const auto& h) {
                        return absl::EqualsIgnoreCase(h.first, name);
                      });
      if (!set) reply.headers.emplace_back(name, value);
    }
  }
  if (shutting_down_.load()) reply.headers.emplace_back("Connection", "close");
  pending->status = reply.status;
  return QueueReply(pending->request.connection, std::move(reply),
                    pending->request.method == "HEAD", &pending->sent_bytes);
}

void HttpServer::StartTlsConnection(MHD_Connection* connection,
                                    void** socket_context) {
  if (options_.security == nullptr) return;
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (info == nullptr || info->tls_session == nullptr) return;
  std::shared_ptr<const WebSecurityState> state = options_.security->Current();
  if (state->tls == nullptr) return;
  // The session keeps a pointer to the credentials: they live until the
  // connection closes.
  if (absl::Status s =
          state->tls->ApplyTo(static_cast<gnutls_session_t>(info->tls_session));
      !s.ok()) {
    Log(LogLevel::kError, "Cannot set up a TLS connection",
        {{"err", std::string(s.message())}});
    return;
  }
  *socket_context =
      new std::shared_ptr<const ServerTlsCredentials>(std::move(state->tls));
}

void HttpServer::Stop() {
  MHD_Daemon* const daemon = daemon_.exchange(nullptr);
  if (daemon == nullptr) return;
  // Requests being computed resume their connections when they finish; only
  // then may the daemon stop.
  workers_->Shutdown();
  MHD_stop_daemon(daemon);
  if (quiesced_socket_ >= 0) close(quiesced_socket_);
  quiesced_socket_ = -1;
}

bool HttpServer::Access(MHD_Connection* connection, const char* url,
                        const char* method, const char* upload_data,
                        size_t* upload_data_size, Pending* pending) {
  const HttpLimits& limits = options_.limits;
  Request& request = pending->request;
  if (!pending->started) {  // The headers are in; nothing of the body yet.
    pending->started = true;
    request.connection = connection;
    request.method = method;
    request.path = url;
    pending->route = HttpRouteOf(request.path);
    if (IsQueryPath(request.path)) {
      pending->deadline = absl::Now() + limits.request_timeout;
    }
    const std::string declared = request.Header("Content-Length");
    uint64_t length = 0;
    if (!declared.empty() && absl::SimpleAtoi(declared, &length) &&
        length > limits.max_body_bytes) {
      Refuse("body_too_large");
      // Answered before the body is read; libmicrohttpd then closes the
      // connection instead of reading the body.
      return Queue(
          pending,
          PlainReply(413, absl::StrCat("request body larger than ",
                                       limits.max_body_bytes, " bytes\n")));
    }
    pending->keep_body = (request.method == "POST" || request.method == "PUT" ||
                          request.method == "PATCH") &&
                         absl::StartsWith(request.path, kApiPrefix) &&
                         absl::StartsWith(request.Header("Content-Type"),
                                          "application/x-www-form-urlencoded");
    return true;
  }
  if (*upload_data_size != 0) {
    const size_t size = *upload_data_size;
    *upload_data_size = 0;
    pending->body_bytes += size;
    if (pending->body_bytes > limits.max_body_bytes) {
      // A chunked body past the limit: the connection is closed, the rest
      // of the body is never read.
      Refuse("body_too_large");
      return false;
    }
    if (pending->keep_body) {
      if (buffered_body_bytes_.fetch_add(size) + size >
          limits.max_buffered_body_bytes) {
        // The request is dropped: its part of the budget is given back now,
        // not when libmicrohttpd completes the closed connection, so that a
        // request arriving meanwhile is not refused for it.
        buffered_body_bytes_ -= size + pending->buffered_bytes;
        pending->buffered_bytes = 0;
        request.body = std::string();
        Refuse("bodies_in_memory");
        return false;
      }
      pending->buffered_bytes += size;
      request.body.append(upload_data, size);
    }
    return true;
  }
  // The whole request is in.
  if (pending->dispatched) {  // Resumed by the worker: the answer is ready.
    std::optional<Reply> reply;
    {
      absl::MutexLock lock(&pending->mu);
      reply = std::move(pending->reply);
    }
    if (!reply.has_value()) return false;
    return Queue(pending, *std::move(reply));
  }
  // Credentials first, as exporter-toolkit checks them before any route.
  bool check_slowly = false;
  if (options_.security != nullptr && !IsOpenPath(request.path)) {
    switch (options_.security->CheckFast(request.Header("Authorization"))) {
      case WebAuthDecision::kAllowed:
        break;
      case WebAuthDecision::kDenied:
        if (unauthorized_ != nullptr) unauthorized_->Increment();
        return Queue(pending, Unauthorized(WebSecurity::Challenge(
                                  *options_.security->Current())));
      case WebAuthDecision::kNeedsSlowCheck:
        check_slowly = true;  // bcrypt: on a worker, not on the loop.
        break;
    }
  }
  Reply reply;
  if (!check_slowly && AnswerInline(request, &reply)) {
    return Queue(pending, std::move(reply));
  }
  // Only requests that reach a worker count; probes and refusals above
  // never do.
  const bool counted = IsQueryPath(request.path);
  if (counted && !AdmitRequest()) {
    Refuse("too_many_requests");
    return Queue(pending,
                 Unavailable(request.path, "unavailable",
                             absl::StrCat("too many concurrent requests (",
                                          limits.max_concurrent_requests,
                                          ", --web.max-concurrent-requests)")));
  }
  pending->dispatched = true;
  MHD_suspend_connection(connection);
  workers_->Submit([this, pending, connection, check_slowly, counted] {
    Reply computed;
    std::optional<Reply> refused;
    if (check_slowly) refused = Refusal(pending->request);
    if (refused.has_value()) {
      computed = *std::move(refused);
    } else if (counted && absl::Now() > pending->deadline) {
      // Waited for a worker past its deadline: not computed at all.
      Refuse("timeout");
      computed = Unavailable(
          pending->request.path, "timeout",
          absl::StrCat("request timed out after ",
                       absl::FormatDuration(options_.limits.request_timeout),
                       " waiting to be computed (--web.request-timeout)"));
    } else if (!check_slowly || !AnswerInline(pending->request, &computed)) {
      computed = Compute(pending->request);
      if (counted) computed.deadline = pending->deadline;
    }
    if (counted) --admitted_requests_;
    {
      absl::MutexLock lock(&pending->mu);
      pending->reply = std::move(computed);
    }
    MHD_resume_connection(connection);
  });
  return true;
}

std::optional<HttpServer::Reply> HttpServer::Refusal(const Request& request) {
  const WebAccessDecision decision = options_.security->Decide(
      request.Header("Authorization"), request.method, request.path);
  switch (decision.access) {
    case WebAccess::kAllowed:
      return std::nullopt;
    case WebAccess::kUnauthorized:
      if (unauthorized_ != nullptr) unauthorized_->Increment();
      return Unauthorized(
          WebSecurity::Challenge(*options_.security->Current()));
    case WebAccess::kForbidden:
      // As kube-rbac-proxy: the client learns that it may not, the log why.
      Log(LogLevel::kDebug, "Request forbidden",
          {{"path", request.path}, {"reason", decision.reason}});
      return PlainReply(403, "Forbidden\n");
    case WebAccess::kUnavailable:
      Log(LogLevel::kWarn, "Cannot check a request's credentials",
          {{"path", request.path}, {"err", decision.reason}});
      return PlainReply(503,
                        "Service Unavailable: the credentials cannot be "
                        "checked now\n");
  }
  return std::nullopt;
}

bool HttpServer::AnswerInline(const Request& request, Reply* reply) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  const bool get = method == "GET" || method == "HEAD";
  if (path == "/-/healthy") {
    *reply = get ? PlainReply(200, "fedgate is Healthy.\n")
                 : MethodNotAllowed("GET, HEAD");
    return true;
  }
  if (path == "/-/ready") {
    if (!get) {
      *reply = MethodNotAllowed("GET, HEAD");
    } else if (options_.ready && !options_.ready()) {
      *reply = PlainReply(503, "Service Unavailable");
    } else {
      *reply = PlainReply(200, "fedgate is Ready.\n");
    }
    return true;
  }
  if (path == "/federate") {
    if (!get) {
      *reply = MethodNotAllowed("GET, OPTIONS");
    } else if (options_.ready && !options_.ready()) {
      *reply = PlainReply(503, "Service Unavailable");
    } else {
      return false;
    }
    return true;
  }
  if (path == "/metrics" || path == "/targets") {
    if (get) return false;
    *reply = MethodNotAllowed("GET, HEAD");
    return true;
  }
  if (path == "/") {  // As Prometheus sends `/` to its UI.
    if (get) {
      *reply = PlainReply(302, "");
      reply->headers.emplace_back("Location", "/targets");
    } else {
      *reply = MethodNotAllowed("GET, HEAD");
    }
    return true;
  }
  // The lifecycle API, with Prometheus's answers (web.go): POST or PUT, and
  // only with --web.enable-lifecycle.
  if ((path == "/-/reload" && options_.reload) ||
      (path == "/-/quit" && options_.quit)) {
    if (method != "POST" && method != "PUT") {
      *reply = PlainReply(405, "Only POST or PUT requests allowed");
    } else if (!options_.enable_lifecycle) {
      *reply = PlainReply(403, "Lifecycle API is not enabled.");
    } else if (path == "/-/reload") {
      return false;  // Reloading reads files: on a worker.
    } else if (quit_requested_.exchange(true)) {
      *reply = PlainReply(200, "Termination already in progress.");
    } else {
      options_.quit();
      *reply = PlainReply(200, "Requesting termination... Goodbye!");
    }
    return true;
  }
  if (path == kApiPrefix ||
      absl::StartsWith(path, absl::StrCat(kApiPrefix, "/"))) {
    return false;  // Readiness is checked after routing (api_handler.h).
  }
  if (options_.debug && IsDebugPath(path)) return false;
  *reply = PlainReply(404, "404 page not found\n");
  return true;
}

HttpServer::Reply HttpServer::Compute(const Request& request) {
  if (request.path == "/federate") return Federate(request);
  if (request.path == "/metrics") return Metrics();
  if (request.path == "/targets") {  // gateway/web/targets_page.h
    Reply reply;
    reply.content_type = std::string(kHtmlContentType);
    reply.headers = TargetsPageHeaders();
    reply.body = RenderTargetsPage(CollectTargetsPage(
        options_.api.targets ? options_.api.targets()
                             : std::vector<TargetStatus>(),
        options_.api.dropped_targets ? options_.api.dropped_targets()
                                     : std::vector<DroppedTarget>(),
        options_.store->Snapshot().get(),
        options_.api.now ? options_.api.now() : absl::Now()));
    return reply;
  }
  if (options_.debug && IsDebugPath(request.path)) {
    return options_.debug(request);
  }
  if (request.path == "/-/reload") {
    if (absl::Status s = options_.reload(); !s.ok()) {
      return PlainReply(500, absl::StrCat(s.message(), "\n"));
    }
    return PlainReply(200, "");
  }
  return Api(request);
}

HttpServer::Reply HttpServer::Federate(const Request& request) {
  std::vector<std::string> matches;
  for (const auto& [name, value] : request.query) {
    if (name == "match[]") matches.push_back(value);
  }
  absl::StatusOr<FederateParams> params =
      ParseFederateParams(matches, options_.api.match_limits);
  if (!params.ok()) {
    if (federate_requests_bad_ != nullptr) federate_requests_bad_->Increment();
    if (std::string reason = MatchLimitReason(params.status());
        !reason.empty()) {
      Refuse(reason.c_str());
    }
    return PlainReply(400, absl::StrCat(params.status().message(), "\n"));
  }
  if (federate_requests_ok_ != nullptr) federate_requests_ok_->Increment();
  // Prometheus's lookback: each series' sample in [now - 5m, now].
  std::shared_ptr<const StoreSnapshot> snapshot = options_.store->Snapshot();
  params->window = LookbackWindow(ReadTimeMs(
      *snapshot, options_.api.now ? options_.api.now() : absl::Now()));
  // Format and compression as Prometheus negotiates them
  // (content_negotiation.h).
  const ExpositionFormat format = NegotiateFormat(request.Header("Accept"));
  const ContentEncoding encoding =
      NegotiateEncoding(request.Header("Accept-Encoding"));
  // The external labels of the configuration running now (reloads change
  // them).
  const std::map<std::string, std::string> external_labels =
      options_.current_external_labels ? options_.current_external_labels()
                                       : options_.external_labels;
  Reply reply;
  reply.content_type = std::string(ContentTypeOf(format));
  // The rows are selected here, on the worker, and counted before a byte of
  // the answer is sent; the text is written as the client reads it.
  params->max_series = options_.api.max_series;
  FederateAnswerObserver on_complete;
  if (federate_metrics_.series != nullptr) {
    on_complete = [metrics = federate_metrics_](size_t series, uint64_t bytes) {
      metrics.series->Observe(static_cast<double>(series));
      metrics.bytes->Observe(static_cast<double>(bytes));
    };
  }
  absl::StatusOr<BodyChunks> body =
      FederationBody(std::move(snapshot), *params, external_labels, format,
                     std::move(on_complete));
  if (!body.ok()) {
    Refuse("too_many_series");
    return PlainReply(422, absl::StrCat(body.status().message(), "\n"));
  }
  reply.chunks = *std::move(body);
  if (encoding != ContentEncoding::kIdentity) {
    absl::StatusOr<std::unique_ptr<ResponseCompressor>> compressor =
        ResponseCompressor::Create(encoding, options_.compression_level);
    if (!compressor.ok()) {
      return PlainReply(500, absl::StrCat(compressor.status().message(), "\n"));
    }
    reply.chunks =
        CompressedBody(std::move(reply.chunks), *std::move(compressor));
    reply.headers.emplace_back("Content-Encoding",
                               std::string(ContentEncodingName(encoding)));
  }
  return reply;
}

HttpServer::Reply HttpServer::Metrics() {
  Reply reply;
  reply.content_type = std::string(kTextContentType);
  if (options_.registry == nullptr) return reply;
  if (options_.update_metrics) options_.update_metrics();
  if (series_gauge_ != nullptr) {
    series_gauge_->Set(static_cast<double>(options_.store->SeriesCount()));
    UpdateMergeGauges();
  }
  if (MHD_Daemon* const daemon = daemon_.load();
      connections_gauge_ != nullptr && daemon != nullptr) {
    const MHD_DaemonInfo* info =
        MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    if (info != nullptr) {
      connections_gauge_->Set(static_cast<double>(info->num_connections));
    }
  }
  reply.body =
      prometheus::TextSerializer().Serialize(options_.registry->Collect());
  return reply;
}

HttpServer::Reply HttpServer::Api(const Request& request) {
  ApiRequest api_request;
  api_request.method = request.method;
  api_request.path = request.path.substr(kApiPrefix.size());
  api_request.origin = request.Header("Origin");
  // Go's r.Form: a url-encoded body's values come before the URL's.
  if (!request.body.empty()) api_request.form = ParseUrlEncoded(request.body);
  for (const auto& [k, v] : request.query) {
    api_request.form.emplace_back(k, v);
    api_request.query.emplace_back(k, v);
  }
  ApiResponse answer = api_->Handle(api_request);
  if (!answer.refused_reason.empty()) Refuse(answer.refused_reason.c_str());
  Reply reply;
  reply.status = answer.status;
  reply.content_type = std::move(answer.content_type);
  if (!answer.allow.empty()) reply.headers.emplace_back("Allow", answer.allow);
  for (auto& header : answer.headers)
    reply.headers.push_back(std::move(header));
  if (reply.content_type != "application/json") {
    reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  }
  if (answer.status == 204) return reply;
  reply.body = std::move(answer.body);
  reply.chunks = std::move(answer.body_chunks);
  return reply;
}

}  // namespace fedgate
