#include "gateway/grpc_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/config_printer.h"
#include "config/label_name.h"
#include "config/quote.h"
#include "gateway/federate_handler.h"
#include "gateway/writers/metric_family_proto.h"
#include "merge/query/match_params.h"
#include "merge/query/series_query.h"

namespace fedgate {
namespace {

constexpr size_t kSeriesPerMessage = 1000;

// A server stream that writes what `Produce` returns, one message at a
// time: the next message is produced only after the transport has taken
// the previous one (OnWriteDone), so at most one is in flight. Ends with OK
// when `Produce` returns false, with CANCELLED when the client went away or
// the deadline expired (gRPC then reports DEADLINE_EXCEEDED to the client
// itself). Deletes itself when gRPC is done with it.
template <typename Message>
class StreamReactor final : public grpc::ServerWriteReactor<Message> {
 public:
  using Producer = std::function<bool(Message*)>;

  // Streams what `produce` makes until it returns false; past `deadline`
  // the stream ends with DEADLINE_EXCEEDED (--web.request-timeout).
  StreamReactor(grpc::CallbackServerContext* context, Producer produce,
                absl::Time deadline = absl::InfiniteFuture())
      : context_(context), produce_(std::move(produce)), deadline_(deadline) {
    WriteNext();
  }

  // Ends the stream at once with `status` (a request error).
  static StreamReactor* Failed(grpc::CallbackServerContext* context,
                               const grpc::Status& status) {
    return new StreamReactor(context, status);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      // The call was cancelled (client gone, deadline) or broken.
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                                "stream cancelled by the client"));
      return;
    }
    WriteNext();
  }

  void OnDone() override { delete this; }

 private:
  StreamReactor(grpc::CallbackServerContext* context,
                const grpc::Status& status)
      : context_(context) {
    this->Finish(status);
  }

  void WriteNext() {
    if (context_->IsCancelled()) {
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                                "stream cancelled by the client"));
      return;
    }
    if (deadline_ != absl::InfiniteFuture() && absl::Now() > deadline_) {
      this->Finish(grpc::Status(
          grpc::StatusCode::DEADLINE_EXCEEDED,
          "request timed out while being sent (--web.request-timeout)"));
      return;
    }
    if (!produce_(&message_)) {
      this->Finish(grpc::Status::OK);
      return;
    }
    this->StartWrite(&message_);
  }

  grpc::CallbackServerContext* context_;
  Producer produce_;
  absl::Time deadline_ = absl::InfiniteFuture();
  Message message_;  // The one message in flight.
};

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// Parses the selectors of /api/v1/series, /labels and /label/<name>/values
// as the HTTP API does (merge/query/match_params.h).
absl::StatusOr<std::vector<Selector>> ParseMatchers(
    const google::protobuf::RepeatedPtrField<std::string>& matches,
    const MatchLimits& limits) {
  const std::vector<absl::string_view> values(matches.begin(), matches.end());
  return ParseMatchParams(values, limits);
}

// The refusal of a call past --web.max-concurrent-requests.
grpc::Status TooManyCalls(size_t max) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      absl::StrCat("too many concurrent requests (", max,
                                   ", --web.max-concurrent-requests)"));
}

// The refusal of an answer of `rows` series past --query.max-series, or OK.
grpc::Status SeriesLimit(size_t rows, size_t max_series) {
  if (max_series == 0 || rows <= max_series) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      absl::StrCat("the answer would hold ", rows,
                                   " series, more than the limit of ",
                                   max_series, " (--query.max-series)"));
}

// Calls `visit` with the labels of every series that matches `selectors`
// (every stored series when there is none).
template <typename Visit>
void ForEachMatchingSeries(const StoreSnapshot& snapshot,
                           const std::vector<Selector>& selectors,
                           const Visit& visit) {
  if (selectors.empty()) {
    for (const auto& [id, batch] : snapshot.batches) {
      for (const Sample& sample : batch->samples) visit(sample.labels);
    }
    return;
  }
  for (const SelectedSeries& row : SelectSeries(snapshot, selectors)) {
    visit(row.sample->labels);
  }
}

