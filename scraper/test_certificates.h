// scraper/test_certificates.h
//
// Test-only: a throwaway PKI made with the `openssl` command line for the
// TLS tests (no key is ever checked in): a CA, a server certificate for
// `localhost` and `scrape.test` (deliberately not for 127.0.0.1, so that
// tests can tell a verified name from an unverified one) and a client
// certificate for mutual TLS, all signed by the CA, valid for two days.
// Used by scraper/http_client_test and tests/scrape_faults_test; never in
// production code.
//
// Thread-safety: GenerateTestCertificates() is thread-compatible (it writes
// files under the directory it is given).

#ifndef FEDGATE_SCRAPER_TEST_CERTIFICATES_H_
#define FEDGATE_SCRAPER_TEST_CERTIFICATES_H_

#include <string>

#include "absl/status/statusor.h"

namespace fedgate {

// PEM files of the test PKI.
struct TestCertificates {
  std::string ca_file;
  std::string server_cert_file;
  std::string server_key_file;
  std::string client_cert_file;
  std::string client_key_file;
};

// Creates `dir` if needed and writes the PKI into it with `openssl`.
// Internal with openssl's output if a command fails.
absl::StatusOr<TestCertificates> GenerateTestCertificates(
    const std::string& dir);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_TEST_CERTIFICATES_H_
