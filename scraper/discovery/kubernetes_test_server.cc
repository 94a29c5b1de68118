#include "scraper/discovery/kubernetes_test_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "scraper/discovery/kubernetes_test_server_objects.h"
#include "scraper/discovery/kubernetes_test_server_selectors.h"

namespace fedgate {

// Server threads: each connection holds one for its whole life (a watch, or
// a keep-alive connection between requests), so 64 open watches leave 64
// threads for lists and everything else.
constexpr int kServerThreads = 128;
// Connections waiting for accept(): more than watches and lists open at once.
constexpr int kListenBacklog = 512;
// Idle keep-alive connections are closed after this many seconds: stopping
// the server waits for them.
constexpr int kKeepAliveSeconds = 1;
// How often an idle watch stream checks for its end and for a client gone.
constexpr absl::Duration kWatchPoll = absl::Milliseconds(100);
// The real server compresses lists from this size on (and nothing else).
constexpr size_t kGzipThresholdBytes = 128 * 1024;

struct KubernetesTestServer::Watch {
  enum class End { kNone, kClean, kCut };
  // Set before the watch is registered, then read-only.
  const Resource* resource = nullptr;
  std::string api_version;
  std::string ns;
  std::string name;
  std::vector<LabelRequirement> labels;
  std::vector<FieldRequirement> fields;
  bool bookmarks = false;
  absl::Time deadline = absl::InfiniteFuture();
  // Events up to this resourceVersion are not for this watch (one asked
  // from a resourceVersion newer than the current one).
  uint64_t from_rv = 0;

