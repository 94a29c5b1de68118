#include "scraper/discovery/kubernetes_test_server.h"

#include <httplib.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/substitute.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bazel/rapidjson.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scraper/test_certificates.h"
#include "scraper/test_wait.h"

namespace fedgate {
namespace {

// How long a test waits for the server's watch streams to open or close.
constexpr absl::Duration kWatchWait = absl::Seconds(20);

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A pod; every IP of the tests is in 127.0.0.0/8.
std::string Pod(absl::string_view ns, absl::string_view name,
                absl::string_view labels = "{}",
                absl::string_view node = "node-1",
                absl::string_view phase = "Running",
                absl::string_view ip = "127.0.0.10") {
  return absl::Substitute(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"$0",)"
      R"("namespace":"$1","labels":$2},"spec":{"nodeName":"$3",)"
      R"("containers":[{"name":"app","ports":[{"containerPort":8080,)"
      R"("protocol":"TCP"}]}]},"status":{"phase":"$4","podIP":"$5"}})",
      name, ns, labels, node, phase, ip);
}

std::string Node(absl::string_view name) {
  return absl::Substitute(
      R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"$0"},)"
      R"("status":{"addresses":[{"type":"InternalIP",)"
      R"("address":"127.0.0.2"}]}})",
      name);
}

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  return doc;
}

// "NS/NAME" of every item of a list.
std::vector<std::string> ItemNames(const rapidjson::Document& list) {
  std::vector<std::string> names;
  if (!list.IsObject() || !list.HasMember("items")) return names;
  for (const auto& item : list["items"].GetArray()) {
    const auto& meta = item["metadata"];
    names.push_back(meta.HasMember("namespace")
                        ? absl::StrCat(meta["namespace"].GetString(), "/",
                                       meta["name"].GetString())
                        : meta["name"].GetString());
  }
  return names;
}

std::string Str(const rapidjson::Value& v) {
  return v.IsString() ? v.GetString() : "<not a string>";
}

// A watch request read line by line on its own thread. Mutex and CondVar
// only: Debian's Abseil is not instrumented for TSan beyond them.
class WatchStream {
 public:
  WatchStream(const std::string& url, const std::string& path,
              httplib::Headers headers = {}, const std::string& ca_file = "")
      : client_(url) {
    client_.set_read_timeout(30, 0);
    if (!ca_file.empty()) {
      client_.set_ca_cert_path(ca_file);
      client_.enable_server_certificate_verification(true);
      client_.set_hostname_addr_map({{"localhost", "127.0.0.1"}});
    }
    thread_ = std::thread([this, path, headers] {
      httplib::Result result =
          client_.Get(path, headers, [this](const char* data, size_t size) {
            absl::MutexLock lock(&mu_);
            buffer_.append(data, size);
            size_t newline;
            while ((newline = buffer_.find('\n')) != std::string::npos) {
              lines_.push_back(buffer_.substr(0, newline));
              buffer_.erase(0, newline + 1);
            }
            cv_.SignalAll();
            return true;
          });
      absl::MutexLock lock(&mu_);
      ended_ = true;
      error_ = result.error();
      status_ = result ? result->status : 0;
      cv_.SignalAll();
    });
  }
  ~WatchStream() {
    client_.stop();
    thread_.join();
  }

  // Returns the next line, or "" if none comes within `timeout`.
  std::string Next(absl::Duration timeout = absl::Seconds(20)) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + timeout;
    while (next_ == lines_.size() && !ended_ && absl::Now() < deadline) {
      cv_.WaitWithDeadline(&mu_, deadline);
    }
    if (next_ == lines_.size()) return "";
    return lines_[next_++];
  }
  // Waits up to `timeout` for the end of the stream; returns whether it
  // ended, with the client's error (Success: the final chunk came).
  bool WaitEnd(httplib::Error* error,
               absl::Duration timeout = absl::Seconds(20)) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + timeout;
    while (!ended_ && absl::Now() < deadline) {
      cv_.WaitWithDeadline(&mu_, deadline);
    }
    *error = error_;
    return ended_;
  }
  int status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  // Returns the lines not read by Next() yet.
  std::vector<std::string> Unread() {
    absl::MutexLock lock(&mu_);
    return std::vector<std::string>(lines_.begin() + next_, lines_.end());
  }

 private:
  httplib::Client client_;
  std::thread thread_;
  absl::Mutex mu_;
  absl::CondVar cv_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  httplib::Error error_ ABSL_GUARDED_BY(mu_) = httplib::Error::Success;
  int status_ ABSL_GUARDED_BY(mu_) = 0;
};

// A selector of a pod list and the pods it selects, as "namespace/name".
struct SelectorCase {
  const char* name;
  const char* selector;
  std::vector<std::string> want;
};

