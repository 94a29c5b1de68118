#include "gateway/security/web_config.h"

#include <algorithm>
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/file_contents.h"
#include "config/http_client_config_loader.h"
#include "config/quote.h"
#include "config/yaml_reader.h"

namespace fedgate {
namespace {

constexpr std::pair<ClientAuthType, absl::string_view> kClientAuthNames[] = {
    {ClientAuthType::kNoClientCert, "NoClientCert"},
    {ClientAuthType::kRequestClientCert, "RequestClientCert"},
    {ClientAuthType::kRequireAnyClientCert, "RequireAnyClientCert"},
    {ClientAuthType::kVerifyClientCertIfGiven, "VerifyClientCertIfGiven"},
    {ClientAuthType::kRequireAndVerifyClientCert, "RequireAndVerifyClientCert"},
};

// Go's tls.CipherSuites() (the secure list exporter-toolkit accepts) and the
// GnuTLS priority keywords of each suite's key exchange, cipher and MAC. A
// GnuTLS priority string enables key exchanges, ciphers and MACs separately,
// so a list of suites enables the combinations of their parts.
struct CipherSuite {
  absl::string_view go_name;
  absl::string_view kx;  // Empty for TLS 1.3 suites.
  absl::string_view cipher;
  absl::string_view mac;
};
constexpr CipherSuite kCipherSuites[] = {
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "AES-128-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "AES-256-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "AES-128-GCM", "AEAD"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "AES-256-GCM", "AEAD"},
    {"TLS_AES_128_GCM_SHA256", "", "AES-128-GCM", "AEAD"},
    {"TLS_AES_256_GCM_SHA384", "", "AES-256-GCM", "AEAD"},
    {"TLS_CHACHA20_POLY1305_SHA256", "", "CHACHA20-POLY1305", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA", "AES-128-CBC",
     "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA", "AES-256-CBC",
     "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA", "AES-128-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA", "AES-256-CBC", "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA", "AES-128-GCM",
     "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA", "AES-256-GCM",
     "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA", "AES-128-GCM",
     "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA", "AES-256-GCM",
     "AEAD"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA",
     "CHACHA20-POLY1305", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA",
     "CHACHA20-POLY1305", "AEAD"},
};

constexpr std::pair<absl::string_view, absl::string_view> kCurves[] = {
    {"CurveP256", "GROUP-SECP256R1"},
    {"CurveP384", "GROUP-SECP384R1"},
    {"CurveP521", "GROUP-SECP521R1"},
    {"X25519", "GROUP-X25519"},
};

constexpr std::pair<absl::string_view, uint16_t> kVersions[] = {
    {"TLS10", kTls10},
    {"TLS11", kTls11},
    {"TLS12", kTls12},
    {"TLS13", kTls13},
};

// exporter-toolkit's extraHTTPHeaders: the headers that may be set, and the
// values allowed when they are restricted.
struct AllowedHeader {
  absl::string_view name;
  std::vector<absl::string_view> values;  // Empty: any value.
};
const std::vector<AllowedHeader>& AllowedHeaders() {
  static const auto* const headers = new std::vector<AllowedHeader>{
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return *headers;
}

// Go's %q of a list of strings: `["deny" "sameorigin"]`.
std::string GoQuoteList(const std::vector<absl::string_view>& values) {
  std::vector<std::string> quoted;
  for (absl::string_view v : values) quoted.push_back(GoQuote(v));
  return absl::StrCat("[", absl::StrJoin(quoted, " "), "]");
}

// Checks the form of a bcrypt hash as golang.org/x/crypto/bcrypt does
// before comparing (`$2a$`/`$2b$`/`$2y$`, a two-digit cost 4-31, 53
// characters of salt and hash). The hash itself is never quoted.
absl::Status CheckBcryptHash(absl::string_view hash) {
  constexpr size_t kHashLength = 60;
  if (hash.size() < kHashLength - 1) {
    return absl::InvalidArgumentError(
        "crypto/bcrypt: hashedSecret too short to be a bcrypted password");
  }
  if (!(absl::StartsWith(hash, "$2a$") || absl::StartsWith(hash, "$2b$") ||
        absl::StartsWith(hash, "$2y$"))) {
    return absl::InvalidArgumentError(
        "crypto/bcrypt: bcrypt hashes must start with $2a$, $2b$ or $2y$");
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (!absl::ascii_isdigit(hash[4]) || !absl::ascii_isdigit(hash[5]) ||
      hash[6] != '$' || cost < 4 || cost > 31) {
    return absl::InvalidArgumentError(
        "crypto/bcrypt: invalid bcrypt cost in a password hash");
  }
  if (hash.size() != kHashLength) {
    return absl::InvalidArgumentError(
        "crypto/bcrypt: invalid length of a bcrypted password");
  }
  return absl::OkStatus();
}

class WebConfigLoader {
 public:
  WebConfigLoader(absl::string_view yaml, absl::string_view filename)
      : reader_(yaml, filename) {}

  absl::StatusOr<WebConfig> Load() {
    absl::StatusOr<YAML::Node> root = reader_.ParseRoot();
    if (!root.ok()) return root.status();
    if (YamlReader::IsNullNode(*root)) return config_;  // Empty: plain HTTP.
    absl::StatusOr<std::vector<YamlEntry>> entries =
        reader_.StructMappingEntries(*root, YamlReader::LineOf(*root),
                                     "web config");
    if (!entries.ok()) return entries.status();
    for (const YamlEntry& field : *entries) {
      absl::Status s;
      if (field.name == "tls_server_config") {
        s = ReadTls(field);
      } else if (field.name == "http_server_config") {
        s = ReadHttp(field);
      } else if (field.name == "basic_auth_users") {
        s = ReadUsers(field);
      } else if (field.name == "authentication") {
        s = ReadAuthentication(field);
      } else {
        s = reader_.UnknownOrUnsupported(field, "web config",
                                         /*unsupported=*/false);
      }
      if (!s.ok()) return s;
    }
    if (absl::Status s = Check(); !s.ok()) return s;
    return std::move(config_);
  }

 private:
  // Reads the fields of the struct `entry`, Go type `type` in errors, with
  // `read`, which returns nullopt for a field it does not know: an error.
  absl::Status ReadStruct(
      const YamlEntry& entry, absl::string_view type,
      const std::function<std::optional<absl::Status>(const YamlEntry&)>&
          read) {
    absl::StatusOr<std::vector<YamlEntry>> entries =
        reader_.StructEntries(entry, type);
    if (!entries.ok()) return entries.status();
    for (const YamlEntry& field : *entries) {
      std::optional<absl::Status> s = read(field);
      if (!s.has_value()) {
        s = reader_.UnknownOrUnsupported(field, type, /*unsupported=*/false);
      }
      if (!s->ok()) return *s;
    }
    return absl::OkStatus();
  }

  absl::Status ReadTls(const YamlEntry& entry) {
    tls_line_ = entry.key_line;
    WebTlsConfig& tls = config_.tls;
    return ReadStruct(
        entry, "web.TLSConfig",
        [&](const YamlEntry& field) -> std::optional<absl::Status> {
          if (field.name == "cert_file") {
            return Store(reader_.String(field), &tls.cert_file);
          }
          if (field.name == "key_file") {
            return Store(reader_.String(field), &tls.key_file);
          }
          if (field.name == "client_ca_file") {
            return Store(reader_.String(field), &tls.client_ca_file);
          }
          if (field.name == "client_auth_type") {
            client_auth_line_ = reader_.ValueLine(field);
            return Store(reader_.String(field), &client_auth_);
          }
          if (field.name == "cipher_suites") {
            return ReadNames(field, &tls.cipher_suites);
          }
          if (field.name == "curve_preferences") {
            return ReadNames(field, &tls.curve_preferences);
          }
          if (field.name == "min_version") {
            return ReadVersion(field, &tls.min_version);
          }
          if (field.name == "max_version") {
            return ReadVersion(field, &tls.max_version);
          }
          if (field.name == "prefer_server_cipher_suites") {
            return Store(reader_.Bool(field), &tls.prefer_server_cipher_suites);
          }
          return std::nullopt;
        });
  }

  // Reads a list of cipher suite or curve names and checks each against
  // Go's names, with exporter-toolkit's message for an unknown one.
  absl::Status ReadNames(const YamlEntry& field,
                         std::vector<std::string>* names) {
    absl::StatusOr<std::vector<std::string>> values = reader_.Strings(field);
    if (!values.ok()) return values.status();
    const bool ciphers = field.name == "cipher_suites";
    for (const std::string& name : *values) {
      bool known = false;
      if (ciphers) {
        for (const CipherSuite& suite : kCipherSuites) {
          known = known || suite.go_name == name;
        }
      } else {
        for (const auto& [curve, group] : kCurves)
          known = known || curve == name;
      }
      if (!known) {
        return reader_.ErrorAt(
            reader_.ValueLine(field),
            absl::StrCat(ciphers ? "unknown cipher: " : "unknown curve: ",
                         name));
      }
    }
    *names = *std::move(values);
    return absl::OkStatus();
  }

  absl::Status ReadVersion(const YamlEntry& field, uint16_t* version) {
    absl::StatusOr<std::string> name = reader_.String(field);
    if (!name.ok()) return name.status();
    for (const auto& [n, number] : kVersions) {
      if (n == *name) {
        *version = number;
        return absl::OkStatus();
      }
    }
    return reader_.ErrorAt(reader_.ValueLine(field),
                           absl::StrCat("unknown TLS version: ", *name));
  }

  absl::Status ReadHttp(const YamlEntry& entry) {
    return ReadStruct(
        entry, "web.HTTPConfig",
        [&](const YamlEntry& field) -> std::optional<absl::Status> {
          if (field.name == "http2") {
            return Store(reader_.Bool(field), &config_.http.http2);
          }
          if (field.name == "headers") return ReadHeaders(field);
          return std::nullopt;
        });
  }

  // exporter-toolkit's validateHeaderConfig, with its messages.
  absl::Status ReadHeaders(const YamlEntry& entry) {
    config_.http.headers.clear();
    if (YamlReader::IsNullNode(entry.value)) return absl::OkStatus();
    absl::StatusOr<std::vector<YamlEntry>> entries = reader_.MappingEntries(
        entry.value, reader_.ValueLine(entry), YamlMapKind::kLabels,
        "map[string]string", "headers");
    if (!entries.ok()) return entries.status();
    for (const YamlEntry& header : *entries) {
      absl::StatusOr<std::string> value = reader_.String(header);
      if (!value.ok()) return value.status();
      const AllowedHeader* allowed = nullptr;
      for (const AllowedHeader& a : AllowedHeaders()) {
        if (a.name == header.name) allowed = &a;
      }
      if (allowed == nullptr) {
        return reader_.ErrorAt(
            header.key_line, absl::StrCat("HTTP header ", GoQuote(header.name),
                                          " can not be configured"));
      }
      if (!allowed->values.empty() &&
          std::find(allowed->values.begin(), allowed->values.end(), *value) ==
              allowed->values.end()) {
        return reader_.ErrorAt(
            reader_.ValueLine(header),
            absl::StrCat("invalid value for ", header.name,
                         ". Expected one of: ", GoQuoteList(allowed->values),
                         ", but got: ", GoQuote(*value)));
      }
      config_.http.headers.emplace_back(header.name, *std::move(value));
    }
    return absl::OkStatus();
  }

  absl::Status ReadUsers(const YamlEntry& entry) {
    config_.basic_auth_users.clear();
    users_line_ = entry.key_line;
    if (YamlReader::IsNullNode(entry.value)) return absl::OkStatus();
    absl::StatusOr<std::vector<YamlEntry>> entries = reader_.MappingEntries(
        entry.value, reader_.ValueLine(entry), YamlMapKind::kLabels,
        "map[string]config.Secret", "basic_auth_users");
    if (!entries.ok()) return entries.status();
    for (const YamlEntry& user : *entries) {
      // A non-scalar hash is reported without its value.
      if (!YamlReader::IsNullNode(user.value) && !user.value.IsScalar()) {
        return reader_.ErrorAt(
            reader_.ValueLine(user),
            absl::StrCat("basic_auth_users: user ", GoQuote(user.name),
                         ": cannot unmarshal ", YamlReader::KindOf(user.value),
                         " into config.Secret"));
      }
      absl::StatusOr<std::string> hash = reader_.String(user);
      if (!hash.ok()) return hash.status();
      if (absl::Status s = CheckBcryptHash(*hash); !s.ok()) {
        return reader_.ErrorAt(
            reader_.ValueLine(user),
            absl::StrCat("basic_auth_users: user ", GoQuote(user.name), ": ",
                         s.message()));
      }
      config_.basic_auth_users[user.name] = *std::move(hash);
    }
    return absl::OkStatus();
  }

  absl::Status ReadAuthentication(const YamlEntry& entry) {
    authentication_line_ = entry.key_line;
    WebAuthenticationConfig& auth = config_.authentication;
    absl::Status s = ReadStruct(
        entry, "authentication",
        [&](const YamlEntry& field) -> std::optional<absl::Status> {
          if (field.name == "bearer_token_files") {
            token_files_line_ = field.key_line;
            return Store(reader_.Strings(field), &auth.bearer_token_files);
          }
          if (field.name == "disabled") {
            return Store(reader_.Bool(field), &auth.disabled);
          }
          if (field.name == "kubernetes") {
            kubernetes_line_ = field.key_line;
            return ReadKubernetes(field);
          }
          return std::nullopt;
        });
    if (!s.ok()) return s;
    for (const std::string& file : auth.bearer_token_files) {
      if (file.empty()) {
        return reader_.ErrorAt(token_files_line_,
                               "bearer_token_files: empty file name");
      }
    }
    return absl::OkStatus();
  }

  // `authentication.kubernetes`, with the checks kubernetes_sd_configs
  // make of the same fields.
  absl::Status ReadKubernetes(const YamlEntry& entry) {
    WebKubernetesAuthConfig k;
    HttpClientConfigLoader http(reader_);
    const std::pair<const char*, absl::Duration*> durations[] = {
        {"token_cache_ttl", &k.times.token_cache_ttl},
        {"rejected_cache_ttl", &k.times.rejected_cache_ttl},
        {"allowed_cache_ttl", &k.times.allowed_cache_ttl},
        {"denied_cache_ttl", &k.times.denied_cache_ttl},
        {"timeout", &k.times.timeout},
    };
    absl::Status s = ReadStruct(
        entry, "authentication.kubernetes",
        [&](const YamlEntry& field) -> std::optional<absl::Status> {
          for (const auto& [name, value] : durations) {
            if (field.name != name) continue;
            absl::Status stored = Store(reader_.Duration(field), value);
            if (stored.ok() && field.name == "timeout" &&
                *value <= absl::ZeroDuration()) {
              return reader_.ErrorAt(field.key_line,
                                     "authentication.kubernetes.timeout must "
                                     "be greater than zero");
            }
            return stored;
          }
          if (field.name == "api_server") {
            absl::Status stored = Store(reader_.String(field), &k.api_server);
            if (stored.ok() && !absl::StartsWith(k.api_server, "http://") &&
                !absl::StartsWith(k.api_server, "https://")) {
              return reader_.ErrorAt(
                  field.key_line,
                  absl::StrCat("api_server ", GoQuote(k.api_server),
                               " is not an http or https URL"));
            }
            return stored;
          }
          if (field.name == "kubeconfig_file") {
            return Store(reader_.String(field), &k.kubeconfig_file);
          }
          if (field.name == "audiences") {
            return Store(reader_.Strings(field), &k.audiences);
          }
          absl::StatusOr<bool> read = http.ReadField(field);
          if (!read.ok()) return read.status();
          if (!*read) {
            return reader_.UnknownOrUnsupported(
                field, "authentication.kubernetes",
                IsUnsupportedHttpClientField(field.name));
          }
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
    absl::StatusOr<HttpClientConfig> client = std::move(http).Finish();
    if (!client.ok()) return client.status();
    k.http_client = *std::move(client);
    const bool custom_http = k.http_client != HttpClientConfig();
    if (!k.api_server.empty() && !k.kubeconfig_file.empty()) {
      return reader_.ErrorAt(
          entry.key_line,
          "cannot use 'kubeconfig_file' and 'api_server' simultaneously");
    }
    if (!k.kubeconfig_file.empty() && custom_http) {
      return reader_.ErrorAt(entry.key_line,
                             "cannot use a custom HTTP client configuration "
                             "together with 'kubeconfig_file'");
    }
    if (k.api_server.empty() && custom_http) {
      return reader_.ErrorAt(entry.key_line,
                             "to use custom HTTP client configuration please "
                             "provide the 'api_server' URL explicitly");
    }
    if (!k.kubeconfig_file.empty()) {
      k.kubeconfig_file = reader_.ResolvePath(k.kubeconfig_file);
    }
    config_.authentication.kubernetes = std::move(k);
    return absl::OkStatus();
  }

  // exporter-toolkit's ConfigToTLSConfig checks, in its order, then
  // fedgate's own.
  absl::Status Check() {
    WebTlsConfig& tls = config_.tls;
    config_.tls_enabled = !tls.cert_file.empty() || !tls.key_file.empty() ||
                          !client_auth_.empty() || !tls.client_ca_file.empty();
    if (config_.tls_enabled) {
      if (tls.cert_file.empty())
        return reader_.ErrorAt(tls_line_, "missing cert_file");
      if (tls.key_file.empty())
        return reader_.ErrorAt(tls_line_, "missing key_file");
      bool known = false;
      for (const auto& [type, name] : kClientAuthNames) {
        if (name == client_auth_) {
          tls.client_auth_type = type;
          known = true;
        }
      }
      if (client_auth_ == "RequireClientCert") {  // exporter-toolkit's alias.
        tls.client_auth_type = ClientAuthType::kRequireAnyClientCert;
        known = true;
      }
      if (client_auth_.empty()) known = true;
      if (!known) {
        return reader_.ErrorAt(
            client_auth_line_,
            absl::StrCat("Invalid ClientAuth: ", client_auth_));
      }
      if (!tls.client_ca_file.empty() &&
          tls.client_auth_type == ClientAuthType::kNoClientCert) {
        return reader_.ErrorAt(
            tls_line_,
            "Client CA's have been configured without a Client Auth Policy");
      }
      if (tls.client_ca_file.empty() &&
          (tls.client_auth_type == ClientAuthType::kVerifyClientCertIfGiven ||
           tls.client_auth_type ==
               ClientAuthType::kRequireAndVerifyClientCert)) {
        return reader_.ErrorAt(
            tls_line_, absl::StrCat("client_auth_type ",
                                    ClientAuthTypeName(tls.client_auth_type),
                                    " requires client_ca_file"));
      }
      if (tls.min_version > tls.max_version) {
        return reader_.ErrorAt(tls_line_,
                               "min_version is greater than max_version");
      }
      if (config_.http.http2 && !tls.cipher_suites.empty() &&
          std::none_of(tls.cipher_suites.begin(), tls.cipher_suites.end(),
                       [](const std::string& s) {
                         return s == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" ||
                                s == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
                       })) {
        // Go's http2.ConfigureServer refuses to start on such a list.
        return reader_.ErrorAt(
            tls_line_,
            "http2: TLSConfig.CipherSuites is missing an HTTP/2-required "
            "AES_128_GCM_SHA256 cipher (need at least one of "
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or "
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)");
      }
      tls.cert_file = reader_.ResolvePath(tls.cert_file);
      tls.key_file = reader_.ResolvePath(tls.key_file);
      tls.client_ca_file = reader_.ResolvePath(tls.client_ca_file);
    }
    WebAuthenticationConfig& auth = config_.authentication;
    const int modes = !config_.basic_auth_users.empty() +
                      !auth.bearer_token_files.empty() +
                      auth.kubernetes.has_value();
    if (modes > 1) {
      return reader_.ErrorAt(
          std::max({users_line_, token_files_line_, kubernetes_line_}),
          "at most one of basic_auth_users, authentication.bearer_token_files "
          "& authentication.kubernetes must be configured");
    }
    if (auth.disabled && modes > 0) {
      return reader_.ErrorAt(
          authentication_line_,
          "authentication.disabled cannot be set together with "
          "basic_auth_users, bearer_token_files or kubernetes");
    }
    for (std::string& file : auth.bearer_token_files) {
      file = reader_.ResolvePath(file);
    }
    return absl::OkStatus();
  }

  YamlReader reader_;
  WebConfig config_;
  std::string client_auth_;
  int tls_line_ = 0;
  int client_auth_line_ = 0;
  int users_line_ = 0;
  int token_files_line_ = 0;
  int authentication_line_ = 0;
  int kubernetes_line_ = 0;
};

}  // namespace

absl::string_view ClientAuthTypeName(ClientAuthType type) {
  for (const auto& [t, name] : kClientAuthNames) {
    if (t == type) return name;
  }
  return "NoClientCert";
}

absl::StatusOr<WebConfig> ParseWebConfig(absl::string_view yaml,
                                         absl::string_view filename) {
  // yaml-cpp throws from parsing and from node accessors; nothing may escape.
  try {
    return WebConfigLoader(yaml, filename).Load();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ": unexpected YAML error: ", e.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(filename, ": out of memory while loading the web config"));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(filename, ": unexpected error: ", e.what()));
  }
}

absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path) {
  // A web config is a few hundred bytes; 1 MiB is far more than any.
  constexpr size_t kMaxBytes = 1 << 20;
  absl::StatusOr<std::string> contents = ReadFileContents(
      path,
      [&path](absl::string_view, int error_number) {
        return absl::ErrnoToStatus(
            error_number, absl::StrCat("reading web config file ", path));
      },
      kMaxBytes);
  if (!contents.ok()) return contents.status();
  if (contents->size() > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": web config file larger than 1 MiB"));
  }
  return ParseWebConfig(*contents, path);
}