using StringSet = absl::flat_hash_set<absl::string_view>;

// Parses `matches`, lets `collect` add strings of the labels of every
// matching series (of every stored series when there is no match[]) to a
// StringSet, and passes them to `add` in order. Returns the parse error, with
// nothing added. Used by LabelNames and LabelValues.
template <typename Collect, typename Add>
absl::Status AddSortedStrings(
    const SeriesStore& store,
    const google::protobuf::RepeatedPtrField<std::string>& matches,
    const MatchLimits& limits, const Collect& collect, const Add& add) {
  absl::StatusOr<std::vector<Selector>> selectors =
      ParseMatchers(matches, limits);
  if (!selectors.ok()) return selectors.status();
  std::shared_ptr<const StoreSnapshot> snapshot = store.Snapshot();
  StringSet strings;
  ForEachMatchingSeries(
      *snapshot, *selectors,
      [&](const InternedLabels& labels) { collect(labels, strings); });
  std::vector<absl::string_view> sorted(strings.begin(), strings.end());
  std::sort(sorted.begin(), sorted.end());
  for (absl::string_view s : sorted) add(std::string(s));
  return absl::OkStatus();
}

// `L` is a Labels or a InternedLabels.
template <typename L>
void SetLabelSet(const L& labels, v1::InternedLabels* out) {
  for (const LabelView label : labels) {
    auto* pair = out->add_labels();
    pair->set_name(std::string(label.name));
    pair->set_value(std::string(label.value));
  }
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

FedgateGrpcService::FedgateGrpcService(Options options)
    : options_(std::move(options)) {}

grpc::Status FedgateGrpcService::Authenticate(
    const grpc::CallbackServerContext& context,
    absl::string_view method) const {
  return options_.authenticate
             ? options_.authenticate(
                   context, absl::StrCat("/fedgate.v1.Fedgate/", method))
             : grpc::Status::OK;
}

grpc::Status FedgateGrpcService::AdmitCall(std::shared_ptr<void>* slot) {
  const size_t max = options_.max_concurrent_calls;
  size_t active = active_calls_.load();
  while (max == 0 || active < max) {
    if (active_calls_.compare_exchange_weak(active, active + 1)) {
      *slot = std::shared_ptr<void>(this, [this](void*) { --active_calls_; });
      return grpc::Status::OK;
    }
  }
  return TooManyCalls(max);
}

grpc::ServerUnaryReactor* FedgateGrpcService::Unary(
    grpc::CallbackServerContext* context, absl::string_view method,
    const std::function<grpc::Status()>& answer) {
  grpc::Status status = Authenticate(*context, method);
  if (status.ok()) status = answer();
  return FinishUnary(context, status);
}

grpc::ServerUnaryReactor* FedgateGrpcService::AdmittedUnary(
    grpc::CallbackServerContext* context, absl::string_view method,
    const std::function<grpc::Status()>& answer) {
  return Unary(context, method, [&]() -> grpc::Status {
    std::shared_ptr<void> slot;
    if (grpc::Status s = AdmitCall(&slot); !s.ok()) return s;
    return answer();
  });
}

grpc::ServerWriteReactor<io::prometheus::client::MetricFamily>*
FedgateGrpcService::Federate(grpc::CallbackServerContext* context,
                             const v1::FederateRequest* request) {
  using Reactor = StreamReactor<io::prometheus::client::MetricFamily>;
  if (grpc::Status s = Authenticate(*context, "Federate"); !s.ok()) {
    return Reactor::Failed(context, s);
  }
  const absl::Time deadline = absl::Now() + options_.request_timeout;
  std::shared_ptr<void> slot;
  if (grpc::Status s = AdmitCall(&slot); !s.ok()) {
    return Reactor::Failed(context, s);
  }
  absl::StatusOr<FederateParams> params =
      ParseFederateParams(std::vector<std::string>(request->match().begin(),
                                                   request->match().end()),
                          options_.match_limits);
  if (!params.ok())
    return Reactor::Failed(context, ToGrpcStatus(params.status()));
  // As /federate: each series' sample in [now - 5m, now].
  std::shared_ptr<const StoreSnapshot> snapshot = options_.store->Snapshot();
  const absl::Time now = options_.now ? options_.now() : absl::Now();
  std::shared_ptr<const Config> config = options_.config();
  std::vector<SelectedSeries> rows =
      SelectSeries(*snapshot, params->selectors, SeriesOrder::kSorted,
                   LookbackWindow(ReadTimeMs(*snapshot, now)));
  if (grpc::Status s = SeriesLimit(rows.size(), options_.max_series); !s.ok()) {
    return Reactor::Failed(context, s);
  }
  auto stream = std::make_shared<MetricFamilyStream>(
      std::move(rows), config->global.external_labels);
  // The snapshot stays alive as long as the stream that points into it; the
  // call holds its place until the stream ends.
  return new Reactor(
      context,
      [snapshot, stream,
       slot = std::move(slot)](io::prometheus::client::MetricFamily* out) {
        return stream->Next(out);
      },
      deadline);
}

grpc::ServerWriteReactor<v1::SeriesResponse>* FedgateGrpcService::Series(
    grpc::CallbackServerContext* context, const v1::SeriesRequest* request) {
  using Reactor = StreamReactor<v1::SeriesResponse>;
  if (grpc::Status s = Authenticate(*context, "Series"); !s.ok()) {
    return Reactor::Failed(context, s);
  }
  if (request->match().empty()) {
    return Reactor::Failed(context,
                           grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        "no match[] parameter provided"));
  }
  const absl::Time deadline = absl::Now() + options_.request_timeout;
  std::shared_ptr<void> slot;
  if (grpc::Status s = AdmitCall(&slot); !s.ok()) {
    return Reactor::Failed(context, s);
  }
  absl::StatusOr<std::vector<Selector>> selectors =
      ParseMatchers(request->match(), options_.match_limits);
  if (!selectors.ok()) {
    // As /api/v1/series (Prometheus's invalidParamError); /labels and
    // /label/<name>/values return the bare error.
    return Reactor::Failed(
        context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              absl::StrCat("invalid parameter \"match[]\": ",
                                           selectors.status().message())));
  }
  std::shared_ptr<const StoreSnapshot> snapshot = options_.store->Snapshot();
  auto rows = std::make_shared<std::vector<const InternedLabels*>>();
  for (const SelectedSeries& row : SelectSeries(*snapshot, *selectors)) {
    rows->push_back(&row.sample->labels);
  }
  if (grpc::Status s = SeriesLimit(rows->size(), options_.max_series);
      !s.ok()) {
    return Reactor::Failed(context, s);
  }
  // /api/v1/series sorts by label set.
  std::sort(
      rows->begin(), rows->end(),
      [](const InternedLabels* a, const InternedLabels* b) { return *a < *b; });
  auto next = std::make_shared<size_t>(0);
  return new Reactor(
      context,
      [snapshot, rows, next, slot = std::move(slot)](v1::SeriesResponse* out) {
        out->Clear();
        if (*next >= rows->size()) return false;
        const size_t end = std::min(rows->size(), *next + kSeriesPerMessage);
        for (; *next < end; ++*next) {
          SetLabelSet(*(*rows)[*next], out->add_series());
        }
        return true;
      },
      deadline);
}