class KubernetesTestServerTest : public KubernetesTestServerFixture {
 protected:
  httplib::Result Get(const std::string& path,
                      const httplib::Headers& headers = {}) {
    httplib::Client client(api_->url());
    client.set_read_timeout(20, 0);
    return client.Get(path, headers);
  }

  // GETs `path` and parses the JSON answer; `status` gets the HTTP status.
  rapidjson::Document GetJson(const std::string& path, int* status) {
    httplib::Result result = Get(path);
    *status = result ? result->status : 0;
    return ParseJson(result ? result->body : "");
  }

  // Lists /api/v1/pods?`query` and returns the items' "namespace/name";
  // expects a 200 answer.
  std::vector<std::string> PodNames(const std::string& query) {
    int status;
    rapidjson::Document list = GetJson("/api/v1/pods?" + query, &status);
    EXPECT_EQ(status, 200) << query;
    return ItemNames(list);
  }
};

TEST_F(KubernetesTestServerTest, VersionIsDerivedFromGitVersion) {
  httplib::Result result = Get("/version");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(result->body,
            R"({"major":"1","minor":"26","gitVersion":"v1.26.0",)"
            R"("gitCommit":"b46a3f887ca979b1a5d14fd39cb1af43e7e5d12d",)"
            R"("gitTreeState":"clean","buildDate":"2022-12-08T19:51:45Z",)"
            R"("goVersion":"go1.19.4","compiler":"gc",)"
            R"("platform":"linux/amd64"})");
}

TEST_F(KubernetesTestServerTest, ListHasTheRealShape) {
  ASSERT_TRUE(api_->Create(Pod("b", "p2")).ok());
  ASSERT_TRUE(api_->Create(Pod("a", "p1")).ok());
  ASSERT_TRUE(api_->Create(Pod("a", "p0")).ok());
  int status;
  rapidjson::Document list = GetJson("/api/v1/pods", &status);
  ASSERT_EQ(status, 200);
  ASSERT_TRUE(list.IsObject());
  EXPECT_EQ(Str(list["kind"]), "PodList");
  EXPECT_EQ(Str(list["apiVersion"]), "v1");
  EXPECT_EQ(Str(list["metadata"]["resourceVersion"]),
            absl::StrCat(api_->ResourceVersion()));
  EXPECT_FALSE(list["metadata"].HasMember("continue"));
  EXPECT_THAT(ItemNames(list), ElementsAre("a/p0", "a/p1", "b/p2"));
  const auto& item = list["items"][0];
  EXPECT_FALSE(item.HasMember("kind"));
  EXPECT_FALSE(item.HasMember("apiVersion"));
  EXPECT_EQ(Str(item["metadata"]["resourceVersion"]),
            absl::StrCat(api_->ResourceVersion()));
  EXPECT_EQ(Str(item["metadata"]["uid"]).size(), 36u);
  EXPECT_EQ(Str(item["metadata"]["creationTimestamp"]).size(), 20u);
  EXPECT_EQ(Str(item["spec"]["nodeName"]), "node-1");
  EXPECT_EQ(Str(item["status"]["podIP"]), "127.0.0.10");

  list = GetJson("/api/v1/namespaces/a/pods", &status);
  EXPECT_EQ(status, 200);
  EXPECT_THAT(ItemNames(list), ElementsAre("a/p0", "a/p1"));
  list = GetJson("/api/v1/namespaces/c/pods", &status);
  EXPECT_EQ(status, 200);
  EXPECT_THAT(ItemNames(list), IsEmpty());
  EXPECT_TRUE(list["items"].IsArray());
}

