// scraper/discovery/kubernetes_test_server.h
//
// A Kubernetes API server (v1.26) on 127.0.0.1 for the tests of
// kubernetes_sd_configs, as there is no real one on the test machines. It
// serves what Prometheus 2.42's Kubernetes discovery reads, with the JSON,
// status codes and semantics of the real API server:
//
//   GET /version
//   GET /api/v1/{pods,services,endpoints,nodes}[/NAME]
//   GET /api/v1/namespaces/NS/{pods,services,endpoints}[/NAME]
//   GET /apis/discovery.k8s.io/{v1,v1beta1}/[namespaces/NS/]endpointslices
//   GET /apis/networking.k8s.io/{v1,v1beta1}/[namespaces/NS/]ingresses
//
// Lists take labelSelector (every operator), fieldSelector (the field labels
// v1.26 supports per kind; others answer 400), limit and continue (etcd's
// paging, continue tokens included), resourceVersion and
// resourceVersionMatch. Watches (watch=true) stream one JSON event per line
// in chunks: synthetic ADDED events for resourceVersion "" or "0", a replay
// of the history after resourceVersion N otherwise (ERROR 410 when N is
// older than the compaction point), BOOKMARK events when asked for, and an
// end after timeoutSeconds. A label or field selector turns a MODIFIED event
// into ADDED or DELETED when the object enters or leaves it, as the watch
// cache does. Errors are Status objects with the real codes and messages.
//
// What differs from a real server, on purpose: objects are written by the
// test through Create/Update/Apply/Delete (no validation beyond kind,
// apiVersion, name and namespace, and no defaulting: a field the test leaves
// out, such as spec.restartPolicy, is absent and selects as ""; a given
// metadata.resourceVersion is ignored, never a conflict); a list with
// resourceVersion N and no limit answers at once (the real cache waits up to
// three seconds for a newer N before its 504); answers are gzip-compressed only
// when they are lists over 128 KiB and the client accepts gzip, as the real
// server does, never brotli.
//
// Called by scraper/discovery tests (and the discovery end-to-end tests);
// test code only.
//
// Thread-safety: thread-safe. The methods may be called from any thread
// while requests are served on the server's own threads.

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "scraper/test_certificates.h"

namespace httplib {
struct Request;
struct Response;
class Server;
}  // namespace httplib

namespace fedgate {

class KubernetesTestServer {
 public:
  struct Options {
    // HTTPS when both are set (PEM files, e.g. GenerateTestCertificates()
    // from scraper/test_certificates.h); HTTP otherwise.
    std::string cert_file;
    std::string key_file;
    // The host url() names: "127.0.0.1", or "localhost" for certificates
    // made for that name. The server listens on 127.0.0.1 either way.
    std::string url_host = "127.0.0.1";
    // When not empty, every request needs `Authorization: Bearer <token>`
    // and gets 401 Unauthorized (a Status) otherwise.
    std::string bearer_token;
    // GET /version; major and minor are taken from git_version
    // ("v1.26.0" → "1", "26").
    std::string git_version = "v1.26.0";
    std::string git_commit = "b46a3f887ca979b1a5d14fd39cb1af43e7e5d12d";
    std::string build_date = "2022-12-08T19:51:45Z";
    std::string go_version = "go1.19.4";
  };

  // What SetAvailable(false) does.
  enum class Outage {
    // Every new request gets 503 ServiceUnavailable (a Status); open watches
    // go on.
    kServiceUnavailable,
    // The listening socket is closed (connections are refused) and every
    // open connection is cut, watches included; SetAvailable(true) listens
    // on the same port again.
    kConnectionRefused,
  };

  // One request as received, in arrival order.
  struct Request {
    std::string method;
    std::string path;
    std::string query;  // The raw query string, still percent-encoded.
    bool watch = false;
    // The HTTP status answered; 200 for a watch once its stream started; 0
    // while the answer is not decided yet.
    int status = 0;
    std::string authorization;  // The Authorization header, or "".
  };

