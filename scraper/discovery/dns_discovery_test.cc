#include "scraper/discovery/dns_discovery.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "scraper/discovery/dns_test_server.h"

namespace fedgate {
namespace {

DnsResolverOptions TestResolver(const DnsTestServer& server) {
  DnsResolverOptions options;
  options.nameserver = server.address();
  options.timeout = absl::Seconds(1);
  options.attempts = 1;
  return options;
}

TEST(LookupDnsTargetsTest, SrvRecordsGiveTargetAndPort) {
  absl::StatusOr<std::unique_ptr<DnsTestServer>> server =
      DnsTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->SetSrv(
      "_metrics._tcp.example.test",
      {{9100, "node1.example.test"}, {9101, "node2.example.test"}});
  absl::StatusOr<TargetGroup> group = LookupDnsTargets(
      "_metrics._tcp.example.test.", "srv", 0, TestResolver(**server));
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ(group->source, "_metrics._tcp.example.test.");
  ASSERT_EQ(group->targets.size(), 2u);
  EXPECT_EQ(group->targets[0],
            Labels({{"__address__", "node1.example.test:9100"},
                    {"__meta_dns_name", "_metrics._tcp.example.test."},
                    {"__meta_dns_srv_record_target", "node1.example.test."},
                    {"__meta_dns_srv_record_port", "9100"}}));
  EXPECT_EQ(group->targets[1].Get("__address__"), "node2.example.test:9101");
}

TEST(LookupDnsTargetsTest, AAndAaaaRecordsUseTheConfiguredPort) {
  absl::StatusOr<std::unique_ptr<DnsTestServer>> server =
      DnsTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->SetA("web.example.test", {"10.0.0.1", "10.0.0.2"});
  (*server)->SetAaaa("web.example.test", {"2001:db8::1"});
  absl::StatusOr<TargetGroup> a =
      LookupDnsTargets("web.example.test", "A", 8080, TestResolver(**server));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->targets.size(), 2u);
  EXPECT_EQ(a->targets[0], Labels({{"__address__", "10.0.0.1:8080"},
                                   {"__meta_dns_name", "web.example.test"}}));
  EXPECT_EQ(a->targets[1].Get("__address__"), "10.0.0.2:8080");
  absl::StatusOr<TargetGroup> aaaa = LookupDnsTargets(
      "web.example.test", "AAAA", 8080, TestResolver(**server));
  ASSERT_TRUE(aaaa.ok()) << aaaa.status();
  ASSERT_EQ(aaaa->targets.size(), 1u);
  EXPECT_EQ(aaaa->targets[0].Get("__address__"), "[2001:db8::1]:8080");
}

TEST(LookupDnsTargetsTest, NxdomainAndNoRecordsGiveAnEmptyGroup) {
  absl::StatusOr<std::unique_ptr<DnsTestServer>> server =
      DnsTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->SetA("only-a.example.test", {"10.0.0.1"});
  absl::StatusOr<TargetGroup> missing =
      LookupDnsTargets("missing.example.test", "A", 80, TestResolver(**server));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_TRUE(missing->targets.empty());
  absl::StatusOr<TargetGroup> no_srv =
      LookupDnsTargets("only-a.example.test", "SRV", 0, TestResolver(**server));
  ASSERT_TRUE(no_srv.ok()) << no_srv.status();
  EXPECT_TRUE(no_srv->targets.empty());
}

TEST(LookupDnsTargetsTest, TimeoutIsUnavailable) {
  absl::StatusOr<std::unique_ptr<DnsTestServer>> server =
      DnsTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->SetSilent("slow.example.test", true);
  absl::StatusOr<TargetGroup> group =
      LookupDnsTargets("slow.example.test", "A", 80, TestResolver(**server));
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().code(), absl::StatusCode::kUnavailable)
      << group.status();
  EXPECT_TRUE(absl::StrContains(group.status().message(),
                                "could not resolve \"slow.example.test\""))
      << group.status();
}

TEST(LookupDnsTargetsTest, RejectsUnknownTypes) {
  absl::StatusOr<TargetGroup> group =
      LookupDnsTargets("x.example.test", "TXT", 80, DnsResolverOptions());
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().message(), "invalid DNS-SD records type TXT");
}

