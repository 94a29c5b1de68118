#include "config/config_printer.h"

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "config/duration.h"
#include "config/redacted_url.h"
#include "config/relabel_config.h"
#include "re2/re2.h"

namespace fedgate {
namespace {

// Whether yaml.v2's resolver would read the plain scalar `s` as something
// other than a string (null, bool, int, float), or as a base-60 float, which
// yaml.v2 also quotes.
bool ResolvesToNonString(absl::string_view s) {
  static constexpr absl::string_view kReserved[] = {
      "",      "~",     "null",  "Null",  "NULL",  "y",    "Y",     "yes",
      "Yes",   "YES",   "n",     "N",     "no",    "No",   "NO",    "true",
      "True",  "TRUE",  "false", "False", "FALSE", "on",   "On",    "ON",
      "off",   "Off",   "OFF",   ".inf",  ".Inf",  ".INF", "+.inf", "+.Inf",
      "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN", ".NAN",  "<<",
  };
  for (absl::string_view r : kReserved) {
    if (s == r) return true;
  }
  // Go's strconv.ParseInt(s, 0, 64) syntax (sign, 0x/0o/0b/0 prefixes, `_`
  // between digits), yaml.v2's float regex and its base-60 float regex.
  static const RE2* const kInt = new RE2(
      R"([-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*))");
  static const RE2* const kFloat =
      new RE2(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  static const RE2* const kBase60 =
      new RE2(R"([-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)");
  const re2::StringPiece text(s.data(), s.size());
  return RE2::FullMatch(text, *kInt) || RE2::FullMatch(text, *kFloat) ||
         RE2::FullMatch(text, *kBase60);
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Whether yaml.v2's emitter allows the plain style for `s` in block context
// (yaml_emitter_analyze_scalar), and whether it needs double quotes
// (characters that single quotes cannot carry).
void AnalyzeScalar(absl::string_view s, bool* plain, bool* needs_double) {
  *plain = true;
  *needs_double = false;
  if (s.empty()) {
    *plain = false;
    return;
  }
  if (absl::StartsWith(s, "---") || absl::StartsWith(s, "...")) {
    *plain = false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool followed_by_blank = i + 1 == s.size() || IsBlank(s[i + 1]);
    if (c < 0x20 || c == 0x7f) {
      *needs_double = true;
      *plain = false;
    }
    if (i == 0) {
      switch (c) {
        case '#':
        case ',':
        case '[':
        case ']':
        case '{':
        case '}':
        case '&':
        case '*':
        case '!':
        case '|':
        case '>':
        case '\'':
        case '"':
        case '%':
        case '@':
        case '`':
          *plain = false;
          break;
        case '?':
        case ':':
        case '-':
          if (followed_by_blank) *plain = false;
          break;
        default:
          break;
      }
    } else {
      if (c == ':' && followed_by_blank) *plain = false;
      if (c == '#' && IsBlank(s[i - 1])) *plain = false;
    }
  }
  if (IsBlank(s.front()) || IsBlank(s.back())) *plain = false;
}

std::string DoubleQuoted(absl::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static constexpr char kHex[] = "0123456789ABCDEF";
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out += "\"";
  return out;
}

void AppendDuration(std::string* out, absl::string_view indent,
                    absl::string_view key, absl::Duration d) {
  absl::StrAppend(out, indent, key, ": ", FormatPrometheusDuration(d), "\n");
}

void AppendString(std::string* out, absl::string_view indent,
                  absl::string_view key, absl::string_view value) {
  absl::StrAppend(out, indent, key, ": ", YamlScalar(value), "\n");
}

void AppendLabelMap(std::string* out, absl::string_view indent,
                    const std::map<std::string, std::string>& labels) {
  for (const auto& [name, value] : labels) {
    absl::StrAppend(out, indent, YamlScalar(name), ": ", YamlScalar(value),
                    "\n");
  }
}

void AppendRelabelConfigs(std::string* out, absl::string_view key,
                          const std::vector<RelabelConfig>& rules) {
  if (rules.empty()) return;
  absl::StrAppend(out, "  ", key, ":\n");
  for (const RelabelConfig& r : rules) {
    // yaml.v2 omitempty, in relabel.Config's field order; source_labels is a
    // flow sequence (model.LabelNames).
    std::string item;
    if (!r.source_labels.empty()) {
      std::vector<std::string> names;
      for (const std::string& n : r.source_labels) {
        names.push_back(YamlScalar(n));
      }
      absl::StrAppend(&item, "    source_labels: [", absl::StrJoin(names, ", "),
                      "]\n");
    }
    if (!r.separator.empty())
      AppendString(&item, "    ", "separator", r.separator);
    if (!r.regex.empty()) AppendString(&item, "    ", "regex", r.regex);
    if (r.modulus != 0) {
      absl::StrAppend(&item, "    modulus: ", r.modulus, "\n");
    }
    if (!r.target_label.empty()) {
      AppendString(&item, "    ", "target_label", r.target_label);
    }
    if (!r.replacement.empty()) {
      AppendString(&item, "    ", "replacement", r.replacement);
    }
    AppendString(&item, "    ", "action", RelabelActionName(r.action));
    item[2] = '-';  // The first line starts the sequence item.
    out->append(item);
  }
}

// units.Base2Bytes.String(): `1KiB512B`, `10MiB`.
std::string Base2BytesString(int64_t n) {
  static constexpr absl::string_view kPrefixes[] = {"",  "K", "M", "G",
                                                    "T", "P", "E"};
  std::string out;
  for (int i = 0; i < 7; ++i) {
    if (n % 1024 != 0 || (i == 0 && n == 0)) {
      out = absl::StrCat(n % 1024, kPrefixes[i], i == 0 ? "B" : "iB", out);
    }
    n /= 1024;
    if (n == 0) break;
  }
  return out;
}

// prometheus/common's HTTPClientConfig fields at `indent`, in its order
// (yaml.v2 omitempty), secrets as `<secret>`.
void AppendHttpClientConfig(std::string* out, absl::string_view indent,
                            const HttpClientConfig& http) {
  const std::string in2 = absl::StrCat(indent, "  ");
  if (http.basic_auth.has_value()) {
    const BasicAuthConfig& b = *http.basic_auth;
    absl::StrAppend(out, indent, "basic_auth:\n");
    if (!b.username.empty()) AppendString(out, in2, "username", b.username);
    if (!b.password.empty()) absl::StrAppend(out, in2, "password: <secret>\n");
    if (!b.password_file.empty()) {
      AppendString(out, in2, "password_file", b.password_file);
    }
  }
  if (http.authorization.has_value()) {
    const AuthorizationConfig& a = *http.authorization;
    absl::StrAppend(out, indent, "authorization:\n");
    if (!a.type.empty()) AppendString(out, in2, "type", a.type);
    if (!a.credentials.empty())
      absl::StrAppend(out, in2, "credentials: <secret>\n");
    if (!a.credentials_file.empty()) {
      AppendString(out, in2, "credentials_file", a.credentials_file);
    }
  }
  if (!http.proxy_url.empty()) {
    AppendString(out, indent, "proxy_url", RedactedUrl(http.proxy_url));
  }
  const TlsConfig& t = http.tls_config;
  if (!t.empty()) {
    absl::StrAppend(out, indent, "tls_config:\n");
    if (!t.ca_file.empty()) AppendString(out, in2, "ca_file", t.ca_file);
    if (!t.cert_file.empty()) {
      AppendString(out, in2, "cert_file", t.cert_file);
    }
    if (!t.key_file.empty()) AppendString(out, in2, "key_file", t.key_file);
    if (!t.server_name.empty()) {
      AppendString(out, in2, "server_name", t.server_name);
    }
    if (t.insecure_skip_verify)
      absl::StrAppend(out, in2, "insecure_skip_verify: true\n");
    // 2.42 prints the versions as Go's numbers (771 for TLS12).
    if (t.min_version != 0) {
      absl::StrAppend(out, in2, "min_version: ", t.min_version, "\n");
    }
    if (t.max_version != 0) {
      absl::StrAppend(out, in2, "max_version: ", t.max_version, "\n");
    }
  }
  absl::StrAppend(out, indent, "follow_redirects: ",
                  http.follow_redirects ? "true" : "false", "\n", indent,
                  "enable_http2: ", http.enable_http2 ? "true" : "false", "\n");
}

}  // namespace

std::string YamlScalar(absl::string_view s) {
  bool plain = false;
  bool needs_double = false;
  AnalyzeScalar(s, &plain, &needs_double);
  if (needs_double || ResolvesToNonString(s)) return DoubleQuoted(s);
  if (plain) return std::string(s);
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "''"}}), "'");
}

