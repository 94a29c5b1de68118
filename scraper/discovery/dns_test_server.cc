#include "scraper/discovery/dns_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace fedgate {
namespace {

void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

void PutName(std::string* out, const std::string& name) {
  for (absl::string_view label : absl::StrSplit(name, '.', absl::SkipEmpty())) {
    out->push_back(static_cast<char>(label.size()));
    out->append(label.data(), label.size());
  }
  out->push_back('\0');
}

// Appends a resource record for the question's name (a pointer to offset 12).
void PutRecord(std::string* out, uint16_t type, const std::string& rdata) {
  Put16(out, 0xc00c);
  Put16(out, type);
  Put16(out, 1);  // IN
  Put16(out, 0);
  Put16(out, 60);  // TTL
  Put16(out, static_cast<uint16_t>(rdata.size()));
  out->append(rdata);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DnsTestServer>> DnsTestServer::Start() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(strerror(errno));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::InternalError(strerror(errno));
  }
  std::unique_ptr<DnsTestServer> server(new DnsTestServer(fd));
  DnsTestServer* raw = server.get();
  server->thread_ = std::thread([raw] { raw->Run(); });
  return server;
}

DnsTestServer::DnsTestServer(int fd) : fd_(fd) {}

DnsTestServer::~DnsTestServer() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
  close(fd_);
}

std::string DnsTestServer::address() const {
  sockaddr_in addr = {};
  socklen_t len = sizeof(addr);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  return absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
}

void DnsTestServer::SetA(const std::string& name,
                         std::vector<std::string> ips) {
  absl::MutexLock lock(&mu_);
  a_[name] = std::move(ips);
}

void DnsTestServer::SetAaaa(const std::string& name,
                            std::vector<std::string> ips) {
  absl::MutexLock lock(&mu_);
  aaaa_[name] = std::move(ips);
}

void DnsTestServer::SetSrv(const std::string& name, std::vector<Srv> records) {
  absl::MutexLock lock(&mu_);
  srv_[name] = std::move(records);
}

void DnsTestServer::SetSilent(const std::string& name, bool silent) {
  absl::MutexLock lock(&mu_);
  silent_[name] = silent;
}

int DnsTestServer::queries() const {
  absl::MutexLock lock(&mu_);
  return queries_;
}

void DnsTestServer::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    char buffer[512];
    sockaddr_in from = {};
    socklen_t from_len = sizeof(from);
    const ssize_t n = recvfrom(fd_, buffer, sizeof(buffer), 0,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 12) continue;
    const std::string reply = Answer(std::string(buffer, n));
    if (reply.empty()) continue;
    sendto(fd_, reply.data(), reply.size(), 0,
           reinterpret_cast<sockaddr*>(&from), from_len);
  }
}

std::string DnsTestServer::Answer(const std::string& query) {
  // The question: labels from offset 12, then type and class.
  std::string name;
  size_t pos = 12;
  while (pos < query.size() && query[pos] != 0) {
    const size_t len = static_cast<unsigned char>(query[pos]);
    if (!name.empty()) name += '.';
    name += query.substr(pos + 1, len);
    pos += len + 1;
  }
  if (pos + 5 > query.size()) return "";
  const uint16_t qtype =
      static_cast<uint16_t>((static_cast<unsigned char>(query[pos + 1]) << 8) |
                            static_cast<unsigned char>(query[pos + 2]));
  const std::string question = query.substr(12, pos + 5 - 12);
  name = absl::AsciiStrToLower(name);

  absl::MutexLock lock(&mu_);
  ++queries_;
  if (silent_[name]) return "";
  std::vector<std::string> rdatas;
  const bool known =
      a_.count(name) > 0 || aaaa_.count(name) > 0 || srv_.count(name) > 0;
  if (qtype == 1 && a_.count(name) > 0) {
    for (const std::string& ip : a_[name]) {
      in_addr a;
      inet_pton(AF_INET, ip.c_str(), &a);
      rdatas.emplace_back(reinterpret_cast<const char*>(&a), 4);
    }
  } else if (qtype == 28 && aaaa_.count(name) > 0) {
    for (const std::string& ip : aaaa_[name]) {
      in6_addr a;
      inet_pton(AF_INET6, ip.c_str(), &a);
      rdatas.emplace_back(reinterpret_cast<const char*>(&a), 16);
    }
  } else if (qtype == 33 && srv_.count(name) > 0) {
    for (const Srv& srv : srv_[name]) {
      std::string rdata;
      Put16(&rdata, 10);  // Priority.
      Put16(&rdata, 5);   // Weight.
      Put16(&rdata, srv.port);
      PutName(&rdata, srv.target);
      rdatas.push_back(std::move(rdata));
    }
  }
  std::string reply;
  reply.append(query.substr(0, 2));  // ID.
  // QR, AA, RD copied; RA; RCODE 0 or 3 (NXDOMAIN).
  reply.push_back(static_cast<char>(0x84 | (query[2] & 0x01)));
  reply.push_back(static_cast<char>(0x80 | (known ? 0 : 3)));
  Put16(&reply, 1);
  Put16(&reply, static_cast<uint16_t>(rdatas.size()));
  Put16(&reply, 0);
  Put16(&reply, 0);
  reply.append(question);
  for (const std::string& rdata : rdatas) PutRecord(&reply, qtype, rdata);
  return reply;
}

}  // namespace fedgate
