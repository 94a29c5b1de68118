// gateway/response_compression.h
//
// Streaming gzip / deflate (zlib format, as Go's compress/zlib and
// Prometheus's CompressionHandler write it) of an HTTP answer, chunk by
// chunk, so that a compressed /federate answer of any size needs only the
// zlib state (about 256 KiB) and one output chunk in memory. fedgate does
// this itself instead of leaving it to cpp-httplib, which would pick
// encodings Prometheus never picks (`br`, `gzip;q=0`).
//
// Level: zlib level 1 (Z_BEST_SPEED). Prometheus uses Go's default level
// (6); level 1 costs about a third of the CPU for answers about 10-15%
// larger, which is the better trade for a gateway whose answers are
// hundreds of MB of highly repetitive text.
//
// Read hot path: one call per 64 KiB of answer.
//
// Thread-safety: thread-compatible; one compressor per response.

#ifndef FEDGATE_GATEWAY_RESPONSE_COMPRESSION_H_
#define FEDGATE_GATEWAY_RESPONSE_COMPRESSION_H_

#include <zlib.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/content_negotiation.h"
#include "gateway/response_body.h"

namespace fedgate {

class ResponseCompressor {
 public:
  // Creates a compressor for `encoding` (kGzip or kDeflate). Fails with
  // InvalidArgument for kIdentity and Internal when zlib cannot start.
  static absl::StatusOr<std::unique_ptr<ResponseCompressor>> Create(
      ContentEncoding encoding, int level = Z_BEST_SPEED);
  ~ResponseCompressor();
  ResponseCompressor(const ResponseCompressor&) = delete;
  ResponseCompressor& operator=(const ResponseCompressor&) = delete;

  // Compresses `input` and appends what zlib emitted to `out` (zlib keeps
  // back up to one block until later calls).
  void Compress(absl::string_view input, std::string* out);
  // Appends the end of the stream (remaining data and the trailer). Call
  // once, last.
  void Finish(std::string* out);

 private:
  ResponseCompressor() = default;
  void Run(absl::string_view input, int flush, std::string* out);

  z_stream stream_{};
  bool initialized_ = false;
};

// Returns `body` compressed by `compressor`, piece by piece: each piece
// holds what zlib emitted for one or more pieces of `body`.
BodyChunks CompressedBody(BodyChunks body,
                          std::unique_ptr<ResponseCompressor> compressor);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_RESPONSE_COMPRESSION_H_
