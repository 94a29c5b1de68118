// gateway/test_raw_connection.h
//
// Test-only: a raw TCP client connection to 127.0.0.1, for tests of the HTTP
// server that decide byte by byte what is sent and when the answer is read
// (slow readers, answers in progress at shutdown, cut connections). Its
// receive buffer is fixed at 64 KiB, so what the test does not read stays
// with the server.
//
// Thread-safety: one thread at a time.

#ifndef FEDGATE_GATEWAY_TEST_RAW_CONNECTION_H_
#define FEDGATE_GATEWAY_TEST_RAW_CONNECTION_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace fedgate {

class RawConnection {
 public:
  // Connects to 127.0.0.1:`port`; ok() tells whether it did.
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  // The socket, for a test that speaks another protocol over it (a TLS
  // handshake); the connection keeps owning it.
  int fd() const { return fd_; }
  // Sends all of `data`; false when the peer closed or reset.
  bool Send(absl::string_view data);
  // Reads into `*out` (appending) until it contains `marker`, the peer
  // closes, or `timeout` passes without data; returns whether it does.
  bool ReadUntil(absl::string_view marker, absl::Duration timeout,
                 std::string* out);
  // The same, returning what was read.
  std::string ReadUntil(absl::string_view marker, int timeout_ms);
  // Reads until the peer closes or `timeout_ms` passes without data.
  // Returns what was read; `closed` tells whether the peer closed.
  std::string ReadUntilClosed(int timeout_ms, bool* closed);

 private:
  int fd_ = -1;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_TEST_RAW_CONNECTION_H_
