#include "config/http_client_config_loader.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/config.h"
#include "config/quote.h"
#include "config/redacted_url.h"
#include "config/yaml_reader.h"

namespace fedgate {
namespace {

// The fields of prometheus/common config.HTTPClientConfig that fedgate does
// not implement yet.
constexpr absl::string_view kUnsupportedHttpClientFields[] = {
    "oauth2",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "http_headers",
};

// Stores the section `field` holds and its line, or none and line 0 when
// it is null (yaml.v2 leaves a null pointer field nil).
template <typename T>
absl::Status StoreSection(const YamlEntry& field, absl::StatusOr<T> section,
                          std::optional<T>* out, int* line) {
  out->reset();
  *line = 0;
  if (YamlReader::IsNullNode(field.value)) return absl::OkStatus();
  if (!section.ok()) return section.status();
  *out = *std::move(section);
  *line = field.key_line;
  return absl::OkStatus();
}

}  // namespace

bool IsUnsupportedHttpClientField(absl::string_view name) {
  return absl::c_linear_search(kUnsupportedHttpClientFields, name);
}

absl::StatusOr<bool> HttpClientConfigLoader::ReadField(const YamlEntry& field) {
  absl::Status s;
  if (field.name == "follow_redirects") {
    s = Store(reader_.Bool(field), &config_.follow_redirects);
  } else if (field.name == "enable_http2") {
    absl::StatusOr<bool> v = reader_.Bool(field);
    s = v.status();
    if (v.ok()) config_.enable_http2 = *v;
  } else if (field.name == "proxy_url") {
    absl::StatusOr<std::string> v = reader_.String(field);
    s = v.status();
    // url.Parse's one error for a proxy-like string: no scheme before ':'.
    if (v.ok() && absl::StartsWith(*v, ":")) {
      s = reader_.ErrorAt(reader_.ValueLine(field),
                          absl::StrCat("parse ", GoQuote(RedactedUrl(*v)),
                                       ": missing protocol scheme"));
    } else if (v.ok()) {
      config_.proxy_url = *std::move(v);
    }
  } else if (field.name == "tls_config") {
    s = Store(ParseTlsConfig(field), &config_.tls_config);
  } else if (field.name == "authorization") {
    s = StoreSection(field, ParseAuthorization(field), &config_.authorization,
                     &authorization_line_);
  } else if (field.name == "basic_auth") {
    s = StoreSection(field, ParseBasicAuth(field), &config_.basic_auth,
                     &basic_auth_line_);
  } else if (field.name == "bearer_token") {
    absl::StatusOr<std::string> v = reader_.String(field);
    s = v.status();
    if (v.ok()) bearer_token_ = *std::move(v);
    bearer_token_line_ = field.key_line;
  } else if (field.name == "bearer_token_file") {
    absl::StatusOr<std::string> v = reader_.String(field);
    s = v.status();
    if (v.ok()) bearer_token_file_ = reader_.ResolvePath(*v);
    bearer_token_file_line_ = field.key_line;
  } else {
    return false;
  }
  if (!s.ok()) return s;
  return true;
}

absl::StatusOr<TlsConfig> HttpClientConfigLoader::ParseTlsConfig(
    const YamlEntry& entry) {
  absl::StatusOr<std::vector<YamlEntry>> entries =
      reader_.StructEntries(entry, "tls config");
  if (!entries.ok()) return entries.status();
  TlsConfig tls;
  for (const YamlEntry& field : *entries) {
    if (field.name == "insecure_skip_verify") {
      if (absl::Status s =
              Store(reader_.Bool(field), &tls.insecure_skip_verify);
          !s.ok())
        return s;
      continue;
    }
    if (field.name != "ca_file" && field.name != "cert_file" &&
        field.name != "key_file" && field.name != "server_name" &&
        field.name != "min_version" && field.name != "max_version") {
      return reader_.UnknownOrUnsupported(field, "tls config",
                                          /*unsupported=*/false);
    }
    absl::StatusOr<std::string> v = reader_.String(field);
    if (!v.ok()) return v.status();
    if (field.name == "ca_file") {
      tls.ca_file = reader_.ResolvePath(*v);
    } else if (field.name == "cert_file") {
      tls.cert_file = reader_.ResolvePath(*v);
    } else if (field.name == "key_file") {
      tls.key_file = reader_.ResolvePath(*v);
    } else if (field.name == "server_name") {
      tls.server_name = *std::move(v);
    } else {
      uint16_t& version =
          field.name == "min_version" ? tls.min_version : tls.max_version;
      version = 0;
      if (YamlReader::IsNullNode(field.value))
        continue;  // Go's zero value: unset.
      static constexpr std::pair<absl::string_view, uint16_t> kVersions[] = {
          {"TLS10", 0x0301},
          {"TLS11", 0x0302},
          {"TLS12", 0x0303},
          {"TLS13", 0x0304},
      };
      for (const auto& [name, number] : kVersions) {
        if (*v == name) version = number;
      }
      if (version == 0) {
        return reader_.ErrorAt(reader_.ValueLine(field),
                               absl::StrCat("unknown TLS version: ", *v));
      }
    }
  }
  // promtool's check (Prometheus itself fails every scrape instead).
  if (!tls.cert_file.empty() && tls.key_file.empty()) {
    return reader_.ErrorAt(
        entry.key_line,
        absl::StrCat("client cert file ", GoQuote(tls.cert_file),
                     " specified without client key file"));
  }
  if (!tls.key_file.empty() && tls.cert_file.empty()) {
    return reader_.ErrorAt(
        entry.key_line, absl::StrCat("client key file ", GoQuote(tls.key_file),
                                     " specified without client cert file"));
  }
  return tls;
}

absl::StatusOr<AuthorizationConfig> HttpClientConfigLoader::ParseAuthorization(
    const YamlEntry& entry) {
  AuthorizationConfig auth;
  auth.type.clear();  // Defaulted by Finish().
  if (absl::Status s = reader_.StringFields(
          entry, "authorization",
          {{"type", &auth.type},
           {"credentials", &auth.credentials},
           {"credentials_file", &auth.credentials_file, /*path=*/true}});
      !s.ok()) {
    return s;
  }
  return auth;
}

absl::StatusOr<BasicAuthConfig> HttpClientConfigLoader::ParseBasicAuth(
    const YamlEntry& entry) {
  BasicAuthConfig auth;
  if (absl::Status s = reader_.StringFields(
          entry, "basic auth",
          {{"username", &auth.username},
           {"password", &auth.password},
           {"password_file", &auth.password_file, /*path=*/true}});
      !s.ok()) {
    return s;
  }
  return auth;
}

absl::StatusOr<HttpClientConfig> HttpClientConfigLoader::Finish() && {
  HttpClientConfig& http = config_;
  const std::string& token = bearer_token_;
  const std::string& token_file = bearer_token_file_;
  const bool has_token = !token.empty() || !token_file.empty();
  // An error points at the later of the fields in conflict.
  const int token_line =
      std::max(token.empty() ? 0 : bearer_token_line_,
               token_file.empty() ? 0 : bearer_token_file_line_);
  const auto error = [&](std::initializer_list<int> lines,
                         absl::string_view reason) {
    return reader_.ErrorAt(std::max(lines), reason);
  };
  if (!token.empty() && !token_file.empty()) {
    return error({token_line},
                 "at most one of bearer_token & bearer_token_file must be "
                 "configured");
  }
  if (http.basic_auth.has_value() && has_token) {
    return error({basic_auth_line_, token_line},
                 "at most one of basic_auth, oauth2, bearer_token & "
                 "bearer_token_file must be configured");
  }
  if (http.basic_auth.has_value() && !http.basic_auth->password.empty() &&
      !http.basic_auth->password_file.empty()) {
    return error({basic_auth_line_},
                 "at most one of basic_auth password & password_file must be "
                 "configured");
  }
  if (http.authorization.has_value()) {
    AuthorizationConfig& auth = *http.authorization;
    if (has_token) {
      return error({authorization_line_, token_line},
                   "authorization is not compatible with bearer_token & "
                   "bearer_token_file");
    }
    if (!auth.credentials.empty() && !auth.credentials_file.empty()) {
      return error({authorization_line_},
                   "at most one of authorization credentials & "
                   "credentials_file must be configured");
    }
    auth.type = std::string(absl::StripAsciiWhitespace(auth.type));
    if (auth.type.empty()) auth.type = "Bearer";
    if (absl::AsciiStrToLower(auth.type) == "basic") {
      return error({authorization_line_},
                   "authorization type cannot be set to \"basic\", use "
                   "\"basic_auth\" instead");
    }
    if (http.basic_auth.has_value()) {
      return error({authorization_line_, basic_auth_line_},
                   "at most one of basic_auth, oauth2 & authorization must be "
                   "configured");
    }
  } else if (has_token) {
    AuthorizationConfig auth;  // Type "Bearer".
    auth.credentials = token;
    auth.credentials_file = token_file;
    http.authorization = std::move(auth);
  }
  return std::move(config_);
}

}  // namespace fedgate
