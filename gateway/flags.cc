#include "gateway/flags.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "config/duration.h"
#include "config/go_regexp.h"
#include "config/relabel_config.h"

namespace fedgate {
namespace {

constexpr std::pair<LogLevel, absl::string_view> kLogLevelNames[] = {
    {LogLevel::kDebug, "debug"},
    {LogLevel::kInfo, "info"},
    {LogLevel::kWarn, "warn"},
    {LogLevel::kError, "error"},
};

absl::Status SetLogLevel(absl::string_view value, FedgateFlags* flags) {
  if (!ParseLogLevel(value, &flags->log_level)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid value \"", value,
        "\" for flag --log.level: must be one of debug, info, warn, error"));
  }
  return absl::OkStatus();
}

absl::Status SetLogFormat(absl::string_view value, FedgateFlags* flags) {
  if (value == "logfmt") {
    flags->log_format = LogFormat::kLogfmt;
  } else if (value == "json") {
    flags->log_format = LogFormat::kJson;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value \"", value,
                     "\" for flag --log.format: must be one of logfmt, json"));
  }
  return absl::OkStatus();
}

struct FlagSpec {
  absl::string_view name;
  std::function<absl::Status(absl::string_view, FedgateFlags*)> set;
  // A switch, as kingpin's bool flags: `--name` is true, `--no-name` false,
  // `--name=true|false` as written; it never takes the next argument.
  bool is_switch = false;
};

// Returns the setter of a flag that takes any string into `field`.
std::function<absl::Status(absl::string_view, FedgateFlags*)> StringFlag(
    std::string FedgateFlags::*field) {
  return [field](absl::string_view v, FedgateFlags* f) {
    f->*field = std::string(v);
    return absl::OkStatus();
  };
}

// Returns the setter of a switch that sets `field`.
std::function<absl::Status(absl::string_view, FedgateFlags*)> SwitchFlag(
    absl::string_view name, bool FedgateFlags::*field) {
  return [name, field](absl::string_view v, FedgateFlags* f) {
    if (v != "true" && v != "false") {
      return absl::InvalidArgumentError(absl::StrCat("invalid value \"", v,
                                                     "\" for flag --", name,
                                                     ": want true or false"));
    }
    f->*field = v == "true";
    return absl::OkStatus();
  };
}

// Returns the setter of a flag that takes an integer of at least `minimum`
// into `field`; `want` names what it takes in the error.
std::function<absl::Status(absl::string_view, FedgateFlags*)> IntegerFlag(
    absl::string_view name, int64_t FedgateFlags::*field, int64_t minimum,
    absl::string_view want) {
  return [name, field, minimum, want](absl::string_view v, FedgateFlags* f) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(v, &n) || n < minimum) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid value \"", v, "\" for flag --", name, ": want ", want));
    }
    f->*field = n;
    return absl::OkStatus();
  };
}

// Returns the setter of a flag that takes a Prometheus duration of at least
// `minimum` into `field`; `want` names what it takes in the error.
std::function<absl::Status(absl::string_view, FedgateFlags*)> DurationFlag(
    absl::string_view name, absl::Duration FedgateFlags::*field,
    absl::Duration minimum, absl::string_view want) {
  return [name, field, minimum, want](absl::string_view v, FedgateFlags* f) {
    absl::StatusOr<absl::Duration> d = ParsePrometheusDuration(v);
    if (!d.ok() || *d < minimum) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid value \"", v, "\" for flag --", name, ": want ", want));
    }
    f->*field = *d;
    return absl::OkStatus();
  };
}

// Returns the setter of a flag that takes a count into `field`; 0 turns the
// limit off.
std::function<absl::Status(absl::string_view, FedgateFlags*)> CountFlag(
    absl::string_view name, int64_t FedgateFlags::*field) {
  return IntegerFlag(name, field, 0, "a non-negative integer (0: no limit)");
}

