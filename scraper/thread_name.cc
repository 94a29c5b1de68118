#include "scraper/thread_name.h"

#include <pthread.h>

#include <string>

namespace fedgate {

void NameCurrentThread(absl::string_view name) {
  // TASK_COMM_LEN is 16 with the terminating NUL; a longer name is refused
  // with ERANGE, so it is cut first.
  constexpr size_t kMaxName = 15;
  const std::string cut(name.substr(0, kMaxName));
  pthread_setname_np(pthread_self(), cut.c_str());
}

ScopedThreadName::ScopedThreadName(absl::string_view name) {
  pthread_getname_np(pthread_self(), previous_, sizeof(previous_));
  NameCurrentThread(name);
}

ScopedThreadName::~ScopedThreadName() {
  pthread_setname_np(pthread_self(), previous_);
}

}  // namespace fedgate
