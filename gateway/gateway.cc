#include "gateway/gateway.h"

#include <google/protobuf/descriptor.h>
#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "config/config_loader.h"
#include "config/duration.h"
#include "config/go_regexp.h"
#include "config/relabel_config.h"
#include "gateway/build_info.h"
#include "gateway/config_checksum.h"
#include "gateway/debug/debug_handler.h"
#include "gateway/grpc_service.h"
#include "gateway/logger.h"
#include "gateway/security/grpc_security.h"
#include "gateway/serving_metrics.h"
#include "merge/rules/aggregation_rule.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "scraper/exposition/text_parser.h"
#include "scraper/shard_selector.h"
#include "scraper/thread_name.h"

namespace fedgate {
namespace {

// The authentication mode as fedgate_web_authentication and the start log
// name it.
std::string AuthenticationMode(const WebSecurityState* state) {
  if (state == nullptr) return "none";
  switch (state->scheme) {
    case WebAuthScheme::kNone:
      return state->config.authentication.disabled ? "disabled" : "none";
    case WebAuthScheme::kBasic:
      return "basic";
    case WebAuthScheme::kBearer:
      return "bearer";
    case WebAuthScheme::kKubernetes:
      return "kubernetes";
  }
  return "none";
}

// Every method the gRPC server serves: fedgate.v1.Fedgate's (from its
// descriptor), health checking and reflection.
std::vector<GrpcMethod> GrpcMethods() {
  std::vector<GrpcMethod> methods;
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          kFedgateGrpcServiceName);
  if (service != nullptr) methods = GrpcMethodsOf(*service);
  methods.push_back({"/grpc.health.v1.Health/Check", GrpcMethodType::kUnary});
  methods.push_back(
      {"/grpc.health.v1.Health/Watch", GrpcMethodType::kServerStream});
  methods.push_back(
      {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
       GrpcMethodType::kBidiStream});
  return methods;
}

// Says at start what protects the ports, in the log and in
// fedgate_web_authentication: an open fedgate is a choice both show.
void ReportWebSecurity(WebSecurity* security, prometheus::Registry& registry) {
  std::shared_ptr<const WebSecurityState> state =
      security != nullptr ? security->Current() : nullptr;
  const bool tls = state != nullptr && state->tls != nullptr;
  const std::string mode = AuthenticationMode(state.get());
  prometheus::BuildGauge()
      .Name("fedgate_web_authentication")
      .Help(
          "How requests authenticate, as loaded at start: mode is none (the "
          "embedded demo), disabled (turned off explicitly in the web "
          "config), basic, bearer or kubernetes; tls says whether the ports "
          "serve TLS.")
      .Register(registry)
      .Add({{"mode", mode}, {"tls", tls ? "true" : "false"}})
      .Set(1);
  const WebAuthScheme scheme =
      state != nullptr ? state->scheme : WebAuthScheme::kNone;
  if (scheme == WebAuthScheme::kNone) {
    const bool disabled = mode == "disabled";
    Log(LogLevel::kWarn,
        disabled ? "Authentication is disabled by the web config: anyone who "
                   "reaches fedgate's ports can read every series"
                 : "The embedded demo serves without authentication: anyone "
                   "who reaches fedgate's ports can read every series",
        {{"tls", tls}});
    return;
  }
  Log(LogLevel::kInfo, "Web config loaded",
      {{"tls", tls}, {"authentication", mode}});
}

// Resolves --shard.count and --shard.index; without the index, the shard is
// the ordinal of the StatefulSet pod name: POD_NAME (the downward API, as
// deploy/overlays/sharded sets it), else HOSTNAME, else the host name (a
// StatefulSet pod's host name is its name).
absl::StatusOr<ShardSelector> ShardFromFlags(const FedgateFlags& flags) {
  std::optional<uint64_t> index;
  if (flags.shard_index >= 0) index = static_cast<uint64_t>(flags.shard_index);
  std::string pod_name;
  absl::string_view source;
  for (const char* variable : {"POD_NAME", "HOSTNAME"}) {
    const char* value = std::getenv(variable);
    if (value != nullptr && *value != '\0') {
      pod_name = value;
      source = variable;
      break;
    }
  }
  if (pod_name.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0) pod_name = host;
    source = "the host name";
  }
  absl::StatusOr<ShardSelector> shard = ShardSelector::FromFlags(
      index, static_cast<uint64_t>(flags.shard_count), pod_name, source);
  if (shard.ok() && shard->count() > 1) {
    Log(LogLevel::kInfo, "Scraping one shard of the targets",
        {{"shard", shard->index()}, {"shards", shard->count()}});
  }
  return shard;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(
    const FedgateFlags& flags) {
  std::unique_ptr<Gateway> gateway(new Gateway());
  gateway->config_file_ = flags.config_file;
  gateway->config_load_options_.expand_external_labels =
      flags.expand_external_labels;
  gateway->config_load_options_.on_empty_variable = [](absl::string_view name) {
    Log(LogLevel::kWarn, "Empty environment variable",
        {{"name", std::string(name)}});
  };
  gateway->config_load_options_.on_label_expanded =
      [](absl::string_view label, absl::string_view input,
         absl::string_view output) {
        Log(LogLevel::kDebug, "External label replaced",
            {{"label", std::string(label)},
             {"input", std::string(input)},
             {"output", std::string(output)}});
      };
  gateway->shutdown_timeout_ = flags.web_shutdown_timeout;
  // A bad web config stops the start before anything runs. Without one,
  // or without authentication in it, requests need Kubernetes service
  // account tokens (the embedded demo aside, which serves without).
  {
    absl::StatusOr<std::unique_ptr<WebSecurity>> security = WebSecurity::Create(
        flags.web_config_file,
        KubernetesEnvironment::FromProcess(
            flags.kubernetes_service_account_dir),
        flags.config_file.empty() ? DefaultAuthentication::kNone
                                  : DefaultAuthentication::kKubernetes);
    if (!security.ok()) {
      return absl::Status(security.status().code(),
                          flags.web_config_file.empty()
                              ? std::string(security.status().message())
                              : absl::StrCat("invalid --web.config.file: ",
                                             security.status().message()));
    }
    gateway->web_security_ = *std::move(security);
  }

  absl::StatusOr<Config> config;
  if (flags.config_file.empty()) {
    absl::StatusOr<std::unique_ptr<DemoTargets>> demo = DemoTargets::Start();
    if (!demo.ok()) return demo.status();
    gateway->demo_ = *std::move(demo);
    config =
        ParseConfig(gateway->demo_->FedgateConfigYaml(), "<embedded demo>");
  } else {
    gateway->auto_reload_interval_ = flags.config_auto_reload_interval;
    // Before the load: a change written meanwhile is then seen as one.
    if (gateway->auto_reload_interval_ > absl::ZeroDuration()) {
      absl::MutexLock lock(&gateway->reload_mu_);
      gateway->config_checksum_ = gateway->CurrentChecksum();
    }
    config = LoadConfigFile(flags.config_file, gateway->config_load_options_);
  }
  if (!config.ok()) return config.status();
  std::shared_ptr<const Config> initial =
      std::make_shared<const Config>(*std::move(config));
  {
    absl::MutexLock lock(&gateway->config_mu_);
    gateway->config_ = initial;
  }

  gateway->registry_ = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge()
      .Name("fedgate_build_info")
      .Help(
          "A metric with a constant '1' value labeled by fedgate's version, "
          "git revision and branch, the compiler that built it, and the "
          "instructions its text parser checks label sets with.")
      .Register(*gateway->registry_)
      .Add({{"version", GetBuildInfo().version},
            {"revision", GetBuildInfo().revision},
            {"branch", GetBuildInfo().branch},
            {"compiler", GetBuildInfo().compiler},
            {"text_parser_simd", std::string(TextParserSimdName(
                                     text_parser_internal::ActiveSimd()))}})
      .Set(1);
  gateway->reload_successful_ =
      &prometheus::BuildGauge()
           .Name("fedgate_config_last_reload_successful")
           .Help(
               "Whether the last configuration reload attempt was "
               "successful.")
           .Register(*gateway->registry_)
           .Add({});
  gateway->reload_success_timestamp_ =
      &prometheus::BuildGauge()
           .Name("fedgate_config_last_reload_success_timestamp_seconds")
           .Help("Timestamp of the last successful configuration reload.")
           .Register(*gateway->registry_)
           .Add({});
  gateway->reload_successful_->Set(1);
  gateway->reload_success_timestamp_->Set(
      absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  prometheus::Counter* failovers =
      &prometheus::BuildCounter()
           .Name("fedgate_dedup_failovers_total")
           .Help("Leader changes in dedup groups away from a leader.")
           .Register(*gateway->registry_)
           .Add({});
  SeriesStore::Options store_options;
  store_options.on_leader_change = [failovers](const LeaderChange& change) {
    // Target ids are internal; the group and the reason say what happened.
    if (change.from == 0) {
      Log(LogLevel::kInfo, "Dedup group elected a leader",
          {{"group", change.group}});
      return;
    }
    failovers->Increment();
    Log(LogLevel::kWarn, "Dedup group leader changed",
        {{"group", change.group},
         {"reason", change.reason},
         {"has_new_leader", change.to != 0}});
  };
  gateway->store_ = std::make_unique<SeriesStore>(std::move(store_options));

  RuleEvaluator::Options rule_options;
  rule_options.store = gateway->store_.get();
  gateway->rules_ = std::make_unique<RuleEvaluator>(std::move(rule_options));
  absl::StatusOr<std::vector<AggregationRule>> rules =
      CompileAggregationRules(initial->rule_groups, initial->rule_options);
  if (!rules.ok()) return rules.status();
  gateway->rules_->SetRules(*std::move(rules));

  ScrapeManager::Options scrape_options;
  scrape_options.store = gateway->store_.get();
  scrape_options.rules = gateway->rules_.get();
  scrape_options.registry = gateway->registry_.get();
  absl::StatusOr<ShardSelector> shard = ShardFromFlags(flags);
  if (!shard.ok()) return shard.status();
  scrape_options.shard = *shard;
  absl::StatusOr<std::unique_ptr<ScrapeManager>> scraper =
      ScrapeManager::Create(scrape_options);
  if (!scraper.ok()) return scraper.status();
  gateway->scraper_ = *std::move(scraper);

  Gateway* raw = gateway.get();
  DiscoveryManager::Options discovery_options;
  discovery_options.on_change = [raw] { raw->ApplyDiscoveredTargets(); };
  discovery_options.registry = gateway->registry_.get();
  discovery_options.kubernetes_env =
      KubernetesEnvironment::FromProcess(flags.kubernetes_service_account_dir);
  discovery_options.log =
      [](absl::string_view msg,
         const std::vector<std::pair<std::string, std::string>>& fields) {
        LogFields log_fields;
        for (const auto& [name, value] : fields) {
          log_fields.emplace_back(name, value);
        }
        Log(LogLevel::kError, msg, log_fields);
      };
  absl::StatusOr<std::unique_ptr<DiscoveryManager>> discovery;
  {
    ScopedThreadName name("discovery");  // Its loops and sender.
    discovery = DiscoveryManager::Create(std::move(discovery_options));
  }
  if (!discovery.ok()) return discovery.status();
  {
    absl::MutexLock lock(&gateway->reload_mu_);
    gateway->discovery_ = *std::move(discovery);
    if (absl::Status s = gateway->discovery_->ApplyConfig(*initial); !s.ok()) {
      return s;
    }
    if (absl::Status s = gateway->scraper_->ApplyConfig(
            initial, gateway->discovery_->CurrentTargetSets());
        !s.ok()) {
      return s;
    }
  }

  ReportWebSecurity(gateway->web_security_.get(), *gateway->registry_);

  HttpServer::Options http_options;
  http_options.security = gateway->web_security_.get();
  http_options.listen_address = flags.web_listen_address;
  http_options.limits.max_connections =
      static_cast<size_t>(flags.web_max_connections);
  http_options.limits.read_timeout = flags.web_read_timeout;
  http_options.limits.max_concurrent_requests =
      static_cast<size_t>(flags.web_max_concurrent_requests);
  http_options.limits.request_timeout = flags.web_request_timeout;
  MatchLimits match_limits;
  match_limits.max_params = static_cast<size_t>(flags.query_max_match_params);
  match_limits.max_selector_bytes =
      static_cast<size_t>(flags.query_max_selector_length);
  match_limits.max_regex_program_size = static_cast<int>(std::min<int64_t>(
      flags.query_max_regex_program_size, std::numeric_limits<int>::max()));
  http_options.api.match_limits = match_limits;
  http_options.api.max_series = static_cast<size_t>(flags.query_max_series);
  http_options.compression_level = flags.web_compression_level;
  http_options.store = gateway->store_.get();
  http_options.registry = gateway->registry_.get();
  gateway->process_metrics_ =
      std::make_unique<ProcessMetrics>(*gateway->registry_);
  gateway->rule_metrics_ = std::make_unique<RuleMetrics>(*gateway->registry_);
  http_options.update_metrics = [metrics = gateway->process_metrics_.get(),
                                 rules = gateway->rules_.get(),
                                 rule_metrics = gateway->rule_metrics_.get()] {
    metrics->Update();
    rule_metrics->Update(rules->Stats());
  };
  http_options.external_labels = initial->global.external_labels;
  http_options.current_external_labels = [raw] {
    return raw->config()->global.external_labels;
  };
  http_options.ready = [raw] { return raw->Ready(); };
  http_options.enable_lifecycle = flags.web_enable_lifecycle;
  http_options.reload = [raw] { return raw->Reload(); };
  http_options.quit = [raw] { raw->RequestQuit(); };
  if (flags.web_cors_origin != ".*") {  // `.*` answers `*` (httputil.SetCORS).
    // Checked by ParseFlags with the same call.
    absl::StatusOr<std::shared_ptr<const RE2>> cors =
        CompileGoRegexp(AnchoredRelabelRegex(flags.web_cors_origin));
    if (!cors.ok()) return cors.status();
    http_options.api.cors_origin = *std::move(cors);
  }
  ScrapeManager* targets_source = gateway->scraper_.get();
  http_options.api.targets = [targets_source] {
    return targets_source->Targets();
  };
  http_options.api.dropped_targets = [targets_source] {
    return targets_source->DroppedTargets();
  };
  http_options.api.config = [raw] { return raw->config(); };
  http_options.api.build_info.version = GetBuildInfo().version;
  http_options.api.build_info.revision = GetBuildInfo().revision;
  http_options.api.build_info.branch = GetBuildInfo().branch;
  http_options.api.build_info.go_version = GetBuildInfo().compiler;
  if (flags.web_enable_debug) {
    DebugSources debug;
    debug.store = gateway->store_.get();
    debug.schedule = [targets_source] { return targets_source->Schedule(); };
    http_options.debug =
        [debug = std::move(debug)](const HttpServer::Request& request) {
          DebugAnswer answer =
              ServeDebug(debug, request.method, request.path, request.query);
          HttpServer::Reply reply;
          reply.status = answer.status;
          reply.content_type = std::move(answer.content_type);
          reply.body = std::move(answer.body);
          if (!answer.allow.empty()) {
            reply.headers.emplace_back("Allow", std::move(answer.allow));
          }
          return reply;
        };
  }
  absl::StatusOr<std::unique_ptr<HttpServer>> http =
      HttpServer::Start(std::move(http_options));
  if (!http.ok()) return http.status();
  gateway->http_ = *std::move(http);

  if (!flags.grpc_listen_address.empty()) {
    FedgateGrpcService::Options service_options;
    service_options.store = gateway->store_.get();
    service_options.match_limits = match_limits;
    service_options.max_series = static_cast<size_t>(flags.query_max_series);
    service_options.max_concurrent_calls =
        static_cast<size_t>(flags.web_max_concurrent_requests);
    service_options.request_timeout = flags.web_request_timeout;
    service_options.config = [raw] { return raw->config(); };
    ScrapeManager* scraper = gateway->scraper_.get();
    service_options.targets = [scraper] { return scraper->Targets(); };
    if (flags.web_enable_lifecycle) {
      service_options.reload = [raw] { return raw->Reload(); };
    }
    if (WebSecurity* security = gateway->web_security_.get()) {
      service_options.authenticate =
          [security](const grpc::CallbackServerContext& context,
                     absl::string_view method) {
            return CheckGrpcCredentials(*security, context.client_metadata(),
                                        method);
          };
    }
    gateway->grpc_service_ =
        std::make_unique<FedgateGrpcService>(std::move(service_options));

    // fedgate.v1.Fedgate, the standard grpc.health.v1 service and
    // reflection. Requests are selectors (4 MiB is plenty); responses are
    // batched well below the 16 MiB send limit (docs/api.md).
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    // gRPC sets SO_REUSEPORT by default, which would let a second fedgate
    // bind the same port and silently take half of the calls; as for HTTP,
    // a port in use fails the start instead.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.AddListeningPort(
        flags.grpc_listen_address,
        gateway->web_security_ != nullptr
            ? GrpcServerCredentials(*gateway->web_security_->Current())
            : grpc::InsecureServerCredentials(),
        &gateway->grpc_port_);
    builder.SetMaxReceiveMessageSize(kGrpcMaxReceiveMessageBytes);
    builder.SetMaxSendMessageSize(kGrpcMaxSendMessageBytes);
    builder.RegisterService(gateway->grpc_service_.get());
    absl::StatusOr<std::unique_ptr<GrpcServerMetrics>> grpc_metrics =
        GrpcServerMetrics::Create(*gateway->registry_, GrpcMethods());
    if (!grpc_metrics.ok()) return grpc_metrics.status();
    gateway->grpc_metrics_ = *std::move(grpc_metrics);
    gateway->grpc_metrics_->InstallInterceptor(builder);
    gateway->grpc_ = builder.BuildAndStart();
    if (gateway->grpc_ == nullptr || gateway->grpc_port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on \"", flags.grpc_listen_address,
                       "\" for gRPC: address in use or not available"));
    }
    // NOT_SERVING until the first scrapes are in (Kubernetes probes).
    grpc::HealthCheckServiceInterface* health =
        gateway->grpc_->GetHealthCheckService();
    health->SetServingStatus(false);
    health->SetServingStatus(kFedgateGrpcServiceName, false);
  }
  gateway->health_watcher_ = std::thread([raw] {
    NameCurrentThread("ready-watch");
    raw->WatchFirstScrapes();
  });
  gateway->conflict_watcher_ = std::thread([raw] {
    NameCurrentThread("conflict-watch");
    raw->WatchConflicts();
  });
  if (gateway->auto_reload_interval_ > absl::ZeroDuration()) {
    Log(LogLevel::kInfo,
        "Enabled automatic configuration file reloading. Checking for "
        "configuration changes every",
        {{"interval",
          FormatPrometheusDuration(gateway->auto_reload_interval_)}});
    gateway->config_watcher_ = std::thread([raw] {
      NameCurrentThread("config-watch");
      raw->WatchConfigFiles();
    });
  }
  return gateway;
}