TEST_F(KubernetesTestServerTest, KindsAreServedUnderTheirGroupVersion) {
  ASSERT_TRUE(api_->Create(Node("n1")).ok());
  ASSERT_TRUE(api_->Create(R"({"apiVersion":"discovery.k8s.io/v1",)"
                           R"("kind":"EndpointSlice","metadata":{)"
                           R"("name":"web-abc","namespace":"a"},)"
                           R"("addressType":"IPv4","endpoints":[{)"
                           R"("addresses":["127.0.0.20"]}]})")
                  .ok());
  ASSERT_TRUE(api_->Create(R"({"apiVersion":"networking.k8s.io/v1",)"
                           R"("kind":"Ingress","metadata":{"name":"in",)"
                           R"("namespace":"a"},"spec":{}})")
                  .ok());
  int status;
  rapidjson::Document list = GetJson("/api/v1/nodes", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Str(list["kind"]), "NodeList");
  EXPECT_THAT(ItemNames(list), ElementsAre("n1"));
  list =
      GetJson("/apis/discovery.k8s.io/v1/namespaces/a/endpointslices", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Str(list["kind"]), "EndpointSliceList");
  EXPECT_EQ(Str(list["apiVersion"]), "discovery.k8s.io/v1");
  EXPECT_THAT(ItemNames(list), ElementsAre("a/web-abc"));
  list = GetJson("/apis/discovery.k8s.io/v1beta1/endpointslices", &status);
  EXPECT_EQ(status, 200);
  EXPECT_THAT(ItemNames(list), IsEmpty());
  list = GetJson("/apis/networking.k8s.io/v1/ingresses", &status);
  EXPECT_EQ(Str(list["kind"]), "IngressList");
  EXPECT_THAT(ItemNames(list), ElementsAre("a/in"));

  // A named object carries kind and apiVersion.
  rapidjson::Document node = GetJson("/api/v1/nodes/n1", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Str(node["kind"]), "Node");
  EXPECT_EQ(Str(node["apiVersion"]), "v1");

  // Nodes are cluster-scoped.
  httplib::Result result = Get("/api/v1/namespaces/a/nodes");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 404);
  EXPECT_EQ(result->body,
            R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
            R"("status":"Failure","message":"the server could not find the )"
            R"(requested resource","reason":"NotFound","details":{},)"
            R"("code":404})");
  result = Get("/api/v1/namespaces/a/pods/missing");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 404);
  EXPECT_EQ(result->body,
            R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
            R"("status":"Failure","message":"pods \"missing\" not found",)"
            R"("reason":"NotFound","details":{"name":"missing",)"
            R"("kind":"pods"},"code":404})");
}

