#include "config/discovery_config_loader.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/yaml_reader.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// Parses the reader's document, a mapping with one key, and returns that
// key's entry (an empty one if the document is not such a mapping).
YamlEntry OnlyEntry(YamlReader& reader) {
  const YamlEntry none("", 0, YAML::Node());
  absl::StatusOr<YAML::Node> root = reader.ParseRoot();
  EXPECT_TRUE(root.ok()) << root.status();
  if (!root.ok()) return none;
  absl::StatusOr<std::vector<YamlEntry>> entries =
      reader.Entries(*root, YamlMapKind::kStruct, "scrape config");
  EXPECT_TRUE(entries.ok()) << entries.status();
  if (!entries.ok() || entries->size() != 1) return none;
  return (*entries)[0];
}

// Reads `text` (a document with one section key) as `filename` with
// `parse`, one of the section loaders.
template <typename Parse>
auto ParseSection(const std::string& text, absl::string_view filename,
                  Parse parse) {
  YamlReader reader(text, filename);
  return parse(reader, OnlyEntry(reader));
}

// ParseSection of a section the loader accepts: its items (none, after a
// failed expectation, if it refuses the section).
template <typename Parse>
auto ParseValidSection(const std::string& text, absl::string_view filename,
                       Parse parse) {
  auto items = ParseSection(text, filename, parse);
  EXPECT_TRUE(items.ok()) << items.status();
  return items.ok() ? *std::move(items)
                    : typename decltype(items)::value_type();
}

// Expects `parse` to refuse `text`, read as "f.yml", with InvalidArgument
// `message`.
template <typename Parse>
void ExpectSectionError(const std::string& text, Parse parse,
                        absl::string_view message) {
  const absl::Status status = ParseSection(text, "f.yml", parse).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), message);
}

TEST(DiscoveryConfigLoaderTest, StaticConfigsRecordTheFirstUrlLikeTarget) {
  const std::string text =
      "static_configs:\n"
      "  - targets: [a:9100, http://b/metrics, http://c/]\n"
      "    labels: {env: prod}\n";
  YamlReader reader(text, "f.yml");
  const YamlEntry entry = OnlyEntry(reader);
  UrlLikeStaticTarget url_target;
  absl::StatusOr<std::vector<StaticConfig>> groups =
      ParseStaticConfigs(reader, entry, &url_target);
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].line, 2);
  EXPECT_EQ(
      (*groups)[0].targets,
      (std::vector<std::string>{"a:9100", "http://b/metrics", "http://c/"}));
  EXPECT_EQ((*groups)[0].labels,
            (std::map<std::string, std::string>{{"env", "prod"}}));
  EXPECT_EQ(url_target.address, "http://b/metrics");
  EXPECT_EQ(url_target.line, 2);
}

TEST(DiscoveryConfigLoaderTest, FileSdPathsAreResolvedAgainstTheConfigFile) {
  const std::vector<FileSdConfig> configs = ParseValidSection(
      "file_sd_configs:\n"
      "  - files: [targets/*.json, /abs/t.yml]\n"
      "    refresh_interval: 1m\n",
      "/etc/fedgate/fedgate.yml", ParseFileSdConfigs);
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(
      configs[0].files,
      (std::vector<std::string>{"/etc/fedgate/targets/*.json", "/abs/t.yml"}));
  EXPECT_EQ(configs[0].refresh_interval, absl::Minutes(1));
}

TEST(DiscoveryConfigLoaderTest, FileSdRejectsGlobInDirectory) {
  ExpectSectionError(
      "file_sd_configs:\n  - files: [a*/t.json]\n", ParseFileSdConfigs,
      "f.yml:2: path name \"a*/t.json\" is not valid for file discovery");
}

TEST(DiscoveryConfigLoaderTest, DnsSdARecordsNeedAPort) {
  ExpectSectionError(
      "dns_sd_configs:\n"
      "  - names: [db.example]\n"
      "    type: a\n",
      ParseDnsSdConfigs,
      "f.yml:2: a port is required in DNS-SD configs for all record types "
      "except SRV");
}

TEST(DiscoveryConfigLoaderTest, DnsSdDefaultsToSrv) {
  const std::vector<DnsSdConfig> configs =
      ParseValidSection("dns_sd_configs:\n  - names: [_node._tcp.example]\n",
                        "f.yml", ParseDnsSdConfigs);
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].type, "SRV");
  EXPECT_EQ(configs[0].refresh_interval, absl::Seconds(30));
}