  absl::Mutex mu;
  absl::CondVar cv;
  std::deque<std::string> lines ABSL_GUARDED_BY(mu);
  End end ABSL_GUARDED_BY(mu) = End::kNone;
  uint64_t last_rv ABSL_GUARDED_BY(mu) = 0;
};

struct KubernetesTestServer::ListParams {
  std::string api_version;
  std::string ns;
  std::string name;  // A named GET (or watch of one object).
  std::vector<LabelRequirement> labels;
  std::vector<FieldRequirement> fields;
  bool has_selectors = false;
  int64_t limit = 0;
  std::string continue_token;
  std::string resource_version;
  std::string match;  // resourceVersionMatch
  bool watch = false;
  bool bookmarks = false;
  int64_t timeout_seconds = 0;
};

struct KubernetesTestServer::Answer {
  int status = 200;
  std::string body;
  bool is_list = false;    // May be gzip-compressed when large.
  bool streaming = false;  // A watch: the response is already set up.
};

namespace {

using Resource = KubernetesTestServer::Resource;
using StoredObject = KubernetesTestServer::StoredObject;
using Event = KubernetesTestServer::Event;
using Answer = KubernetesTestServer::Answer;

Answer StatusAnswer(int code, absl::string_view reason,
                    absl::string_view message, absl::string_view details = "",
                    absl::string_view list_meta = "") {
  Answer answer;
  answer.status = code;
  answer.body = KubernetesStatusJson(code, reason, message, details, list_meta);
  return answer;
}

Answer NotFoundPath() {
  return StatusAnswer(404, "NotFound",
                      "the server could not find the requested resource", "{}");
}

Answer BadRequest(absl::string_view message) {
  return StatusAnswer(400, "BadRequest", message);
}

Answer TooLargeResourceVersion(uint64_t asked, uint64_t current) {
  return StatusAnswer(
      504, "Timeout",
      absl::StrCat("Timeout: Too large resource version: ", asked,
                   ", current: ", current),
      R"({"causes":[{"reason":"ResourceVersionTooLarge",)"
      R"("message":"Too large resource version"}],"retryAfterSeconds":1})");
}

// Go's strconv.ParseBool as the API server's query decoding uses it: present
// and neither "0" nor "false" is true.
bool QueryBool(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return false;
  const std::string v = req.get_param_value(name);
  return v != "0" && !absl::EqualsIgnoreCase(v, "false");
}

bool IsBearer(absl::string_view header, absl::string_view token) {
  const std::vector<absl::string_view> parts =
      absl::StrSplit(header, absl::MaxSplits(' ', 2));
  return parts.size() >= 2 && absl::EqualsIgnoreCase(parts[0], "bearer") &&
         !parts[1].empty() && parts[1] == token;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KubernetesTestServer>>
KubernetesTestServer::Start(Options options) {
  std::unique_ptr<KubernetesTestServer> server(
      new KubernetesTestServer(std::move(options)));
  absl::MutexLock lock(&server->listener_mu_);
  if (absl::Status s = server->Listen(); !s.ok()) return s;
  return server;
}

absl::StatusOr<std::unique_ptr<KubernetesTestServer>>
KubernetesTestServer::StartInCluster(const TestCertificates& certs,
                                     std::string bearer_token) {
  Options options;
  options.cert_file = certs.server_cert_file;
  options.key_file = certs.server_key_file;
  options.url_host = "localhost";
  options.bearer_token = std::move(bearer_token);
  return Start(std::move(options));
}

KubernetesTestServer::KubernetesTestServer(Options options)
    : options_(std::move(options)), bearer_token_(options_.bearer_token) {}

KubernetesTestServer::~KubernetesTestServer() {
  absl::MutexLock lock(&listener_mu_);
  StopListening();
}

absl::Status KubernetesTestServer::Listen() {
  std::unique_ptr<httplib::Server> server;
  if (!options_.cert_file.empty() && !options_.key_file.empty()) {
    server = std::make_unique<httplib::SSLServer>(options_.cert_file.c_str(),
                                                  options_.key_file.c_str());
  } else {
    server = std::make_unique<httplib::Server>();
  }
  if (!server->is_valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load the certificate ", options_.cert_file,
                     " or the key ", options_.key_file));
  }
  server->new_task_queue = [] {
    return new httplib::ThreadPool(kServerThreads);
  };
  // httplib listens with a backlog of 5, so 64 watches connecting at once
  // would wait for SYN retransmissions (1 s, 3 s, 7 s...). Its socket
  // options hook sees the listening socket before bind(); a second listen()
  // after the bind widens the backlog.
  auto listen_fd = std::make_shared<int>(-1);
  server->set_socket_options([listen_fd](int fd) {
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listen_fd = fd;
  });
  server->set_keep_alive_max_count(1000000);
  server->set_keep_alive_timeout(kKeepAliveSeconds);
  const auto serve = [this](const httplib::Request& req,
                            httplib::Response& res) { Serve(req, res); };
  server->Get(".*", serve);
  server->Post(".*", serve);
  server->Put(".*", serve);
  server->Patch(".*", serve);
  server->Delete(".*", serve);
  if (port_ == 0) {
    const int port = server->bind_to_any_port("127.0.0.1");
    if (port <= 0) return absl::InternalError("cannot bind 127.0.0.1");
    port_ = port;
  } else if (!server->bind_to_port("127.0.0.1", port_)) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind 127.0.0.1:", port_, " again"));
  }
  if (*listen_fd >= 0) listen(*listen_fd, kListenBacklog);
  httplib::Server* raw = server.get();
  listener_ = std::thread([raw] { raw->listen_after_bind(); });
  // stop() is a no-op until the accept loop runs: wait for it (bounded).
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!raw->is_running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  server_ = std::move(server);
  if (!raw->is_running()) {
    StopListening();
    return absl::InternalError("the server did not start within 30 s");
  }
  return absl::OkStatus();
}

void KubernetesTestServer::StopListening() {
  if (server_ == nullptr) return;
  CutWatches();
  server_->stop();
  if (listener_.joinable()) listener_.join();
  server_.reset();
}

void KubernetesTestServer::CutWatches() {
  absl::MutexLock lock(&mu_);
  for (const std::shared_ptr<Watch>& watch : watches_) {
    absl::MutexLock watch_lock(&watch->mu);
    watch->end = Watch::End::kCut;
    watch->cv.SignalAll();
  }
}

