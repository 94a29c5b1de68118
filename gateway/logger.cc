#include "gateway/logger.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/quote.h"
#include "config/utf8.h"
#include "gateway/writers/json_writer.h"

namespace fedgate {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> log_format{static_cast<int>(LogFormat::kLogfmt)};
std::atomic<int> log_fd{-1};

// go-logfmt's needsQuotedValueRune: a value is quoted when it holds a rune
// up to the space, `=`, `"`, or U+FFFD (which invalid UTF-8 decodes to).
bool NeedsQuotes(absl::string_view value) {
  size_t i = 0;
  while (i < value.size()) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x80) {
      if (c <= ' ' || c == '=' || c == '"') return true;
      ++i;
      continue;
    }
    const DecodedRune decoded = DecodeRune(value.substr(i));
    if (decoded.rune == kRuneError) return true;
    i += decoded.width;
  }
  return false;
}

// go-logfmt's writeQuotedString: JSON's escapes without HTML escaping, and
// U+2028/U+2029 kept, but U+FFFD itself written as `\ufffd` as invalid bytes
// are.
void AppendQuoted(absl::string_view value, std::string* out) {
  constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      if (!AppendShortEscape(c, out)) {
        if (static_cast<unsigned char>(c) < 0x20) {
          const char escape[] = {
              '\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
          out->append(escape, sizeof(escape));
        } else {
          out->push_back(c);
        }
      }
      ++i;
      continue;
    }
    const DecodedRune decoded = DecodeRune(value.substr(i));
    if (decoded.rune == kRuneError) {
      out->append("\\ufffd");
    } else {
      out->append(value.data() + i, decoded.width);
    }
    i += decoded.width;
  }
  out->push_back('"');
}

// A logfmt value as go-logfmt writes a Go string: bare, quoted, or `"null"`
// for the word null (which would read as a nil value).
void AppendLogfmtValue(absl::string_view value, std::string* out) {
  if (value == "null" || NeedsQuotes(value)) {
    AppendQuoted(value, out);
  } else {
    out->append(value.data(), value.size());
  }
}

std::string FormatLogfmt(absl::string_view timestamp, absl::string_view caller,
                         LogLevel level, absl::string_view msg,
                         const LogFields& fields) {
  std::string line = absl::StrCat("ts=", timestamp, " caller=");
  AppendLogfmtValue(caller, &line);
  absl::StrAppend(&line, " level=", LogLevelName(level), " msg=");
  AppendLogfmtValue(msg, &line);
  for (const LogField& field : fields) {
    absl::StrAppend(&line, " ", field.key, "=");
    AppendLogfmtValue(field.value.text(), &line);
  }
  return line;
}

std::string FormatJson(absl::string_view timestamp, absl::string_view caller,
                       LogLevel level, absl::string_view msg,
                       const LogFields& fields) {
  // go-kit collects the keys into a Go map, which encoding/json writes
  // sorted by key; a key given twice keeps its last value.
  struct Entry {
    absl::string_view key;
    const LogValue* value;
  };
  const LogValue ts_value(timestamp), caller_value(caller),
      level_value(LogLevelName(level)), msg_value(msg);
  std::vector<Entry> entries = {{"ts", &ts_value},
                                {"caller", &caller_value},
                                {"level", &level_value},
                                {"msg", &msg_value}};
  for (const LogField& field : fields) {
    entries.push_back({field.key, &field.value});
  }
  std::stable_sort(
      entries.begin(), entries.end(),
      [](const Entry& a, const Entry& b) { return a.key < b.key; });
  std::string line = "{";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && entries[i + 1].key == entries[i].key) {
      continue;  // The later one wins.
    }
    if (line.size() > 1) line.push_back(',');
    AppendJsonString(entries[i].key, &line, JsonHtml::kKeep);
    line.push_back(':');
    const LogValue& value = *entries[i].value;
    if (value.kind() == LogValue::Kind::kString) {
      AppendJsonString(value.text(), &line, JsonHtml::kKeep);
    } else {
      line.append(value.text());
    }
  }
  line.push_back('}');
  return line;
}

}  // namespace

void SetLogLevel(LogLevel level) { min_level = static_cast<int>(level); }

void SetLogFormat(LogFormat format) { log_format = static_cast<int>(format); }

void SetLogFdForTest(int fd) { log_fd = fd; }

std::string LogCaller::ToString() const {
  const char* slash = std::strrchr(file, '/');
  return absl::StrCat(slash == nullptr ? file : slash + 1, ":", line);
}

std::string FormatLogLine(LogFormat format, absl::string_view timestamp,
                          absl::string_view caller, LogLevel level,
                          absl::string_view msg, const LogFields& fields) {
  if (format == LogFormat::kJson) {
    return FormatJson(timestamp, caller, level, msg, fields);
  }
  return FormatLogfmt(timestamp, caller, level, msg, fields);
}

void Log(LogLevel level, absl::string_view msg, const LogFields& fields,
         LogCaller caller) {
  if (static_cast<int>(level) < min_level) return;
  // promlog's timestamp: UTC, milliseconds always three digits.
  std::string line =
      FormatLogLine(static_cast<LogFormat>(log_format.load()),
                    absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                     absl::UTCTimeZone()),
                    caller.ToString(), level, msg, fields);
  line.push_back('\n');
  const int fd = log_fd.load();
  // One write per line keeps concurrent lines whole.
  ssize_t unused = write(fd < 0 ? STDERR_FILENO : fd, line.data(), line.size());
  (void)unused;
}

}  // namespace fedgate
