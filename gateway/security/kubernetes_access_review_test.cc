#include "gateway/security/kubernetes_access_review.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "scraper/discovery/kubernetes_test_server.h"

namespace fedgate {
namespace {

constexpr absl::string_view kTokenReviews =
    "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr absl::string_view kAccessReviews =
    "/apis/authorization.k8s.io/v1/subjectaccessreviews";

// The reviews of a Kubernetes 1.26 API server, with the shapes it answers:
// tokens of known service accounts, and RBAC rules on non-resource URLs
// (`/api/v1/*` covers what it prefixes, as in RBAC).
class ReviewApi {
 public:
  struct Rule {
    std::string user;
    std::string verb;
    std::string url;
  };

  explicit ReviewApi(KubernetesTestServer& server) {
    server.Handle("POST", std::string(kTokenReviews),
                  [this](const KubernetesTestServer::Request&,
                         absl::string_view body) { return TokenReview(body); });
    server.Handle(
        "POST", std::string(kAccessReviews),
        [this](const KubernetesTestServer::Request&, absl::string_view body) {
          return AccessReview(body);
        });
  }

  void AddToken(std::string token, std::string service_account,
                std::string audience = "https://kubernetes.default.svc") {
    absl::MutexLock lock(&mu_);
    tokens_[std::move(token)] = {std::move(service_account),
                                 std::move(audience)};
  }
  void Allow(Rule rule) {
    absl::MutexLock lock(&mu_);
    rules_.push_back(std::move(rule));
  }
  std::vector<std::string> AccessReviewBodies() const {
    absl::MutexLock lock(&mu_);
    return access_bodies_;
  }

 private:
  static KubernetesTestServer::Reply Created(std::string body) {
    KubernetesTestServer::Reply reply;
    reply.status = 201;
    reply.body = std::move(body);
    return reply;
  }

  KubernetesTestServer::Reply TokenReview(absl::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    const std::string token = doc["spec"]["token"].GetString();
    std::string wanted_audience;
    if (doc["spec"].HasMember("audiences")) {
      wanted_audience = doc["spec"]["audiences"][0].GetString();
    }
    absl::MutexLock lock(&mu_);
    auto it = tokens_.find(token);
    if (it == tokens_.end() ||
        (!wanted_audience.empty() && wanted_audience != it->second.second)) {
      return Created(
          R"({"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1",)"
          R"("metadata":{"creationTimestamp":null},"spec":{"token":"<hidden>"},)"
          R"("status":{"user":{},"error":"[invalid bearer token, )"
          R"(service account token has been invalidated]"}})");
    }
    const std::string& sa = it->second.first;  // namespace/name
    const std::string ns = sa.substr(0, sa.find('/'));
    const std::string name = sa.substr(sa.find('/') + 1);
    return Created(absl::StrCat(
        R"({"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1",)"
        R"("metadata":{"creationTimestamp":null},"spec":{"token":"<hidden>"},)"
        R"("status":{"authenticated":true,"user":{"username":)"
        R"("system:serviceaccount:)",
        ns, ":", name, R"(","uid":"uid-)", name,
        R"(","groups":["system:serviceaccounts","system:serviceaccounts:)", ns,
        R"(","system:authenticated"],"extra":{)"
        R"("authentication.kubernetes.io/pod-name":[")",
        name, R"(-0"]}},"audiences":[")", it->second.second, R"("]}})"));
  }

  KubernetesTestServer::Reply AccessReview(absl::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    const rapidjson::Value& spec = doc["spec"];
    const std::string user = spec["user"].GetString();
    const std::string path = spec["nonResourceAttributes"]["path"].GetString();
    const std::string verb = spec["nonResourceAttributes"]["verb"].GetString();
    absl::MutexLock lock(&mu_);
    access_bodies_.emplace_back(body);
    for (const Rule& r : rules_) {
      const bool url =
          r.url == path ||
          (absl::EndsWith(r.url, "*") &&
           absl::StartsWith(path, r.url.substr(0, r.url.size() - 1)));
      if (r.user == user && (r.verb == verb || r.verb == "*") && url) {
        return Created(
            R"({"kind":"SubjectAccessReview","apiVersion":)"
            R"("authorization.k8s.io/v1","metadata":{"creationTimestamp":)"
            R"(null},"status":{"allowed":true,"reason":"RBAC: allowed by )"
            R"(ClusterRoleBinding \"fedgate-readers\""}})");
      }
    }
    return Created(
        R"({"kind":"SubjectAccessReview","apiVersion":)"
        R"("authorization.k8s.io/v1","metadata":{"creationTimestamp":null},)"
        R"("status":{"allowed":false}})");
  }

  mutable absl::Mutex mu_;
  // token → (namespace/name, audience)
  std::map<std::string, std::pair<std::string, std::string>> tokens_
      ABSL_GUARDED_BY(mu_);
  std::vector<Rule> rules_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> access_bodies_ ABSL_GUARDED_BY(mu_);
};

class KubernetesAccessReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<KubernetesTestServer>> server =
        KubernetesTestServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    reviews_ = std::make_unique<ReviewApi>(*server_);
    reviews_->AddToken("prom-token", "monitoring/prometheus");
    reviews_->AddToken("other-token", "default/other");
    reviews_->Allow(
        {"system:serviceaccount:monitoring:prometheus", "get", "/federate"});
    reviews_->Allow(
        {"system:serviceaccount:monitoring:prometheus", "get", "/api/v1/*"});
  }

  KubernetesAccessReviewOptions Options() const {
    KubernetesAccessReviewOptions options;
    options.server.url = server_->url();
    return options;
  }

  size_t Posts() const {
    size_t n = 0;
    for (const auto& r : server_->Requests()) n += r.method == "POST";
    return n;
  }

  std::unique_ptr<KubernetesTestServer> server_;
  std::unique_ptr<ReviewApi> reviews_;
};

TEST_F(KubernetesAccessReviewTest, AllowsWhatRbacGrants) {
  KubernetesAccessReviewer reviewer(Options());
  AccessReview r = reviewer.Review("prom-token", "GET", "/federate");
  EXPECT_EQ(r.decision, AccessDecision::kAllowed) << r.reason;
  EXPECT_EQ(r.user, "system:serviceaccount:monitoring:prometheus");
  r = reviewer.Review("prom-token", "GET", "/api/v1/series");
  EXPECT_EQ(r.decision, AccessDecision::kAllowed) << r.reason;

  // The SubjectAccessReview carries the user as the TokenReview named it.
  const std::vector<std::string> bodies = reviews_->AccessReviewBodies();
  ASSERT_EQ(bodies.size(), 2u);
  rapidjson::Document sar;
  sar.Parse(bodies[0].c_str());
  ASSERT_FALSE(sar.HasParseError());
  EXPECT_STREQ(sar["kind"].GetString(), "SubjectAccessReview");
  const rapidjson::Value& spec = sar["spec"];
  EXPECT_STREQ(spec["nonResourceAttributes"]["path"].GetString(), "/federate");
  EXPECT_STREQ(spec["nonResourceAttributes"]["verb"].GetString(), "get");
  EXPECT_STREQ(spec["uid"].GetString(), "uid-prometheus");
  ASSERT_EQ(spec["groups"].Size(), 3u);
  EXPECT_STREQ(spec["groups"][1].GetString(),
               "system:serviceaccounts:monitoring");
  EXPECT_STREQ(
      spec["extra"]["authentication.kubernetes.io/pod-name"][0].GetString(),
      "prometheus-0");
}

TEST_F(KubernetesAccessReviewTest, RefusesUnknownTokensAndUngrantedAccess) {
  KubernetesAccessReviewer reviewer(Options());
  AccessReview r = reviewer.Review("", "GET", "/federate");
  EXPECT_EQ(r.decision, AccessDecision::kUnauthenticated);
  EXPECT_EQ(Posts(), 0u);

  r = reviewer.Review("stolen-token", "GET", "/federate");
  EXPECT_EQ(r.decision, AccessDecision::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(r.reason, "invalid bearer token")) << r.reason;
  EXPECT_FALSE(absl::StrContains(r.reason, "stolen-token"));

  // Authenticated, but not granted: another path, another verb, another
  // user.
  r = reviewer.Review("prom-token", "GET", "/metrics");
  EXPECT_EQ(r.decision, AccessDecision::kForbidden);
  EXPECT_EQ(r.reason,
            "user \"system:serviceaccount:monitoring:prometheus\" "
            "may not get /metrics");
  EXPECT_EQ(reviewer.Review("prom-token", "POST", "/federate").decision,
            AccessDecision::kForbidden);
  EXPECT_EQ(reviewer.Review("other-token", "GET", "/federate").decision,
            AccessDecision::kForbidden);
}

TEST_F(KubernetesAccessReviewTest, AnswersAreCachedForTheirTime) {
  KubernetesAccessReviewOptions options = Options();
  options.authenticated_ttl = absl::Milliseconds(400);
  options.allowed_ttl = absl::Milliseconds(400);
  options.denied_ttl = absl::Milliseconds(400);
  options.unauthenticated_ttl = absl::Milliseconds(400);
  KubernetesAccessReviewer reviewer(options);
  const absl::Time start = absl::Now();
  ASSERT_EQ(reviewer.Review("prom-token", "GET", "/federate").decision,
            AccessDecision::kAllowed);
  ASSERT_EQ(reviewer.Review("bad", "GET", "/federate").decision,
            AccessDecision::kUnauthenticated);
  ASSERT_EQ(reviewer.Review("prom-token", "GET", "/metrics").decision,
            AccessDecision::kForbidden);
  const size_t posts = Posts();
  EXPECT_EQ(posts, 4u);  // 2 TokenReviews, 2 SubjectAccessReviews.
  for (int i = 0; i < 10; ++i) {
    reviewer.Review("prom-token", "GET", "/federate");
    reviewer.Review("bad", "GET", "/federate");
    reviewer.Review("prom-token", "GET", "/metrics");
  }
  if (absl::Now() - start < absl::Milliseconds(350)) {
    EXPECT_EQ(Posts(), posts);  // Within the TTLs, nothing is asked again.
  }
  // A grant made meanwhile shows once the denial expired.
  reviews_->Allow(
      {"system:serviceaccount:monitoring:prometheus", "get", "/metrics"});
  absl::SleepFor(absl::Milliseconds(450));
  EXPECT_EQ(reviewer.Review("prom-token", "GET", "/metrics").decision,
            AccessDecision::kAllowed);
  EXPECT_GT(Posts(), posts);
}

