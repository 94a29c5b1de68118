// bazel/rapidjson.h
//
// RapidJSON (Debian's rapidjson-dev), for every fedgate file that reads or
// writes JSON with it: include this header, never RapidJSON's own.
//
// RapidJSON 1.1.0's internal Stack adds an offset to its still-null pointer
// before its first allocation (every Parse() and every first Writer output
// does that), which clang's UBSan (--config=asan, --config=fuzz) reports as
// pointer-overflow. The check is off for RapidJSON's functions only, which
// needs them declared here first: RapidJSON's include guards keep a later
// direct include from declaring them again without the attribute.
//
// Thread-safety: as RapidJSON's (a Document is not thread-safe).

#ifndef FEDGATE_BAZEL_RAPIDJSON_H_
#define FEDGATE_BAZEL_RAPIDJSON_H_

#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("pointer-overflow"))), \
                             apply_to = function)
#endif
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif  // FEDGATE_BAZEL_RAPIDJSON_H_
