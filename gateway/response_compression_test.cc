#include "gateway/response_compression.h"

#include <zlib.h>

#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

// Inflates `data` with `window_bits` (31: gzip only, 15: zlib only).
std::string Inflate(const std::string& data, int window_bits) {
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, window_bits), Z_OK);
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  std::string out;
  int rc = Z_OK;
  while (rc == Z_OK) {
    char buf[16384];
    s.next_out = reinterpret_cast<Bytef*>(buf);
    s.avail_out = sizeof(buf);
    rc = inflate(&s, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - s.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&s);
  return out;
}

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
      {"Deflate", ContentEncoding::kDeflate, 15, 0x78, 0x01},
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
