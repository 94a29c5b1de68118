// bazel/absl_tsan_annotations.cc
//
// Linked into every binary built with --config=tsan (through @system//:absl).
// Debian's Abseil is not built with ThreadSanitizer, so TSan cannot see that
// absl::Mutex and absl::CondVar order memory, and reports every access they
// protect as a race. These definitions interpose the Mutex/CondVar entry
// points (an executable's definitions win over the shared library's), call
// the real ones found with dlsym(RTLD_NEXT), and tell TSan about the
// acquire/release edges.
//
// Abseil's deadlock detector (on in Debian's build) keeps a lock graph
// guarded by Abseil's own SpinLock, which TSan cannot see either; the
// memmove()s it does while inserting an edge showed up as races between two
// threads that each take nested Mutexes. __tsan_default_suppressions() tells
// TSan to ignore what that library does through intercepted calls, and only
// that: the detector itself stays on.
//
// Thread-safety: as absl::Mutex. Only for sanitizer builds.

#include <dlfcn.h>

#include <cstring>

#include "absl/synchronization/mutex.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace {

// Returns the real definition of the mangled `name` from the next object
// (Debian's libabsl_synchronization); traps if it is missing.
template <typename F>
F Real(const char* name) {
  static_assert(sizeof(F) == sizeof(void*), "function pointer size");
  void* symbol = dlsym(RTLD_NEXT, name);
  if (symbol == nullptr) __builtin_trap();
  F f;
  std::memcpy(&f, &symbol, sizeof(symbol));
  return f;
}

}  // namespace

extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:libabsl_graphcycles_internal.so\n";
}

// Debian builds Abseil with the inline namespace `debian3`.
#define FEDGATE_ABSL_SYMBOL(name) "_ZN4absl7debian3" name

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static auto real =
      Real<void (*)(Mutex*)>(FEDGATE_ABSL_SYMBOL("5Mutex4LockEv"));
  real(this);
  __tsan_acquire(this);
}

void Mutex::ReaderLock() {
  static auto real =
      Real<void (*)(Mutex*)>(FEDGATE_ABSL_SYMBOL("5Mutex10ReaderLockEv"));
  real(this);
  __tsan_acquire(this);
}

bool Mutex::TryLock() {
  static auto real =
      Real<bool (*)(Mutex*)>(FEDGATE_ABSL_SYMBOL("5Mutex7TryLockEv"));
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static auto real =
      Real<bool (*)(Mutex*)>(FEDGATE_ABSL_SYMBOL("5Mutex13ReaderTryLockEv"));
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

void Mutex::Unlock() {
  static auto real =
      Real<void (*)(Mutex*)>(FEDGATE_ABSL_SYMBOL("5Mutex6UnlockEv"));
  __tsan_release(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  static auto real =
      Real<void (*)(Mutex*)>(FEDGATE_ABSL_SYMBOL("5Mutex12ReaderUnlockEv"));
  __tsan_release(this);
  real(this);
}

void Mutex::Await(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      FEDGATE_ABSL_SYMBOL("5Mutex5AwaitERKNS0_9ConditionE"));
  __tsan_release(this);
  real(this, cond);
  __tsan_acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static auto real =
      Real<bool (*)(Mutex*, const Condition&, Duration)>(FEDGATE_ABSL_SYMBOL(
          "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  __tsan_release(this);
  const bool result = real(this, cond, timeout);
  __tsan_acquire(this);
  return result;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static auto real =
      Real<bool (*)(Mutex*, const Condition&, Time)>(FEDGATE_ABSL_SYMBOL(
          "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  __tsan_release(this);
  const bool result = real(this, cond, deadline);
  __tsan_acquire(this);
  return result;
}

void Mutex::LockWhen(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      FEDGATE_ABSL_SYMBOL("5Mutex8LockWhenERKNS0_9ConditionE"));
  real(this, cond);
  __tsan_acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static auto real =
      Real<bool (*)(Mutex*, const Condition&, Duration)>(FEDGATE_ABSL_SYMBOL(
          "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  const bool result = real(this, cond, timeout);
  __tsan_acquire(this);
  return result;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static auto real =
      Real<bool (*)(Mutex*, const Condition&, Time)>(FEDGATE_ABSL_SYMBOL(
          "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  const bool result = real(this, cond, deadline);
  __tsan_acquire(this);
  return result;
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      FEDGATE_ABSL_SYMBOL("5Mutex14ReaderLockWhenERKNS0_9ConditionE"));
  real(this, cond);
  __tsan_acquire(this);
}

void CondVar::Wait(Mutex* mu) {
  static auto real = Real<void (*)(CondVar*, Mutex*)>(
      FEDGATE_ABSL_SYMBOL("7CondVar4WaitEPNS0_5MutexE"));
  __tsan_release(mu);
  real(this, mu);
  __tsan_acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static auto real =
      Real<bool (*)(CondVar*, Mutex*, Duration)>(FEDGATE_ABSL_SYMBOL(
          "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE"));
  __tsan_release(mu);
  const bool result = real(this, mu, timeout);
  __tsan_acquire(mu);
  return result;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, Time)>(
      FEDGATE_ABSL_SYMBOL("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE"));
  __tsan_release(mu);
  const bool result = real(this, mu, deadline);
  __tsan_acquire(mu);
  return result;
}

ABSL_NAMESPACE_END
}  // namespace absl
