// tests/fuzz/rapidjson_ubsan.h
//
// RapidJSON's document and reader for the fuzz targets (built with UBSan).
// RapidJSON 1.1.0's internal Stack adds an offset to its still-null pointer
// before its first allocation (every Parse() does that), which clang's UBSan
// reports as pointer-overflow; the check is off for RapidJSON's code only.
// Test code only.
//
// Thread-safety: as RapidJSON's.

#ifndef FEDGATE_TESTS_FUZZ_RAPIDJSON_UBSAN_H_
#define FEDGATE_TESTS_FUZZ_RAPIDJSON_UBSAN_H_

#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("pointer-overflow"))), \
                             apply_to = function)
#endif
#include "rapidjson/document.h"
#include "rapidjson/reader.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif  // FEDGATE_TESTS_FUZZ_RAPIDJSON_UBSAN_H_