TEST_F(KubernetesTestServerTest, WritesCheckKindNamespaceAndExistence) {
  EXPECT_EQ(api_->Create("{").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(api_->Create(R"({"apiVersion":"v1","kind":"Secret",)"
                         R"("metadata":{"name":"s","namespace":"a"}})")
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(api_->Create(R"({"apiVersion":"v1","kind":"Pod",)"
                         R"("metadata":{"name":"p"}})")
                .code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(api_->Create(Pod("a", "p")).ok());
  EXPECT_EQ(api_->Create(Pod("a", "p")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(api_->Update(Pod("a", "q")).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(api_->Apply(Pod("a", "q")).ok());
  EXPECT_TRUE(api_->Delete("Pod", "a", "q").ok());
  EXPECT_EQ(api_->Delete("Pod", "a", "q").code(), absl::StatusCode::kNotFound);
}

TEST_F(KubernetesTestServerTest, UpdateKeepsUidAndCreationTimestamp) {
  ASSERT_TRUE(api_->Create(Pod("a", "p")).ok());
  int status;
  rapidjson::Document before = GetJson("/api/v1/namespaces/a/pods/p", &status);
  ASSERT_TRUE(api_->Update(Pod("a", "p", "{}", "node-2")).ok());
  rapidjson::Document after = GetJson("/api/v1/namespaces/a/pods/p", &status);
  EXPECT_EQ(Str(after["metadata"]["uid"]), Str(before["metadata"]["uid"]));
  EXPECT_EQ(Str(after["metadata"]["creationTimestamp"]),
            Str(before["metadata"]["creationTimestamp"]));
  EXPECT_NE(Str(after["metadata"]["resourceVersion"]),
            Str(before["metadata"]["resourceVersion"]));
  EXPECT_EQ(Str(after["spec"]["nodeName"]), "node-2");
}

TEST_F(KubernetesTestServerTest, LimitAndContinuePageAConsistentSnapshot) {
  for (const char* name : {"p1", "p2", "p3", "p4", "p5"}) {
    ASSERT_TRUE(api_->Create(Pod("a", name)).ok());
  }
  const std::string rv = absl::StrCat(api_->ResourceVersion());
  int status;
  rapidjson::Document page = GetJson("/api/v1/pods?limit=2", &status);
  ASSERT_EQ(status, 200);
  EXPECT_THAT(ItemNames(page), ElementsAre("a/p1", "a/p2"));
  EXPECT_EQ(Str(page["metadata"]["resourceVersion"]), rv);
  ASSERT_TRUE(page["metadata"].HasMember("continue"));
  EXPECT_EQ(page["metadata"]["remainingItemCount"].GetInt64(), 3);
  // Writes after the first page do not show in the next ones.
  ASSERT_TRUE(api_->Create(Pod("a", "p0")).ok());
  ASSERT_TRUE(api_->Delete("Pod", "a", "p4").ok());
  std::vector<std::string> names = ItemNames(page);
  for (int i = 0; i < 5 && page["metadata"].HasMember("continue"); ++i) {
    page = GetJson(absl::StrCat("/api/v1/pods?limit=2&continue=",
                                Str(page["metadata"]["continue"])),
                   &status);
    ASSERT_EQ(status, 200);
    EXPECT_EQ(Str(page["metadata"]["resourceVersion"]), rv);
    for (const std::string& name : ItemNames(page)) names.push_back(name);
  }
  EXPECT_THAT(names, ElementsAre("a/p1", "a/p2", "a/p3", "a/p4", "a/p5"));
  EXPECT_FALSE(page["metadata"].HasMember("remainingItemCount"));

  // With a selector, no remainingItemCount.
  page = GetJson("/api/v1/pods?limit=1&fieldSelector=metadata.name%21%3Dp9",
                 &status);
  EXPECT_THAT(ItemNames(page), ElementsAre("a/p0"));
  EXPECT_TRUE(page["metadata"].HasMember("continue"));
  EXPECT_FALSE(page["metadata"].HasMember("remainingItemCount"));
}

TEST_F(KubernetesTestServerTest, ContinueOlderThanTheCompactionIsExpired) {
  for (const char* name : {"p1", "p2", "p3"}) {
    ASSERT_TRUE(api_->Create(Pod("a", name)).ok());
  }
  int status;
  rapidjson::Document page = GetJson("/api/v1/pods?limit=1", &status);
  ASSERT_TRUE(page["metadata"].HasMember("continue"));
  ASSERT_TRUE(api_->Create(Pod("a", "p4")).ok());
  api_->ExpireWatches();
  rapidjson::Document expired =
      GetJson(absl::StrCat("/api/v1/pods?limit=1&continue=",
                           Str(page["metadata"]["continue"])),
              &status);
  EXPECT_EQ(status, 410);
  EXPECT_EQ(Str(expired["kind"]), "Status");
  EXPECT_EQ(Str(expired["reason"]), "Expired");
  EXPECT_EQ(expired["code"].GetInt(), 410);
  EXPECT_THAT(Str(expired["message"]),
              HasSubstr("The provided continue parameter is too old"));
  // Its inconsistent continue token lists the rest as of now.
  ASSERT_TRUE(expired["metadata"].HasMember("continue"));
  page = GetJson(absl::StrCat("/api/v1/pods?continue=",
                              Str(expired["metadata"]["continue"])),
                 &status);
  EXPECT_EQ(status, 200);
  EXPECT_THAT(ItemNames(page), ElementsAre("a/p2", "a/p3", "a/p4"));
  // An exact resourceVersion before the compaction too.
  expired = GetJson("/api/v1/pods?limit=1&resourceVersion=2", &status);
  EXPECT_EQ(status, 410);
  EXPECT_EQ(Str(expired["message"]),
            "The resourceVersion for the provided list is too old.");
}

TEST_F(KubernetesTestServerTest, ListResourceVersionFollowsTheWatchCache) {
  ASSERT_TRUE(api_->Create(Pod("a", "p1")).ok());
  ASSERT_TRUE(api_->Create(Pod("a", "p2")).ok());
  api_->ExpireWatches();
  // Without limit, an old resourceVersion is served from the cache: now.
  int status;
  rapidjson::Document list = GetJson("/api/v1/pods?resourceVersion=1", &status);
  EXPECT_EQ(status, 200);
  EXPECT_THAT(ItemNames(list), ElementsAre("a/p1", "a/p2"));
  EXPECT_EQ(Str(list["metadata"]["resourceVersion"]), "3");
  // resourceVersion=0 ignores limit.
  list = GetJson("/api/v1/pods?resourceVersion=0&limit=1", &status);
  EXPECT_THAT(ItemNames(list), ElementsAre("a/p1", "a/p2"));
  // Newer than the current one.
  httplib::Result result = Get("/api/v1/pods?resourceVersion=9");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 504);
  EXPECT_EQ(result->body,
            R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
            R"("status":"Failure","message":"Timeout: Too large resource )"
            R"(version: 9, current: 3","reason":"Timeout","details":{)"
            R"("causes":[{"reason":"ResourceVersionTooLarge","message":)"
            R"("Too large resource version"}],"retryAfterSeconds":1},)"
            R"("code":504})");
}

TEST_F(KubernetesTestServerTest, OnlyListsOver128KiBAreGzipped) {
  ASSERT_TRUE(api_->Create(Pod("a", "p")).ok());
  httplib::Result small =
      Get("/api/v1/pods", {{"Accept-Encoding", "gzip, br"}});
  ASSERT_TRUE(small) << small.error();
  EXPECT_FALSE(small->has_header("Content-Encoding"));
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(api_->Create(Pod("b", absl::StrCat("pod-", i))).ok());
  }
  httplib::Result large =
      Get("/api/v1/pods", {{"Accept-Encoding", "gzip, br"}});
  ASSERT_TRUE(large) << large.error();
  EXPECT_EQ(large->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(ItemNames(ParseJson(large->body)).size(), 601u);
}

TEST_F(KubernetesTestServerTest, LabelSelectorsSupportEveryOperator) {
  ASSERT_TRUE(
      api_->Create(Pod("a", "web", R"({"app":"web","tier":"1"})")).ok());
  ASSERT_TRUE(api_->Create(Pod("a", "db", R"({"app":"db","tier":"2"})")).ok());
  ASSERT_TRUE(api_->Create(Pod("a", "none")).ok());
  const SelectorCase cases[] = {
      {"equals", "app%3Dweb", {"a/web"}},
      {"double equals", "app%3D%3Dweb", {"a/web"}},
      {"not equals (also without the label)", "app!%3Dweb", {"a/db", "a/none"}},
      {"in", "app%20in%20(web,db)", {"a/db", "a/web"}},
      {"notin", "app%20notin%20(web)", {"a/db", "a/none"}},
      {"exists", "app", {"a/db", "a/web"}},
      {"does not exist", "!app", {"a/none"}},
      {"greater than", "tier%3E1", {"a/db"}},
      {"less than", "tier%3C2", {"a/web"}},
      {"comma is and", "app,tier%3D1", {"a/web"}},
  };
  for (const SelectorCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(PodNames(absl::StrCat("labelSelector=", c.selector)), c.want);
  }
  int status;
  rapidjson::Document bad =
      GetJson("/api/v1/pods?labelSelector=app%20in%20web", &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(Str(bad["reason"]), "BadRequest");
  EXPECT_EQ(Str(bad["message"]),
            "invalid label selector \"app in web\": the values of 'in' and "
            "'notin' must be in parentheses");
}

TEST_F(KubernetesTestServerTest, FieldSelectorsSupportTheRealFieldLabels) {
  ASSERT_TRUE(
      api_->Create(Pod("a", "p1", "{}", "node-1", "Running", "127.0.0.11"))
          .ok());
  ASSERT_TRUE(
      api_->Create(Pod("b", "p2", "{}", "node-2", "Pending", "127.0.0.12"))
          .ok());
  const SelectorCase cases[] = {
      {"node", "spec.nodeName%3Dnode-2", {"b/p2"}},
      {"phase", "status.phase%3DRunning", {"a/p1"}},
      {"pod IP", "status.podIP%3D127.0.0.12", {"b/p2"}},
      {"name", "metadata.name%3D%3Dp1", {"a/p1"}},
      {"namespace not equal", "metadata.namespace!%3Da", {"b/p2"}},
      {"and", "spec.nodeName%3Dnode-1,status.phase%3DPending", {}},
  };
  for (const SelectorCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(PodNames(absl::StrCat("fieldSelector=", c.selector)), c.want);
  }
  httplib::Result result = Get("/api/v1/pods?fieldSelector=spec.host%3Dx");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 400);
  EXPECT_EQ(result->body,
            R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
            R"("status":"Failure","message":"field label not supported: )"
            R"(spec.host","reason":"BadRequest","code":400})");
  int status;
  rapidjson::Document bad =
      GetJson("/api/v1/services?fieldSelector=spec.type%3DNodePort", &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(Str(bad["message"]),
            R"("spec.type" is not a known field selector: only )"
            R"("metadata.name", "metadata.namespace")");
}

TEST_F(KubernetesTestServerTest, WatchStreamsWritesInOrder) {
  ASSERT_TRUE(api_->Create(Pod("a", "old")).ok());
  const uint64_t rv = api_->ResourceVersion();
  WatchStream watch(api_->url(),
                    absl::StrCat("/api/v1/namespaces/a/pods?watch=true&"
                                 "resourceVersion=",
                                 rv));
  ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 1; }, kWatchWait));
  ASSERT_TRUE(api_->Create(Pod("a", "p")).ok());
  ASSERT_TRUE(api_->Create(Pod("b", "other")).ok());
  ASSERT_TRUE(api_->Update(Pod("a", "p", R"({"v":"2"})")).ok());
  ASSERT_TRUE(api_->Delete("Pod", "a", "p").ok());
  const char* const types[] = {"ADDED", "MODIFIED", "DELETED"};
  const uint64_t rvs[] = {rv + 1, rv + 3, rv + 4};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(types[i]);
    const std::string line = watch.Next();
    rapidjson::Document event = ParseJson(line);
    ASSERT_TRUE(event.IsObject()) << line;
    EXPECT_EQ(Str(event["type"]), types[i]);
    const auto& object = event["object"];
    EXPECT_EQ(Str(object["kind"]), "Pod");
    EXPECT_EQ(Str(object["apiVersion"]), "v1");
    EXPECT_EQ(Str(object["metadata"]["name"]), "p");
    EXPECT_EQ(Str(object["metadata"]["resourceVersion"]), absl::StrCat(rvs[i]));
  }
  EXPECT_THAT(watch.Unread(), IsEmpty());
  const std::vector<KubernetesTestServer::Request> requests = api_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].watch);
  EXPECT_EQ(requests[0].status, 200);
  EXPECT_EQ(requests[0].path, "/api/v1/namespaces/a/pods");
  EXPECT_EQ(requests[0].query, absl::StrCat("watch=true&resourceVersion=", rv));
}

