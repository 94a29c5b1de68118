#include "scraper/discovery/dns_discovery.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "config/quote.h"
#include "scraper/scrape_target.h"

namespace fedgate {
namespace {

// Go's net.JoinHostPort: brackets around hosts with a colon (IPv6).
std::string JoinHostPort(absl::string_view host, int port) {
  if (host.find(':') != absl::string_view::npos) {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

// Points `state` at `nameserver` (`ip:port`) only, without search domains.
absl::Status UseNameserver(absl::string_view nameserver, res_state state) {
  const size_t colon = nameserver.rfind(':');
  int port = 0;
  in_addr addr = {};
  const std::string ip(nameserver.substr(0, colon));
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(nameserver.substr(colon + 1), &port) || port <= 0 ||
      port > 65535 || inet_pton(AF_INET, ip.c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "nameserver ", GoQuote(nameserver), " is not an IPv4 ip:port"));
  }
  state->nscount = 1;
  state->nsaddr_list[0] = {};
  state->nsaddr_list[0].sin_family = AF_INET;
  state->nsaddr_list[0].sin_port = htons(static_cast<uint16_t>(port));
  state->nsaddr_list[0].sin_addr = addr;
  state->options &= ~(RES_DNSRCH | RES_DEFNAMES);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TargetGroup> ParseDnsAnswer(absl::string_view name, int port,
                                           absl::string_view answer) {
  TargetGroup group;
  group.source = std::string(name);
  if (answer.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat("could not parse the DNS answer for ", GoQuote(name)));
  }
  ns_msg msg;
  if (ns_initparse(reinterpret_cast<const unsigned char*>(answer.data()),
                   static_cast<int>(answer.size()), &msg) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("could not parse the DNS answer for ", GoQuote(name)));
  }
  const int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("could not parse the DNS answer for ", GoQuote(name)));
    }
    const unsigned char* rdata = ns_rr_rdata(rr);
    const int rdlen = ns_rr_rdlen(rr);
    Labels target({{kDnsNameLabel, name}});
    const int rr_type = ns_rr_type(rr);
    if (rr_type == ns_t_srv && rdlen > 6) {
      const int srv_port = (rdata[4] << 8) | rdata[5];
      char host[NS_MAXDNAME];
      if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rdata + 6, host,
                    sizeof(host)) < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("could not parse the SRV record for ", GoQuote(name)));
      }
      // miekg/dns names are fully qualified: `host.` (`.` for the root).
      target.Set(kDnsSrvRecordTargetLabel, absl::StrCat(host, "."));
      target.Set(kDnsSrvRecordPortLabel, absl::StrCat(srv_port));
      target.Set(kAddressLabel, JoinHostPort(host, srv_port));
    } else if ((rr_type == ns_t_a && rdlen == 4) ||
               (rr_type == ns_t_aaaa && rdlen == 16)) {
      char ip[INET6_ADDRSTRLEN];
      inet_ntop(rr_type == ns_t_a ? AF_INET : AF_INET6, rdata, ip, sizeof(ip));
      target.Set(kAddressLabel, JoinHostPort(ip, port));
    } else {
      continue;  // CNAMEs and anything unexpected.
    }
    group.targets.push_back(std::move(target));
  }
  return group;
}

absl::StatusOr<TargetGroup> LookupDnsTargets(
    absl::string_view name, absl::string_view type, int port,
    const DnsResolverOptions& options) {
  const std::string upper = absl::AsciiStrToUpper(type);
  int qtype = 0;
  if (upper == "SRV") {
    qtype = ns_t_srv;
  } else if (upper == "A") {
    qtype = ns_t_a;
  } else if (upper == "AAAA") {
    qtype = ns_t_aaaa;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid DNS-SD records type ", type));
  }
  TargetGroup group;
  group.source = std::string(name);

  struct __res_state state;
  memset(&state, 0, sizeof(state));
  if (res_ninit(&state) != 0) {
    return absl::UnavailableError("could not load resolv.conf");
  }
  std::vector<unsigned char> answer(65536);
  absl::Status setup;
  if (!options.nameserver.empty()) {
    setup = UseNameserver(options.nameserver, &state);
  }
  if (options.timeout > absl::ZeroDuration()) {
    state.retrans = std::max<int>(1, absl::ToInt64Seconds(options.timeout));
  }
  if (options.attempts > 0) state.retry = options.attempts;
  const std::string query(name);
  const int length =
      setup.ok() ? res_nsearch(&state, query.c_str(), ns_c_in, qtype,
                               answer.data(), static_cast<int>(answer.size()))
                 : -1;
  const int herrno = state.res_h_errno;
  res_nclose(&state);
  if (!setup.ok()) return setup;
  if (length < 0) {
    // NXDOMAIN everywhere, or a name without records of the type: no
    // targets (Prometheus's "valid" answers). Anything else keeps the
    // last good targets.
    if (herrno == HOST_NOT_FOUND || herrno == NO_DATA) return group;
    return absl::UnavailableError(
        absl::StrCat("could not resolve ", GoQuote(name),
                     herrno == TRY_AGAIN ? ": timed out or server failure"
                                         : ": all servers responded with "
                                           "errors"));
  }
  return ParseDnsAnswer(
      name, port,
      absl::string_view(reinterpret_cast<const char*>(answer.data()),
                        static_cast<size_t>(length)));
}

absl::StatusOr<std::unique_ptr<DnsDiscoverer>> DnsDiscoverer::Create(
    const DnsSdConfig& config, DnsResolverOptions options,
    DnsDiscoveryMetrics metrics, DiscoveryLogger log) {
  const std::string type = absl::AsciiStrToUpper(config.type);
  if (type != "SRV" && type != "A" && type != "AAAA") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid DNS-SD records type ", config.type));
  }
  return std::unique_ptr<DnsDiscoverer>(
      new DnsDiscoverer(config, std::move(options), metrics, std::move(log)));
}

std::vector<TargetGroup> DnsDiscoverer::Refresh(absl::Time now) {
  std::vector<TargetGroup> out;
  for (const std::string& name : config_.names) {
    absl::StatusOr<TargetGroup> group =
        LookupDnsTargets(name, config_.type, config_.port, options_);
    if (metrics_.lookups != nullptr) metrics_.lookups->Increment();
    if (!group.ok()) {
      if (metrics_.failures != nullptr) metrics_.failures->Increment();
      if (log_) {
        log_("Error refreshing DNS targets",
             {{"name", name}, {"err", std::string(group.status().message())}});
      }
      continue;  // The name's last good targets stay.
    }
    out.push_back(*std::move(group));
  }
  // From the end of this round, as Prometheus's ticker after a refresh.
  next_refresh_ = absl::Now() + config_.refresh_interval;
  return out;
}

}  // namespace fedgate
