#include "gateway/security/grpc_security.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <string>

#include "gateway/logger.h"

namespace fedgate {
namespace {

grpc_ssl_client_certificate_request_type RequestType(ClientAuthType type) {
  switch (type) {
    case ClientAuthType::kNoClientCert:
      return GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
    case ClientAuthType::kRequestClientCert:
      return GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY;
    case ClientAuthType::kRequireAnyClientCert:
      return GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY;
    case ClientAuthType::kVerifyClientCertIfGiven:
      return GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    case ClientAuthType::kRequireAndVerifyClientCert:
      return GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(
    const WebSecurityState& state) {
  if (state.tls == nullptr) return grpc::InsecureServerCredentials();
  const WebTlsConfig& tls = state.config.tls;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  if (tls.client_ca_file.empty()) {
    provider =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            tls.key_file, tls.cert_file, kGrpcCertificateRefreshSeconds);
  } else {
    provider =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            tls.key_file, tls.cert_file, tls.client_ca_file,
            kGrpcCertificateRefreshSeconds);
  }
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!tls.client_ca_file.empty()) options.watch_root_certs();
  options.set_cert_request_type(RequestType(tls.client_auth_type));
  return grpc::experimental::TlsServerCredentials(options);
}

grpc::Status CheckGrpcCredentials(
    WebSecurity& security,
    const std::multimap<grpc::string_ref, grpc::string_ref>& client_metadata,
    absl::string_view method) {
  std::string authorization;
  if (auto it = client_metadata.find("authorization");
      it != client_metadata.end()) {
    authorization.assign(it->second.data(), it->second.size());
  }
  const WebAccessDecision decision =
      security.Decide(authorization, "POST", method);
  switch (decision.access) {
    case WebAccess::kAllowed:
      return grpc::Status::OK;
    case WebAccess::kUnauthorized:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "Unauthorized");
    case WebAccess::kForbidden:
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "Forbidden");
    case WebAccess::kUnavailable:
      Log(LogLevel::kWarn, "Cannot check a call's credentials",
          {{"method", std::string(method)}, {"err", decision.reason}});
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "the credentials cannot be checked now");
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "Unauthorized");
}

}  // namespace fedgate
