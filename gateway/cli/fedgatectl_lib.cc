#include "gateway/cli/fedgatectl_lib.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gateway/writers/json_writer.h"
#include "gateway/writers/text_writer.h"
#include "merge/float_format.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "proto/fedgate.grpc.pb.h"
#include "scraper/exposition/protobuf_parser.h"

namespace fedgate {
namespace {

namespace dto = io::prometheus::client;

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return "{}";
  }
  return json;
}

// Renders rows as columns separated by three spaces, padded to the widest
// cell; the last column is not padded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 3, ' ');
    }
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
  }
  return out;
}

std::string LabelSetText(const v1::InternedLabels& set, bool skip_name) {
  std::string name;
  std::vector<std::string> pairs;
  for (const dto::LabelPair& pair : set.labels()) {
    if (pair.name() == kMetricNameLabel && skip_name) continue;
    std::string text = absl::StrCat(pair.name(), "=");
    AppendJsonString(pair.value(), &text);
    pairs.push_back(std::move(text));
  }
  return absl::StrCat("{", absl::StrJoin(pairs, ", "), "}");
}

// Formats a duration for people: `1.5s`, `250ms`, `2m0s`.
std::string Short(absl::Duration d) {
  if (d < absl::Seconds(1)) {
    return absl::StrCat(absl::ToInt64Milliseconds(d), "ms");
  }
  if (d < absl::Minutes(1)) {
    return absl::StrCat(
        FormatGoFloat(std::round(absl::ToDoubleSeconds(d) * 10) / 10), "s");
  }
  return absl::FormatDuration(absl::Trunc(d, absl::Seconds(1)));
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

std::vector<Label> MetricLabels(const dto::Metric& metric) {
  std::vector<Label> labels;
  labels.reserve(metric.label_size() + 1);
  for (const dto::LabelPair& pair : metric.label()) {
    labels.push_back(Label{pair.name(), pair.value()});
  }
  return labels;
}

void AppendMetricText(const dto::MetricFamily& family,
                      const dto::Metric& metric, std::string* out) {
  std::optional<int64_t> timestamp;
  if (metric.has_timestamp_ms()) timestamp = metric.timestamp_ms();
  std::vector<Label> labels = MetricLabels(metric);
  const std::string& name = family.name();
  auto sample = [&](absl::string_view sample_name,
                    const std::vector<Label>& sample_labels, double value) {
    AppendSampleLine(sample_name, absl::Span<const Label>(),
                     absl::MakeConstSpan(sample_labels), value, timestamp, out);
  };
  auto with_bound = [&](absl::string_view bound_name, double bound) {
    std::vector<Label> l = labels;
    l.push_back(Label{std::string(bound_name), FormatGoFloat(bound)});
    return l;
  };
  switch (family.type()) {
    case dto::COUNTER:
      sample(name, labels, metric.counter().value());
      break;
    case dto::GAUGE:
      sample(name, labels, metric.gauge().value());
      break;
    case dto::SUMMARY:
      for (const dto::Quantile& q : metric.summary().quantile()) {
        sample(name, with_bound("quantile", q.quantile()), q.value());
      }
      sample(absl::StrCat(name, "_sum"), labels, metric.summary().sample_sum());
      sample(absl::StrCat(name, "_count"), labels,
             static_cast<double>(metric.summary().sample_count()));
      break;
    case dto::HISTOGRAM:
    case dto::GAUGE_HISTOGRAM: {
      const std::string bucket = absl::StrCat(name, "_bucket");
      bool has_inf = false;
      for (const dto::Bucket& b : metric.histogram().bucket()) {
        has_inf = has_inf || std::isinf(b.upper_bound());
        sample(bucket, with_bound("le", b.upper_bound()),
               static_cast<double>(b.cumulative_count()));
      }
      if (!has_inf) {
        sample(bucket,
               with_bound("le", std::numeric_limits<double>::infinity()),
               static_cast<double>(metric.histogram().sample_count()));
      }
      sample(absl::StrCat(name, "_sum"), labels,
             metric.histogram().sample_sum());
      sample(absl::StrCat(name, "_count"), labels,
             static_cast<double>(metric.histogram().sample_count()));
      break;
    }
    default:
      sample(name, labels, metric.untyped().value());
      break;
  }
}

// Connects and returns a stub, or nullptr with `*error` set.
std::unique_ptr<v1::Fedgate::Stub> Connect(const FedgatectlArgs& args,
                                           std::string* error) {
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      args.server, grpc::InsecureChannelCredentials(), channel_args);
  const auto deadline =
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(absl::ToInt64Milliseconds(args.timeout));
  if (!channel->WaitForConnected(deadline)) {
    *error = absl::StrCat("fedgatectl: cannot reach fedgate at ", args.server,
                          " within ", absl::FormatDuration(args.timeout),
                          " (is it running, and is --grpc.listen-address "
                          "set?)\n");
    return nullptr;
  }
  return v1::Fedgate::NewStub(channel);
}

