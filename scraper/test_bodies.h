// scraper/test_bodies.h
//
// Test-only scrape bodies that are costly to write by hand, shared by the
// HTTP client's tests and the end-to-end fault tests.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_SCRAPER_TEST_BODIES_H_
#define FEDGATE_SCRAPER_TEST_BODIES_H_

#include <string>

namespace fedgate {

// Returns ~1 MiB of gzip (one member, RFC 1952) that inflates to 1 GiB of
// zero bytes: a gzip bomb, made in a loop so that the 1 GiB never exists.
std::string GzipBomb();

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_TEST_BODIES_H_
