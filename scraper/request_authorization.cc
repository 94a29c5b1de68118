#include "scraper/request_authorization.h"

#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/file_contents.h"

namespace fedgate {
namespace {

// Reads a credentials or password file, trimmed of surrounding whitespace
// as Prometheus does; the error reads like Go's `open <path>: <errno text>`.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  const auto error = [&path](absl::string_view op, int error_number) {
    std::string text = std::strerror(error_number);
    // Go spells errno texts in lower case ("no such file or directory").
    if (!text.empty()) text[0] = absl::ascii_tolower(text[0]);
    return absl::UnavailableError(absl::StrCat(op, " ", path, ": ", text));
  };
  // A credentials file is small; refuse to hold a huge one in memory.
  absl::StatusOr<std::string> contents =
      ReadFileContents(path, error, /*max_bytes=*/1 << 20);
  if (!contents.ok()) return contents.status();
  return std::string(absl::StripAsciiWhitespace(*contents));
}

}  // namespace

absl::StatusOr<std::string> AuthorizationValue(const HttpClientConfig& config) {
  if (config.authorization.has_value()) {
    const AuthorizationConfig& auth = *config.authorization;
    if (!auth.credentials.empty()) {
      return absl::StrCat(auth.type, " ", auth.credentials);
    }
    if (!auth.credentials_file.empty()) {
      absl::StatusOr<std::string> credentials =
          ReadSecretFile(auth.credentials_file);
      if (!credentials.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "unable to read authorization credentials file ",
            auth.credentials_file, ": ", credentials.status().message()));
      }
      return absl::StrCat(auth.type, " ", *credentials);
    }
    return std::string();
  }
  if (config.basic_auth.has_value()) {
    const BasicAuthConfig& basic = *config.basic_auth;
    std::string password =
        std::string(absl::StripAsciiWhitespace(basic.password));
    if (!basic.password_file.empty()) {
      absl::StatusOr<std::string> from_file =
          ReadSecretFile(basic.password_file);
      if (!from_file.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "unable to read basic auth password file ", basic.password_file,
            ": ", from_file.status().message()));
      }
      password = *std::move(from_file);
    }
    return absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(
                                      basic.username, ":", password)));
  }
  return std::string();
}

}  // namespace fedgate
