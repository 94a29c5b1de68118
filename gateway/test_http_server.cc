#include "gateway/test_http_server.h"

#include <memory>

#include "absl/time/time.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"

namespace fedgate {

void PublishTestUp(SeriesStore& store) {
  auto batch = std::make_shared<ScrapeBatch>();
  Sample up;
  up.labels = InternedLabels::Intern(
      Labels{{"__name__", "up"}, {"instance", "t:1"}, {"job", "j"}});
  up.value = 1;
  batch->timestamp_ms = kTestScrapeMs;
  batch->samples.push_back(up);
  store.Publish(1, batch);
}

HttpServer::Options TestHttpServerOptions(SeriesStore* store,
                                          prometheus::Registry* registry) {
  HttpServer::Options options;
  options.listen_address = "127.0.0.1:0";
  options.store = store;
  options.registry = registry;
  options.api.now = [] { return absl::FromUnixMillis(kTestScrapeMs); };
  return options;
}

}  // namespace fedgate