std::string KubernetesTestServer::url() const {
  const bool https = !options_.cert_file.empty() && !options_.key_file.empty();
  return absl::StrCat(https ? "https://" : "http://", options_.url_host, ":",
                      port_);
}

void KubernetesTestServer::SetBearerToken(std::string token) {
  absl::MutexLock lock(&mu_);
  bearer_token_ = std::move(token);
}

absl::Status KubernetesTestServer::SetAvailable(bool available, Outage outage) {
  absl::MutexLock lock(&listener_mu_);
  if (!available && outage == Outage::kConnectionRefused) {
    StopListening();
    return absl::OkStatus();
  }
  {
    absl::MutexLock state_lock(&mu_);
    available_ = available;
  }
  if (available && server_ == nullptr) return Listen();
  return absl::OkStatus();
}

void KubernetesTestServer::Handle(std::string method, std::string path,
                                  Handler handler) {
  absl::MutexLock lock(&mu_);
  handlers_[absl::StrCat(method, " ", path)] = std::move(handler);
}

std::vector<KubernetesTestServer::Request> KubernetesTestServer::Requests()
    const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int KubernetesTestServer::OpenWatches() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(watches_.size());
}

uint64_t KubernetesTestServer::ResourceVersion() const {
  absl::MutexLock lock(&mu_);
  return resource_version_;
}

void KubernetesTestServer::SetStatus(size_t index, int status) {
  absl::MutexLock lock(&mu_);
  requests_[index].status = status;
}

// ---------------------------------------------------------------------------
// Writes.

absl::Status KubernetesTestServer::Create(absl::string_view json) {
  return Write(json, /*create=*/true, /*update=*/false);
}

absl::Status KubernetesTestServer::Update(absl::string_view json) {
  return Write(json, /*create=*/false, /*update=*/true);
}

absl::Status KubernetesTestServer::Apply(absl::string_view json) {
  return Write(json, /*create=*/true, /*update=*/true);
}

absl::Status KubernetesTestServer::Write(absl::string_view json, bool create,
                                         bool update) {
  absl::StatusOr<std::shared_ptr<StoredObject>> parsed =
      ParseKubernetesObject(json);
  if (!parsed.ok()) return parsed.status();
  std::shared_ptr<StoredObject> object = *std::move(parsed);
  const Resource& resource = *object->resource;

  absl::MutexLock lock(&mu_);
  auto& objects = objects_[resource.kind];
  const auto existing = objects.find(object->key);
  if (existing != objects.end() && !update) {
    return absl::AlreadyExistsError(
        absl::StrCat(KubernetesQualifiedResource(resource), " \"", object->name,
                     "\" already exists"));
  }
  if (existing == objects.end() && !create) {
    return absl::NotFoundError(
        absl::StrCat(KubernetesQualifiedResource(resource), " \"", object->name,
                     "\" not found"));
  }
  const std::shared_ptr<const StoredObject> previous =
      existing == objects.end() ? nullptr : existing->second;
  StoreKubernetesObject(++resource_version_, previous.get(), ++uid_counter_,
                        object.get());
  objects[object->key] = object;
  Event event;
  event.type =
      previous == nullptr ? Event::Type::kAdded : Event::Type::kModified;
  event.rv = object->rv;
  event.object = std::move(object);
  event.previous = previous;
  Publish(std::move(event));
  return absl::OkStatus();
}

absl::Status KubernetesTestServer::Delete(absl::string_view kind,
                                          absl::string_view ns,
                                          absl::string_view name) {
  const Resource* resource = KubernetesResourceByKind(kind);
  if (resource == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind \"", kind, "\" is not served"));
  }
  const std::string key =
      resource->namespaced ? absl::StrCat(ns, "/", name) : std::string(name);
  absl::MutexLock lock(&mu_);
  auto& objects = objects_[std::string(kind)];
  const auto it = objects.find(key);
  if (it == objects.end()) {
    return absl::NotFoundError(absl::StrCat(
        KubernetesQualifiedResource(*resource), " \"", name, "\" not found"));
  }
  Event event;
  event.type = Event::Type::kDeleted;
  event.rv = ++resource_version_;
  event.object = it->second;
  objects.erase(it);
  Publish(std::move(event));
  return absl::OkStatus();
}