std::string GnutlsPriorities(const WebTlsConfig& tls) {
  std::string priorities = "NORMAL:-VERS-ALL";
  for (const auto& [name, number] : kVersions) {
    if (number < tls.min_version || number > tls.max_version) continue;
    absl::StrAppend(&priorities, ":+VERS-TLS1.", number - kTls10);
  }
  if (!tls.cipher_suites.empty()) {
    std::vector<absl::string_view> kx, ciphers, macs;
    auto add = [](std::vector<absl::string_view>* list, absl::string_view v) {
      if (!v.empty() && std::find(list->begin(), list->end(), v) == list->end())
        list->push_back(v);
    };
    for (const std::string& name : tls.cipher_suites) {
      for (const CipherSuite& suite : kCipherSuites) {
        if (suite.go_name != name) continue;
        add(&kx, suite.kx);
        add(&ciphers, suite.cipher);
        add(&macs, suite.mac);
      }
    }
    // Go ignores cipher_suites for TLS 1.3, whose suites are all enabled.
    if (tls.max_version >= kTls13) {
      for (absl::string_view c :
           {"AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305"}) {
        add(&ciphers, c);
      }
      add(&macs, "AEAD");
    }
    absl::StrAppend(&priorities, ":-KX-ALL:-CIPHER-ALL:-MAC-ALL");
    for (absl::string_view v : kx) absl::StrAppend(&priorities, ":+", v);
    for (absl::string_view v : ciphers) absl::StrAppend(&priorities, ":+", v);
    for (absl::string_view v : macs) absl::StrAppend(&priorities, ":+", v);
  }
  if (!tls.curve_preferences.empty()) {
    absl::StrAppend(&priorities, ":-GROUP-ALL");
    for (const std::string& curve : tls.curve_preferences) {
      for (const auto& [name, group] : kCurves) {
        if (name == curve) absl::StrAppend(&priorities, ":+", group);
      }
    }
  }
  if (tls.prefer_server_cipher_suites) {
    absl::StrAppend(&priorities, ":%SERVER_PRECEDENCE");
  }
  return priorities;
}

}  // namespace fedgate