const std::vector<FlagSpec>& Specs() {
  static const auto* const specs = new std::vector<FlagSpec>{
      {"config.file", StringFlag(&FedgateFlags::config_file)},
      {"config.auto-reload-interval",
       [](absl::string_view v, FedgateFlags* f) {
         absl::Status s = DurationFlag(
             "config.auto-reload-interval",
             &FedgateFlags::config_auto_reload_interval, absl::ZeroDuration(),
             "a duration such as 30s, or 0s for never")(v, f);
         // Prometheus raises an interval under a second to one.
         absl::Duration& d = f->config_auto_reload_interval;
         if (d > absl::ZeroDuration()) d = std::max(d, absl::Seconds(1));
         return s;
       }},
      {"web.listen-address", StringFlag(&FedgateFlags::web_listen_address)},
      {"grpc.listen-address", StringFlag(&FedgateFlags::grpc_listen_address)},
      {"web.config.file", StringFlag(&FedgateFlags::web_config_file)},
      {"web.max-connections",
       [](absl::string_view v, FedgateFlags* f) {
         if (!absl::SimpleAtoi(v, &f->web_max_connections) ||
             f->web_max_connections < 1) {
           return absl::InvalidArgumentError(absl::StrCat(
               "invalid value \"", v,
               "\" for flag --web.max-connections: want a positive integer"));
         }
         return absl::OkStatus();
       }},
      {"web.read-timeout",
       DurationFlag("web.read-timeout", &FedgateFlags::web_read_timeout,
                    absl::Seconds(1),
                    "a duration of at least 1s, such as 30s or 5m")},
      {"web.max-concurrent-requests",
       CountFlag("web.max-concurrent-requests",
                 &FedgateFlags::web_max_concurrent_requests)},
      {"web.request-timeout",
       DurationFlag("web.request-timeout", &FedgateFlags::web_request_timeout,
                    absl::Seconds(1), "a duration of at least 1s, such as 2m")},
      {"query.max-series",
       CountFlag("query.max-series", &FedgateFlags::query_max_series)},
      {"query.max-match-params",
       CountFlag("query.max-match-params",
                 &FedgateFlags::query_max_match_params)},
      {"query.max-selector-length",
       CountFlag("query.max-selector-length",
                 &FedgateFlags::query_max_selector_length)},
      {"query.max-regex-program-size",
       CountFlag("query.max-regex-program-size",
                 &FedgateFlags::query_max_regex_program_size)},
      {"shard.count", IntegerFlag("shard.count", &FedgateFlags::shard_count, 1,
                                  "a positive integer")},
      {"shard.index", IntegerFlag("shard.index", &FedgateFlags::shard_index, 0,
                                  "a non-negative integer")},
      {"web.compression-level",
       [](absl::string_view v, FedgateFlags* f) {
         if (!absl::SimpleAtoi(v, &f->web_compression_level) ||
             f->web_compression_level < 1 || f->web_compression_level > 9) {
           return absl::InvalidArgumentError(absl::StrCat(
               "invalid value \"", v,
               "\" for flag --web.compression-level: want an integer from 1 "
               "(fastest) to 9 (smallest)"));
         }
         return absl::OkStatus();
       }},
      {"web.enable-lifecycle",
       SwitchFlag("web.enable-lifecycle", &FedgateFlags::web_enable_lifecycle),
       /*is_switch=*/true},
      {"web.cors.origin",
       [](absl::string_view v, FedgateFlags* f) {
         // Anchored as Prometheus's compileCORSRegexString (relabel.NewRegexp).
         if (absl::Status s = CompileGoRegexp(AnchoredRelabelRegex(v)).status();
             !s.ok()) {
           return absl::InvalidArgumentError(absl::StrCat(
               "invalid value \"", v,
               "\" for flag --web.cors.origin: could not compile CORS regex "
               "string: ",
               s.message()));
         }
         f->web_cors_origin = std::string(v);
         return absl::OkStatus();
       }},
      {"web.shutdown-timeout",
       DurationFlag("web.shutdown-timeout", &FedgateFlags::web_shutdown_timeout,
                    -absl::InfiniteDuration(), "a duration such as 25s or 1m")},
      {"web.enable-debug",
       SwitchFlag("web.enable-debug", &FedgateFlags::web_enable_debug),
       /*is_switch=*/true},
      {"log.level", SetLogLevel},
      {"log.format", SetLogFormat},
      {"discovery.kubernetes.service-account-dir",
       StringFlag(&FedgateFlags::kubernetes_service_account_dir)},
      {"enable-feature",
       [](absl::string_view v, FedgateFlags* f) {
         // Split on commas only, as Prometheus: " x" is a name of its own.
         for (absl::string_view name : absl::StrSplit(v, ',')) {
           if (name.empty()) continue;
           f->enable_feature.emplace_back(name);
           if (name == kFeatureExpandExternalLabels) {
             f->expand_external_labels = true;
           }
         }
         return absl::OkStatus();
       }},
  };
  return *specs;
}

}  // namespace

