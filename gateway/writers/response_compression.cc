#include "gateway/writers/response_compression.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace fedgate {

absl::StatusOr<std::unique_ptr<ResponseCompressor>> ResponseCompressor::Create(
    ContentEncoding encoding, int level) {
  if (encoding == ContentEncoding::kIdentity) {
    return absl::InvalidArgumentError("no compression requested");
  }
  if (level < 1 || level > 9) {
    return absl::InvalidArgumentError(
        absl::StrCat("compression level ", level, " is not in 1-9"));
  }
  std::unique_ptr<ResponseCompressor> compressor(new ResponseCompressor());
  // windowBits 15 + 16 writes a gzip header and trailer; 15 alone the zlib
  // format that HTTP calls "deflate".
  const int window_bits = encoding == ContentEncoding::kGzip ? 15 + 16 : 15;
  if (deflateInit2(&compressor->stream_, level, Z_DEFLATED, window_bits,
                   /*memLevel=*/8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("zlib deflateInit2 failed");
  }
  compressor->initialized_ = true;
  return compressor;
}

ResponseCompressor::~ResponseCompressor() {
  if (initialized_) deflateEnd(&stream_);
}

void ResponseCompressor::Run(absl::string_view input, int flush,
                             std::string* out) {
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream_.avail_in = static_cast<uInt>(input.size());
  do {
    const size_t room =
        std::max<size_t>(deflateBound(&stream_, stream_.avail_in), 4096);
    const size_t old_size = out->size();
    out->resize(old_size + room);
    stream_.next_out = reinterpret_cast<Bytef*>(&(*out)[old_size]);
    stream_.avail_out = static_cast<uInt>(room);
    deflate(&stream_, flush);
    out->resize(old_size + room - stream_.avail_out);
  } while (stream_.avail_out == 0 || stream_.avail_in > 0);
}

void ResponseCompressor::Compress(absl::string_view input, std::string* out) {
  if (!input.empty()) Run(input, Z_NO_FLUSH, out);
}

void ResponseCompressor::Finish(std::string* out) {
  Run(absl::string_view(), Z_FINISH, out);
}

BodyChunks CompressedBody(BodyChunks body,
                          std::unique_ptr<ResponseCompressor> compressor) {
  return [body = std::move(body), compressor = std::move(compressor),
          plain = std::string()](std::string* out) mutable {
    const size_t before = out->size();
    while (true) {
      plain.clear();
      const bool more = body(&plain);
      compressor->Compress(plain, out);
      if (!more) {
        compressor->Finish(out);
        return false;
      }
      if (out->size() > before) return true;
    }
  };
}

}  // namespace fedgate
