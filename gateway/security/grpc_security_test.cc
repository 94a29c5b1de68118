#include "gateway/security/grpc_security.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gateway/security/test_web_configs.h"
#include "gtest/gtest.h"
#include "proto/health.grpc.pb.h"
#include "scraper/discovery/test_sd_files.h"
#include "scraper/test_certificates.h"

namespace fedgate {
namespace {

// A gRPC server with only the health service, on the credentials of the
// web config written in `dir`.
class GrpcSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(SharedTestPkis().ok()) << SharedTestPkis().status();
  }

  static const TestCertificates& certs() { return SharedTestPkis()->server; }
  static const TestCertificates& other() { return SharedTestPkis()->other; }

  void Start(const std::string& dir, const std::string& yaml) {
    WriteTestFile(dir + "/web.yml", yaml);
    absl::StatusOr<std::unique_ptr<WebSecurity>> security =
        WebSecurity::Create(dir + "/web.yml");
    ASSERT_TRUE(security.ok()) << security.status();
    security_ = *std::move(security);
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(
        "127.0.0.1:0", GrpcServerCredentials(*security_->Current()), &port_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // Calls Health.Check over TLS trusting `ca_file`, with a client
  // certificate when given; returns the call's code.
  grpc::StatusCode HealthCheck(const std::string& ca_file,
                               const std::string& cert_file = "",
                               const std::string& key_file = "") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadTestFile(ca_file);
    if (!cert_file.empty()) {
      ssl.pem_cert_chain = ReadTestFile(cert_file);
      ssl.pem_private_key = ReadTestFile(key_file);
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_),
                                             grpc::SslCredentials(ssl), args);
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&context, request, &response).error_code();
  }

  std::unique_ptr<WebSecurity> security_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(GrpcSecurityTest, ServesTlsWithTheWebConfigCertificate) {
  Start(NewTestDir("grpc_tls"), TlsServerConfigYaml(certs()));
  EXPECT_EQ(HealthCheck(certs().ca_file), grpc::StatusCode::OK);
  EXPECT_EQ(HealthCheck(other().ca_file), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcSecurityTest, RequireAndVerifyClientCertMapsToGrpc) {
  Start(NewTestDir("grpc_mtls"), MutualTlsServerConfigYaml(certs()));
  EXPECT_EQ(HealthCheck(certs().ca_file, certs().client_cert_file,
                        certs().client_key_file),
            grpc::StatusCode::OK);
  EXPECT_EQ(HealthCheck(certs().ca_file), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(HealthCheck(certs().ca_file, other().client_cert_file,
                        other().client_key_file),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcSecurityTest, CertificateChangedOnDiskServesNewConnections) {
  const std::string dir = NewTestDir("grpc_rotation");
  absl::StatusOr<RotatingTestCertificates> certs =
      GenerateRotatingTestCertificates(dir);
  ASSERT_TRUE(certs.ok()) << certs.status();
  Start(dir,
        "tls_server_config:\n  cert_file: server.crt\n"
        "  key_file: server.key\n");
  EXPECT_EQ(HealthCheck(certs->first.ca_file), grpc::StatusCode::OK);
  RotateTestCertificates(*certs);
  // gRPC re-reads the files every second; 10 s at most.
  bool rotated = false;
  for (int i = 0; i < 100 && !rotated; ++i) {
    rotated = HealthCheck(certs->second.ca_file) == grpc::StatusCode::OK;
    if (!rotated) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(rotated);
}

TEST(GrpcCredentialsCheckTest, TokenInAuthorizationMetadata) {
  const std::string dir = NewTestDir("grpc_token");
  WriteTestFile(dir + "/a.token", "token-a\n");
  WriteTestFile(dir + "/web.yml",
                "authentication:\n  bearer_token_files: [a.token]\n");
  absl::StatusOr<std::unique_ptr<WebSecurity>> security =
      WebSecurity::Create(dir + "/web.yml");
  ASSERT_TRUE(security.ok()) << security.status();
  const std::string right = "Bearer token-a";
  const std::string wrong = "Bearer token-b";
  std::multimap<grpc::string_ref, grpc::string_ref> metadata;
  EXPECT_EQ(
      CheckGrpcCredentials(**security, metadata, "/fedgate.v1.Fedgate/Series")
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  metadata.emplace("authorization", wrong);
  grpc::Status denied =
      CheckGrpcCredentials(**security, metadata, "/fedgate.v1.Fedgate/Series");
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(denied.error_message(), "Unauthorized");
  metadata.clear();
  metadata.emplace("authorization", right);
  EXPECT_TRUE(
      CheckGrpcCredentials(**security, metadata, "/fedgate.v1.Fedgate/Series")
          .ok());
}

TEST(GrpcCredentialsCheckTest, BasicAuthInAuthorizationMetadata) {
  const std::string dir = NewTestDir("grpc_basic");
  WriteTestFile(
      dir + "/web.yml",
      "basic_auth_users:\n  dave: "
      "$2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq\n");
  absl::StatusOr<std::unique_ptr<WebSecurity>> security =
      WebSecurity::Create(dir + "/web.yml");
  ASSERT_TRUE(security.ok()) << security.status();
  const std::string right =
      absl::StrCat("Basic ", absl::Base64Escape("dave:dave123"));
  std::multimap<grpc::string_ref, grpc::string_ref> metadata;
  metadata.emplace("authorization", right);
  EXPECT_TRUE(
      CheckGrpcCredentials(**security, metadata, "/fedgate.v1.Fedgate/Series")
          .ok());
}

}  // namespace
}  // namespace fedgate