Gateway::~Gateway() { Stop(); }

std::shared_ptr<const Config> Gateway::config() const {
  absl::MutexLock lock(&config_mu_);
  return config_;
}

void Gateway::WatchFirstScrapes() {
  // Polls the targets' health every 50 ms (a few microseconds each) until
  // each target has had a first scrape, up or down.
  while (!stopping_.WaitForNotificationWithTimeout(absl::Milliseconds(50))) {
    bool all_scraped = true;
    for (const TargetStatus& target : scraper_->Targets()) {
      if (target.health == TargetHealth::kUnknown) {
        all_scraped = false;
        break;
      }
    }
    if (!all_scraped) continue;
    first_scrapes_done_ = true;
    if (grpc_ != nullptr) {
      grpc::HealthCheckServiceInterface* health =
          grpc_->GetHealthCheckService();
      health->SetServingStatus(true);
      health->SetServingStatus(kFedgateGrpcServiceName, true);
    }
    Log(LogLevel::kInfo, "First scrapes done, fedgate is ready");
    return;
  }
}

void Gateway::WatchConflicts() {
  // A full pass over the store (~50 ms per million series, as the merge
  // self-metrics): every 5 s is 1% of a core at a million series, and a
  // conflict is in the log within 5 s of the scrape that caused it.
  constexpr absl::Duration kConflictCheckInterval = absl::Seconds(5);
  // Targets already logged; each is logged once for as long as it exists.
  absl::flat_hash_set<TargetId> logged;
  while (!stopping_.WaitForNotificationWithTimeout(kConflictCheckInterval)) {
    const MergeStats stats = ComputeMergeStats(*store_->Snapshot());
    for (auto it = logged.begin(); it != logged.end();) {
      if (stats.targets.contains(*it)) {
        ++it;
      } else {
        logged.erase(it++);
      }
    }
    if (stats.conflicting == 0) continue;
    std::vector<TargetId> fresh;
    for (const auto& [id, counts] : stats.targets) {
      if (counts.conflicting > 0 && !logged.contains(id)) fresh.push_back(id);
    }
    if (fresh.empty()) continue;
    std::sort(fresh.begin(), fresh.end());
    absl::flat_hash_map<TargetId, TargetStatus> targets;
    for (TargetStatus& t : scraper_->Targets()) {
      const TargetId id = t.id;
      targets.emplace(id, std::move(t));
    }
    for (TargetId id : fresh) {
      logged.insert(id);
      auto loser = targets.find(id);
      if (loser == targets.end()) continue;  // Left since the snapshot.
      const MergeStats::PerTarget& counts = stats.targets.at(id);
      LogFields fields = {{"target", loser->second.scrape_url},
                          {"scrape_pool", loser->second.scrape_pool}};
      if (!loser->second.dedup_group.empty()) {
        fields.emplace_back("dedup_group", loser->second.dedup_group);
      }
      fields.emplace_back("conflicting_series", counts.conflicting);
      fields.emplace_back("series", counts.first_conflict.ToString());
      if (auto winner = targets.find(counts.conflict_winner);
          winner != targets.end()) {
        fields.emplace_back("winner", winner->second.scrape_url);
        if (!winner->second.dedup_group.empty()) {
          fields.emplace_back("winner_dedup_group", winner->second.dedup_group);
        }
      }
      Log(LogLevel::kWarn,
          "Series conflict: another target serves the same series", fields);
    }
  }
}