namespace {

bool Selects(const KubernetesTestServer::Watch& w, const StoredObject& o) {
  return o.resource == w.resource && o.api_version == w.api_version &&
         (w.ns.empty() || o.ns == w.ns) &&
         (w.name.empty() || o.name == w.name) &&
         LabelsMatch(w.labels, o.labels) && FieldsMatch(w.fields, o.fields);
}

// The line `event` gives watch `w`, "" for none: an object that enters the
// selection is ADDED, one that leaves it DELETED (in its previous state), as
// the API server's watch cache reports them.
std::string LineFor(const KubernetesTestServer::Watch& w, const Event& e) {
  const bool now = Selects(w, *e.object);
  const bool before = e.previous != nullptr && Selects(w, *e.previous);
  switch (e.type) {
    case Event::Type::kAdded:
    case Event::Type::kDeleted:
      return now ? KubernetesEventLine(e.type, *e.object, e.rv) : "";
    case Event::Type::kModified:
      if (now) {
        return KubernetesEventLine(
            before ? Event::Type::kModified : Event::Type::kAdded, *e.object,
            e.rv);
      }
      return before
                 ? KubernetesEventLine(Event::Type::kDeleted, *e.previous, e.rv)
                 : "";
  }
  return "";
}

}  // namespace

void KubernetesTestServer::Publish(Event event) {
  auto shared = std::make_shared<const Event>(std::move(event));
  history_.push_back(shared);
  for (const std::shared_ptr<Watch>& watch : watches_) {
    if (shared->rv <= watch->from_rv) continue;
    std::string line = LineFor(*watch, *shared);
    absl::MutexLock lock(&watch->mu);
    if (watch->end != Watch::End::kNone) continue;
    watch->last_rv = shared->rv;
    if (line.empty()) continue;
    watch->lines.push_back(std::move(line));
    watch->cv.SignalAll();
  }
}

std::map<std::string, std::shared_ptr<const StoredObject>>
KubernetesTestServer::StateAt(absl::string_view kind, uint64_t rv) const {
  if (rv >= resource_version_) {
    const auto it = objects_.find(std::string(kind));
    if (it == objects_.end()) return {};
    return it->second;
  }
  std::map<std::string, std::shared_ptr<const StoredObject>> state;
  for (const std::shared_ptr<const Event>& e : history_) {
    if (e->rv > rv) break;
    if (e->object->resource->kind != kind) continue;
    if (e->type == Event::Type::kDeleted) {
      state.erase(e->object->key);
    } else {
      state[e->object->key] = e->object;
    }
  }
  return state;
}

// ---------------------------------------------------------------------------
// Faults.

void KubernetesTestServer::ExpireWatches() {
  absl::MutexLock lock(&mu_);
  compacted_ = resource_version_;
  for (const std::shared_ptr<Watch>& watch : watches_) {
    absl::MutexLock watch_lock(&watch->mu);
    if (watch->end != Watch::End::kNone) continue;
    watch->lines.push_back(KubernetesExpiredLine(watch->last_rv, compacted_));
    watch->end = Watch::End::kClean;
    watch->cv.SignalAll();
  }
}

void KubernetesTestServer::DropWatches() { CutWatches(); }

void KubernetesTestServer::SendBookmarks() {
  absl::MutexLock lock(&mu_);
  for (const std::shared_ptr<Watch>& watch : watches_) {
    if (!watch->bookmarks) continue;
    absl::MutexLock watch_lock(&watch->mu);
    if (watch->end != Watch::End::kNone) continue;
    watch->lines.push_back(KubernetesBookmarkLine(
        *watch->resource, watch->api_version, resource_version_));
    watch->last_rv = resource_version_;
    watch->cv.SignalAll();
  }
}

