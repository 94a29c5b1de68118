// gateway/test_http_server.h
//
// Test-only: the set-up that the HTTP server tests (plain and with a web
// config) share: a series store holding one target's `up` sample, and the
// options of a server on 127.0.0.1 serving it, its API's clock at the
// sample's time so that /federate and /api/v1 read it as fresh.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_GATEWAY_TEST_HTTP_SERVER_H_
#define FEDGATE_GATEWAY_TEST_HTTP_SERVER_H_

#include <cstdint>

#include "gateway/http_server.h"
#include "merge/series_store.h"
#include "prometheus/registry.h"

namespace fedgate {

// When the test sample was scraped, in Unix milliseconds; also the time the
// API of TestHttpServerOptions() reads at.
inline constexpr int64_t kTestScrapeMs = 1700000000000;

// Publishes the batch of target 1: `up{instance="t:1",job="j"} 1` scraped at
// kTestScrapeMs.
void PublishTestUp(SeriesStore& store);

// Returns the options of a server listening on 127.0.0.1 (any free port),
// serving `store`, with its own metrics in `registry`, and reading at
// kTestScrapeMs; the test sets the rest.
HttpServer::Options TestHttpServerOptions(SeriesStore* store,
                                          prometheus::Registry* registry);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_TEST_HTTP_SERVER_H_