std::string Gateway::CurrentChecksum() {
  absl::StatusOr<std::string> checksum = ConfigChecksum(config_file_);
  if (checksum.ok()) return *std::move(checksum);
  // Prometheus's words; the reload that follows says what is wrong.
  Log(LogLevel::kError,
      "Failed to generate checksum during configuration reload",
      {{"err", std::string(checksum.status().message())}});
  return "";
}

void Gateway::WatchConfigFiles() {
  while (!stopping_.WaitForNotificationWithTimeout(auto_reload_interval_)) {
    {
      absl::MutexLock lock(&reload_mu_);
      // An unreadable or unparsable file gives "", which differs from the
      // checksum of the running files: the reload is tried, and fails with
      // the reason, at every interval until the files are fixed.
      const std::string checksum = CurrentChecksum();
      if (!checksum.empty() && checksum == config_checksum_) continue;
    }
    Log(LogLevel::kInfo,
        "Configuration file change detected, reloading the configuration.");
    // Logs its outcome; a failed one leaves the running configuration and
    // its checksum, so the next interval tries again.
    (void)Reload();
  }
}

absl::Status Gateway::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  // Taken before the files are read: a change written during the reload
  // is seen as one at the next check.
  // Unlogged: a file that cannot be checksummed fails the reload, which
  // says why.
  std::string checksum;
  if (auto_reload_interval_ > absl::ZeroDuration()) {
    checksum = ConfigChecksum(config_file_).value_or("");
  }
  absl::StatusOr<Config> config;
  if (config_file_.empty()) {
    config = ParseConfig(demo_->FedgateConfigYaml(), "<embedded demo>");
  } else {
    config = LoadConfigFile(config_file_, config_load_options_);
  }
  absl::Status status = config.status();
  std::shared_ptr<const Config> next;
  absl::StatusOr<std::vector<AggregationRule>> rules;
  if (status.ok()) {
    next = std::make_shared<const Config>(*std::move(config));
    rules = CompileAggregationRules(next->rule_groups, next->rule_options);
    status = rules.status();
  }
  if (status.ok()) {
    status = discovery_->ApplyConfig(*next);
    if (status.ok()) {
      status = scraper_->ApplyConfig(next, discovery_->CurrentTargetSets());
      // Back to the running configuration's discoverers (kept ones keep
      // their targets).
      if (!status.ok()) discovery_->ApplyConfig(*this->config()).IgnoreError();
    }
  }
  if (!status.ok()) {
    reload_successful_->Set(0);
    // The running configuration is not that of any files now: the next
    // check reloads whatever they hold, the last good ones put back
    // included (Prometheus 3 would keep their checksum, and its reload
    // status 0, until the next change).
    config_checksum_.clear();
    Log(LogLevel::kError, "Error reloading config",
        {{"err", std::string(status.message())}});
    // Prometheus's wording (web.go); the code stays specific.
    return absl::Status(status.code(), absl::StrCat("failed to reload config: ",
                                                    status.message()));
  }
  // Unchanged rules keep their state (counters stay continuous).
  rules_->SetRules(*std::move(rules));
  config_checksum_ = std::move(checksum);
  {
    absl::MutexLock lock(&config_mu_);
    config_ = std::move(next);
  }
  reload_successful_->Set(1);
  reload_success_timestamp_->Set(
      absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  Log(LogLevel::kInfo, "Completed loading of configuration file",
      {{"filename", config_file_.empty() ? "<embedded demo>" : config_file_}});
  return absl::OkStatus();
}

