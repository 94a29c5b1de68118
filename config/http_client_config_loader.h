// config/http_client_config_loader.h
//
// Loads the HTTP client fields of a config section
// (prometheus/common config.HTTPClientConfig as Prometheus 2.42 reads it):
// tls_config, authorization, bearer_token, bearer_token_file, basic_auth,
// proxy_url, follow_redirects and enable_http2, then validates them together
// (HTTPClientConfig.Validate). Relative file paths are resolved against the
// config file's directory. The scrape config loader uses it; any section
// with an HTTP client (a service discovery that talks HTTP, the web
// config's `authentication.kubernetes`) uses the same loader, so the fields
// and their errors stay the same everywhere.
// Called at config load only; not on a hot path.
//
// Thread-safety: thread-compatible; one loader per section being read.

#ifndef FEDGATE_CONFIG_HTTP_CLIENT_CONFIG_LOADER_H_
#define FEDGATE_CONFIG_HTTP_CLIENT_CONFIG_LOADER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/config.h"
#include "config/yaml_reader.h"

namespace fedgate {

// Returns whether `name` is an HTTP client field of Prometheus that fedgate
// does not implement yet (oauth2, no_proxy, http_headers, ...). A section
// with an HTTP client passes it to YamlReader::UnknownOrUnsupported, so
// that an empty one is accepted and any other is refused.
bool IsUnsupportedHttpClientField(absl::string_view name);

// Collects the HTTP client fields of one section while the section's loader
// reads its entries, then validates them and returns the HttpClientConfig:
//
//   HttpClientConfigLoader http(reader);
//   for (const YamlEntry& field : *entries) {
//     if (field.name == "job_name") {
//       ...  // The section's own fields.
//     } else {
//       absl::StatusOr<bool> read = http.ReadField(field);
//       if (!read.ok()) return read.status();
//       if (!*read) return reader.UnknownOrUnsupported(field, ...);
//     }
//   }
//   absl::StatusOr<HttpClientConfig> client = std::move(http).Finish();
class HttpClientConfigLoader {
 public:
  // `reader` reads the section's document and must outlive the loader.
  explicit HttpClientConfigLoader(YamlReader& reader) : reader_(reader) {}

  HttpClientConfigLoader(const HttpClientConfigLoader&) = delete;
  HttpClientConfigLoader& operator=(const HttpClientConfigLoader&) = delete;

  // Reads `field` if it is one of the HTTP client fields and returns true;
  // returns false, and reads nothing, for any other field. Errors are those
  // of the field's value (`unknown TLS version: TLS9`).
  absl::StatusOr<bool> ReadField(const YamlEntry& field);

  // Runs HTTPClientConfig.Validate of prometheus/common, as Prometheus 2.42
  // does: the mutual exclusions of the authentication fields (an error
  // points at the later of the fields in conflict), then bearer_token(_file)
  // become `authorization` with type "Bearer". Returns the HTTP client.
  absl::StatusOr<HttpClientConfig> Finish() &&;

 private:
  absl::StatusOr<TlsConfig> ParseTlsConfig(const YamlEntry& entry);
  absl::StatusOr<AuthorizationConfig> ParseAuthorization(
      const YamlEntry& entry);
  absl::StatusOr<BasicAuthConfig> ParseBasicAuth(const YamlEntry& entry);

  YamlReader& reader_;
  HttpClientConfig config_;
  // The fields as written, checked together by Finish(), and their lines
  // (0: not written).
  std::string bearer_token_;
  std::string bearer_token_file_;
  int bearer_token_line_ = 0;
  int bearer_token_file_line_ = 0;
  int basic_auth_line_ = 0;
  int authorization_line_ = 0;
};

}  // namespace fedgate

#endif  // FEDGATE_CONFIG_HTTP_CLIENT_CONFIG_LOADER_H_
