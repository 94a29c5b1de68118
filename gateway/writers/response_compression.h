// gateway/writers/response_compression.h
//
// Streaming gzip / deflate (zlib format, as Go's compress/zlib and
// Prometheus's CompressionHandler write it) of an HTTP answer, chunk by
// chunk, so that a compressed /federate answer of any size needs only the
// zlib state (about 256 KiB) and one output chunk in memory. fedgate does
// this itself instead of leaving it to cpp-httplib, which would pick
// encodings Prometheus never picks (`br`, `gzip;q=0`).
//
// Level: zlib's level 6 by default (--web.compression-level), the level of
// Go's gzip.DefaultCompression that Prometheus's CompressionHandler uses:
// federation often crosses zones or clusters where bytes cost money, and
// level 1 sent answers up to twice Prometheus's size (699,267 bytes against
// 350,238 for 39,287 series). CPU per answer of the 1,005,000-series text
// dump of bench/federate_bench.cc (317.5 MB; 576 ms without compression):
//   level 1: 1,035 ms,  9.73 MB on the wire;
//   level 6: 1,691 ms,  8.18 MB (1.63x level 1's CPU);
//   level 9: 3,033 ms,  6.44 MB.
//   bazel run -c opt //bench:federate_bench --
//       --benchmark_filter=GzipLevel --benchmark_counters_tabular=true
// Against the real Prometheus 2.42 (tests/federate_prometheus_test.cc,
// 20,013 series): Prometheus 154,045 bytes, fedgate 153,488 at level 6
// (OpenMetrics, what an upstream gets), 177,783 at level 1.
//
// Read hot path: one call per 64 KiB of answer.
//
// Thread-safety: thread-compatible; one compressor per response.

#ifndef FEDGATE_GATEWAY_WRITERS_RESPONSE_COMPRESSION_H_
#define FEDGATE_GATEWAY_WRITERS_RESPONSE_COMPRESSION_H_

#include <zlib.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/writers/content_negotiation.h"
#include "gateway/writers/response_body.h"

namespace fedgate {

// Go's compress/flate DefaultCompression, which is zlib's level 6.
inline constexpr int kDefaultCompressionLevel = 6;

class ResponseCompressor {
 public:
  // Creates a compressor for `encoding` (kGzip or kDeflate) at zlib `level`
  // (1, fastest, to 9, smallest). Fails with InvalidArgument for kIdentity
  // or a level outside 1-9, and Internal when zlib cannot start.
  static absl::StatusOr<std::unique_ptr<ResponseCompressor>> Create(
      ContentEncoding encoding, int level = kDefaultCompressionLevel);
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

#endif  // FEDGATE_GATEWAY_WRITERS_RESPONSE_COMPRESSION_H_
