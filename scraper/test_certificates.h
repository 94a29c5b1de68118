// scraper/test_certificates.h
//
// Test-only: a throwaway PKI made with the `openssl` command line for the
// TLS tests (no key is ever checked in): a CA, a server certificate for
// `localhost` and `scrape.test` (deliberately not for 127.0.0.1, so that
// tests can tell a verified name from an unverified one) and a client
// certificate for mutual TLS, all signed by the CA, valid for two days.
// For certificate rotation, two such PKIs and the server files a web config
// names, swapped from the first to the second while a server runs.
// Used by scraper/http_client_test, tests/scrape_faults_test and gateway's
// TLS tests; never in production code.
//
// Thread-safety: the functions are thread-compatible (they write files under
// the directory they are given).

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

// Two PKIs for a server whose certificate changes on disk: `first` in
// `dir`/first, `second` in `dir`/second, and the files a web config names,
// `dir`/server.crt and `dir`/server.key, holding first's server certificate
// and key until RotateTestCertificates().
struct RotatingTestCertificates {
  TestCertificates first;
  TestCertificates second;
  std::string server_cert_file;
  std::string server_key_file;
};

// Generates both PKIs under `dir` and installs first's server files.
// Internal with openssl's output if a command fails.
absl::StatusOr<RotatingTestCertificates> GenerateRotatingTestCertificates(
    const std::string& dir);

// Replaces the installed server key, then certificate, by second's, each
// written beside and renamed over the old file as tools do.
void RotateTestCertificates(const RotatingTestCertificates& certs);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_TEST_CERTIFICATES_H_
