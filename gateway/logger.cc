#include "gateway/logger.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/quote.h"

namespace fedgate {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

void AppendValue(absl::string_view value, std::string* out) {
  bool quote = value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(value.data(), value.size());
    return;
  }
  out->push_back('"');
  for (char c : value) {
    // A carriage return stays as it is (quoted).
    if (c == '\r' || !AppendShortEscape(c, out)) out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

void SetLogLevel(LogLevel level) { min_level = static_cast<int>(level); }

std::string FormatLogLine(LogLevel level, absl::string_view timestamp,
                          absl::string_view msg, const LogFields& fields) {
  std::string line =
      absl::StrCat("ts=", timestamp, " level=", LogLevelName(level), " msg=");
  AppendValue(msg, &line);
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, " ", key, "=");
    AppendValue(value, &line);
  }
  return line;
}

void Log(LogLevel level, absl::string_view msg, const LogFields& fields) {
  if (static_cast<int>(level) < min_level) return;
  std::string line =
      FormatLogLine(level,
                    absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                     absl::UTCTimeZone()),
                    msg, fields);
  line.push_back('\n');
  // One write per line keeps concurrent lines whole.
  ssize_t unused = write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace fedgate