// ---------------------------------------------------------------------------
// Serving.

void KubernetesTestServer::Serve(const httplib::Request& req,
                                 httplib::Response& res) {
  Request logged;
  logged.method = req.method;
  logged.path = req.path;
  const size_t question = req.target.find('?');
  if (question != std::string::npos) {
    logged.query = req.target.substr(question + 1);
  }
  logged.watch = QueryBool(req, "watch");
  logged.authorization = req.get_header_value("Authorization");
  size_t index;
  bool available;
  std::string token;
  Handler handler;
  {
    absl::MutexLock lock(&mu_);
    index = requests_.size();
    requests_.push_back(logged);
    available = available_;
    token = bearer_token_;
    const auto it = handlers_.find(absl::StrCat(req.method, " ", req.path));
    if (it != handlers_.end()) handler = it->second;
  }
  // httplib compresses whatever the client accepts, and would hold watch
  // events in its compressor; the real server gzips only large lists. The
  // request is httplib's own non-const object, handed to handlers as const.
  auto& mutable_req = const_cast<httplib::Request&>(req);
  const std::string accept_encoding = req.get_header_value("Accept-Encoding");
  mutable_req.headers.erase("Accept-Encoding");

  Answer answer;
  if (!available) {
    answer = StatusAnswer(503, "ServiceUnavailable",
                          "the server is currently unable to handle the "
                          "request");
  } else if (!token.empty() && !IsBearer(logged.authorization, token)) {
    answer = StatusAnswer(401, "Unauthorized", "Unauthorized");
  } else if (handler) {
    const Reply reply = handler(logged, req.body);
    res.status = reply.status;
    res.set_content(reply.body, reply.content_type.c_str());
    SetStatus(index, reply.status);
    return;
  } else if (req.method != "GET") {
    answer = StatusAnswer(405, "MethodNotAllowed",
                          "the server does not allow this method on the "
                          "requested resource",
                          "{}");
  } else if (req.path == "/version") {
    const std::vector<std::string> numbers = absl::StrSplit(
        absl::StripPrefix(options_.git_version, "v"), absl::MaxSplits('.', 2));
    answer.body = absl::StrCat(
        R"({"major":)", KubernetesJsonString(numbers[0]), R"(,"minor":)",
        KubernetesJsonString(numbers.size() > 1 ? numbers[1] : ""),
        R"(,"gitVersion":)", KubernetesJsonString(options_.git_version),
        R"(,"gitCommit":)", KubernetesJsonString(options_.git_commit),
        R"(,"gitTreeState":"clean","buildDate":)",
        KubernetesJsonString(options_.build_date), R"(,"goVersion":)",
        KubernetesJsonString(options_.go_version),
        R"(,"compiler":"gc","platform":"linux/amd64"})");
  } else {
    // /api/v1/REST or /apis/GROUP/VERSION/REST; REST is [namespaces/NS/]
    // RESOURCE[/NAME].
    const std::vector<std::string> segments =
        absl::StrSplit(req.path, '/', absl::SkipEmpty());
    std::string group, version;
    size_t rest = 0;
    if (segments.size() >= 2 && segments[0] == "api") {
      version = segments[1];
      rest = 2;
    } else if (segments.size() >= 3 && segments[0] == "apis") {
      group = segments[1];
      version = segments[2];
      rest = 3;
    }
    std::string ns;
    if (rest > 0 && segments.size() >= rest + 3 &&
        segments[rest] == "namespaces") {
      ns = segments[rest + 1];
      rest += 2;
    }
    const Resource* resource = nullptr;
    if (rest > 0 && segments.size() > rest && segments.size() <= rest + 2) {
      for (const Resource& r : KubernetesTestResources()) {
        if (segments[rest] == r.plural && group == r.group &&
            std::find(r.versions.begin(), r.versions.end(), version) !=
                r.versions.end() &&
            (ns.empty() || r.namespaced)) {
          resource = &r;
        }
      }
    }
    const std::string name =
        segments.size() == rest + 2 ? segments[rest + 1] : "";
    if (resource == nullptr ||
        (!name.empty() && resource->namespaced && ns.empty())) {
      answer = NotFoundPath();
    } else {
      answer = ServeResource(req, *resource, ns, name, index, res);
      if (answer.streaming) return;
    }
  }
  if (answer.is_list && answer.body.size() >= kGzipThresholdBytes &&
      absl::StrContains(accept_encoding, "gzip")) {
    mutable_req.headers.emplace("Accept-Encoding", "gzip");
  }
  res.status = answer.status;
  res.set_content(answer.body, "application/json");
  SetStatus(index, answer.status);
}

