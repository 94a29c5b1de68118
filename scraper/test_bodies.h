// scraper/test_bodies.h
//
// Test-only bodies: scrape bodies that are costly to write by hand (a gzip
// bomb, an endless streamed body, gzipped bodies, protobuf bodies), shared by
// the HTTP client's, the scrape manager's, the protobuf parser's and the
// end-to-end fault tests and the parse benchmark, and the inflating of
// compressed answers for the tests that check them.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_SCRAPER_TEST_BODIES_H_
#define FEDGATE_SCRAPER_TEST_BODIES_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "httplib.h"
#include "proto/metrics.pb.h"

namespace fedgate {

// Returns ~1 MiB of gzip (one member, RFC 1952) that inflates to 1 GiB of
// zero bytes: a gzip bomb, made in a loop so that the 1 GiB never exists.
std::string GzipBomb();

// Returns a content provider for httplib's chunked responses that streams
// `line` over and over, in chunks of 64 KiB, until `size` bytes: a body of
// any size that never exists whole. Sets `served` to the offset reached.
httplib::ContentProviderWithoutLength RepeatedLineBody(
    absl::string_view line, size_t size, std::atomic<size_t>* served);

// Returns `data` gzipped (one member, default level), as a target serving
// `Content-Encoding: gzip` sends it.
std::string Gzip(absl::string_view data);

// Inflates `data` with zlib's `window_bits` (31: gzip, 15: zlib/deflate,
// -15: raw deflate). Returns what inflated before the first error, so a
// corrupt or truncated stream shows as a short or empty result.
std::string Inflate(absl::string_view data, int window_bits);

// Returns `families` as a protobuf exposition body: each MetricFamily
// preceded by its length as a varint (Prometheus's delimited format).
std::string DelimitedProtobuf(
    const std::vector<io::prometheus::client::MetricFamily>& families);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_TEST_BODIES_H_