void SetDeadline(const FedgatectlArgs& args, grpc::ClientContext* context) {
  context->set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(absl::ToInt64Milliseconds(args.timeout)));
}

// Reports a failed call; returns the exit code.
int Failed(const FedgatectlArgs& args, const grpc::Status& status,
           const std::function<void(absl::string_view)>& err) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    err(absl::StrCat("fedgatectl: cannot reach fedgate at ", args.server, ": ",
                     status.error_message(), "\n"));
    return kFedgatectlUnreachable;
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    err(absl::StrCat("fedgatectl: fedgate at ", args.server,
                     " did not answer within ",
                     absl::FormatDuration(args.timeout), "\n"));
    return kFedgatectlUnreachable;
  }
  err(absl::StrCat("fedgatectl: error: ", status.error_message(), "\n"));
  return kFedgatectlServerError;
}

// Returns a Series or Federate request for the selectors `matches`.
template <typename Request>
Request WithMatches(const std::vector<std::string>& matches) {
  Request request;
  for (const std::string& m : matches) request.add_match(m);
  return request;
}

}  // namespace

absl::StatusOr<FedgatectlArgs> ParseFedgatectlArgs(
    const std::vector<std::string>& argv) {
  FedgatectlArgs args;
  for (size_t i = 0; i < argv.size(); ++i) {
    absl::string_view arg = argv[i];
    // A flag's value comes after `=` or as the next argument.
    auto value_of = [&](absl::string_view flag,
                        std::string* value) -> absl::Status {
      if (absl::ConsumePrefix(&arg, absl::StrCat(flag, "="))) {
        *value = std::string(arg);
        return absl::OkStatus();
      }
      if (i + 1 >= argv.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag ", flag, " needs a value"));
      }
      *value = argv[++i];
      return absl::OkStatus();
    };
    auto is_flag = [&arg](absl::string_view flag) {
      return arg == flag || absl::StartsWith(arg, absl::StrCat(flag, "="));
    };
    if (arg == "-h" || arg == "--help" || arg == "help") {
      args.help = true;
    } else if (is_flag("--server")) {
      if (absl::Status s = value_of("--server", &args.server); !s.ok()) {
        return s;
      }
      if (args.server.empty()) {
        return absl::InvalidArgumentError("flag --server must not be empty");
      }
    } else if (is_flag("-o") || is_flag("--output")) {
      std::string format;
      if (absl::Status s = value_of(arg[1] == 'o' ? "-o" : "--output", &format);
          !s.ok()) {
        return s;
      }
      if (format == "table") {
        args.output = OutputFormat::kTable;
      } else if (format == "json") {
        args.output = OutputFormat::kJson;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "output format \"", format, "\" is not one of table, json"));
      }
    } else if (is_flag("--timeout")) {
      std::string value;
      if (absl::Status s = value_of("--timeout", &value); !s.ok()) return s;
      if (!absl::ParseDuration(value, &args.timeout) ||
          args.timeout <= absl::ZeroDuration()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "flag --timeout: \"", value, "\" is not a positive duration"));
      }
    } else if (absl::StartsWith(arg, "-") && arg.size() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag \"", arg, "\""));
    } else if (args.command.empty()) {
      args.command = std::string(arg);
    } else {
      args.args.push_back(std::string(arg));
    }
  }
  if (args.help) return args;
  if (args.command.empty()) {
    return absl::InvalidArgumentError("missing command");
  }
  const std::string& c = args.command;
  if (c == "series" || c == "federate") {
    if (args.args.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(c, " needs at least one series selector, e.g. ", c,
                       " 'up{job=\"node\"}'"));
    }
  } else if (c == "targets" || c == "reload" || c == "config") {
    if (!args.args.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          c, " takes no arguments, got \"", args.args.front(), "\""));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown command \"", c, "\""));
  }
  return args;
}

