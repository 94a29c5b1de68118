#include "gateway/security/kubernetes_access_review.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bazel/rapidjson.h"
#include "gateway/security/digest.h"

namespace fedgate {
namespace {

constexpr absl::string_view kTokenReviewPath =
    "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr absl::string_view kAccessReviewPath =
    "/apis/authorization.k8s.io/v1/subjectaccessreviews";

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(JsonWriter& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Opens a review object: `{"apiVersion":..,"kind":..,"spec":{`; the
// caller writes the spec and closes both objects.
void StartReview(JsonWriter& w, const char* api_version, const char* kind) {
  w.StartObject();
  w.Key("apiVersion");
  w.String(api_version);
  w.Key("kind");
  w.String(kind);
  w.Key("spec");
  w.StartObject();
}

// Returns the string member `key` of `object`, "" when absent or not one.
std::string StringMember(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return "";
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool BoolMember(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return false;
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::vector<std::string> StringArray(const rapidjson::Value& value) {
  std::vector<std::string> out;
  if (!value.IsArray()) return out;
  for (const rapidjson::Value& v : value.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

// Appends `s` to `key` so that no two sequences of strings give one key.
void AppendKeyPart(std::string* key, absl::string_view s) {
  absl::StrAppend(key, s.size(), ":", s, ";");
}

}  // namespace

KubernetesAccessReviewer::KubernetesAccessReviewer(
    KubernetesAccessReviewOptions options)
    : options_(std::move(options)),
      tokens_(options_.max_cached),
      accesses_(options_.max_cached) {
  salt_ = RandomBytes(32);
}

template <typename Entry>
std::optional<Entry> KubernetesAccessReviewer::AnswerCache<Entry>::Find(
    const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.expires <= absl::Now()) {
    return std::nullopt;
  }
  return it->second;
}

template <typename Entry>
void KubernetesAccessReviewer::AnswerCache<Entry>::Store(const std::string& key,
                                                         Entry entry) {
  absl::MutexLock lock(&mu_);
  if (entries_.size() >= max_ && !entries_.contains(key)) {
    const absl::Time now = absl::Now();
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.expires <= now) {
        entries_.erase(it++);
      } else {
        ++it;
      }
    }
    if (entries_.size() >= max_) entries_.erase(entries_.begin());
  }
  entries_[key] = std::move(entry);
}

absl::string_view KubernetesAccessReviewer::VerbOf(
    absl::string_view http_method) {
  if (http_method == "GET") return "get";
  if (http_method == "POST") return "create";
  if (http_method == "PUT") return "update";
  if (http_method == "PATCH") return "patch";
  if (http_method == "DELETE") return "delete";
  return "*";
}

std::string KubernetesAccessReviewer::TokenKey(absl::string_view token) const {
  return Sha256(absl::StrCat(salt_, token));
}

bool KubernetesAccessReviewer::PostReview(absl::string_view path,
                                          absl::string_view kind,
                                          const rapidjson::StringBuffer& review,
                                          rapidjson::Document* answer,
                                          std::string* unavailable) {
  std::unique_ptr<KubernetesApiClient> client;
  {
    absl::MutexLock lock(&mu_);
    if (!idle_clients_.empty()) {
      client = std::move(idle_clients_.back());
      idle_clients_.pop_back();
    }
  }
  if (client == nullptr) {
    client = std::make_unique<KubernetesApiClient>(options_.server);
  }
  absl::StatusOr<KubernetesResponse> r =
      client->Post(path, std::string(review.GetString(), review.GetSize()),
                   options_.times.timeout);
  {
    absl::MutexLock lock(&mu_);
    idle_clients_.push_back(std::move(client));
  }
  if (!r.ok()) {
    *unavailable = std::string(r.status().message());
    return false;
  }
  if (r->status != 200 && r->status != 201) {
    *unavailable = absl::StrCat("server returned HTTP status ", r->status, ": ",
                                KubernetesStatusMessage(r->body));
    return false;
  }
  answer->Parse<rapidjson::kParseIterativeFlag>(r->body.data(), r->body.size());
  if (answer->HasParseError() || !answer->IsObject() ||
      !answer->HasMember("status") || !(*answer)["status"].IsObject()) {
    *unavailable = absl::StrCat(kind, " answer without a status");
    return false;
  }
  return true;
}

KubernetesAccessReviewer::Authentication KubernetesAccessReviewer::ReviewToken(
    absl::string_view token, std::string* unavailable) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  StartReview(w, "authentication.k8s.io/v1", "TokenReview");
  w.Key("token");
  WriteString(w, token);
  if (!options_.audiences.empty()) {
    w.Key("audiences");
    w.StartArray();
    for (const std::string& a : options_.audiences) WriteString(w, a);
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  Authentication result;
  rapidjson::Document doc;
  if (!PostReview(kTokenReviewPath, "TokenReview", buffer, &doc, unavailable)) {
    return result;
  }
  const rapidjson::Value& status = doc["status"];
  result.error = StringMember(status, "error");
  if (!BoolMember(status, "authenticated")) return result;
  if (!options_.audiences.empty()) {
    // As the delegating authenticator: the token must be for one of ours.
    auto it = status.FindMember("audiences");
    const std::vector<std::string> granted = it == status.MemberEnd()
                                                 ? std::vector<std::string>()
                                                 : StringArray(it->value);
    bool ours = false;
    for (const std::string& a : granted) {
      ours = ours ||
             std::find(options_.audiences.begin(), options_.audiences.end(),
                       a) != options_.audiences.end();
    }
    if (!ours) {
      result.error = "token audiences do not match";
      return result;
    }
  }
  auto user = status.FindMember("user");
  if (user == status.MemberEnd() || !user->value.IsObject()) {
    result.error = "TokenReview answer without a user";
    return result;
  }
  result.authenticated = true;
  result.user.name = StringMember(user->value, "username");
  result.user.uid = StringMember(user->value, "uid");
  auto groups = user->value.FindMember("groups");
  if (groups != user->value.MemberEnd()) {
    result.user.groups = StringArray(groups->value);
  }
  auto extra = user->value.FindMember("extra");
  if (extra != user->value.MemberEnd() && extra->value.IsObject()) {
    for (auto it = extra->value.MemberBegin(); it != extra->value.MemberEnd();
         ++it) {
      result.user.extra.emplace_back(
          std::string(it->name.GetString(), it->name.GetStringLength()),
          StringArray(it->value));
    }
    std::sort(result.user.extra.begin(), result.user.extra.end());
  }
  return result;
}

KubernetesAccessReviewer::Authorization KubernetesAccessReviewer::ReviewAccess(
    const User& user, absl::string_view verb, absl::string_view path,
    std::string* unavailable) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  StartReview(w, "authorization.k8s.io/v1", "SubjectAccessReview");
  w.Key("nonResourceAttributes");
  w.StartObject();
  w.Key("path");
  WriteString(w, path);
  w.Key("verb");
  WriteString(w, verb);
  w.EndObject();
  w.Key("user");
  WriteString(w, user.name);
  if (!user.uid.empty()) {
    w.Key("uid");
    WriteString(w, user.uid);
  }
  w.Key("groups");
  w.StartArray();
  for (const std::string& g : user.groups) WriteString(w, g);
  w.EndArray();
  if (!user.extra.empty()) {
    w.Key("extra");
    w.StartObject();
    for (const auto& [key, values] : user.extra) {
      WriteString(w, key);
      w.StartArray();
      for (const std::string& v : values) WriteString(w, v);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  Authorization result;
  rapidjson::Document doc;
  if (!PostReview(kAccessReviewPath, "SubjectAccessReview", buffer, &doc,
                  unavailable)) {
    return result;
  }
  const rapidjson::Value& status = doc["status"];
  // `denied` wins over `allowed`; neither set means no opinion: denied.
  result.allowed =
      BoolMember(status, "allowed") && !BoolMember(status, "denied");
  result.reason = StringMember(status, "reason");
  const std::string error = StringMember(status, "evaluationError");
  if (!result.allowed && result.reason.empty()) result.reason = error;
  return result;
}

AccessReview KubernetesAccessReviewer::Review(absl::string_view token,
                                              absl::string_view http_method,
                                              absl::string_view path) {
  AccessReview review;
  if (token.empty()) {
    review.decision = AccessDecision::kUnauthenticated;
    review.reason = "no bearer token";
    return review;
  }
  const std::string token_key = TokenKey(token);
  std::optional<Authentication> authentication = tokens_.Find(token_key);
  if (!authentication.has_value()) {
    std::string unavailable;
    Authentication fresh = ReviewToken(token, &unavailable);
    if (!unavailable.empty()) {
      review.decision = AccessDecision::kUnavailable;
      review.reason = absl::StrCat("TokenReview failed: ", unavailable);
      return review;
    }
    fresh.expires =
        absl::Now() + (fresh.authenticated ? options_.times.token_cache_ttl
                                           : options_.times.rejected_cache_ttl);
    tokens_.Store(token_key, fresh);
    authentication = std::move(fresh);
  }
  if (!authentication->authenticated) {
    review.decision = AccessDecision::kUnauthenticated;
    review.reason = authentication->error.empty()
                        ? "the token is not authenticated"
                        : authentication->error;
    return review;
  }
  const User& user = authentication->user;
  review.user = user.name;
  const absl::string_view verb = VerbOf(http_method);
  std::string access_key;
  AppendKeyPart(&access_key, user.name);
  AppendKeyPart(&access_key, user.uid);
  for (const std::string& g : user.groups) AppendKeyPart(&access_key, g);
  AppendKeyPart(&access_key, "");
  for (const auto& [key, values] : user.extra) {
    AppendKeyPart(&access_key, key);
    for (const std::string& v : values) AppendKeyPart(&access_key, v);
    AppendKeyPart(&access_key, "");
  }
  AppendKeyPart(&access_key, verb);
  AppendKeyPart(&access_key, path);
  std::optional<Authorization> authorization = accesses_.Find(access_key);
  if (!authorization.has_value()) {
    std::string unavailable;
    Authorization fresh = ReviewAccess(user, verb, path, &unavailable);
    if (!unavailable.empty()) {
      review.decision = AccessDecision::kUnavailable;
      review.reason = absl::StrCat("SubjectAccessReview failed: ", unavailable);
      return review;
    }
    fresh.expires =
        absl::Now() + (fresh.allowed ? options_.times.allowed_cache_ttl
                                     : options_.times.denied_cache_ttl);
    accesses_.Store(access_key, fresh);
    authorization = std::move(fresh);
  }
  if (authorization->allowed) {
    review.decision = AccessDecision::kAllowed;
    return review;
  }
  review.decision = AccessDecision::kForbidden;
  review.reason =
      authorization->reason.empty()
          ? absl::StrCat("user \"", user.name, "\" may not ", verb, " ", path)
          : authorization->reason;
  return review;
}

}  // namespace fedgate
