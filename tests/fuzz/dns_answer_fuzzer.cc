// tests/fuzz/dns_answer_fuzzer.cc
//
// libFuzzer target: what dns_sd does with a DNS answer message
// (scraper/discovery/dns_discovery.h, ParseDnsAnswer). The message itself
// is split into records by glibc's libresolv (ns_initparse, ns_parserr,
// dn_expand); the fuzzed code is fedgate's use of them: reading SRV, A and
// AAAA record data and building targets. The input is the raw message, as a
// server would send it. Checks: every target has `__address__` and
// `__meta_dns_name`, SRV targets their record labels, and every label set
// is well formed.

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "scraper/discovery/discovery.h"
#include "scraper/discovery/dns_discovery.h"
#include "scraper/scrape_target.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr absl::string_view kName = "_prometheus._tcp.example.org.";
  absl::StatusOr<fedgate::TargetGroup> group =
      fedgate::ParseDnsAnswer(kName, 9100, input);
  if (!group.ok()) return 0;
  fedgate::FuzzCheck(group->source == kName, "the group's source is wrong");
  for (const fedgate::Labels& target : group->targets) {
    fedgate::CheckLabelsWellFormed(target);
    fedgate::FuzzCheck(target.Has(fedgate::kAddressLabel),
                       "a target without __address__");
    fedgate::FuzzCheck(target.Get(fedgate::kDnsNameLabel) == kName,
                       "a target without __meta_dns_name");
    fedgate::FuzzCheck(target.Has(fedgate::kDnsSrvRecordTargetLabel) ==
                           target.Has(fedgate::kDnsSrvRecordPortLabel),
                       "an SRV target without both record labels");
  }
  return 0;
}