TEST_F(KubernetesAccessReviewTest, AnApiThatCannotAnswerNeverGrants) {
  KubernetesAccessReviewer reviewer(Options());
  ASSERT_TRUE(server_->SetAvailable(false).ok());
  AccessReview r = reviewer.Review("prom-token", "GET", "/federate");
  EXPECT_EQ(r.decision, AccessDecision::kUnavailable);
  EXPECT_TRUE(absl::StartsWith(r.reason,
                               "TokenReview failed: "
                               "server returned HTTP status 503"))
      << r.reason;
  // Not cached: the API back, the next request is served.
  ASSERT_TRUE(server_->SetAvailable(true).ok());
  EXPECT_EQ(reviewer.Review("prom-token", "GET", "/federate").decision,
            AccessDecision::kAllowed);

  // Nothing listening at all.
  KubernetesAccessReviewOptions options;
  options.server.url = "http://127.0.0.1:1";
  options.timeout = absl::Seconds(5);
  KubernetesAccessReviewer unreachable(options);
  r = unreachable.Review("prom-token", "GET", "/federate");
  EXPECT_EQ(r.decision, AccessDecision::kUnavailable);
  EXPECT_TRUE(absl::StrContains(r.reason, "Post \"http://127.0.0.1:1"))
      << r.reason;
  EXPECT_FALSE(absl::StrContains(r.reason, "prom-token"));
}

TEST_F(KubernetesAccessReviewTest,
       ReviewsThatFedgateMayNotCreateAreUnavailable) {
  // fedgate's ServiceAccount without `create` on subjectaccessreviews.
  server_->Handle("POST", std::string(kAccessReviews),
                  [](const KubernetesTestServer::Request&, absl::string_view) {
                    KubernetesTestServer::Reply reply;
                    reply.status = 403;
                    reply.body =
                        R"({"kind":"Status","apiVersion":"v1","status":)"
                        R"("Failure","message":"subjectaccessreviews.)"
                        R"(authorization.k8s.io is forbidden: User \")"
                        R"(system:serviceaccount:monitoring:fedgate\" cannot )"
                        R"(create resource \"subjectaccessreviews\"",)"
                        R"("reason":"Forbidden","code":403})";
                    return reply;
                  });
  KubernetesAccessReviewer reviewer(Options());
  AccessReview r = reviewer.Review("prom-token", "GET", "/federate");
  EXPECT_EQ(r.decision, AccessDecision::kUnavailable);
  EXPECT_TRUE(absl::StrContains(
      r.reason,
      "SubjectAccessReview failed: server returned HTTP status 403: "
      "subjectaccessreviews.authorization.k8s.io is forbidden"))
      << r.reason;
}

TEST_F(KubernetesAccessReviewTest, AudiencesMustMatch) {
  reviews_->AddToken("vault-token", "monitoring/prometheus", "vault");
  KubernetesAccessReviewOptions options = Options();
  options.audiences = {"fedgate"};
  reviews_->AddToken("fedgate-token", "monitoring/prometheus", "fedgate");
  KubernetesAccessReviewer reviewer(options);
  EXPECT_EQ(reviewer.Review("vault-token", "GET", "/federate").decision,
            AccessDecision::kUnauthenticated);
  EXPECT_EQ(reviewer.Review("fedgate-token", "GET", "/federate").decision,
            AccessDecision::kAllowed);
}

TEST_F(KubernetesAccessReviewTest, ManyThreadsReviewAtOnce) {
  KubernetesAccessReviewer reviewer(Options());
  std::atomic<int> allowed{0}, forbidden{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const bool good = (t + i) % 2 == 0;
        AccessReview r = reviewer.Review(good ? "prom-token" : "other-token",
                                         "GET", "/federate");
        (r.decision == AccessDecision::kAllowed ? allowed : forbidden)++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 60);
  EXPECT_EQ(forbidden.load(), 60);
}

TEST(KubernetesAccessReviewVerbTest, VerbsAsKubeRbacProxyMapsThem) {
  EXPECT_EQ(KubernetesAccessReviewer::VerbOf("GET"), "get");
  EXPECT_EQ(KubernetesAccessReviewer::VerbOf("POST"), "create");
  EXPECT_EQ(KubernetesAccessReviewer::VerbOf("PUT"), "update");
  EXPECT_EQ(KubernetesAccessReviewer::VerbOf("PATCH"), "patch");
  EXPECT_EQ(KubernetesAccessReviewer::VerbOf("DELETE"), "delete");
  EXPECT_EQ(KubernetesAccessReviewer::VerbOf("HEAD"), "*");
  EXPECT_EQ(KubernetesAccessReviewer::VerbOf("OPTIONS"), "*");
}

}  // namespace
}  // namespace fedgate
