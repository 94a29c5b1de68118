#include "gateway/gateway.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "config/config_loader.h"
#include "prometheus/gauge.h"

namespace fedgate {

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(
    const FedgateFlags& flags) {
  std::unique_ptr<Gateway> gateway(new Gateway());

  absl::StatusOr<Config> config;
  if (flags.config_file.empty()) {
    absl::StatusOr<std::unique_ptr<DemoTargets>> demo = DemoTargets::Start();
    if (!demo.ok()) return demo.status();
    gateway->demo_ = *std::move(demo);
    config = ParseConfig(gateway->demo_->ConfigYaml(), "<embedded demo>");
  } else {
    config = LoadConfigFile(flags.config_file);
  }
  if (!config.ok()) return config.status();
  gateway->config_ = std::make_shared<const Config>(*std::move(config));

  gateway->registry_ = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge()
      .Name("fedgate_build_info")
      .Help("A metric with a constant '1' value labeled by fedgate's version.")
      .Register(*gateway->registry_)
      .Add({{"version", "0.1.0"}})
      .Set(1);
  gateway->store_ = std::make_unique<SeriesStore>();

  ScrapeManager::Options scrape_options;
  scrape_options.store = gateway->store_.get();
  scrape_options.registry = gateway->registry_.get();
  absl::StatusOr<std::unique_ptr<ScrapeManager>> scraper =
      ScrapeManager::Create(scrape_options);
  if (!scraper.ok()) return scraper.status();
  gateway->scraper_ = *std::move(scraper);
  if (absl::Status s = gateway->scraper_->ApplyConfig(gateway->config_);
      !s.ok()) {
    return s;
  }

  HttpServer::Options http_options;
  http_options.listen_address = flags.web_listen_address;
  http_options.store = gateway->store_.get();
  http_options.registry = gateway->registry_.get();
  http_options.external_labels = gateway->config_->global.external_labels;
  http_options.ready = [] { return true; };
  absl::StatusOr<std::unique_ptr<HttpServer>> http =
      HttpServer::Start(std::move(http_options));
  if (!http.ok()) return http.status();
  gateway->http_ = *std::move(http);

  if (!flags.grpc_listen_address.empty()) {
    // The standard grpc.health.v1 service and reflection; fedgate's own API
    // (fedgate.v1) is registered here as it lands.
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(flags.grpc_listen_address,
                             grpc::InsecureServerCredentials(),
                             &gateway->grpc_port_);
    gateway->grpc_ = builder.BuildAndStart();
    if (gateway->grpc_ == nullptr || gateway->grpc_port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on \"", flags.grpc_listen_address,
                       "\" for gRPC: address in use or not available"));
    }
  }
  return gateway;
}

Gateway::~Gateway() { Stop(); }

void Gateway::Stop() {
  if (grpc_ != nullptr) {
    grpc_->Shutdown();
    grpc_.reset();
  }
  if (http_ != nullptr) http_->Stop();
  if (scraper_ != nullptr) scraper_->Stop();
  demo_.reset();
}

}  // namespace fedgate