  // The answer of an extra handler (see Handle()).
  struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
  };
  using Handler =
      std::function<Reply(const Request& request, absl::string_view body)>;

  // Listens on 127.0.0.1 port 0 and starts serving. InvalidArgument when
  // the certificate or key cannot be loaded.
  static absl::StatusOr<std::unique_ptr<KubernetesTestServer>> Start(
      Options options);
  // Starts a server as a pod's in-cluster configuration reaches it: over
  // HTTPS with the server certificate of `certs` (made for "localhost", which
  // url() names), wanting the service account's `bearer_token`.
  static absl::StatusOr<std::unique_ptr<KubernetesTestServer>> StartInCluster(
      const TestCertificates& certs, std::string bearer_token);
  // Cuts every open watch, stops the server and joins all its threads: a
  // second at most for idle keep-alive connections (the keep-alive timeout).
  ~KubernetesTestServer();

  KubernetesTestServer(const KubernetesTestServer&) = delete;
  KubernetesTestServer& operator=(const KubernetesTestServer&) = delete;

  // Returns "http://HOST:PORT" or "https://HOST:PORT" (HOST is
  // Options::url_host).
  std::string url() const;
  int port() const { return port_; }

  // Replaces the bearer token every request needs ("" for none).
  void SetBearerToken(std::string token) ABSL_LOCKS_EXCLUDED(mu_);