TEST_F(KubernetesTestServerTest, WatchReplaysHistoryAfterItsVersion) {
  ASSERT_TRUE(api_->Create(Pod("a", "p1")).ok());
  const uint64_t rv = api_->ResourceVersion();
  ASSERT_TRUE(api_->Create(Pod("a", "p2")).ok());
  ASSERT_TRUE(api_->Update(Pod("a", "p1", R"({"v":"2"})")).ok());
  WatchStream watch(api_->url(),
                    absl::StrCat("/api/v1/pods?watch=1&resourceVersion=", rv));
  rapidjson::Document first = ParseJson(watch.Next());
  rapidjson::Document second = ParseJson(watch.Next());
  ASSERT_TRUE(first.IsObject() && second.IsObject());
  EXPECT_EQ(Str(first["type"]), "ADDED");
  EXPECT_EQ(Str(first["object"]["metadata"]["name"]), "p2");
  EXPECT_EQ(Str(second["type"]), "MODIFIED");
  EXPECT_EQ(Str(second["object"]["metadata"]["name"]), "p1");
}

TEST_F(KubernetesTestServerTest, WatchFromZeroStartsWithSyntheticAdded) {
  ASSERT_TRUE(api_->Create(Pod("a", "p2")).ok());
  ASSERT_TRUE(api_->Create(Pod("a", "p1")).ok());
  ASSERT_TRUE(api_->Delete("Pod", "a", "p2").ok());
  WatchStream watch(api_->url(), "/api/v1/pods?watch=true&resourceVersion=0");
  rapidjson::Document event = ParseJson(watch.Next());
  ASSERT_TRUE(event.IsObject());
  EXPECT_EQ(Str(event["type"]), "ADDED");
  EXPECT_EQ(Str(event["object"]["metadata"]["name"]), "p1");
  ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 1; }, kWatchWait));
  EXPECT_THAT(watch.Unread(), IsEmpty());
}

