#include "scraper/test_certificates.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scraper/discovery/test_sd_files.h"

namespace fedgate {

absl::StatusOr<TestCertificates> GenerateTestCertificates(
    const std::string& dir) {
  const std::string log = absl::StrCat(dir, "/openssl.log");
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  const std::string script = absl::StrCat(
      "set -e; mkdir -p '", dir, "'; cd '", dir, "'; exec >'", log, "' 2>&1; ",
      "openssl req -x509 ", key,
      " -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=fedgate-test-ca; ",
      "printf 'subjectAltName=DNS:localhost,DNS:scrape.test\\n' > server.ext; ",
      "openssl req ", key,
      " -nodes -keyout server.key -out server.csr -subj /CN=localhost; ",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -out server.pem -days 2 -extfile server.ext; ",
      "printf 'extendedKeyUsage=clientAuth\\n' > client.ext; ", "openssl req ",
      key,
      " -nodes -keyout client.key -out client.csr -subj /CN=fedgate-client; ",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -out client.pem -days 2 -extfile client.ext");
  const int rc = std::system(script.c_str());  // Runs it with /bin/sh.
  if (rc != 0) {
    std::ifstream in(log);
    std::stringstream output;
    output << in.rdbuf();
    return absl::InternalError(
        absl::StrCat("openssl failed (", rc, "): ", output.str()));
  }
  TestCertificates certs;
  certs.ca_file = absl::StrCat(dir, "/ca.pem");
  certs.server_cert_file = absl::StrCat(dir, "/server.pem");
  certs.server_key_file = absl::StrCat(dir, "/server.key");
  certs.client_cert_file = absl::StrCat(dir, "/client.pem");
  certs.client_key_file = absl::StrCat(dir, "/client.key");
  return certs;
}

absl::StatusOr<RotatingTestCertificates> GenerateRotatingTestCertificates(
    const std::string& dir) {
  RotatingTestCertificates certs;
  absl::StatusOr<TestCertificates> first =
      GenerateTestCertificates(absl::StrCat(dir, "/first"));
  if (!first.ok()) return first.status();
  certs.first = *std::move(first);
  absl::StatusOr<TestCertificates> second =
      GenerateTestCertificates(absl::StrCat(dir, "/second"));
  if (!second.ok()) return second.status();
  certs.second = *std::move(second);
  certs.server_cert_file = absl::StrCat(dir, "/server.crt");
  certs.server_key_file = absl::StrCat(dir, "/server.key");
  WriteAndRename(certs.server_cert_file,
                 ReadTestFile(certs.first.server_cert_file));
  WriteAndRename(certs.server_key_file,
                 ReadTestFile(certs.first.server_key_file));
  return certs;
}

void RotateTestCertificates(const RotatingTestCertificates& certs) {
  WriteAndRename(certs.server_key_file,
                 ReadTestFile(certs.second.server_key_file));
  WriteAndRename(certs.server_cert_file,
                 ReadTestFile(certs.second.server_cert_file));
}

}  // namespace fedgate