namespace {

// Appends fedgate's `dedup_groups` section, every field (defaults included,
// so that the effective settings are visible).
// fedgate's `rule_options`, after its dedup groups: every option printed.
void AppendRuleOptions(
    std::string* out,
    const std::map<std::string, RuleOptionsConfig>& rule_options) {
  if (rule_options.empty()) return;
  *out += "rule_options:\n";
  for (const auto& [record, options] : rule_options) {
    absl::StrAppend(out, "  ", YamlScalar(record), ":\n    keep_inputs: ",
                    options.keep_inputs ? "true" : "false", "\n");
  }
}

void AppendDedupGroups(std::string* out,
                       const std::vector<DedupGroupConfig>& groups) {
  if (groups.empty()) return;
  *out += "dedup_groups:\n";
  auto flow = [](const std::vector<std::string>& items) {
    std::vector<std::string> quoted;
    for (const std::string& item : items) quoted.push_back(YamlScalar(item));
    return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
  };
  for (const DedupGroupConfig& g : groups) {
    AppendString(out, "- ", "name", g.name);
    absl::StrAppend(out, "  job_names: ", flow(g.job_names), "\n");
    absl::StrAppend(out, "  source_labels: ", flow(g.source_labels), "\n");
    AppendString(out, "  ", "separator", g.separator);
    AppendString(out, "  ", "regex", g.regex);
    AppendString(out, "  ", "replacement", g.replacement);
    absl::StrAppend(out, "  replica_labels: ", flow(g.replica_labels), "\n");
    AppendString(out, "  ", "group_label", g.group_label);
    if (g.leader_timeout > absl::ZeroDuration()) {
      AppendDuration(out, "  ", "leader_timeout", g.leader_timeout);
    }
  }
}

}  // namespace

