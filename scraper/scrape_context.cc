#include "scraper/scrape_context.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/strip.h"
#include "prometheus/registry.h"
#include "scraper/monotonic_clock.h"

namespace fedgate {
namespace {

// os.Hostname() resolved to an IP and back, as Prometheus's GetFQDN; the
// plain host name when either lookup fails.
std::string LocalFqdn() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) return "localhost";
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  if (getaddrinfo(host, nullptr, &hints, &addresses) != 0) return host;
  std::string fqdn = host;
  for (addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    char name[NI_MAXHOST] = {};
    if (getnameinfo(a->ai_addr, a->ai_addrlen, name, sizeof(name), nullptr, 0,
                    NI_NAMEREQD) == 0) {
      fqdn = std::string(absl::StripSuffix(name, "."));
      break;
    }
  }
  freeaddrinfo(addresses);
  return fqdn;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScrapeContext>> ScrapeContext::Create(
    Options options) {
  if (options.store == nullptr) {
    return absl::InvalidArgumentError("ScrapeManager needs a SeriesStore");
  }
  auto context = std::make_unique<ScrapeContext>();
  context->store = options.store;
  context->rules = options.rules;
  context->clock = options.clock != nullptr
                       ? std::move(options.clock)
                       : std::function<absl::Time()>(&MonotonicNow);
  context->hostname =
      options.hostname.empty() ? LocalFqdn() : std::move(options.hostname);
  context->shard = options.shard;
  prometheus::Registry* registry = options.registry;
  if (registry == nullptr) {
    context->own_registry = std::make_unique<prometheus::Registry>();
    registry = context->own_registry.get();
  }
  if (absl::Status s = context->metrics.Register(*registry); !s.ok()) return s;
  HttpClient::Options http_options;
  if (!options.user_agent.empty()) {
    http_options.user_agent = std::move(options.user_agent);
  }
  absl::StatusOr<std::unique_ptr<HttpClient>> http =
      HttpClient::Create(std::move(http_options));
  if (!http.ok()) return http.status();
  context->http = *std::move(http);
  int threads = options.parse_threads;
  if (threads <= 0) {
    threads =
        std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  context->workers = std::make_unique<WorkerPool>(threads, "scrape-parse");
  context->scheduler = std::make_unique<ScrapeScheduler>(
      context->http.get(), std::max(options.early_ticks, absl::ZeroDuration()),
      context->clock);
  return context;
}

ScrapeContext::~ScrapeContext() = default;

}  // namespace fedgate
