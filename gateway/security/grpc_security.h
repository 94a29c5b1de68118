// gateway/security/grpc_security.h
//
// The web config (web_security.h) on the gRPC port: the same certificate,
// key and client certificate policy, served by gRPC's own TLS, and the same
// credential check, on the `authorization` metadata of each call of the
// fedgate.v1.Fedgate service (the health service stays open for probes).
// gRPC watches the certificate files itself (its FileWatcherCertificate
// Provider, every kGrpcCertificateRefresh), so renewed certificates serve
// new connections without a restart, as on HTTP; the file names and the
// client certificate policy are those of the start. gRPC keeps its own TLS
// versions and cipher suites (TLS 1.2 and 1.3): min_version, max_version,
// cipher_suites and curve_preferences apply to HTTP only.
//
// Called by Gateway at start (credentials) and by the gRPC threads on every
// call (the check; tokens cost microseconds, a basic auth cache miss runs
// bcrypt on the calling gRPC thread).
//
// Thread-safety: thread-safe.

#ifndef FEDGATE_GATEWAY_SECURITY_GRPC_SECURITY_H_
#define FEDGATE_GATEWAY_SECURITY_GRPC_SECURITY_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>

#include "gateway/security/web_security.h"

namespace fedgate {

// How often gRPC re-reads the certificate, key and client CA files.
inline constexpr unsigned int kGrpcCertificateRefreshSeconds = 1;

// Returns the credentials of the gRPC listener for `state`: TLS when the web
// config has TLS settings, else insecure.
std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(
    const WebSecurityState& state);

// Checks the `authorization` metadata of a call to `method` (its path,
// `/fedgate.v1.Fedgate/Federate`, which Kubernetes authorization reviews as
// the non-resource URL with verb `create`, a gRPC call being a POST): OK,
// UNAUTHENTICATED "Unauthorized", PERMISSION_DENIED "Forbidden", or
// UNAVAILABLE when the Kubernetes API server cannot say. May run bcrypt or
// a review's round trip.
grpc::Status CheckGrpcCredentials(
    WebSecurity& security,
    const std::multimap<grpc::string_ref, grpc::string_ref>& client_metadata,
    absl::string_view method);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_SECURITY_GRPC_SECURITY_H_
