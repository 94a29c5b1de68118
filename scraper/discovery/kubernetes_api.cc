#include "scraper/discovery/kubernetes_api.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bazel/rapidjson.h"
#include "config/file_contents.h"
#include "scraper/curl_request_options.h"
#include "scraper/http_client.h"
#include "scraper/request_authorization.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

// Go's `open <path>: <errno text>`, errno text in lower case.
absl::Status OpenError(const std::string& path, int error_number) {
  std::string text = std::strerror(error_number);
  if (!text.empty()) text[0] = absl::ascii_tolower(text[0]);
  return absl::UnavailableError(absl::StrCat("open ", path, ": ", text));
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  return ReadFileContents(
      path,
      [&path](absl::string_view, int error_number) {
        return OpenError(path, error_number);
      },
      /*max_bytes=*/4 << 20);
}

std::string JoinPath(absl::string_view dir, absl::string_view path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return std::string(path);
  return absl::StrCat(dir, "/", path);
}

// A scalar of a kubeconfig mapping, "" when absent.
std::string Scalar(const YAML::Node& map, const char* key) {
  const YAML::Node v = map[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

// The `<key>` mapping of the entry named `name` in the list `list`
// (`clusters`, `users`, `contexts`).
YAML::Node NamedEntry(const YAML::Node& root, const char* list, const char* key,
                      const std::string& name) {
  const YAML::Node entries = root[list];
  if (!entries || !entries.IsSequence()) return YAML::Node();
  for (const YAML::Node& entry : entries) {
    if (entry.IsMap() && Scalar(entry, "name") == name) return entry[key];
  }
  return YAML::Node();
}

absl::StatusOr<std::string> PemData(const YAML::Node& map, const char* key,
                                    const std::string& file) {
  const std::string data = Scalar(map, key);
  std::string pem;
  if (!data.empty() && !absl::Base64Unescape(data, &pem)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", file, ": ", key, " is not base64"));
  }
  return pem;
}

absl::StatusOr<KubernetesApiServer> FromKubeconfig(const std::string& file) {
  absl::StatusOr<std::string> text = ReadSmallFile(file);
  if (!text.ok()) return text.status();
  const size_t slash = file.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "" : file.substr(0, slash);
  KubernetesApiServer server;
  try {
    const YAML::Node root = YAML::Load(*text);
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kubeconfig ", file, " is not a mapping"));
    }
    const std::string context_name = Scalar(root, "current-context");
    if (context_name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kubeconfig ", file, " has no current-context"));
    }
    const YAML::Node context =
        NamedEntry(root, "contexts", "context", context_name);
    if (!context || !context.IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kubeconfig ", file, ": context \"", context_name, "\" not found"));
    }
    const std::string cluster_name = Scalar(context, "cluster");
    const YAML::Node cluster =
        NamedEntry(root, "clusters", "cluster", cluster_name);
    if (!cluster || !cluster.IsMap() || Scalar(cluster, "server").empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kubeconfig ", file, ": cluster \"", cluster_name,
                       "\" not found or without a server"));
    }
    server.url = std::string(absl::StripSuffix(Scalar(cluster, "server"), "/"));
    TlsConfig& tls = server.http.tls_config;
    tls.ca_file = JoinPath(dir, Scalar(cluster, "certificate-authority"));
    tls.insecure_skip_verify =
        Scalar(cluster, "insecure-skip-tls-verify") == "true";
    tls.server_name = Scalar(cluster, "tls-server-name");
    server.http.proxy_url = Scalar(cluster, "proxy-url");
    absl::StatusOr<std::string> ca =
        PemData(cluster, "certificate-authority-data", file);
    if (!ca.ok()) return ca.status();
    server.ca_pem = *std::move(ca);

    const YAML::Node user =
        NamedEntry(root, "users", "user", Scalar(context, "user"));
    if (user && user.IsMap()) {
      tls.cert_file = JoinPath(dir, Scalar(user, "client-certificate"));
      tls.key_file = JoinPath(dir, Scalar(user, "client-key"));
      absl::StatusOr<std::string> cert =
          PemData(user, "client-certificate-data", file);
      if (!cert.ok()) return cert.status();
      server.cert_pem = *std::move(cert);
      absl::StatusOr<std::string> key = PemData(user, "client-key-data", file);
      if (!key.ok()) return key.status();
      server.key_pem = *std::move(key);
      const std::string token = Scalar(user, "token");
      const std::string token_file = Scalar(user, "tokenFile");
      if (!token.empty() || !token_file.empty()) {
        AuthorizationConfig auth;
        auth.credentials = token;
        if (token.empty()) auth.credentials_file = JoinPath(dir, token_file);
        server.http.authorization = auth;
      } else if (!Scalar(user, "username").empty()) {
        BasicAuthConfig basic;
        basic.username = Scalar(user, "username");
        basic.password = Scalar(user, "password");
        server.http.basic_auth = basic;
      }
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", file, ": ", e.what()));
  }
  return server;
}

}  // namespace