void Gateway::ApplyDiscoveredTargets() {
  absl::MutexLock lock(&reload_mu_);
  if (absl::Status s =
          scraper_->ApplyTargetSets(discovery_->CurrentTargetSets());
      !s.ok()) {
    Log(LogLevel::kWarn, "Some discovered targets were skipped",
        {{"err", std::string(s.message())}});
  }
  // Applying copies every discovered label set once; with thousands of
  // Kubernetes targets that is tens of MiB, which glibc would otherwise keep
  // after they are freed. Giving it back takes a few milliseconds, at most
  // once per discovery update.
  malloc_trim(0);
}

bool Gateway::Ready() const {
  return first_scrapes_done_.load() && !stopping_.HasBeenNotified();
}

void Gateway::RequestQuit() {
  quit_requested_ = true;
  kill(getpid(), SIGTERM);
}

void Gateway::Stop() {
  // Not ready from here on: /-/ready and the gRPC health service say so to
  // the probes still connected.
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (health_watcher_.joinable()) health_watcher_.join();
  if (conflict_watcher_.joinable()) conflict_watcher_.join();
  if (config_watcher_.joinable()) config_watcher_.join();
  const absl::Time deadline = absl::Now() + shutdown_timeout_;
  if (http_ != nullptr) http_->BeginShutdown();
  if (grpc_ != nullptr) {
    grpc::HealthCheckServiceInterface* health = grpc_->GetHealthCheckService();
    health->SetServingStatus(false);
    health->SetServingStatus(kFedgateGrpcServiceName, false);
    // New calls are refused at once; streams still running at the deadline
    // (a stalled client) are cancelled.
    grpc_->Shutdown(absl::ToChronoTime(deadline));
    grpc_.reset();
  }
  if (http_ != nullptr) {
    if (!http_->AwaitRequestsDone(deadline)) {
      Log(LogLevel::kWarn,
          "Shutdown timeout reached, closing the HTTP answers still in "
          "progress",
          {{"timeout", FormatPrometheusDuration(shutdown_timeout_)}});
    }
    http_->Stop();
  }
  if (discovery_ != nullptr) discovery_->Stop();
  if (scraper_ != nullptr) scraper_->Stop();
  demo_.reset();
}

}  // namespace fedgate
