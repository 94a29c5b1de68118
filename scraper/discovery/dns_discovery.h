// scraper/discovery/dns_discovery.h
//
// dns_sd_configs (Prometheus 2.42 discovery/dns): every refresh_interval,
// each name is looked up as an SRV (default), A or AAAA record and becomes
// one target group with source = the name. SRV records give
// `<target>:<port>` (the target's trailing dot stripped), A and AAAA give
// `<ip>:<port>` with the configured port (IPv6 in brackets). Labels:
// `__meta_dns_name` (the configured name), and for SRV
// `__meta_dns_srv_record_target` (with its trailing dot) and
// `__meta_dns_srv_record_port`. CNAMEs in the answer are skipped.
//
// Lookups go through glibc's stub resolver (res_nsearch, /etc/resolv.conf's
// servers, search list, timeout and attempts). A name that does not exist
// (NXDOMAIN) or has no such records gives an empty group, as in Prometheus.
// Any other failure (timeout, SERVFAIL) keeps the name's last good targets;
// it is logged ("Error refreshing DNS targets") and counted.
//
// Called by DiscoveryManager's lookup loop (lookups block up to the resolver
// timeout); not a hot path.
//
// Thread-safety: owned by one thread at a time (see Discoverer).

#ifndef FEDGATE_SCRAPER_DISCOVERY_DNS_DISCOVERY_H_
#define FEDGATE_SCRAPER_DISCOVERY_DNS_DISCOVERY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "prometheus/counter.h"
#include "scraper/discovery/discovery.h"

namespace fedgate {

inline constexpr absl::string_view kDnsNameLabel = "__meta_dns_name";
inline constexpr absl::string_view kDnsSrvRecordTargetLabel =
    "__meta_dns_srv_record_target";
inline constexpr absl::string_view kDnsSrvRecordPortLabel =
    "__meta_dns_srv_record_port";

// How lookups reach DNS. The defaults use /etc/resolv.conf; tests point
// `nameserver` at a server of their own.
struct DnsResolverOptions {
  // `ip:port` (IPv4) of the only server to ask, with the search list
  // disabled; "" means /etc/resolv.conf. For tests only.
  std::string nameserver;
  // Per-try timeout and number of tries; zero means resolv.conf's.
  absl::Duration timeout = absl::ZeroDuration();
  int attempts = 0;
};

// Self-metrics of DNS discovery; either may be null.
struct DnsDiscoveryMetrics {
  prometheus::Counter* lookups = nullptr;
  prometheus::Counter* failures = nullptr;
};

// Looks up `name`'s records of `type` (`SRV`, `A` or `AAAA`, any case) and
// returns its group (targets labeled as described above; `port` is used for
// A and AAAA). Empty for NXDOMAIN and for a name without such records.
// Unavailable for timeouts and server failures, InvalidArgument for a bad
// type or an answer that does not parse, e.g.
// `could not resolve "x.example.": timed out or server failure`.
absl::StatusOr<TargetGroup> LookupDnsTargets(absl::string_view name,
                                             absl::string_view type, int port,
                                             const DnsResolverOptions& options);

// Turns the DNS answer message `answer` (the bytes res_nsearch returned;
// glibc's libresolv splits it into records) into `name`'s group: the answer
// section's SRV, A and AAAA records as above, others skipped. InvalidArgument
// `could not parse the DNS answer for "x."` when the message or a record is
// malformed. LookupDnsTargets calls it; untrusted input (fuzzed by
// tests/fuzz/dns_answer_fuzzer.cc).
absl::StatusOr<TargetGroup> ParseDnsAnswer(absl::string_view name, int port,
                                           absl::string_view answer);

class DnsDiscoverer : public Discoverer {
 public:
  // InvalidArgument for a type other than SRV, A or AAAA.
  static absl::StatusOr<std::unique_ptr<DnsDiscoverer>> Create(
      const DnsSdConfig& config, DnsResolverOptions options,
      DnsDiscoveryMetrics metrics, DiscoveryLogger log);

  bool MayBlock() const override { return true; }
  absl::Time NextRefresh() const override { return next_refresh_; }
  std::vector<TargetGroup> Refresh(absl::Time now) override;

 private:
  DnsDiscoverer(const DnsSdConfig& config, DnsResolverOptions options,
                DnsDiscoveryMetrics metrics, DiscoveryLogger log)
      : config_(config),
        options_(std::move(options)),
        metrics_(metrics),
        log_(std::move(log)) {}

  const DnsSdConfig config_;
  const DnsResolverOptions options_;
  const DnsDiscoveryMetrics metrics_;
  const DiscoveryLogger log_;
  absl::Time next_refresh_ = absl::InfinitePast();
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_DNS_DISCOVERY_H_