absl::string_view LogLevelName(LogLevel level) {
  for (const auto& [l, name] : kLogLevelNames) {
    if (l == level) return name;
  }
  return "info";
}

bool ParseLogLevel(absl::string_view name, LogLevel* level) {
  for (const auto& [l, n] : kLogLevelNames) {
    if (n == name) {
      *level = l;
      return true;
    }
  }
  return false;
}

absl::StatusOr<FedgateFlags> ParseFlags(const std::vector<std::string>& args) {
  FedgateFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      flags.help = true;
      continue;
    }
    if (arg == "--version") {
      flags.version = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\" (see --help)"));
    }
    absl::string_view name = arg;
    absl::string_view value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : Specs()) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr && !has_value &&
        absl::ConsumePrefix(&name, "no-")) {  // `--no-web.enable-lifecycle`
      for (const FlagSpec& s : Specs()) {
        if (s.is_switch && s.name == name) spec = &s;
      }
      if (spec != nullptr) {
        value = "false";
        has_value = true;
      } else {
        name = arg;
      }
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown long flag '--", name, "' (see --help)"));
    }
    if (!has_value && spec->is_switch) {
      value = "true";
    } else if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("expected argument for flag '--", name, "'"));
      }
      value = args[++i];
    }
    if (absl::Status s = spec->set(value, &flags); !s.ok()) return s;
  }
  return flags;
}