std::string FedgatectlUsage() {
  return "usage: fedgatectl [flags] COMMAND [ARGS]\n"
         "\n"
         "Talks to fedgate's gRPC API (fedgate.v1).\n"
         "\n"
         "Commands:\n"
         "  targets           list scrape targets and their health\n"
         "  series MATCH...   list series matching any selector\n"
         "  federate MATCH... print matching series as text exposition\n"
         "  reload            reload fedgate's configuration file (fedgate\n"
         "                    needs --web.enable-lifecycle)\n"
         "  config            print the running configuration (secrets "
         "redacted)\n"
         "\n"
         "Flags:\n"
         "  --server=HOST:PORT  fedgate's gRPC address (default "
         "127.0.0.1:9098)\n"
         "  -o, --output=FMT    table (default) or json\n"
         "  --timeout=DURATION  per call, connecting included (default 30s)\n"
         "  -h, --help          this text\n"
         "\n"
         "Exit codes: 0 ok, 1 server error, 2 usage error, 3 fedgate not "
         "reachable.\n";
}

std::string FormatTargets(const v1::ListTargetsResponse& response,
                          OutputFormat format, absl::Time now) {
  if (format == OutputFormat::kJson) return ToJson(response) + "\n";
  std::vector<std::vector<std::string>> rows = {{"POOL", "ENDPOINT", "HEALTH",
                                                 "LAST SCRAPE", "DURATION",
                                                 "SERIES", "DEDUP", "ERROR"}};
  for (const v1::Target& t : response.targets()) {
    std::string last_scrape = "never";
    if (t.has_last_scrape()) {
      const absl::Time at = absl::FromUnixSeconds(t.last_scrape().seconds()) +
                            absl::Nanoseconds(t.last_scrape().nanos());
      last_scrape =
          absl::StrCat(Short(std::max(now - at, absl::ZeroDuration())), " ago");
    }
    std::string dedup = "-";
    if (!t.dedup_group().empty()) {
      dedup = absl::StrCat(
          t.dedup_group(), "/",
          t.leader_state() == v1::LEADER_STATE_LEADER ? "leader" : "follower");
    }
    rows.push_back(
        {t.scrape_pool(), t.scrape_url(), t.health(), last_scrape,
         t.has_last_scrape() ? Short(FromProto(t.last_scrape_duration())) : "-",
         absl::StrCat(t.series_count()), dedup,
         t.last_error().empty() ? "-" : t.last_error()});
  }
  return Table(rows);
}

