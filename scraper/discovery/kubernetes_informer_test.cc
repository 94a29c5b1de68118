#include "scraper/discovery/kubernetes_informer.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "scraper/discovery/kubernetes_test_server.h"
#include "scraper/test_wait.h"

namespace fedgate {
namespace {

std::string Node(absl::string_view name, absl::string_view zone) {
  return absl::Substitute(
      R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"$0",
        "labels":{"zone":"$1"}},"status":{"addresses":[
        {"type":"InternalIP","address":"127.0.1.1"}]}})",
      name, zone);
}

// Records what an informer tells its listeners, as "add n1", "update n1",
// "delete n1" and "synced".
class Recorder : public KubernetesInformer::Listener {
 public:
  void OnObjectChanged(const KubernetesInformer&,
                       const KubernetesObject* before,
                       const KubernetesObject* after) override {
    const KubernetesObject& o = after != nullptr ? *after : *before;
    absl::MutexLock lock(&mu_);
    events_.push_back(absl::StrCat(before == nullptr  ? "add "
                                   : after == nullptr ? "delete "
                                                      : "update ",
                                   o.name));
  }
  void OnSynced(const KubernetesInformer&) override {
    absl::MutexLock lock(&mu_);
    events_.push_back("synced");
  }
  std::vector<std::string> Events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

class KubernetesInformerTest : public KubernetesTestServerFixture {
 protected:
  void SetUp() override {
    KubernetesTestServerFixture::SetUp();
    if (HasFatalFailure()) return;
    KubernetesInformerPool::Options options;
    options.registry = &registry_;
    options.timings.page_size = 2;
    options.timings.backoff_initial = absl::Milliseconds(20);
    options.timings.backoff_max = absl::Milliseconds(100);
    absl::StatusOr<std::unique_ptr<KubernetesInformerPool>> pool =
        KubernetesInformerPool::Create(options);
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
  }

  KubernetesWatchSpec Nodes(std::string label_selector = "") {
    KubernetesWatchSpec spec;
    spec.server.url = api_->url();
    spec.resource = KubernetesResource::kNode;
    spec.label_selector = std::move(label_selector);
    return spec;
  }

  int Requests(bool watch) {
    int n = 0;
    for (const auto& r : api_->Requests()) n += r.watch == watch ? 1 : 0;
    return n;
  }

  prometheus::Registry registry_;
  std::unique_ptr<KubernetesInformerPool> pool_;
};

TEST_F(KubernetesInformerTest, ListsInPagesThenWatchesEveryChange) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(api_->Create(Node(absl::StrCat("n", i), "a")).ok());
  }
  std::shared_ptr<KubernetesInformer> informer = pool_->Get(Nodes());
  ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 1; }));
  EXPECT_TRUE(informer->synced());
  EXPECT_EQ(informer->Objects().size(), 5u);
  // A listener that comes after the first list is told it is synced.
  Recorder recorder;
  informer->AddListener(&recorder);
  EXPECT_EQ(Requests(/*watch=*/false), 3);  // Pages of 2, 2 and 1.
  for (const auto& r : api_->Requests()) {
    if (!r.watch) {
      EXPECT_TRUE(absl::StrContains(r.query, "limit=2")) << r.query;
    }
  }

  ASSERT_TRUE(api_->Update(Node("n1", "b")).ok());
  ASSERT_TRUE(api_->Delete("Node", "", "n2").ok());
  ASSERT_TRUE(api_->Create(Node("n9", "a")).ok());
  ASSERT_TRUE(WaitFor([&] { return recorder.Events().size() >= 4; }));
  EXPECT_EQ(
      recorder.Events(),
      (std::vector<std::string>{"synced", "update n1", "delete n2", "add n9"}));
  ASSERT_NE(informer->Find("", "n1"), nullptr);
  EXPECT_EQ(informer->Find("", "n1")->labels.entries()[0].second, "b");
  EXPECT_EQ(informer->Find("", "n2"), nullptr);
  informer->RemoveListener(&recorder);
}

TEST_F(KubernetesInformerTest, ExpiredWatchListsAgainAndReportsTheDifference) {
  ASSERT_TRUE(api_->Create(Node("keep", "a")).ok());
  ASSERT_TRUE(api_->Create(Node("gone", "a")).ok());
  std::shared_ptr<KubernetesInformer> informer = pool_->Get(Nodes());
  ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 1; }));
  Recorder recorder;
  informer->AddListener(&recorder);
  // The changes happen while the watch is gone and its version compacted.
  api_->ExpireWatches();
  ASSERT_TRUE(api_->Delete("Node", "", "gone").ok());
  ASSERT_TRUE(api_->Update(Node("keep", "z")).ok());
  ASSERT_TRUE(api_->Create(Node("new", "a")).ok());
  ASSERT_TRUE(WaitFor([&] { return recorder.Events().size() >= 4; }));
  std::vector<std::string> events = recorder.Events();
  std::sort(events.begin() + 1, events.end());
  EXPECT_EQ(events, (std::vector<std::string>{"synced", "add new",
                                              "delete gone", "update keep"}));
  informer->RemoveListener(&recorder);
}

TEST_F(KubernetesInformerTest, EqualSpecsShareOneInformerAndOthersDoNot) {
  std::shared_ptr<KubernetesInformer> a = pool_->Get(Nodes());
  std::shared_ptr<KubernetesInformer> b = pool_->Get(Nodes());
  std::shared_ptr<KubernetesInformer> c = pool_->Get(Nodes("zone=a"));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 2; }));
  bool selected = false;
  for (const auto& r : api_->Requests()) {
    selected = selected || absl::StrContains(r.query, "labelSelector=zone%3Da");
  }
  EXPECT_TRUE(selected);
  // The last holder gone, the informer stops at once, mid-watch.
  const absl::Time start = absl::Now();
  a.reset();
  b.reset();
  c.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_TRUE(WaitFor([&] { return api_->OpenWatches() == 0; }));
}

}  // namespace
}  // namespace fedgate
