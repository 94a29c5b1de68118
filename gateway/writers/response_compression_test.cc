#include "gateway/writers/response_compression.h"

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "scraper/test_bodies.h"

namespace fedgate {
namespace {

TEST(ResponseCompressionTest, ChunksRoundTripInBothFormats) {
  std::string input;
  for (int i = 0; i < 200000; ++i) {
    input += "up{instance=\"10.0.0." + std::to_string(i % 250) +
             ":9100\",job=\"node\"} 1 1700000000000\n";
  }
  struct Case {
    const char* name;
    ContentEncoding encoding;
    int window_bits;
    unsigned char magic0, magic1;
  };
  const Case kCases[] = {
      {"Gzip", ContentEncoding::kGzip, 31, 0x1f, 0x8b},
      // The zlib header of level 6, as Go's compress/zlib writes it.
      {"Deflate", ContentEncoding::kDeflate, 15, 0x78, 0x9c},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::unique_ptr<ResponseCompressor>> compressor =
        ResponseCompressor::Create(c.encoding);
    ASSERT_TRUE(compressor.ok()) << compressor.status();
    std::string out;
    size_t largest_piece = 0;
    for (size_t at = 0; at < input.size(); at += 65536) {
      std::string piece;
      (*compressor)
          ->Compress(absl::string_view(input).substr(at, 65536), &piece);
      largest_piece = std::max(largest_piece, piece.size());
      out += piece;
    }
    (*compressor)->Finish(&out);
    ASSERT_GE(out.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(out[0]), c.magic0);
    EXPECT_EQ(static_cast<unsigned char>(out[1]), c.magic1);
    EXPECT_LT(out.size(), input.size() / 5);
    // Streaming: no piece is larger than about one input chunk.
    EXPECT_LE(largest_piece, 70000u);
    EXPECT_EQ(Inflate(out, c.window_bits), input);
  }
}

// A federation answer's text: histogram buckets of many destinations.
std::string FederationText() {
  std::string text;
  uint64_t v = 1;
  for (int dst = 0; dst < 4000; ++dst) {
    for (const char* le : {"1", "5", "10", "50", "100", "500", "+Inf"}) {
      v = v * 6364136223846793005ULL + 1442695040888963407ULL;
      text += "response_latency_ms_bucket{authority=\"svc-" +
              std::to_string(dst) + ".ns-" + std::to_string(dst % 7) +
              ".svc.cluster.local:8080\",direction=\"outbound\",le=\"" + le +
              "\",instance=\"10.42.0.17:4191\",job=\"linkerd-proxy\"} " +
              std::to_string((v >> 40) % 100000) + " 1795630023016\n";
    }
  }
  return text;
}

// What Go's gzip.NewWriter (Prometheus's CompressionHandler) would send:
// zlib's level 6, in one call.
std::string GzipLevel6(const std::string& input) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&s, input.size()), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  s.avail_in = static_cast<uInt>(input.size());
  s.next_out = reinterpret_cast<Bytef*>(&out[0]);
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - s.avail_out);
  deflateEnd(&s);
  return out;
}

std::string CompressInPieces(ResponseCompressor& compressor,
                             const std::string& input) {
  std::string out;
  for (size_t at = 0; at < input.size(); at += 65536) {
    compressor.Compress(absl::string_view(input).substr(at, 65536), &out);
  }
  compressor.Finish(&out);
  return out;
}

TEST(ResponseCompressionTest, DefaultLevelIsAsSmallAsGosDefault) {
  const std::string input = FederationText();
  absl::StatusOr<std::unique_ptr<ResponseCompressor>> compressor =
      ResponseCompressor::Create(ContentEncoding::kGzip);
  ASSERT_TRUE(compressor.ok()) << compressor.status();
  const std::string out = CompressInPieces(**compressor, input);
  // Compressing piece by piece loses nothing against one call.
  EXPECT_EQ(out.size(), GzipLevel6(input).size());
  EXPECT_EQ(Inflate(out, 31), input);
}

TEST(ResponseCompressionTest, LevelTradesSizeForSpeed) {
  const std::string input = FederationText();
  absl::StatusOr<std::unique_ptr<ResponseCompressor>> fastest =
      ResponseCompressor::Create(ContentEncoding::kGzip, 1);
  ASSERT_TRUE(fastest.ok()) << fastest.status();
  absl::StatusOr<std::unique_ptr<ResponseCompressor>> smallest =
      ResponseCompressor::Create(ContentEncoding::kGzip, 9);
  ASSERT_TRUE(smallest.ok()) << smallest.status();
  const std::string level1 = CompressInPieces(**fastest, input);
  const std::string level9 = CompressInPieces(**smallest, input);
  EXPECT_GT(level1.size(), GzipLevel6(input).size());
  EXPECT_LE(level9.size(), GzipLevel6(input).size());
  EXPECT_EQ(Inflate(level1, 31), input);
  EXPECT_EQ(Inflate(level9, 31), input);
}

TEST(ResponseCompressionTest, RejectsLevelsOutsideOneToNine) {
  for (int level : {-1, 0, 10}) {
    SCOPED_TRACE(level);
    absl::StatusOr<std::unique_ptr<ResponseCompressor>> compressor =
        ResponseCompressor::Create(ContentEncoding::kGzip, level);
    ASSERT_FALSE(compressor.ok());
    EXPECT_EQ(compressor.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(compressor.status().message().find("is not in 1-9"),
              std::string::npos)
        << compressor.status();
  }
}

TEST(ResponseCompressionTest, EmptyAnswerIsAValidStream) {
  absl::StatusOr<std::unique_ptr<ResponseCompressor>> compressor =
      ResponseCompressor::Create(ContentEncoding::kGzip);
  ASSERT_TRUE(compressor.ok()) << compressor.status();
  std::string out;
  (*compressor)->Finish(&out);
  EXPECT_EQ(Inflate(out, 31), "");
}

TEST(ResponseCompressionTest, IdentityIsRejected) {
  absl::StatusOr<std::unique_ptr<ResponseCompressor>> compressor =
      ResponseCompressor::Create(ContentEncoding::kIdentity);
  EXPECT_EQ(compressor.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedgate
