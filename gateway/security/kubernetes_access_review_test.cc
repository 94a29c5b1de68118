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
#include "bazel/rapidjson.h"
#include "gateway/security/test_review_api.h"
#include "gtest/gtest.h"
#include "scraper/discovery/kubernetes_test_server.h"

namespace fedgate {
namespace {

constexpr absl::string_view kAccessReviews =
    "/apis/authorization.k8s.io/v1/subjectaccessreviews";

class KubernetesAccessReviewTest : public KubernetesTestServerFixture {
 protected:
  void SetUp() override {
    KubernetesTestServerFixture::SetUp();
    if (HasFatalFailure()) return;
    reviews_ = std::make_unique<TestReviewApi>(*api_);
    reviews_->AddToken("prom-token", "monitoring/prometheus");
    reviews_->AddToken("other-token", "default/other");
    reviews_->Allow(
        {"system:serviceaccount:monitoring:prometheus", "get", "/federate"});
    reviews_->Allow(
        {"system:serviceaccount:monitoring:prometheus", "get", "/api/v1/*"});
  }

  KubernetesAccessReviewOptions Options() const {
    KubernetesAccessReviewOptions options;
    options.server.url = api_->url();
    return options;
  }

  size_t Posts() const {
    size_t n = 0;
    for (const auto& r : api_->Requests()) n += r.method == "POST";
    return n;
  }

  std::unique_ptr<TestReviewApi> reviews_;
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
  options.times.token_cache_ttl = absl::Milliseconds(400);
  options.times.allowed_cache_ttl = absl::Milliseconds(400);
  options.times.denied_cache_ttl = absl::Milliseconds(400);
  options.times.rejected_cache_ttl = absl::Milliseconds(400);
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
  ASSERT_TRUE(api_->SetAvailable(false).ok());
  AccessReview r = reviewer.Review("prom-token", "GET", "/federate");
  EXPECT_EQ(r.decision, AccessDecision::kUnavailable);
  EXPECT_TRUE(absl::StartsWith(r.reason,
                               "TokenReview failed: "
                               "server returned HTTP status 503"))
      << r.reason;
  // Not cached: the API back, the next request is served.
  ASSERT_TRUE(api_->SetAvailable(true).ok());
  EXPECT_EQ(reviewer.Review("prom-token", "GET", "/federate").decision,
            AccessDecision::kAllowed);

  // Nothing listening at all.
  KubernetesAccessReviewOptions options;
  options.server.url = "http://127.0.0.1:1";
  options.times.timeout = absl::Seconds(5);
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
  api_->Handle("POST", std::string(kAccessReviews),
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