TEST_F(KubernetesTestServerTest, WatchSelectorTurnsModifiedIntoAddOrDelete) {
  WatchStream watch(api_->url(),
                    "/api/v1/pods?watch=true&resourceVersion=1&"
                    "labelSelector=app%3Dweb");
  ASSERT_TRUE(api_->Create(Pod("a", "p", R"({"app":"db"})")).ok());
  ASSERT_TRUE(api_->Update(Pod("a", "p", R"({"app":"web"})")).ok());
  ASSERT_TRUE(api_->Update(Pod("a", "p", R"({"app":"db"})")).ok());
  rapidjson::Document added = ParseJson(watch.Next());
  rapidjson::Document deleted = ParseJson(watch.Next());
  ASSERT_TRUE(added.IsObject() && deleted.IsObject());
  EXPECT_EQ(Str(added["type"]), "ADDED");
  EXPECT_EQ(Str(added["object"]["metadata"]["labels"]["app"]), "web");
  EXPECT_EQ(Str(deleted["type"]), "DELETED");
  // The last state it was selected in, at the new resourceVersion.
  EXPECT_EQ(Str(deleted["object"]["metadata"]["labels"]["app"]), "web");
  EXPECT_EQ(Str(deleted["object"]["metadata"]["resourceVersion"]),
            absl::StrCat(api_->ResourceVersion()));
}

TEST_F(KubernetesTestServerTest, BookmarksGoOnlyToWatchesThatAskForThem) {
  WatchStream with(api_->url(),
                   "/api/v1/pods?watch=true&resourceVersion=1&"
                   "allowWatchBookmarks=true");
  WatchStream without(api_->url(), "/api/v1/pods?watch=true&resourceVersion=1");
  ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 2; }, kWatchWait));
  api_->SendBookmarks();
  ASSERT_TRUE(api_->Create(Pod("a", "p")).ok());
  EXPECT_EQ(with.Next(),
            R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1",)"
            R"("metadata":{"resourceVersion":"1","creationTimestamp":null},)"
            R"("spec":{"containers":null},"status":{}}})");
  EXPECT_THAT(with.Next(), HasSubstr(R"({"type":"ADDED")"));
  EXPECT_THAT(without.Next(), HasSubstr(R"({"type":"ADDED")"));
}