namespace {

// A list of strings at `indent`: `[]` when empty, as yaml.v2 prints a nil
// slice without omitempty.
void AppendStringList(std::string* out, absl::string_view indent,
                      absl::string_view key,
                      const std::vector<std::string>& items) {
  if (items.empty()) {
    absl::StrAppend(out, indent, key, ": []\n");
    return;
  }
  absl::StrAppend(out, indent, key, ":\n");
  for (const std::string& item : items) {
    absl::StrAppend(out, indent, "- ", YamlScalar(item), "\n");
  }
}

// kubernetes_sd_configs as 2.42's SDConfig marshals: api_server (omitempty),
// role, kubeconfig_file (always), the HTTP client fields, then namespaces,
// selectors and attach_metadata when not empty.
void AppendKubernetesSdConfigs(std::string* out,
                               const std::vector<KubernetesSdConfig>& configs) {
  if (configs.empty()) return;
  *out += "  kubernetes_sd_configs:\n";
  for (const KubernetesSdConfig& k : configs) {
    std::string item;
    if (!k.api_server.empty()) {
      AppendString(&item, "    ", "api_server", RedactedUrl(k.api_server));
    }
    AppendString(&item, "    ", "role", k.role);
    AppendString(&item, "    ", "kubeconfig_file", k.kubeconfig_file);
    AppendHttpClientConfig(&item, "    ", k.http_client);
    if (!k.namespaces.empty() || k.own_namespace) {
      absl::StrAppend(&item, "    namespaces:\n      own_namespace: ",
                      k.own_namespace ? "true" : "false", "\n");
      AppendStringList(&item, "      ", "names", k.namespaces);
    }
    if (!k.selectors.empty()) item += "    selectors:\n";
    for (const KubernetesSelectorConfig& selector : k.selectors) {
      std::string fields;
      for (const auto& [key, value] : {std::pair{"role", &selector.role},
                                       std::pair{"label", &selector.label},
                                       std::pair{"field", &selector.field}}) {
        if (!value->empty()) AppendString(&fields, "      ", key, *value);
      }
      if (fields.empty()) fields = "      {}\n";
      fields[4] = '-';
      item += fields;
    }
    if (k.attach_node_metadata) {
      item += "    attach_metadata:\n      node: true\n";
    }
    item[2] = '-';  // The first line starts the sequence item.
    *out += item;
  }
}

}  // namespace