// A response to `_m._tcp.t.` (type SRV) whose answer section holds `rr`,
// an owner name pointing back at the question.
std::string DnsResponse(int answers, const std::string& rr) {
  std::string msg("\x12\x34\x81\x80\x00\x01", 6);
  msg += std::string("\x00", 1) + static_cast<char>(answers);
  msg += std::string("\x00\x00\x00\x00", 4);
  msg += std::string("\x02_m\x04_tcp\x01t\x00\x00\x21\x00\x01", 15);
  return msg + rr;
}

TEST(ParseDnsAnswerTest, ReadsSrvAndSkipsShortRecords) {
  // Owner (pointer to the question), type SRV, class IN, TTL, rdlength 11:
  // priority, weight, port 9100, target `h.t.`.
  const std::string srv(
      "\xc0\x0c\x00\x21\x00\x01\x00\x00\x01\x2c\x00\x0b"
      "\x00\x00\x00\x05\x23\x8c\x01h\x01t\x00",
      23);
  // The same with rdlength 5: too short for an SRV record, skipped.
  const std::string short_srv(
      "\xc0\x0c\x00\x21\x00\x01\x00\x00\x01\x2c\x00\x05\x00\x00\x00\x05\x23",
      17);
  absl::StatusOr<TargetGroup> group =
      ParseDnsAnswer("_m._tcp.t.", 80, DnsResponse(2, srv + short_srv));
  ASSERT_TRUE(group.ok()) << group.status();
  ASSERT_EQ(group->targets.size(), 1u);
  EXPECT_EQ(group->targets[0].Get("__address__"), "h.t:9100");
  EXPECT_EQ(group->targets[0].Get(kDnsSrvRecordTargetLabel), "h.t.");
}

TEST(ParseDnsAnswerTest, MalformedMessagesAreInvalidArgument) {
  // Three answers announced, none present.
  absl::StatusOr<TargetGroup> group =
      ParseDnsAnswer("_m._tcp.t.", 80, DnsResponse(3, ""));
  EXPECT_EQ(group.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(group.status().message(),
            "could not parse the DNS answer for \"_m._tcp.t.\"");
  EXPECT_FALSE(ParseDnsAnswer("_m._tcp.t.", 80, "\x12\x34").ok());
}

TEST(DnsDiscovererTest, FailedLookupKeepsLastGoodTargetsAndCounts) {
  absl::StatusOr<std::unique_ptr<DnsTestServer>> server =
      DnsTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->SetA("a.example.test", {"10.0.0.1"});
  (*server)->SetA("b.example.test", {"10.0.0.2"});
  prometheus::Registry registry;
  DnsDiscoveryMetrics metrics;
  metrics.lookups =
      &prometheus::BuildCounter().Name("l").Register(registry).Add({});
  metrics.failures =
      &prometheus::BuildCounter().Name("f").Register(registry).Add({});
  std::vector<std::string> logged;
  DnsSdConfig config;
  config.names = {"a.example.test", "b.example.test"};
  config.type = "A";
  config.port = 9100;
  config.refresh_interval = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<DnsDiscoverer>> discoverer =
      DnsDiscoverer::Create(
          config, TestResolver(**server), metrics,
          [&](absl::string_view msg,
              const std::vector<std::pair<std::string, std::string>>& fields) {
            logged.push_back(std::string(msg) + " " + fields[0].second);
          });
  ASSERT_TRUE(discoverer.ok()) << discoverer.status();
  EXPECT_TRUE((*discoverer)->MayBlock());
  EXPECT_EQ((*discoverer)->NextRefresh(), absl::InfinitePast());

  std::vector<TargetGroup> first = (*discoverer)->Refresh(absl::Now());
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].source, "a.example.test");
  EXPECT_EQ(first[1].source, "b.example.test");
  EXPECT_GT((*discoverer)->NextRefresh(), absl::Now() + absl::Seconds(20));

  // b times out: only a's group comes back, so b's last targets stay.
  (*server)->SetSilent("b.example.test", true);
  std::vector<TargetGroup> second = (*discoverer)->Refresh(absl::Now());
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].source, "a.example.test");
  EXPECT_EQ(metrics.lookups->Value(), 4);
  EXPECT_EQ(metrics.failures->Value(), 1);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0], "Error refreshing DNS targets b.example.test");
}

}  // namespace
}  // namespace fedgate
