// gateway/security/test_review_api.h
//
// Test-only: the TokenReview and SubjectAccessReview APIs of a Kubernetes
// 1.26 API server, answered on a KubernetesTestServer with the shapes the
// real one answers: tokens of known service accounts (with their
// audience), and RBAC rules on non-resource URLs (`/api/v1/*` covers what
// it prefixes, as in RBAC). For the access review tests and the
// end-to-end tests of `authentication.kubernetes`.
//
// Thread-safety: thread-safe; the server calls it on its threads.

#ifndef FEDGATE_GATEWAY_SECURITY_TEST_REVIEW_API_H_
#define FEDGATE_GATEWAY_SECURITY_TEST_REVIEW_API_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "bazel/rapidjson.h"
#include "scraper/discovery/kubernetes_test_server.h"

namespace fedgate {

class TestReviewApi {
 public:
  struct Rule {
    std::string user;
    std::string verb;
    std::string url;
  };

  explicit TestReviewApi(KubernetesTestServer& server) {
    server.Handle("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                  [this](const KubernetesTestServer::Request&,
                         absl::string_view body) { return TokenReview(body); });
    server.Handle(
        "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
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

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_SECURITY_TEST_REVIEW_API_H_
