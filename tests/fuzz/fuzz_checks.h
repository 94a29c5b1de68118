// tests/fuzz/fuzz_checks.h
//
// Invariant checks shared by the libFuzzer targets of tests/fuzz: a failed
// check aborts, which libFuzzer reports as a crash with the input that
// caused it. Test code only.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_TESTS_FUZZ_FUZZ_CHECKS_H_
#define FEDGATE_TESTS_FUZZ_FUZZ_CHECKS_H_

#include <cstdio>
#include <cstdlib>

#include "merge/labels.h"

namespace fedgate {

// Aborts with `what` when `condition` is false.
inline void FuzzCheck(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

// Checks what every Labels holds: names strictly increasing (sorted, no
// repeats) and no empty value.
inline void CheckLabelsWellFormed(const Labels& labels) {
  const Label* previous = nullptr;
  for (const Label& label : labels) {
    FuzzCheck(!label.value.empty(), "a label has an empty value");
    FuzzCheck(previous == nullptr || previous->name < label.name,
              "label names are not sorted and unique");
    previous = &label;
  }
}

}  // namespace fedgate

#endif  // FEDGATE_TESTS_FUZZ_FUZZ_CHECKS_H_