KubernetesEnvironment KubernetesEnvironment::FromProcess(
    std::string service_account_dir) {
  KubernetesEnvironment env;
  if (!service_account_dir.empty()) {
    env.service_account_dir = std::move(service_account_dir);
  }
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  env.service_host = host != nullptr ? host : "";
  env.service_port = port != nullptr ? port : "";
  return env;
}

absl::StatusOr<KubernetesApiServer> ResolveKubernetesApiServer(
    const KubernetesSdConfig& config, const KubernetesEnvironment& env) {
  if (!config.kubeconfig_file.empty()) {
    return FromKubeconfig(config.kubeconfig_file);
  }
  KubernetesApiServer server;
  if (!config.api_server.empty()) {
    server.url = std::string(absl::StripSuffix(config.api_server, "/"));
    server.http = config.http_client;
    return server;
  }
  if (env.service_host.empty() || env.service_port.empty()) {
    return absl::FailedPreconditionError(
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST "
        "and KUBERNETES_SERVICE_PORT must be defined");
  }
  const std::string host = absl::StrContains(env.service_host, ':')
                               ? absl::StrCat("[", env.service_host, "]")
                               : env.service_host;
  server.url = absl::StrCat("https://", host, ":", env.service_port);
  const std::string token_file = JoinPath(env.service_account_dir, "token");
  // client-go reads the token once at start-up to fail early; fedgate
  // then re-reads it for every request.
  if (absl::Status s = ReadSmallFile(token_file).status(); !s.ok()) return s;
  AuthorizationConfig auth;
  auth.credentials_file = token_file;
  server.http.authorization = auth;
  server.http.tls_config.ca_file = JoinPath(env.service_account_dir, "ca.crt");
  if (config.own_namespace) {
    absl::StatusOr<std::string> ns =
        ReadSmallFile(JoinPath(env.service_account_dir, "namespace"));
    if (!ns.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "could not determine the pod's namespace: ", ns.status().message()));
    }
    if (ns->empty()) {
      return absl::FailedPreconditionError(
          "could not read own namespace name (empty file)");
    }
    server.own_namespace = *std::move(ns);
  }
  return server;
}

struct KubernetesApiClient::Transfer {
  KubernetesApiClient* client = nullptr;
  HttpStatusLine status;
  std::string body;  // A GET's or POST's answer, or a failed stream's.
  const std::string* post = nullptr;  // A POST's JSON body.
  size_t max_body = 0;
  bool too_large = false;
  // Streams: the partial line, and the caller's line handler.
  absl::FunctionRef<bool(absl::string_view)>* on_line = nullptr;
  std::string line;
  bool stopped_by_caller = false;
  char error[CURL_ERROR_SIZE] = {};

  static size_t OnBody(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    const absl::string_view chunk(data, size * n);
    if (t->on_line == nullptr || t->status.code != 200) {
      if (t->body.size() + chunk.size() > t->max_body) {
        t->too_large = true;
        return 0;
      }
      t->body.append(chunk.data(), chunk.size());
      return chunk.size();
    }
    size_t start = 0;
    while (start < chunk.size()) {
      const size_t nl = chunk.find('\n', start);
      if (nl == absl::string_view::npos) {
        t->line.append(chunk.data() + start, chunk.size() - start);
        if (t->line.size() > t->max_body) {
          t->too_large = true;
          return 0;
        }
        break;
      }
      t->line.append(chunk.data() + start, nl - start);
      const bool more = (*t->on_line)(t->line);
      t->line.clear();
      if (!more) {
        t->stopped_by_caller = true;
        return 0;
      }
      start = nl + 1;
    }
    return chunk.size();
  }

  static int OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t,
                        curl_off_t) {
    auto* t = static_cast<Transfer*>(self);
    absl::MutexLock lock(&t->client->mu_);
    return t->client->cancelled_ ? 1 : 0;
  }

  // The connection's socket is recorded so that Cancel() can shut it down.
  static curl_socket_t OnOpenSocket(void* self, curlsocktype,
                                    curl_sockaddr* address) {
    KubernetesApiClient* client = static_cast<Transfer*>(self)->client;
    const int fd = socket(address->family, address->socktype | SOCK_CLOEXEC,
                          address->protocol);
    absl::MutexLock lock(&client->mu_);
    if (fd >= 0) client->socket_ = fd;
    return fd >= 0 ? fd : CURL_SOCKET_BAD;
  }

  static int OnCloseSocket(void* self, curl_socket_t fd) {
    KubernetesApiClient* client = static_cast<KubernetesApiClient*>(self);
    absl::MutexLock lock(&client->mu_);
    if (client->socket_ == fd) client->socket_ = -1;
    return close(fd);
  }
};

