// scraper/thread_name.h
//
// Names the threads fedgate starts, so that /proc/<pid>/task/*/comm, top -H,
// gdb and /debug/threads tell the scrape I/O thread from an HTTP worker.
// Called once at the start of each thread fedgate creates (worker pools, the
// HTTP client's I/O thread, informers, the gateway's watchers).
//
// Thread-safety: thread-safe; names only the calling thread.

#ifndef FEDGATE_SCRAPER_THREAD_NAME_H_
#define FEDGATE_SCRAPER_THREAD_NAME_H_

#include "absl/strings/string_view.h"

namespace fedgate {

// Sets the calling thread's name. Linux keeps 15 bytes: a longer name is
// cut there.
void NameCurrentThread(absl::string_view name);

// Names the threads a library starts (libmicrohttpd's event loops, gRPC's
// pollers, the discovery loops), which take the name of the thread that
// starts them: the calling thread carries `name` while this object lives,
// and its own name again afterwards.
class ScopedThreadName {
 public:
  explicit ScopedThreadName(absl::string_view name);
  ~ScopedThreadName();
  ScopedThreadName(const ScopedThreadName&) = delete;
  ScopedThreadName& operator=(const ScopedThreadName&) = delete;

 private:
  char previous_[16] = {};
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_THREAD_NAME_H_