grpc::ServerUnaryReactor* FedgateGrpcService::LabelNames(
    grpc::CallbackServerContext* context, const v1::LabelNamesRequest* request,
    v1::LabelNamesResponse* response) {
  return AdmittedUnary(context, "LabelNames", [&]() -> grpc::Status {
    return ToGrpcStatus(AddSortedStrings(
        *options_.store, request->match(), options_.match_limits,
        [](const InternedLabels& labels, StringSet& names) {
          for (const LabelView label : labels) names.insert(label.name);
        },
        [response](std::string name) {
          response->add_names(std::move(name));
        }));
  });
}

grpc::ServerUnaryReactor* FedgateGrpcService::LabelValues(
    grpc::CallbackServerContext* context, const v1::LabelValuesRequest* request,
    v1::LabelValuesResponse* response) {
  return AdmittedUnary(context, "LabelValues", [&]() -> grpc::Status {
    const std::string& name = request->name();
    if (!IsValidLabelName(name)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("invalid label name: ", GoQuote(name)));
    }
    return ToGrpcStatus(AddSortedStrings(
        *options_.store, request->match(), options_.match_limits,
        [&name](const InternedLabels& labels, StringSet& values) {
          absl::string_view value = labels.Get(name);
          if (!value.empty()) values.insert(value);
        },
        [response](std::string value) {
          response->add_values(std::move(value));
        }));
  });
}