std::string FormatSeries(const std::vector<v1::InternedLabels>& series,
                         OutputFormat format) {
  std::string out;
  if (format == OutputFormat::kJson) {
    // The `data` of /api/v1/series: one object per series.
    out = "[";
    for (size_t i = 0; i < series.size(); ++i) {
      if (i > 0) out += ",";
      out += "{";
      bool first = true;
      for (const dto::LabelPair& pair : series[i].labels()) {
        if (!first) out += ",";
        first = false;
        AppendJsonString(pair.name(), &out);
        out += ":";
        AppendJsonString(pair.value(), &out);
      }
      out += "}";
    }
    out += "]\n";
    return out;
  }
  for (const v1::InternedLabels& set : series) {
    std::string name;
    for (const dto::LabelPair& pair : set.labels()) {
      if (pair.name() == kMetricNameLabel) name = pair.value();
    }
    absl::StrAppend(&out, name, LabelSetText(set, /*skip_name=*/true), "\n");
  }
  return out;
}

void AppendFamily(const dto::MetricFamily& family, OutputFormat format,
                  std::string* out) {
  if (format == OutputFormat::kJson) {
    absl::StrAppend(out, ToJson(family), "\n");
    return;
  }
  if (family.has_help()) AppendHelpLine(family.name(), family.help(), out);
  AppendTypeLine(family.name(), MetricTypeFromProto(family.type()), out);
  for (const dto::Metric& metric : family.metric()) {
    AppendMetricText(family, metric, out);
  }
}

std::string FormatConfig(const v1::GetConfigResponse& response,
                         OutputFormat format) {
  if (format == OutputFormat::kJson) return ToJson(response) + "\n";
  return response.yaml();
}

std::string FormatReload(const v1::ReloadResponse& response,
                         OutputFormat format) {
  if (format == OutputFormat::kJson) return ToJson(response) + "\n";
  return "Configuration reloaded.\n";
}

int RunFedgatectl(const FedgatectlArgs& args,
                  const std::function<void(absl::string_view)>& out,
                  const std::function<void(absl::string_view)>& err) {
  if (args.help) {
    out(FedgatectlUsage());
    return kFedgatectlOk;
  }
  std::string connect_error;
  std::unique_ptr<v1::Fedgate::Stub> stub = Connect(args, &connect_error);
  if (stub == nullptr) {
    err(connect_error);
    return kFedgatectlUnreachable;
  }
  grpc::ClientContext context;
  SetDeadline(args, &context);
  grpc::Status status;
  const std::string& c = args.command;
  if (c == "targets") {
    v1::ListTargetsResponse response;
    status = stub->ListTargets(&context, v1::ListTargetsRequest(), &response);
    if (status.ok()) out(FormatTargets(response, args.output, absl::Now()));
  } else if (c == "reload") {
    v1::ReloadResponse response;
    status = stub->Reload(&context, v1::ReloadRequest(), &response);
    if (status.ok()) out(FormatReload(response, args.output));
  } else if (c == "config") {
    v1::GetConfigResponse response;
    status = stub->GetConfig(&context, v1::GetConfigRequest(), &response);
    if (status.ok()) out(FormatConfig(response, args.output));
  } else if (c == "series") {
    std::unique_ptr<grpc::ClientReader<v1::SeriesResponse>> reader =
        stub->Series(&context, WithMatches<v1::SeriesRequest>(args.args));
    std::vector<v1::InternedLabels> series;
    v1::SeriesResponse batch;
    while (reader->Read(&batch)) {
      for (v1::InternedLabels& set : *batch.mutable_series()) {
        series.push_back(std::move(set));
      }
    }
    status = reader->Finish();
    if (status.ok()) out(FormatSeries(series, args.output));
  } else if (c == "federate") {
    std::unique_ptr<grpc::ClientReader<dto::MetricFamily>> reader =
        stub->Federate(&context, WithMatches<v1::FederateRequest>(args.args));
    // Printed as it streams in: memory stays at one family.
    dto::MetricFamily family;
    std::string text;
    while (reader->Read(&family)) {
      text.clear();
      AppendFamily(family, args.output, &text);
      out(text);
    }
    status = reader->Finish();
  }
  if (!status.ok()) return Failed(args, status, err);
  return kFedgatectlOk;
}

}  // namespace fedgate
