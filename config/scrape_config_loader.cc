#include "config/scrape_config_loader.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/discovery_config_loader.h"
#include "config/http_client_config_loader.h"
#include "config/quote.h"
#include "config/relabel_config.h"
#include "config/relabel_config_loader.h"
#include "config/yaml_reader.h"

namespace fedgate {
namespace {

// Prometheus's scrape config fields that fedgate does not implement yet
// (HTTP client ones: IsUnsupportedHttpClientField). They are accepted only
// when empty (null, "", [] or {}), so that no setting is ever ignored.
constexpr absl::string_view kUnsupportedScrapeFields[] = {
    // Scrape behaviour and limits.
    "keep_dropped_targets",
    "track_timestamps_staleness",
    "enable_compression",
    "scrape_protocols",
    "fallback_scrape_protocol",
    "scrape_classic_histograms",
    "scrape_native_histograms",
    "always_scrape_classic_histograms",
    "convert_classic_histograms_to_nhcb",
    "native_histogram_bucket_limit",
    "native_histogram_min_bucket_factor",
    "metric_name_validation_scheme",
    "metric_name_escaping_scheme",
    "extra_scrape_metrics",
    // Service discovery other than static, file, DNS and Kubernetes.
    "azure_sd_configs",
    "consul_sd_configs",
    "digitalocean_sd_configs",
    "docker_sd_configs",
    "dockerswarm_sd_configs",
    "ec2_sd_configs",
    "eureka_sd_configs",
    "gce_sd_configs",
    "hetzner_sd_configs",
    "http_sd_configs",
    "ionos_sd_configs",
    "kuma_sd_configs",
    "lightsail_sd_configs",
    "linode_sd_configs",
    "marathon_sd_configs",
    "nerve_sd_configs",
    "nomad_sd_configs",
    "openstack_sd_configs",
    "ovhcloud_sd_configs",
    "puppetdb_sd_configs",
    "scaleway_sd_configs",
    "serverset_sd_configs",
    "stackit_sd_configs",
    "triton_sd_configs",
    "uyuni_sd_configs",
    "vultr_sd_configs",
};

absl::StatusOr<ParsedScrapeConfig> ParseScrapeConfig(YamlReader& reader,
                                                     const YAML::Node& node) {
  if (YamlReader::IsNullNode(node)) {
    return reader.ErrorAt(reader.NodeLine(node),
                          "empty or null scrape config section");
  }
  absl::StatusOr<std::vector<YamlEntry>> entries = reader.StructMappingEntries(
      node, YamlReader::LineOf(node), "scrape config");
  if (!entries.ok()) return entries.status();
  ParsedScrapeConfig parsed;
  ScrapeConfig& config = parsed.config;
  int scheme_line = 0;
  // The first static target that looks like a URL, checked once
  // relabel_configs is known.
  UrlLikeStaticTarget url_target;
  HttpClientConfigLoader http(reader);
  config.line = YamlReader::LineOf(node);
  for (const YamlEntry& field : *entries) {
    absl::Status s;
    if (field.name == "job_name") {
      s = Store(reader.String(field), &config.job_name);
      parsed.job_name_line = field.key_line;
    } else if (field.name == "scrape_interval") {
      s = Store(reader.Duration(field), &config.scrape_interval);
    } else if (field.name == "scrape_timeout") {
      s = Store(reader.Duration(field), &config.scrape_timeout);
      parsed.timeout_line = field.key_line;
    } else if (field.name == "metrics_path") {
      s = Store(reader.String(field), &config.metrics_path);
    } else if (field.name == "scheme") {
      s = Store(reader.String(field), &config.scheme);
      scheme_line = field.key_line;
    } else if (field.name == "honor_labels") {
      s = Store(reader.Bool(field), &config.honor_labels);
    } else if (field.name == "honor_timestamps") {
      s = Store(reader.Bool(field), &config.honor_timestamps);
    } else if (field.name == "static_configs") {
      s = Store(ParseStaticConfigs(reader, field, &url_target),
                &config.static_configs);
    } else if (field.name == "file_sd_configs") {
      s = Store(ParseFileSdConfigs(reader, field), &config.file_sd_configs);
    } else if (field.name == "dns_sd_configs") {
      s = Store(ParseDnsSdConfigs(reader, field), &config.dns_sd_configs);
    } else if (field.name == "kubernetes_sd_configs") {
      s = Store(ParseKubernetesSdConfigs(reader, field),
                &config.kubernetes_sd_configs);
    } else if (field.name == "relabel_configs") {
      s = Store(ParseRelabelConfigs(reader, field, RelabelListKind::kTarget),
                &config.relabel_configs);
    } else if (field.name == "metric_relabel_configs") {
      s = Store(ParseRelabelConfigs(reader, field, RelabelListKind::kMetric),
                &config.metric_relabel_configs);
    } else if (field.name == "params") {
      s = Store(reader.Params(field), &config.params);
    } else if (field.name == "body_size_limit") {
      s = Store(reader.ByteSize(field), &config.body_size_limit);
    } else if (field.name == "sample_limit" || field.name == "target_limit" ||
               field.name == "label_limit" ||
               field.name == "label_name_length_limit" ||
               field.name == "label_value_length_limit") {
      absl::StatusOr<uint64_t> v = reader.Uint64(field, "uint");
      s = v.status();
      if (v.ok()) {
        uint64_t* limit = field.name == "sample_limit"   ? &config.sample_limit
                          : field.name == "target_limit" ? &config.target_limit
                          : field.name == "label_limit"  ? &config.label_limit
                          : field.name == "label_name_length_limit"
                              ? &config.label_name_length_limit
                              : &config.label_value_length_limit;
        *limit = *v;
      }
    } else {
      absl::StatusOr<bool> read = http.ReadField(field);
      if (!read.ok()) {
        s = read.status();
      } else if (!*read) {
        s = reader.UnknownOrUnsupported(
            field, "scrape config",
            absl::c_linear_search(kUnsupportedScrapeFields, field.name) ||
                IsUnsupportedHttpClientField(field.name));
      }
    }
    if (!s.ok()) return s;
  }

  // The checks of ScrapeConfig.UnmarshalYAML, in its order.
  if (config.job_name.empty()) {
    return reader.ErrorAt(
        parsed.job_name_line > 0 ? parsed.job_name_line : config.line,
        "job_name is empty");
  }
  if (absl::Status s = Store(std::move(http).Finish(), &config.http_client);
      !s.ok())
    return s;
  if (config.scheme != "http" && config.scheme != "https") {
    // Prometheus 2.42 accepts any scheme here and fails every scrape later.
    return reader.ErrorAt(
        scheme_line,
        absl::StrCat("scheme ", GoQuote(config.scheme),
                     " is not supported for scrape config with job name ",
                     GoQuote(config.job_name), ": use \"http\" or \"https\""));
  }
  // checkStaticTargets: only without relabel_configs, as in Prometheus
  // (the target is checked again once relabeled).
  if (config.relabel_configs.empty() && url_target.line > 0) {
    return reader.ErrorAt(
        url_target.line,
        absl::StrCat(GoQuote(url_target.address), " is not a valid hostname"));
  }
  return parsed;
}

}  // namespace

absl::StatusOr<std::vector<ParsedScrapeConfig>> ParseScrapeConfigs(
    YamlReader& reader, const YamlEntry& entry) {
  std::vector<ParsedScrapeConfig> out;
  if (YamlReader::IsNullNode(entry.value)) return out;
  if (!entry.value.IsSequence()) {
    return reader.UnmarshalError(entry, "a list");
  }
  for (const YAML::Node& item : entry.value) {
    absl::StatusOr<ParsedScrapeConfig> parsed = ParseScrapeConfig(reader, item);
    if (!parsed.ok()) return parsed.status();
    out.push_back(*std::move(parsed));
  }
  return out;
}

}  // namespace fedgate