KubernetesTestServer::Answer KubernetesTestServer::ServeResource(
    const httplib::Request& req, const Resource& resource, absl::string_view ns,
    absl::string_view name, size_t index, httplib::Response& res) {
  ListParams params;
  // The version: /api/VERSION/... or /apis/GROUP/VERSION/...
  {
    const std::vector<std::string> segments =
        absl::StrSplit(req.path, '/', absl::SkipEmpty());
    params.api_version = KubernetesApiVersion(
        resource, segments[0] == "api" ? segments[1] : segments[2]);
  }
  params.ns = std::string(ns);
  params.name = std::string(name);
  params.watch = QueryBool(req, "watch");
  params.bookmarks = QueryBool(req, "allowWatchBookmarks");
  absl::StatusOr<std::vector<LabelRequirement>> labels =
      ParseLabelSelector(req.get_param_value("labelSelector"));
  if (!labels.ok()) return BadRequest(labels.status().message());
  params.labels = *std::move(labels);
  absl::StatusOr<std::vector<FieldRequirement>> fields =
      ParseFieldSelector(req.get_param_value("fieldSelector"), resource.kind);
  if (!fields.ok()) return BadRequest(fields.status().message());
  params.fields = *std::move(fields);
  params.has_selectors = !params.labels.empty() || !params.fields.empty();
  for (const char* name : {"limit", "timeoutSeconds"}) {
    if (!req.has_param(name)) continue;
    int64_t value;
    if (!absl::SimpleAtoi(req.get_param_value(name), &value)) {
      return BadRequest(
          absl::StrCat("invalid ", name, ": ",
                       KubernetesJsonString(req.get_param_value(name))));
    }
    (absl::string_view(name) == "limit" ? params.limit
                                        : params.timeout_seconds) =
        std::max<int64_t>(value, 0);
  }
  params.continue_token = req.get_param_value("continue");
  params.resource_version = req.get_param_value("resourceVersion");
  params.match = req.get_param_value("resourceVersionMatch");
  if (!params.match.empty() && params.match != "Exact" &&
      params.match != "NotOlderThan") {
    return BadRequest(
        absl::StrCat("unknown ResourceVersionMatch value: ", params.match));
  }
  if (!params.resource_version.empty()) {
    uint64_t unused;
    if (!absl::SimpleAtoi(params.resource_version, &unused)) {
      return BadRequest(
          absl::StrCat("invalid resource version: ",
                       KubernetesJsonString(params.resource_version)));
    }
  }

  if (params.watch) {
    StartWatch(resource, params, res);
    SetStatus(index, 200);
    Answer answer;
    answer.streaming = true;
    return answer;
  }
  if (!params.name.empty()) {
    absl::MutexLock lock(&mu_);
    const auto kind = objects_.find(resource.kind);
    const std::string key =
        resource.namespaced ? absl::StrCat(ns, "/", name) : std::string(name);
    if (kind != objects_.end()) {
      const auto it = kind->second.find(key);
      if (it != kind->second.end() &&
          it->second->api_version == params.api_version) {
        Answer answer;
        answer.body = KubernetesObjectJson(*it->second, true, it->second->rv);
        return answer;
      }
    }
    std::string details =
        absl::StrCat(R"({"name":)", KubernetesJsonString(name));
    if (resource.group[0] != '\0') {
      absl::StrAppend(&details, R"(,"group":)",
                      KubernetesJsonString(resource.group));
    }
    absl::StrAppend(&details, R"(,"kind":)",
                    KubernetesJsonString(resource.plural), "}");
    return StatusAnswer(404, "NotFound",
                        absl::StrCat(KubernetesQualifiedResource(resource), " ",
                                     KubernetesJsonString(name), " not found"),
                        details);
  }
  return List(resource, params);
}

