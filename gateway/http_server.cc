#include "gateway/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/content_negotiation.h"
#include "gateway/federate_handler.h"
#include "gateway/response_compression.h"
#include "prometheus/counter.h"
#include "prometheus/text_serializer.h"

namespace fedgate {
namespace {

void PlainError(httplib::Response& res, int status, absl::string_view body) {
  res.status = status;
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(std::string(body), "text/plain; charset=utf-8");
}

}  // namespace

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

HttpServer::HttpServer(Options options)
    : options_(std::move(options)),
      server_(std::make_unique<httplib::Server>()) {
  if (options_.registry != nullptr) {
    series_gauge_ = &prometheus::BuildGauge()
                         .Name("fedgate_series")
                         .Help(
                             "Series held in the store, synthetic "
                             "series (up, scrape_*) included.")
                         .Register(*options_.registry)
                         .Add({});
    auto gauge = [this](const char* name, const char* help) {
      return &prometheus::BuildGauge()
                  .Name(name)
                  .Help(help)
                  .Register(*options_.registry)
                  .Add({});
    };
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
  }
}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(Options options) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitListenAddress(options.listen_address, &host, &port);
      !s.ok()) {
    return s;
  }
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(options)));
  server->RegisterRoutes();
  // cpp-httplib sets SO_REUSEPORT by default, which would let a second
  // fedgate bind the same port and silently take half of the connections.
  server->server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (port == 0) {
    port = server->server_->bind_to_any_port(host);
    if (port < 0) port = 0;
  } else if (!server->server_->bind_to_port(host, port)) {
    port = 0;
  }
  if (port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on \"", server->options_.listen_address,
                     "\": address in use or not available"));
  }
  server->port_ = port;
  httplib::Server* raw = server->server_.get();
  server->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  // stop() is a no-op until the accept loop runs, so Stop() right after
  // Start() would hang in join(); wait (bounded) for the loop.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!raw->is_running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  return server;
}

void HttpServer::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::RegisterRoutes() {
  httplib::Server& s = *server_;

  s.Get("/federate", [this](const httplib::Request& req,
                            httplib::Response& res) {
    std::vector<std::string> matches;
    const size_t n = req.get_param_value_count("match[]");
    for (size_t i = 0; i < n; ++i) {
      matches.push_back(req.get_param_value("match[]", i));
    }
    absl::StatusOr<FederateParams> params = ParseFederateParams(matches);
    if (!params.ok()) {
      if (federate_requests_bad_ != nullptr)
        federate_requests_bad_->Increment();
      PlainError(res, 400, absl::StrCat(params.status().message(), "\n"));
      return;
    }
    if (federate_requests_ok_ != nullptr) federate_requests_ok_->Increment();
    // Format and compression as Prometheus negotiates them
    // (content_negotiation.h).
    const ExpositionFormat format =
        NegotiateFormat(req.get_header_value("Accept"));
    const ContentEncoding encoding =
        NegotiateEncoding(req.get_header_value("Accept-Encoding"));
    // cpp-httplib compresses text/* answers on its own, choosing `br` or any
    // token containing `gzip` (Prometheus: only an exact `gzip`/`deflate`
    // token). Without the header it leaves the stream to us. The server owns
    // a non-const Request, so dropping the header here is well defined.
    const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
    if (encoding != ContentEncoding::kIdentity) {
      res.set_header("Content-Encoding",
                     std::string(ContentEncodingName(encoding)));
    }
    auto shared_params = std::make_shared<FederateParams>(*std::move(params));
    std::shared_ptr<const StoreSnapshot> snapshot = options_.store->Snapshot();
    // The external labels of the configuration running now (reloads change
    // them).
    auto external_labels =
        std::make_shared<const std::map<std::string, std::string>>(
            options_.current_external_labels
                ? options_.current_external_labels()
                : options_.external_labels);
    res.set_chunked_content_provider(
        std::string(ContentTypeOf(format)),
        [snapshot, shared_params, external_labels, format, encoding](
            size_t, httplib::DataSink& sink) {
          // A failed write means the client went away: WriteFederation
          // stops at its next 64 KiB chunk.
          auto write = [&sink](absl::string_view chunk) {
            return sink.is_writable() && sink.write(chunk.data(), chunk.size());
          };
          bool complete;
          if (encoding == ContentEncoding::kIdentity) {
            complete = WriteFederation(*snapshot, *shared_params,
                                       *external_labels, format, write);
          } else {
            absl::StatusOr<std::unique_ptr<ResponseCompressor>> compressor =
                ResponseCompressor::Create(encoding);
            if (!compressor.ok()) return false;
            std::string compressed;
            complete = WriteFederation(
                *snapshot, *shared_params, *external_labels, format,
                [&](absl::string_view chunk) {
                  compressed.clear();
                  (*compressor)->Compress(chunk, &compressed);
                  return compressed.empty() || write(compressed);
                });
            if (complete) {
              compressed.clear();
              (*compressor)->Finish(&compressed);
              complete = write(compressed);
            }
          }
          if (complete) sink.done();
          return complete;
        });
  });
  auto method_not_allowed = [](const httplib::Request&,
                               httplib::Response& res) {
    res.set_header("Allow", "GET, OPTIONS");
    PlainError(res, 405, "Method Not Allowed\n");
  };
  s.Post("/federate", method_not_allowed);
  s.Put("/federate", method_not_allowed);
  s.Delete("/federate", method_not_allowed);

  s.Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("fedgate is Healthy.\n", "text/plain; charset=utf-8");
  });
  s.Get("/-/ready", [this](const httplib::Request&, httplib::Response& res) {
    if (options_.ready && !options_.ready()) {
      PlainError(res, 503, "Service Unavailable");
      return;
    }
    res.set_content("fedgate is Ready.\n", "text/plain; charset=utf-8");
  });
  if (options_.reload) {
    // As Prometheus: POST or PUT reloads; 500 with the error on failure.
    auto reload = [this](const httplib::Request&, httplib::Response& res) {
      if (absl::Status s = options_.reload(); !s.ok()) {
        PlainError(res, 500, absl::StrCat(s.message(), "\n"));
      }
    };
    s.Post("/-/reload", reload);
    s.Put("/-/reload", reload);
    s.Get("/-/reload", [](const httplib::Request&, httplib::Response& res) {
      PlainError(res, 405, "Only POST or PUT requests allowed\n");
    });
  }
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    if (options_.registry == nullptr) {
      res.set_content("", std::string(kTextContentType));
      return;
    }
    if (series_gauge_ != nullptr) {
      series_gauge_->Set(static_cast<double>(options_.store->SeriesCount()));
      UpdateMergeGauges();
    }
    res.set_content(
        prometheus::TextSerializer().Serialize(options_.registry->Collect()),
        std::string(kTextContentType));
  });

  ApiOptions api = options_.api;
  api.store = options_.store;
  api.web_port = [this] { return port_; };
  RegisterApiRoutes(&s, std::make_shared<const ApiHandler>(std::move(api)),
                    options_.ready);
}

}  // namespace fedgate