std::string FlagsUsage() {
  const FedgateFlags defaults;
  return absl::StrCat(
      "usage: fedgate [<flags>]\n\n"
      "The fedgate metrics aggregation and federation gateway.\n"
      "Without --config.file it runs an embedded demo: demo targets on\n"
      "127.0.0.1 and a configuration that scrapes them.\n\n"
      "Flags:\n"
      "  -h, --help                 Show this help.\n"
      "  --version                  Show the version, git revision and "
      "branch.\n"
      "  --config.file=FILE         fedgate configuration file (Prometheus\n"
      "                             scrape_configs syntax). Default: the "
      "embedded demo.\n"
      "  --config.auto-reload-interval=DUR\n"
      "                             How often to check the configuration\n"
      "                             file and its rule files for a change,\n"
      "                             which reloads them. 0s: never (SIGHUP and\n"
      "                             /-/reload still do). Default: 0s\n"
      "  --web.listen-address=ADDR  Address for /federate, /api/v1, /metrics.\n"
      "                             Default: ",
      defaults.web_listen_address,
      "\n"
      "  --grpc.listen-address=ADDR Address for the gRPC API; empty turns it\n"
      "                             off. Default: ",
      defaults.grpc_listen_address,
      "\n"
      "  --web.config.file=FILE     Web config (TLS, client certificates,\n"
      "                             basic auth, bearer tokens) for HTTP and\n"
      "                             gRPC; see docs/security.md. Default: none\n"
      "  --web.max-connections=N    HTTP connections open at once; more wait\n"
      "                             to be accepted. Default: ",
      defaults.web_max_connections,
      "\n"
      "  --web.read-timeout=DUR     Close an HTTP connection that sends and\n"
      "                             receives nothing for this long. Default: ",
      FormatPrometheusDuration(defaults.web_read_timeout),
      "\n"
      "  --web.max-concurrent-requests=N\n"
      "                             /federate and /api/v1 requests (and gRPC\n"
      "                             calls) in progress at once; more are\n"
      "                             answered 503 with Retry-After (gRPC:\n"
      "                             RESOURCE_EXHAUSTED). 0: no limit.\n"
      "                             Default: ",
      defaults.web_max_concurrent_requests,
      "\n"
      "  --web.request-timeout=DUR  Longest time a /federate or /api/v1\n"
      "                             request may take, from its headers to\n"
      "                             its answer's last byte. Default: ",
      FormatPrometheusDuration(defaults.web_request_timeout),
      "\n"
      "  --query.max-series=N       Most series one /federate, /api/v1 or\n"
      "                             gRPC answer may hold; past it the request\n"
      "                             fails with 422 (RESOURCE_EXHAUSTED).\n"
      "                             0: no limit. Default: ",
      defaults.query_max_series,
      "\n"
      "  --query.max-match-params=N Most match[] selectors per request.\n"
      "                             0: no limit. Default: ",
      defaults.query_max_match_params,
      "\n"
      "  --query.max-selector-length=BYTES\n"
      "                             Longest match[] selector. 0: no limit.\n"
      "                             Default: ",
      defaults.query_max_selector_length,
      "\n"
      "  --query.max-regex-program-size=N\n"
      "                             Largest RE2 program of a selector's\n"
      "                             regex. 0: no limit. Default: ",
      defaults.query_max_regex_program_size,
      "\n"
      "  --shard.count=N            Scrape only one of N shards of the\n"
      "                             targets (docs/sharding.md). Default: 1\n"
      "  --shard.index=I            The shard, 0 to N-1. Default: the\n"
      "                             ordinal of the StatefulSet pod name\n"
      "                             (POD_NAME, else HOSTNAME: name-I)\n"
      "  --web.compression-level=N  zlib level of gzip/deflate /federate\n"
      "                             answers, 1 (fastest) to 9 (smallest).\n"
      "                             Default: ",
      defaults.web_compression_level,
      " (Go's default, as Prometheus)\n"
      "  --web.enable-lifecycle     Enable shutdown and reload via HTTP\n"
      "                             (POST /-/quit, /-/reload) and gRPC "
      "Reload.\n"
      "                             Default: off (SIGHUP still reloads)\n"
      "  --web.cors.origin=REGEX    Regex for CORS origin. It is fully\n"
      "                             anchored. Example:\n"
      "                             'https?://(domain1|domain2)\\.com'.\n"
      "                             Default: ",
      defaults.web_cors_origin,
      "\n"
      "  --web.shutdown-timeout=DUR On SIGTERM, SIGINT or /-/quit, how long\n"
      "                             answers and gRPC calls in progress may\n"
      "                             take to finish before they are cut.\n"
      "                             Default: ",
      FormatPrometheusDuration(defaults.web_shutdown_timeout),
      "\n"
      "  --web.enable-debug         Serve /debug/: threads, store statistics\n"
      "                             and the scrape schedule, behind the same\n"
      "                             credentials as the API. Default: off\n"
      "  --log.level=LEVEL          debug, info, warn or error. Default: "
      "info\n"
      "  --log.format=FORMAT        Output format of log messages: logfmt or\n"
      "                             json. Default: logfmt\n"
      "  --enable-feature=NAME,...  Comma-separated features to enable; the\n"
      "                             flag can be repeated. The one fedgate\n"
      "                             has: expand-external-labels ($VAR and\n"
      "                             ${VAR} in external label values are\n"
      "                             replaced by environment variables).\n"
      "                             Other names are logged and ignored.\n"
      "  --discovery.kubernetes.service-account-dir=DIR\n"
      "                             Where kubernetes_sd_configs without\n"
      "                             api_server read the service account\n"
      "                             (token, ca.crt, namespace). Default: ",
      defaults.kubernetes_service_account_dir, "\n");
}

}  // namespace fedgate