TEST_F(KubernetesTestServerTest, ExpireWatchesSendsGoneAndEndsTheStream) {
  ASSERT_TRUE(api_->Create(Pod("a", "p1")).ok());
  WatchStream watch(api_->url(), "/api/v1/pods?watch=true&resourceVersion=2");
  ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 1; }, kWatchWait));
  ASSERT_TRUE(api_->Create(Pod("a", "p2")).ok());
  api_->ExpireWatches();
  EXPECT_THAT(watch.Next(), HasSubstr(R"({"type":"ADDED")"));
  EXPECT_EQ(watch.Next(),
            R"json({"type":"ERROR","object":{"kind":"Status",)json"
            R"json("apiVersion":"v1","metadata":{},"status":"Failure",)json"
            R"json("message":"too old resource version: 3 (3)",)json"
            R"json("reason":"Expired","code":410}})json");
  httplib::Error error;
  ASSERT_TRUE(watch.WaitEnd(&error));
  EXPECT_EQ(error, httplib::Error::Success);
  EXPECT_TRUE(WaitFor([&] { return api_->OpenWatches() == 0; }, kWatchWait));

  // A new watch from before the compaction gets the 410 at once.
  WatchStream old(api_->url(), "/api/v1/pods?watch=true&resourceVersion=2");
  EXPECT_EQ(old.Next(),
            R"json({"type":"ERROR","object":{"kind":"Status",)json"
            R"json("apiVersion":"v1","metadata":{},"status":"Failure",)json"
            R"json("message":"too old resource version: 2 (3)",)json"
            R"json("reason":"Expired","code":410}})json");
  ASSERT_TRUE(old.WaitEnd(&error));
  EXPECT_EQ(old.status(), 200);
}

TEST_F(KubernetesTestServerTest, DropWatchesCutsTheStream) {
  WatchStream watch(api_->url(), "/api/v1/pods?watch=true&resourceVersion=1");
  ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 1; }, kWatchWait));
  api_->DropWatches();
  httplib::Error error;
  ASSERT_TRUE(watch.WaitEnd(&error));
  EXPECT_NE(error, httplib::Error::Success);
  EXPECT_TRUE(WaitFor([&] { return api_->OpenWatches() == 0; }, kWatchWait));
}

TEST_F(KubernetesTestServerTest, TimeoutSecondsEndsTheStream) {
  WatchStream watch(api_->url(),
                    "/api/v1/pods?watch=true&resourceVersion=1&"
                    "timeoutSeconds=1");
  httplib::Error error;
  ASSERT_TRUE(watch.WaitEnd(&error));
  EXPECT_EQ(error, httplib::Error::Success);
  EXPECT_THAT(watch.Unread(), IsEmpty());
}

TEST_F(KubernetesTestServerTest, ClientGoneEndsTheWatch) {
  {
    WatchStream watch(api_->url(), "/api/v1/pods?watch=true&resourceVersion=1");
    ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 1; }, kWatchWait));
  }
  EXPECT_TRUE(WaitFor([&] { return api_->OpenWatches() == 0; }, kWatchWait));
}

TEST_F(KubernetesTestServerTest, UnavailableAnswers503) {
  ASSERT_TRUE(api_->SetAvailable(false).ok());
  httplib::Result result = Get("/api/v1/pods");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 503);
  EXPECT_EQ(result->body,
            R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
            R"("status":"Failure","message":"the server is currently unable )"
            R"(to handle the request","reason":"ServiceUnavailable",)"
            R"("code":503})");
  ASSERT_TRUE(api_->SetAvailable(true).ok());
  result = Get("/api/v1/pods");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 200);
}

TEST_F(KubernetesTestServerTest, RefusedConnectionsAndBackOnTheSamePort) {
  WatchStream watch(api_->url(), "/api/v1/pods?watch=true&resourceVersion=1");
  ASSERT_TRUE(WaitFor([&] { return api_->OpenWatches() == 1; }, kWatchWait));
  ASSERT_TRUE(api_->SetAvailable(
                      false, KubernetesTestServer::Outage::kConnectionRefused)
                  .ok());
  httplib::Error error;
  ASSERT_TRUE(watch.WaitEnd(&error));
  EXPECT_NE(error, httplib::Error::Success);
  httplib::Result result = Get("/api/v1/pods");
  EXPECT_FALSE(result);
  EXPECT_EQ(result.error(), httplib::Error::Connection);
  ASSERT_TRUE(api_->SetAvailable(true).ok());
  result = Get("/api/v1/pods");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 200);
}