KubernetesApiClient::KubernetesApiClient(KubernetesApiServer server)
    : server_(std::move(server)) {
  InitCurlOnce();
  easy_ = curl_easy_init();
}

KubernetesApiClient::~KubernetesApiClient() {
  if (easy_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(easy_));
}

void KubernetesApiClient::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  // Wakes a transfer blocked in a read at once; curl then fails it and
  // closes the socket through OnCloseSocket.
  if (socket_ >= 0) shutdown(socket_, SHUT_RDWR);
}

absl::StatusOr<KubernetesResponse> KubernetesApiClient::Get(
    absl::string_view path_and_query, absl::Duration timeout, size_t max_body) {
  Transfer t;
  t.max_body = max_body;
  return Perform(path_and_query, timeout, t);
}

absl::StatusOr<KubernetesResponse> KubernetesApiClient::Post(
    absl::string_view path, const std::string& json, absl::Duration timeout,
    size_t max_body) {
  Transfer t;
  t.max_body = max_body;
  t.post = &json;
  return Perform(path, timeout, t);
}

absl::StatusOr<KubernetesResponse> KubernetesApiClient::Stream(
    absl::string_view path_and_query, absl::Duration timeout,
    absl::FunctionRef<bool(absl::string_view line)> on_line) {
  Transfer t;
  t.max_body = 64 << 20;
  t.on_line = &on_line;
  return Perform(path_and_query, timeout, t);
}

absl::StatusOr<KubernetesResponse> KubernetesApiClient::Perform(
    absl::string_view path_and_query, absl::Duration timeout, Transfer& t) {
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return absl::CancelledError("discovery stopped");
  }
  CURL* easy = static_cast<CURL*>(easy_);
  if (easy == nullptr) return absl::InternalError("curl_easy_init failed");
  const std::string url = absl::StrCat(server_.url, path_and_query);
  // As Go's url.Error spells the failed request: `Get "https://..."`.
  const absl::string_view method = t.post != nullptr ? "Post" : "Get";
  absl::StatusOr<std::string> authorization = AuthorizationValue(server_.http);
  if (!authorization.ok()) {
    return absl::UnavailableError(absl::StrCat(
        method, " \"", url, "\": ", authorization.status().message()));
  }
  t.client = this;
  curl_easy_reset(easy);  // Keeps the connection.
  CurlRequestOptions options;
  options.AddHeader("Accept: application/json");
  if (t.post != nullptr) options.AddHeader("Content-Type: application/json");
  if (!authorization->empty()) {
    options.AddHeader(absl::StrCat("Authorization: ", *authorization));
  }
  options.Apply(easy, url, server_.http);
  auto blob = [easy](CURLoption option, const std::string& pem) {
    if (pem.empty()) return;
    curl_blob b{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(easy, option, &b);
  };
  blob(CURLOPT_CAINFO_BLOB, server_.ca_pem);
  blob(CURLOPT_SSLCERT_BLOB, server_.cert_pem);
  blob(CURLOPT_SSLKEY_BLOB, server_.key_pem);
  if (t.post != nullptr) {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t.post->data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(t.post->size()));
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(easy, CURLOPT_USERAGENT,
                   std::string(kDefaultUserAgent).c_str());
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  const long timeout_ms = static_cast<long>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   std::min<long>(timeout_ms, 30000));
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &HttpStatusLine::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t.status);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &Transfer::OnProgress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Transfer::OnOpenSocket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &t);
  // The close callback may run after `t` is gone (a kept connection).
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &Transfer::OnCloseSocket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t.error);
  const CURLcode code = curl_easy_perform(easy);
  // A kept connection holds the option pointers of `options` no longer.
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(easy, CURLOPT_CONNECT_TO, nullptr);
  bool cancelled;
  {
    absl::MutexLock lock(&mu_);
    cancelled = cancelled_;
  }
  if (cancelled) return absl::CancelledError("discovery stopped");
  if (t.stopped_by_caller) return KubernetesResponse{t.status.code, ""};
  if (t.too_large) {
    return absl::ResourceExhaustedError(absl::StrCat(
        method, " \"", url, "\": answer larger than ", t.max_body, " bytes"));
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    // A watch ends at its own timeout; that is the end of its stream.
    if (t.on_line != nullptr && t.status.code == 200) {
      return KubernetesResponse{200, ""};
    }
    return absl::DeadlineExceededError(
        absl::StrCat(method, " \"", url, "\": context deadline exceeded"));
  }
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(
        method, " \"", url,
        "\": ", t.error[0] != '\0' ? t.error : curl_easy_strerror(code)));
  }
  return KubernetesResponse{t.status.code, std::move(t.body)};
}

std::string KubernetesStatusMessage(absl::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    auto it = doc.FindMember("message");
    if (it != doc.MemberEnd() && it->value.IsString()) {
      return std::string(it->value.GetString(), it->value.GetStringLength());
    }
  }
  return std::string(body.substr(0, 256));
}

}  // namespace fedgate