// A list as 1.26 serves it: from the watch cache (current state, no paging)
// for resourceVersion "0", or N without limit and not Exact; from etcd
// otherwise, at the exact N with a limit or Exact, with etcd's paging.
KubernetesTestServer::Answer KubernetesTestServer::List(
    const Resource& resource, const ListParams& params) {
  absl::MutexLock lock(&mu_);
  const uint64_t current = resource_version_;
  const std::string& rv_param = params.resource_version;
  uint64_t rv = 0;
  if (!rv_param.empty()) (void)absl::SimpleAtoi(rv_param, &rv);
  const std::string prefix =
      resource.namespaced && !params.ns.empty() ? params.ns + "/" : "";
  uint64_t at = current;
  bool paging = false;
  std::string start = prefix;
  if (!params.continue_token.empty()) {
    if (!rv_param.empty() && rv_param != "0") {
      return BadRequest(
          "specifying resource version is not allowed when using continue");
    }
    int64_t token_rv = 0;
    std::string token_start;
    if (absl::Status s = DecodeKubernetesContinueToken(params.continue_token,
                                                       &token_rv, &token_start);
        !s.ok()) {
      return BadRequest(s.message());
    }
    if (token_rv > 0 && static_cast<uint64_t>(token_rv) < compacted_) {
      return StatusAnswer(
          410, "Expired",
          "The provided continue parameter is too old to display a "
          "consistent list result. You can start a new list without the "
          "continue parameter, or use the continue token in this response to "
          "retrieve the remainder of the results. Continuing with the "
          "provided token results in an inconsistent list - objects that "
          "were created, modified, or deleted between the time the first "
          "chunk was returned and now may show up in the list.",
          "",
          absl::StrCat(
              R"("continue":)",
              KubernetesJsonString(KubernetesContinueToken(-1, token_start))));
    }
    if (token_rv > 0) at = static_cast<uint64_t>(token_rv);
    start = prefix + token_start;
    paging = params.limit > 0;
  } else if (rv_param == "0") {
    // The watch cache ignores limit.
  } else if (rv_param.empty()) {
    paging = params.limit > 0;
  } else if (rv > current) {
    return TooLargeResourceVersion(rv, current);
  } else if (params.match == "Exact" ||
             (params.match.empty() && params.limit > 0)) {
    if (rv < compacted_) {
      return StatusAnswer(
          410, "Expired",
          "The resourceVersion for the provided list is too old.");
    }
    at = rv;
    paging = params.limit > 0;
  } else {
    paging = params.match == "NotOlderThan" && params.limit > 0;
  }

  const auto state = StateAt(resource.kind, at);
  std::string items;
  int64_t count = 0;
  int64_t in_range = 0;
  bool more = false;
  std::string last_key;
  for (auto it = state.lower_bound(start);
       it != state.end() && absl::StartsWith(it->first, prefix); ++it) {
    ++in_range;
    if (more) continue;
    const StoredObject& o = *it->second;
    if (paging && count >= params.limit) {
      more = true;
      continue;
    }
    last_key = it->first;
    if (o.api_version != params.api_version ||
        !LabelsMatch(params.labels, o.labels) ||
        !FieldsMatch(params.fields, o.fields)) {
      continue;
    }
    if (count++ > 0) items += ",";
    items += KubernetesObjectJson(o, false, o.rv);
  }
  std::string list_meta = absl::StrCat(R"("resourceVersion":")", at, R"(")");
  if (more) {
    const std::string next =
        absl::StrCat(last_key.substr(prefix.size()), std::string(1, '\0'));
    absl::StrAppend(&list_meta, R"(,"continue":)",
                    KubernetesJsonString(KubernetesContinueToken(
                        static_cast<int64_t>(at), next)));
    if (!params.has_selectors) {
      absl::StrAppend(&list_meta, R"(,"remainingItemCount":)",
                      in_range - count);
    }
  }
  Answer answer;
  answer.is_list = true;
  answer.body =
      absl::StrCat(R"({"kind":")", resource.kind, R"(List","apiVersion":")",
                   params.api_version, R"(","metadata":{)", list_meta,
                   R"(},"items":[)", items, "]}");
  return answer;
}

