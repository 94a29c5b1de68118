#include "gateway/web/targets_page.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "config/utf8.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/series_store.h"

namespace fedgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1700000060);

TargetStatus Target(TargetId id, std::string pool, std::string url,
                    TargetHealth health) {
  TargetStatus t;
  t.id = id;
  t.scrape_pool = std::move(pool);
  t.scrape_url = std::move(url);
  t.health = health;
  t.labels = Labels({{"instance", "127.0.0.1:9100"}, {"job", "node"}});
  t.discovered_labels = InternedLabels::Intern(
      Labels({{"__address__", "127.0.0.1:9100"}, {"job", "node"}}));
  if (health != TargetHealth::kUnknown) {
    t.last_scrape = absl::FromUnixSeconds(1700000048);
    t.last_scrape_duration = absl::Microseconds(12345);
  }
  return t;
}

size_t Count(absl::string_view haystack, absl::string_view needle) {
  // One piece more than there are separators.
  const std::vector<absl::string_view> pieces =
      absl::StrSplit(haystack, needle);
  return pieces.size() - 1;
}

TEST(TargetsPageTest, RendersOneSectionPerJobWithUpCounts) {
  TargetsPageData data;
  data.now = kNow;
  data.targets.push_back(
      Target(1, "node", "http://127.0.0.1:9100/metrics", TargetHealth::kUp));
  data.targets.push_back(
      Target(2, "node", "http://127.0.0.1:9101/metrics", TargetHealth::kDown));
  data.targets.back().last_error = "server returned HTTP status 500";
  data.targets.push_back(Target(3, "api", "http://127.0.0.1:9200/metrics",
                                TargetHealth::kUnknown));
  const std::string page = RenderTargetsPage(data);

  EXPECT_TRUE(absl::StartsWith(page, "<!DOCTYPE html>\n<html lang=\"en\">"));
  EXPECT_TRUE(absl::EndsWith(page, "</html>\n"));
  EXPECT_EQ(Count(page, "<details class=\"job\""), 2);
  // Jobs by name: api before node.
  const size_t api = page.find("data-job=\"api\"");
  const size_t node = page.find("data-job=\"node\"");
  ASSERT_NE(api, std::string::npos);
  ASSERT_NE(node, std::string::npos);
  EXPECT_LT(api, node);
  EXPECT_THAT(page, HasSubstr("<span class=\"count some-down\">0/1 up</span>"));
  EXPECT_THAT(page, HasSubstr("<span class=\"count some-down\">1/2 up</span>"));
  EXPECT_THAT(page, HasSubstr("1 of 3 targets up in 2 jobs"));
  EXPECT_EQ(Count(page, "<tr class=\"target\""), 3);
  EXPECT_THAT(page, HasSubstr("<tr class=\"target\" data-health=\"down\">"));
  EXPECT_THAT(page, HasSubstr("<span class=\"state up\">up</span>"));
  EXPECT_THAT(page, HasSubstr("<span class=\"state unknown\">unknown</span>"));
  EXPECT_THAT(page, HasSubstr("<td class=\"error\">server returned HTTP "
                              "status 500</td>"));
  // Last scrape 12 s before `now`, and how long it took.
  EXPECT_THAT(page, HasSubstr("<time datetime=\"2023-11-14T22:14:08.000Z\">"
                              "12s ago</time>"));
  EXPECT_THAT(page, HasSubstr("12.345ms"));
  EXPECT_THAT(page, HasSubstr("never"));
  // Labels after relabeling, and the discovered ones in a nested section.
  EXPECT_THAT(page, HasSubstr("<span class=\"label\">instance=&#34;"
                              "127.0.0.1:9100&#34;</span>"));
  EXPECT_THAT(page,
              HasSubstr("<details class=\"discovered\"><summary>discovered "
                        "labels (2)</summary><div class=\"labels\"><span "
                        "class=\"label\">__address__=&#34;127.0.0.1:9100"
                        "&#34;</span>"));
  // The filters and the one script.
  EXPECT_THAT(page, HasSubstr("id=\"unhealthy\""));
  EXPECT_THAT(page, HasSubstr("id=\"filter\""));
  EXPECT_EQ(Count(page, "<script>"), 1);
  EXPECT_EQ(Count(page, "<style>"), 1);
  EXPECT_THAT(page, Not(HasSubstr("src=")));
  EXPECT_THAT(page, Not(HasSubstr("href=")));
}