  // Writes an object: a full JSON object with apiVersion, kind, metadata
  // (name; namespace unless the kind is Node) and whatever else the test
  // wants served (spec, status, subsets, endpoints...). The kind is one of
  // Pod, Service, Endpoints, Node (apiVersion v1), EndpointSlice
  // (discovery.k8s.io/v1 or v1beta1), Ingress (networking.k8s.io/v1 or
  // v1beta1); the object is served under its apiVersion only. Every write
  // takes the next global resourceVersion (as etcd's revision) and sets
  // metadata.resourceVersion; metadata.uid and creationTimestamp are filled
  // when missing (an update keeps the stored ones). Open watches that select
  // the object get the event. InvalidArgument for bad JSON or an unknown
  // kind; AlreadyExists / NotFound as the names say.
  absl::Status Create(absl::string_view json) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Update(absl::string_view json) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Apply(absl::string_view json) ABSL_LOCKS_EXCLUDED(mu_);
  // Deletes an object (`ns` is "" for nodes); watches get DELETED with its
  // last state and the new resourceVersion. NotFound if absent.
  absl::Status Delete(absl::string_view kind, absl::string_view ns,
                      absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns the current (latest) resourceVersion.
  uint64_t ResourceVersion() const ABSL_LOCKS_EXCLUDED(mu_);

  // Compacts the history at the current resourceVersion C: every open watch
  // gets an ERROR event, a 410 Expired Status with the message
  // "too old resource version: X (C)" (X: the last resourceVersion it sent,
  // or asked for), and its stream ends; afterwards a watch from a
  // resourceVersion older than C gets that ERROR at once, and a list at an
  // exact resourceVersion or continue token older than C gets 410.
  void ExpireWatches() ABSL_LOCKS_EXCLUDED(mu_);
  // Cuts every open watch stream: the connection is closed without the
  // final chunk.
  void DropWatches() ABSL_LOCKS_EXCLUDED(mu_);
  // Sends a BOOKMARK event with the current resourceVersion to every open
  // watch that asked for them (allowWatchBookmarks=true).
  void SendBookmarks() ABSL_LOCKS_EXCLUDED(mu_);
  // Makes the server unavailable in the way `outage` says, or available
  // again. Fails only when the port cannot be bound again after
  // Outage::kConnectionRefused.
  absl::Status SetAvailable(bool available,
                            Outage outage = Outage::kServiceUnavailable)
      ABSL_LOCKS_EXCLUDED(mu_, listener_mu_);

  // Answers `method` requests for exactly `path` with `handler` (after the
  // availability and bearer token checks; before the built-in paths), for
  // APIs this server lacks (e.g. TokenReview). Called on server threads.
  void Handle(std::string method, std::string path, Handler handler)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Returns every request received so far, in arrival order.
  std::vector<Request> Requests() const ABSL_LOCKS_EXCLUDED(mu_);
  // Returns the number of watch streams open now.
  int OpenWatches() const ABSL_LOCKS_EXCLUDED(mu_);

  // Internal types: defined in kubernetes_test_server_objects.h (what is
  // stored) and kubernetes_test_server.cc (serving).
  struct Resource;
  struct StoredObject;
  struct Event;
  struct Watch;
  struct ListParams;
  struct Answer;

 private:
  explicit KubernetesTestServer(Options options);

  // Binds 127.0.0.1:port_ (port_ 0: any) and starts the listening thread.
  absl::Status Listen() ABSL_EXCLUSIVE_LOCKS_REQUIRED(listener_mu_);
  // Cuts the watches, stops the server and joins its threads.
  void StopListening() ABSL_EXCLUSIVE_LOCKS_REQUIRED(listener_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  void CutWatches() ABSL_LOCKS_EXCLUDED(mu_);

  // Every request goes through here.
  void Serve(const httplib::Request& req, httplib::Response& res)
      ABSL_LOCKS_EXCLUDED(mu_);
  void SetStatus(size_t index, int status) ABSL_LOCKS_EXCLUDED(mu_);
  Answer ServeResource(const httplib::Request& req, const Resource& resource,
                       absl::string_view ns, absl::string_view name,
                       size_t index, httplib::Response& res)
      ABSL_LOCKS_EXCLUDED(mu_);
  Answer List(const Resource& resource, const ListParams& params)
      ABSL_LOCKS_EXCLUDED(mu_);
  void StartWatch(const Resource& resource, const ListParams& params,
                  httplib::Response& res) ABSL_LOCKS_EXCLUDED(mu_);
  void EndWatch(const std::shared_ptr<Watch>& watch) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Status Write(absl::string_view json, bool create, bool update)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Appends an event to the history and hands it to the open watches.
  void Publish(Event event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The objects of `kind` as of `rv` (the current ones when rv is the
  // current resourceVersion), by etcd key (NS/NAME or NAME).
  std::map<std::string, std::shared_ptr<const StoredObject>> StateAt(
      absl::string_view kind, uint64_t rv) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  int port_ = 0;  // Set by the first Listen(), then constant.

  // Serializes starting and stopping the listener. Never held by server
  // threads, so stopping (which joins them) cannot wait on itself.
  absl::Mutex listener_mu_;
  std::unique_ptr<httplib::Server> server_ ABSL_GUARDED_BY(listener_mu_);
  std::thread listener_ ABSL_GUARDED_BY(listener_mu_);

  mutable absl::Mutex mu_;
  std::string bearer_token_ ABSL_GUARDED_BY(mu_);
  bool available_ ABSL_GUARDED_BY(mu_) = true;
  uint64_t resource_version_ ABSL_GUARDED_BY(mu_) = 1;
  // The compaction point: nothing older is served.
  uint64_t compacted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t uid_counter_ ABSL_GUARDED_BY(mu_) = 0;
  // Current objects: kind → etcd key (NS/NAME, or NAME for nodes) → object.
  std::map<std::string,
           std::map<std::string, std::shared_ptr<const StoredObject>>>
      objects_ ABSL_GUARDED_BY(mu_);
  // Every write since the start, oldest first.
  std::vector<std::shared_ptr<const Event>> history_ ABSL_GUARDED_BY(mu_);
  std::set<std::shared_ptr<Watch>> watches_ ABSL_GUARDED_BY(mu_);
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Handler> handlers_ ABSL_GUARDED_BY(mu_);
};

// A GoogleTest fixture whose tests talk to `api_`, a KubernetesTestServer
// with the default Options (plain HTTP, no token) started by SetUp. A fixture
// that derives from it and sets up more calls this SetUp first and returns on
// HasFatalFailure().
class KubernetesTestServerFixture : public ::testing::Test {
 protected:
  void SetUp() override;

  std::unique_ptr<KubernetesTestServer> api_;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_H_