void KubernetesTestServer::StartWatch(const Resource& resource,
                                      const ListParams& params,
                                      httplib::Response& res) {
  auto watch = std::make_shared<Watch>();
  watch->resource = &resource;
  watch->api_version = params.api_version;
  watch->ns = params.ns;
  watch->name = params.name;
  watch->labels = params.labels;
  watch->fields = params.fields;
  watch->bookmarks = params.bookmarks;
  if (params.timeout_seconds > 0) {
    watch->deadline = absl::Now() + absl::Seconds(params.timeout_seconds);
  }
  uint64_t rv = 0;
  if (!params.resource_version.empty()) {
    (void)absl::SimpleAtoi(params.resource_version, &rv);
  }
  watch->from_rv = rv;
  {
    absl::MutexLock lock(&mu_);
    absl::MutexLock watch_lock(&watch->mu);
    if (rv == 0) {
      // Synthetic ADDED events for the current state, then what follows.
      const auto kind = objects_.find(resource.kind);
      if (kind != objects_.end()) {
        for (const auto& [key, object] : kind->second) {
          if (Selects(*watch, *object)) {
            watch->lines.push_back(
                KubernetesEventLine(Event::Type::kAdded, *object, object->rv));
          }
        }
      }
      watch->last_rv = resource_version_;
    } else if (rv < compacted_) {
      watch->lines.push_back(KubernetesExpiredLine(rv, compacted_));
      watch->end = Watch::End::kClean;
    } else {
      watch->last_rv = rv;
      for (const std::shared_ptr<const Event>& e : history_) {
        if (e->rv <= rv) continue;
        std::string line = LineFor(*watch, *e);
        if (!line.empty()) watch->lines.push_back(std::move(line));
        watch->last_rv = e->rv;
      }
    }
    watches_.insert(watch);
  }
  res.status = 200;
  res.set_chunked_content_provider(
      "application/json",
      [watch](size_t /*offset*/, httplib::DataSink& sink) {
        std::deque<std::string> lines;
        Watch::End end;
        {
          absl::MutexLock lock(&watch->mu);
          const absl::Time wake =
              std::min(absl::Now() + kWatchPoll, watch->deadline);
          while (watch->lines.empty() && watch->end == Watch::End::kNone &&
                 absl::Now() < wake) {
            watch->cv.WaitWithDeadline(&watch->mu, wake);
          }
          lines.swap(watch->lines);
          end = watch->end;
        }
        for (const std::string& line : lines) {
          if (!sink.write(line.data(), line.size())) return false;
        }
        // Cut: close the connection without the final chunk.
        if (end == Watch::End::kCut) return false;
        if (end == Watch::End::kClean || absl::Now() >= watch->deadline) {
          sink.done();
          return true;
        }
        // A client that went away ends the watch, as the real server's
        // request context does.
        return sink.is_writable();
      },
      [this, watch](bool /*success*/) { EndWatch(watch); });
}

void KubernetesTestServer::EndWatch(const std::shared_ptr<Watch>& watch) {
  absl::MutexLock lock(&mu_);
  watches_.erase(watch);
}

void KubernetesTestServerFixture::SetUp() {
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> api =
      KubernetesTestServer::Start({});
  ASSERT_TRUE(api.ok()) << api.status();
  api_ = *std::move(api);
}

}  // namespace fedgate