grpc::ServerUnaryReactor* FedgateGrpcService::ListTargets(
    grpc::CallbackServerContext* context, const v1::ListTargetsRequest*,
    v1::ListTargetsResponse* response) {
  return Unary(context, "ListTargets", [&]() -> grpc::Status {
    std::shared_ptr<const StoreSnapshot> snapshot = options_.store->Snapshot();
    absl::flat_hash_map<TargetId, size_t> series_count;
    for (const auto& [id, batch] : snapshot->batches) {
      series_count[id] = batch->samples.size();
    }
    for (const TargetStatus& status : options_.targets()) {
      v1::Target* target = response->add_targets();
      target->set_scrape_pool(status.scrape_pool);
      target->set_scrape_url(status.scrape_url);
      SetLabelSet(status.labels, target->mutable_labels());
      SetLabelSet(status.discovered_labels,
                  target->mutable_discovered_labels());
      target->set_health(std::string(TargetHealthName(status.health)));
      target->set_last_error(status.last_error);
      if (status.last_scrape != absl::InfinitePast()) {
        SetTimestamp(status.last_scrape, target->mutable_last_scrape());
      }
      SetDuration(status.last_scrape_duration,
                  target->mutable_last_scrape_duration());
      SetDuration(status.scrape_interval, target->mutable_scrape_interval());
      SetDuration(status.scrape_timeout, target->mutable_scrape_timeout());
      if (auto it = series_count.find(status.id); it != series_count.end()) {
        target->set_series_count(it->second);
      }
      target->set_dedup_group(status.dedup_group);
      if (!status.dedup_group.empty()) {
        target->set_leader_state(status.dedup_leader
                                     ? v1::LEADER_STATE_LEADER
                                     : v1::LEADER_STATE_FOLLOWER);
      }
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* FedgateGrpcService::Reload(
    grpc::CallbackServerContext* context, const v1::ReloadRequest*,
    v1::ReloadResponse* response) {
  return Unary(context, "Reload", [&]() -> grpc::Status {
    // Reloading reads a file and applies it to the scrape manager: tens of
    // milliseconds, rare, so it runs on the gRPC thread.
    if (!options_.reload) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          kLifecycleDisabledMessage);
    }
    if (absl::Status s = options_.reload(); !s.ok()) return ToGrpcStatus(s);
    SetTimestamp(absl::Now(), response->mutable_applied());
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* FedgateGrpcService::GetConfig(
    grpc::CallbackServerContext* context, const v1::GetConfigRequest*,
    v1::GetConfigResponse* response) {
  return Unary(context, "GetConfig", [&]() -> grpc::Status {
    response->set_yaml(PrintConfigYaml(*options_.config()));
    return grpc::Status::OK;
  });
}

}  // namespace fedgate