TEST(DiscoveryConfigLoaderTest, KubernetesSdConfigsReadEveryField) {
  const std::string text =
      "kubernetes_sd_configs:\n"
      "  - role: endpoints\n"
      "    api_server: https://127.0.0.1:6443\n"
      "    bearer_token_file: token\n"
      "    tls_config: {ca_file: ca.pem}\n"
      "    namespaces:\n"
      "      names: [default, kube-system]\n"
      "    selectors:\n"
      "      - role: pod\n"
      "        label: app=web\n"
      "      - role: endpoints\n"
      "        field: metadata.name=api\n"
      "    attach_metadata: {node: true}\n"
      "  - role: pod\n"
      "    kubeconfig_file: kube/config\n";
  const std::vector<KubernetesSdConfig> configs =
      ParseValidSection(text, "/etc/fedgate/f.yml", ParseKubernetesSdConfigs);
  ASSERT_EQ(configs.size(), 2u);
  const KubernetesSdConfig& e = configs[0];
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.role, "endpoints");
  EXPECT_EQ(e.api_server, "https://127.0.0.1:6443");
  ASSERT_TRUE(e.http_client.authorization.has_value());
  EXPECT_EQ(e.http_client.authorization->credentials_file,
            "/etc/fedgate/token");
  EXPECT_EQ(e.http_client.tls_config.ca_file, "/etc/fedgate/ca.pem");
  EXPECT_EQ(e.namespaces, (std::vector<std::string>{"default", "kube-system"}));
  EXPECT_FALSE(e.own_namespace);
  ASSERT_EQ(e.selectors.size(), 2u);
  EXPECT_EQ(e.selectors[0].role, "pod");
  EXPECT_EQ(e.selectors[0].label, "app=web");
  EXPECT_EQ(e.selectors[1].field, "metadata.name=api");
  EXPECT_TRUE(e.attach_node_metadata);
  EXPECT_EQ(configs[1].kubeconfig_file, "/etc/fedgate/kube/config");
  EXPECT_EQ(configs[1].http_client, HttpClientConfig());
}

TEST(DiscoveryConfigLoaderTest, KubernetesSdConfigsAreCheckedAsPrometheus) {
  // Prometheus 2.42's SDConfig.UnmarshalYAML checks, with the line fedgate
  // points at.
  const std::pair<std::string, std::string> cases[] = {
      {"- api_server: http://127.0.0.1:1\n",
       "f.yml:2: role missing (one of: pod, service, endpoints, "
       "endpointslice, node, ingress)"},
      {"- role: pods\n", "f.yml:2: unknown Kubernetes SD role \"pods\""},
      {"- role: pod\n  api_server: http://127.0.0.1:1\n"
       "  kubeconfig_file: k\n",
       "f.yml:2: cannot use 'kubeconfig_file' and 'api_server' "
       "simultaneously"},
      {"- role: pod\n  kubeconfig_file: k\n  bearer_token: t\n",
       "f.yml:2: cannot use a custom HTTP client configuration together "
       "with 'kubeconfig_file'"},
      {"- role: pod\n  follow_redirects: false\n",
       "f.yml:2: to use custom HTTP client configuration please provide the "
       "'api_server' URL explicitly"},
      {"- role: pod\n  api_server: http://127.0.0.1:1\n"
       "  namespaces: {own_namespace: true}\n",
       "f.yml:2: cannot use 'api_server' and 'namespaces.own_namespace' "
       "simultaneously"},
      {"- role: pod\n  kubeconfig_file: k\n"
       "  namespaces: {own_namespace: true}\n",
       "f.yml:2: cannot use 'kubeconfig_file' and 'namespaces.own_namespace' "
       "simultaneously"},
      {"- role: pod\n  selectors:\n  - role: pod\n  - role: pod\n",
       "f.yml:3: duplicated selector role: pod"},
      {"- role: endpoints\n  selectors:\n  - role: node\n",
       "f.yml:3: endpoints role supports only pod, service, endpoints "
       "selectors"},
      {"- role: pod\n  selectors:\n  - {role: pod, label: 'a in b'}\n",
       "f.yml:3: invalid label selector \"a in b\": the values of 'in' and "
       "'notin' must be in parentheses"},
      {"- role: pod\n  selectors:\n  - {role: pod, field: nonsense}\n",
       "f.yml:3: invalid field selector \"nonsense\": cannot understand "
       "\"nonsense\""},
      {"- role: pod\n  api_server: 127.0.0.1:6443\n",
       "f.yml:3: api_server \"127.0.0.1:6443\" is not an http or https URL "
       "with a host"},
      // The password never reaches the message.
      {"- role: pod\n  api_server: user:s3cret@127.0.0.1:6443\n",
       "f.yml:3: api_server \"user:xxxxx@127.0.0.1:6443\" is not an http or "
       "https URL with a host"},
      {"- role: pod\n  namespaces: {name: [a]}\n", "field name not found"},
      {"- role: pod\n  attach_metadata: {nodes: true}\n",
       "field nodes not found"},
      {"- role: pod\n  api_server: http://127.0.0.1:1\n"
       "  bearer_token: a\n  bearer_token_file: b\n",
       "at most one of bearer_token & bearer_token_file must be configured"},
  };
  for (const auto& [list, want] : cases) {
    const std::string text = "kubernetes_sd_configs:\n" + list;
    absl::StatusOr<std::vector<KubernetesSdConfig>> configs =
        ParseSection(text, "f.yml", ParseKubernetesSdConfigs);
    ASSERT_FALSE(configs.ok()) << list;
    EXPECT_NE(configs.status().message().find(want), std::string::npos)
        << list << "\n got: " << configs.status().message();
  }
}

}  // namespace
}  // namespace fedgate