TEST(TargetsPageTest, ShowsDedupGroupLeaderAndConflicts) {
  TargetsPageData data;
  data.now = kNow;
  data.targets.push_back(
      Target(1, "k3s", "http://127.0.0.1:6443/metrics", TargetHealth::kUp));
  data.targets.back().dedup_group = "k3s/127.0.0.1";
  data.targets.back().dedup_leader = true;
  data.targets.push_back(
      Target(2, "k3s", "http://127.0.0.1:10250/metrics", TargetHealth::kUp));
  data.targets.back().dedup_group = "k3s/127.0.0.1";
  data.targets.push_back(
      Target(3, "other", "http://127.0.0.1:9300/metrics", TargetHealth::kUp));
  data.merge[2].deduplicated = 40;
  data.merge[3].conflicting = 2;
  data.merge[3].conflict_winner = 1;
  data.merge[3].first_conflict =
      InternedLabels::Intern(Labels({{"__name__", "go_goroutines"}}));
  data.samples_scraped[1] = 42;
  const std::string page = RenderTargetsPage(data);

  EXPECT_THAT(page, HasSubstr("k3s/127.0.0.1<br><span class=\"leader\">"
                              "leader</span>"));
  EXPECT_THAT(page, HasSubstr("k3s/127.0.0.1<br><span class=\"muted\">"
                              "standby</span><br><span class=\"muted\">40 "
                              "series served by another member</span>"));
  EXPECT_THAT(page, HasSubstr("<div class=\"conflict\">2 conflicting series, "
                              "served by http://127.0.0.1:6443/metrics, e.g. "
                              "{__name__=&#34;go_goroutines&#34;}</div>"));
  EXPECT_THAT(page, HasSubstr("<span class=\"samples\">42</span>"));
  EXPECT_THAT(page, HasSubstr("<span class=\"count all-up\">2/2 up</span>"));
}

TEST(TargetsPageTest, ListsDroppedTargetsPerJob) {
  TargetsPageData data;
  data.now = kNow;
  data.targets.push_back(
      Target(1, "node", "http://127.0.0.1:9100/metrics", TargetHealth::kUp));
  DroppedTarget dropped;
  dropped.scrape_pool = "node";
  dropped.discovered_labels = InternedLabels::Intern(
      Labels({{"__address__", "10.1.2.3:9100"}, {"env", "dev"}}));
  data.dropped.push_back(dropped);
  dropped.scrape_pool = "only-dropped";
  data.dropped.push_back(dropped);
  const std::string page = RenderTargetsPage(data);

  EXPECT_EQ(Count(page, "<li class=\"dropped-target\">"), 2);
  EXPECT_THAT(page, HasSubstr("<summary>1 dropped target (discovered "
                              "labels)</summary>"));
  EXPECT_THAT(page, HasSubstr("__address__=&#34;10.1.2.3:9100&#34;"));
  // A job whose targets were all dropped still has its section.
  EXPECT_THAT(page, HasSubstr("data-job=\"only-dropped\""));
  EXPECT_THAT(page, HasSubstr("<span class=\"count none\">0/0 up</span>"));
  EXPECT_THAT(page, HasSubstr("2 dropped by relabeling"));
}

TEST(TargetsPageTest, EmptyPageSaysSo) {
  TargetsPageData data;
  const std::string page = RenderTargetsPage(data);
  EXPECT_THAT(page, HasSubstr("No targets."));
  EXPECT_THAT(page, HasSubstr("0 of 0 targets up"));
}

