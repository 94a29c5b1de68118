// scraper/discovery/dns_test_server.h
//
// A tiny authoritative DNS server on 127.0.0.1 (UDP, port 0) for the tests of
// dns_sd: it answers A, AAAA and SRV questions from records the test sets,
// NXDOMAIN for unknown names, and stays silent for names marked as timing
// out. Test code only.
//
// Thread-safety: thread-safe (its server thread reads what the test sets).

#ifndef FEDGATE_SCRAPER_DISCOVERY_DNS_TEST_SERVER_H_
#define FEDGATE_SCRAPER_DISCOVERY_DNS_TEST_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace fedgate {

class DnsTestServer {
 public:
  struct Srv {
    uint16_t port;
    std::string target;  // Without the trailing dot.
  };

  // Binds 127.0.0.1 port 0 and starts answering.
  static absl::StatusOr<std::unique_ptr<DnsTestServer>> Start();
  // Stops the thread and closes the socket.
  ~DnsTestServer();

  // Returns `127.0.0.1:PORT`, for DnsResolverOptions::nameserver.
  std::string address() const;

  // Sets the records of `name` (lower case, without the trailing dot);
  // a name with none of the asked type answers NOERROR with no records.
  void SetA(const std::string& name, std::vector<std::string> ips)
      ABSL_LOCKS_EXCLUDED(mu_);
  void SetAaaa(const std::string& name, std::vector<std::string> ips)
      ABSL_LOCKS_EXCLUDED(mu_);
  void SetSrv(const std::string& name, std::vector<Srv> records)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Makes questions for `name` go unanswered (a timeout), or answered again.
  void SetSilent(const std::string& name, bool silent) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns the number of questions received.
  int queries() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit DnsTestServer(int fd);
  void Run();
  std::string Answer(const std::string& query) ABSL_LOCKS_EXCLUDED(mu_);

  const int fd_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int queries_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::vector<std::string>> a_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> aaaa_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<Srv>> srv_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool> silent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_DNS_TEST_SERVER_H_
