#include "scraper/test_bodies.h"

#include <zlib.h>

#include <cstdint>
#include <memory>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace fedgate {

std::string GzipBomb() {
  std::string bomb;
  z_stream z = {};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
               Z_DEFAULT_STRATEGY);
  const std::string zeros(1 << 20, '\0');
  char out[1 << 16];
  for (int i = 0; i < 1024; ++i) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = zeros.size();
    const int flush = i == 1023 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = sizeof(out);
      deflate(&z, flush);
      bomb.append(out, sizeof(out) - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return bomb;
}

httplib::ContentProviderWithoutLength RepeatedLineBody(
    absl::string_view line, size_t size, std::atomic<size_t>* served) {
  constexpr size_t kChunk = 64 << 10;
  auto chunk = std::make_shared<std::string>();
  while (chunk->size() + line.size() <= kChunk) {
    chunk->append(line.data(), line.size());
  }
  return [chunk, size, served](size_t offset, httplib::DataSink& sink) {
    if (offset >= size) {
      sink.done();
      return true;
    }
    *served = offset;
    return sink.write(chunk->data(), chunk->size());
  };
}

std::string Gzip(absl::string_view data) {
  z_stream z = {};
  // 15 + 16: a gzip header and trailer around the deflate stream.
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
               Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = data.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Inflate(absl::string_view data, int window_bits) {
  z_stream s{};
  if (inflateInit2(&s, window_bits) != Z_OK) return "";
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
  inflateEnd(&s);
  return out;
}

std::string DelimitedProtobuf(
    const std::vector<io::prometheus::client::MetricFamily>& families) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    for (const io::prometheus::client::MetricFamily& family : families) {
      coded.WriteVarint32(static_cast<uint32_t>(family.ByteSizeLong()));
      family.SerializeToCodedStream(&coded);
    }
  }
  return out;
}

}  // namespace fedgate