TEST(TargetsPageTest, EscapesEveryValue) {
  const std::string evil = "<script>alert(1)</script>\"'&";
  const std::string evil_html =
      "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;";
  TargetsPageData data;
  data.now = kNow;
  TargetStatus t =
      Target(1, evil, "http://127.0.0.1:1/m?a=<b>&c=\"", TargetHealth::kDown);
  t.labels = Labels({{"x", evil}, {"bad", "v\xFF\xC0<"}});
  t.discovered_labels = InternedLabels::Intern(Labels({{"__meta_evil", evil}}));
  t.last_error =
      "parse error: \"\xFE\" <img src=x onerror=alert(1)> & co "
      "<script>alert(2)</script>";
  t.dedup_group = evil;
  data.targets.push_back(t);
  DroppedTarget dropped;
  dropped.scrape_pool = evil;
  dropped.discovered_labels =
      InternedLabels::Intern(Labels({{"__address__", evil}}));
  data.dropped.push_back(dropped);
  const std::string page = RenderTargetsPage(data);

  // The page's own markup: one script element, no image, no handler.
  EXPECT_EQ(Count(page, "<script"), 1);
  EXPECT_THAT(page, Not(HasSubstr("<img")));
  EXPECT_THAT(page, Not(HasSubstr("alert(1)</script>")));
  EXPECT_THAT(page, Not(HasSubstr("<script>alert(2)")));
  // Job name (heading and attribute), label value, discovered label, dedup
  // group, dropped target: each escaped.
  EXPECT_GE(Count(page, evil_html), 6);
  EXPECT_THAT(page, HasSubstr("data-job=\"" + evil_html + "\""));
  EXPECT_THAT(page, HasSubstr("http://127.0.0.1:1/m?a=&lt;b&gt;&amp;c=&#34;"));
  EXPECT_THAT(page,
              HasSubstr("<td class=\"error\">parse error: &#34;\xEF\xBF\xBD"
                        "&#34; &lt;img src=x onerror=alert(1)&gt; &amp; "
                        "co &lt;script&gt;alert(2)&lt;/script&gt;</td>"));
  EXPECT_THAT(page, HasSubstr("bad=&#34;v\xEF\xBF\xBD\xEF\xBF\xBD&lt;&#34;"));
  // Invalid UTF-8 never reaches the page.
  EXPECT_TRUE(IsValidUtf8(page));
}

TEST(TargetsPageTest, CollectsMergeCountsAndSamplesFromTheSnapshot) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->Add(InternedLabels::Intern(Labels({{"__name__", "a"}})), 1, 0);
  batch->Add(
      InternedLabels::Intern(Labels({{"__name__", "scrape_samples_scraped"}})),
      7, 0);
  batch->Add(InternedLabels::Intern(Labels({{"__name__", "up"}})), 1, 0);
  StoreSnapshot snapshot;
  snapshot.batches.emplace_back(5, batch);
  std::vector<TargetStatus> targets = {
      Target(5, "node", "http://127.0.0.1:9100/metrics", TargetHealth::kUp)};
  TargetsPageData data =
      CollectTargetsPage(std::move(targets), {}, &snapshot, kNow);
  ASSERT_EQ(data.targets.size(), 1);
  EXPECT_EQ(data.now, kNow);
  ASSERT_TRUE(data.samples_scraped.contains(5));
  EXPECT_EQ(data.samples_scraped[5], 7);

  TargetsPageData without = CollectTargetsPage({}, {}, nullptr, kNow);
  EXPECT_TRUE(without.samples_scraped.empty());
  EXPECT_TRUE(without.merge.empty());
}

TEST(TargetsPageTest, HeadersAllowOnlyThePagesOwnStyleAndScript) {
  bool nosniff = false;
  std::string csp;
  for (const auto& [name, value] : TargetsPageHeaders()) {
    if (name == "X-Content-Type-Options") nosniff = value == "nosniff";
    if (name == "Content-Security-Policy") csp = value;
  }
  EXPECT_TRUE(nosniff);
  EXPECT_TRUE(absl::StartsWith(csp, "default-src 'none'; style-src 'sha256-"))
      << csp;
  EXPECT_THAT(csp, HasSubstr("; script-src 'sha256-"));
  EXPECT_THAT(csp, Not(HasSubstr("unsafe-inline")));
  EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
}

}  // namespace
}  // namespace fedgate
