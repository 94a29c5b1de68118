// gateway/logger.h
//
// fedgate's log: one logfmt line per event on stderr, like Prometheus's
// (`ts=2026-11-25T17:40:00.123Z level=info msg="..." key=value`). Only the
// gateway logs; libraries return errors and the caller that decides logs once.
//
// Thread-safety: thread-safe; each line is written with one write(2).

#ifndef FEDGATE_GATEWAY_LOGGER_H_
#define FEDGATE_GATEWAY_LOGGER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gateway/flags.h"

namespace fedgate {

// Sets the lowest level that is written (default info).
void SetLogLevel(LogLevel level);

using LogFields = std::vector<std::pair<absl::string_view, std::string>>;

// Writes one line if `level` is enabled. Values are quoted when needed.
void Log(LogLevel level, absl::string_view msg, const LogFields& fields = {});

// Formats one logfmt line without the trailing newline (for tests).
std::string FormatLogLine(LogLevel level, absl::string_view timestamp,
                          absl::string_view msg, const LogFields& fields);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_LOGGER_H_