std::string PrintConfigYaml(const Config& config) {
  std::string out = "global:\n";
  AppendDuration(&out, "  ", "scrape_interval", config.global.scrape_interval);
  AppendDuration(&out, "  ", "scrape_timeout", config.global.scrape_timeout);
  AppendDuration(&out, "  ", "evaluation_interval",
                 config.global.evaluation_interval);
  if (!config.global.external_labels.empty()) {
    out += "  external_labels:\n";
    AppendLabelMap(&out, "    ", config.global.external_labels);
  }
  // Prometheus's Config field order: rule_files follows global.
  if (!config.rule_files.empty()) {
    out += "rule_files:\n";
    for (const std::string& pattern : config.rule_files) {
      absl::StrAppend(&out, "- ", YamlScalar(pattern), "\n");
    }
  }
  if (config.scrape_configs.empty()) {
    AppendDedupGroups(&out, config.dedup_groups);
    AppendRuleOptions(&out, config.rule_options);
    return out;
  }
  out += "scrape_configs:\n";
  for (const ScrapeConfig& sc : config.scrape_configs) {
    AppendString(&out, "- ", "job_name", sc.job_name);
    // yaml.v2 omitempty: false booleans and empty strings are not printed.
    if (sc.honor_labels) out += "  honor_labels: true\n";
    if (sc.honor_timestamps) out += "  honor_timestamps: true\n";
    if (!sc.params.empty()) {
      out += "  params:\n";
      for (const auto& [name, values] : sc.params) {
        if (values.empty()) {
          absl::StrAppend(&out, "    ", YamlScalar(name), ": []\n");
          continue;
        }
        absl::StrAppend(&out, "    ", YamlScalar(name), ":\n");
        for (const std::string& v : values) {
          absl::StrAppend(&out, "    - ", YamlScalar(v), "\n");
        }
      }
    }
    AppendDuration(&out, "  ", "scrape_interval", sc.scrape_interval);
    AppendDuration(&out, "  ", "scrape_timeout", sc.scrape_timeout);
    if (!sc.metrics_path.empty()) {
      AppendString(&out, "  ", "metrics_path", sc.metrics_path);
    }
    if (!sc.scheme.empty()) AppendString(&out, "  ", "scheme", sc.scheme);
    if (sc.body_size_limit != 0) {
      absl::StrAppend(&out, "  body_size_limit: ",
                      Base2BytesString(sc.body_size_limit), "\n");
    }
    const std::pair<absl::string_view, uint64_t> limits[] = {
        {"sample_limit", sc.sample_limit},
        {"target_limit", sc.target_limit},
        {"label_limit", sc.label_limit},
        {"label_name_length_limit", sc.label_name_length_limit},
        {"label_value_length_limit", sc.label_value_length_limit},
    };
    for (const auto& [name, limit] : limits) {
      if (limit != 0) absl::StrAppend(&out, "  ", name, ": ", limit, "\n");
    }
    AppendHttpClientConfig(&out, "  ", sc.http_client);
    AppendRelabelConfigs(&out, "relabel_configs", sc.relabel_configs);
    AppendRelabelConfigs(&out, "metric_relabel_configs",
                         sc.metric_relabel_configs);
    // Prometheus prints the discovery configs sorted by their keys.
    if (!sc.dns_sd_configs.empty()) out += "  dns_sd_configs:\n";
    for (const DnsSdConfig& dns : sc.dns_sd_configs) {
      std::string item;
      AppendStringList(&item, "    ", "names", dns.names);
      AppendDuration(&item, "    ", "refresh_interval", dns.refresh_interval);
      absl::StrAppend(&item, "    type: ", YamlScalar(dns.type), "\n");
      absl::StrAppend(&item, "    port: ", dns.port, "\n");
      item[2] = '-';
      out += item;
    }
    if (!sc.file_sd_configs.empty()) out += "  file_sd_configs:\n";
    for (const FileSdConfig& file : sc.file_sd_configs) {
      std::string item;
      AppendStringList(&item, "    ", "files", file.files);
      AppendDuration(&item, "    ", "refresh_interval", file.refresh_interval);
      item[2] = '-';
      out += item;
    }
    AppendKubernetesSdConfigs(&out, sc.kubernetes_sd_configs);
    if (sc.static_configs.empty()) continue;
    out += "  static_configs:\n";
    for (const StaticConfig& st : sc.static_configs) {
      if (st.targets.empty()) {
        out += "  - targets: []\n";
      } else {
        out += "  - targets:\n";
        for (const std::string& target : st.targets) {
          absl::StrAppend(&out, "    - ", YamlScalar(target), "\n");
        }
      }
      if (!st.labels.empty()) {
        out += "    labels:\n";
        AppendLabelMap(&out, "      ", st.labels);
      }
    }
  }
  AppendDedupGroups(&out, config.dedup_groups);
  AppendRuleOptions(&out, config.rule_options);
  return out;
}

}  // namespace fedgate