TEST_F(KubernetesTestServerTest, BearerTokenIsRequiredWhenSet) {
  api_->SetBearerToken("s3cret");
  httplib::Result result = Get("/api/v1/pods");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 401);
  EXPECT_EQ(result->body, R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
                          R"("status":"Failure","message":"Unauthorized",)"
                          R"("reason":"Unauthorized","code":401})");
  result = Get("/api/v1/pods", {{"Authorization", "Bearer wrong"}});
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 401);
  result = Get("/api/v1/pods", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 200);
  // Rotation.
  api_->SetBearerToken("n3w");
  result = Get("/api/v1/pods", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 401);
  const std::vector<KubernetesTestServer::Request> requests = api_->Requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].status, 401);
  EXPECT_EQ(requests[0].authorization, "");
  EXPECT_EQ(requests[2].status, 200);
  EXPECT_EQ(requests[2].authorization, "Bearer s3cret");
}

TEST_F(KubernetesTestServerTest, ExtraHandlersAnswerTheirPath) {
  api_->Handle(
      "POST", "/apis/authentication.k8s.io/v1/tokenreviews",
      [](const KubernetesTestServer::Request& request, absl::string_view body) {
        KubernetesTestServer::Reply reply;
        reply.status = 201;
        reply.body = absl::StrCat(R"({"echo":)", body.size(), "}");
        return reply;
      });
  httplib::Client client(api_->url());
  httplib::Result result = client.Post(
      "/apis/authentication.k8s.io/v1/tokenreviews", "{}", "application/json");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 201);
  EXPECT_EQ(result->body, R"({"echo":2})");
}

TEST(KubernetesTestServerTlsTest, ServesHttpsWithTheTestCa) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  absl::StatusOr<TestCertificates> certs = GenerateTestCertificates(
      absl::StrCat(tmp == nullptr ? "/tmp" : tmp, "/kubernetes-pki"));
  ASSERT_TRUE(certs.ok()) << certs.status();
  KubernetesTestServer::Options options;
  options.cert_file = certs->server_cert_file;
  options.key_file = certs->server_key_file;
  options.url_host = "localhost";  // The name the test certificate is for.
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> server =
      KubernetesTestServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_EQ((*server)->url(),
            absl::StrCat("https://localhost:", (*server)->port()));
  ASSERT_TRUE((*server)->Create(Pod("a", "p")).ok());

  httplib::Client client((*server)->url());
  client.set_ca_cert_path(certs->ca_file);
  client.enable_server_certificate_verification(true);
  client.set_hostname_addr_map({{"localhost", "127.0.0.1"}});
  httplib::Result result = client.Get("/api/v1/pods");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 200);
  EXPECT_THAT(ItemNames(ParseJson(result->body)), ElementsAre("a/p"));

  WatchStream watch((*server)->url(),
                    "/api/v1/pods?watch=true&resourceVersion=0", {},
                    certs->ca_file);
  EXPECT_THAT(watch.Next(), HasSubstr(R"({"type":"ADDED")"));
}

// Opens `n` pod watches on `server` and waits until it has them all.
std::vector<std::unique_ptr<WatchStream>> OpenWatches(
    const KubernetesTestServer& server, int n) {
  std::vector<std::unique_ptr<WatchStream>> watches;
  for (int i = 0; i < n; ++i) {
    watches.push_back(std::make_unique<WatchStream>(
        server.url(), "/api/v1/pods?watch=true&resourceVersion=1"));
  }
  EXPECT_TRUE(WaitFor([&] { return server.OpenWatches() == n; }, kWatchWait));
  return watches;
}

TEST(KubernetesTestServerLifetimeTest, DestructorCutsOpenWatches) {
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> server =
      KubernetesTestServer::Start({});
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::unique_ptr<WatchStream>> watches = OpenWatches(**server, 3);
  ASSERT_EQ((*server)->OpenWatches(), 3);
  server->reset();
  for (const auto& watch : watches) {
    httplib::Error error;
    ASSERT_TRUE(watch->WaitEnd(&error));
    EXPECT_NE(error, httplib::Error::Success);
  }
}

TEST(KubernetesTestServerLoadTest, SixtyFourWatchesDoNotStarveAList) {
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> server =
      KubernetesTestServer::Start({});
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::unique_ptr<WatchStream>> watches = OpenWatches(**server, 64);
  KubernetesTestServer* raw = server->get();
  ASSERT_EQ(raw->OpenWatches(), 64);
  httplib::Client client(raw->url());
  client.set_read_timeout(20, 0);
  httplib::Result result = client.Get("/api/v1/pods");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->status, 200);
  ASSERT_TRUE(raw->Create(Pod("a", "p")).ok());
  for (const auto& watch : watches) {
    EXPECT_THAT(watch->Next(), HasSubstr(R"({"type":"ADDED")"));
  }
}

}  // namespace
}  // namespace fedgate
