// gateway/logger.h
//
// fedgate's log: one line per event on stderr, exactly as Prometheus 2.42
// writes its own (promlog, go-kit's loggers), in the format of --log.format:
//
//   logfmt (default): ts=2026-11-25T17:40:00.123Z caller=gateway.cc:466
//                     level=info msg="Completed loading of configuration file"
//                     filename=/etc/fedgate.yml
//   json:             {"caller":"gateway.cc:466","filename":"/etc/fedgate.yml",
//                     "level":"info","msg":"Completed loading of configuration
//                     file","ts":"2026-11-25T17:40:00.123Z"}
//
// (one line each). logfmt keeps the order ts, caller, level, msg, then the
// fields as given, and quotes a value only when it holds a space, a control
// character, `=`, `"` or U+FFFD/invalid UTF-8 (go-logfmt 0.5); an empty
// value is written as nothing (`key=`). JSON sorts the keys, as Go encodes a
// map, and does not escape `<`, `>` and `&` (json.Encoder with
// SetEscapeHTML(false)). `msg` is a fixed sentence per call site, so that
// people and log queries can find an event; what varies (a file, a target,
// an error) goes in the fields.
//
// Only the gateway logs; libraries return errors and the caller that decides
// logs once. Not on a hot path: nothing is logged per sample or per request
// (request refusals are debug lines).
//
// Thread-safety: thread-safe; each line is written with one write(2), so
// lines of concurrent callers never interleave.

#ifndef FEDGATE_GATEWAY_LOGGER_H_
#define FEDGATE_GATEWAY_LOGGER_H_

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"
#include "gateway/flags.h"

namespace fedgate {

// Sets the lowest level that is written (default info).
void SetLogLevel(LogLevel level);
// Sets the shape of the lines (default logfmt).
void SetLogFormat(LogFormat format);

// The value of one field: a string, an integer or a boolean. JSON writes the
// last two as numbers and `true`/`false`, as go-kit writes Go's ints and
// bools; logfmt writes all three as text.
class LogValue {
 public:
  enum class Kind { kString, kInt, kBool };

  LogValue(std::string s)  // NOLINT: implicit, as fields are written inline.
      : kind_(Kind::kString), text_(std::move(s)) {}
  LogValue(absl::string_view s)  // NOLINT
      : kind_(Kind::kString), text_(s) {}
  LogValue(const char* s)  // NOLINT
      : kind_(Kind::kString), text_(s) {}
  LogValue(bool b)  // NOLINT
      : kind_(Kind::kBool), text_(b ? "true" : "false") {}
  template <typename T,
            typename = std::enable_if_t<std::is_integral<T>::value &&
                                        !std::is_same<T, bool>::value &&
                                        !std::is_same<T, char>::value>>
  LogValue(T n)  // NOLINT
      : kind_(Kind::kInt), text_(std::to_string(n)) {}

  Kind kind() const { return kind_; }
  // The value as logfmt shows it before quoting (decimal for an integer).
  const std::string& text() const { return text_; }

 private:
  Kind kind_;
  std::string text_;
};

// One `key=value` of a line. Keys are fixed snake_case words of the call
// site (never `ts`, `caller`, `level` or `msg`).
struct LogField {
  LogField(absl::string_view k, LogValue v) : key(k), value(std::move(v)) {}
  absl::string_view key;
  LogValue value;
};
using LogFields = std::vector<LogField>;

// Where a Log() call is written, as Prometheus's `caller` field shows it:
// the file's base name and the line (`gateway.cc:466`). Its defaults take
// the place of the call that leaves them out.
struct LogCaller {
  LogCaller(const char* file = __builtin_FILE(),  // NOLINT
            int line = __builtin_LINE())
      : file(file), line(line) {}
  // Returns `base name:line`.
  std::string ToString() const;

  const char* file;
  int line;
};

// Writes one line if `level` is enabled.
void Log(LogLevel level, absl::string_view msg, const LogFields& fields = {},
         LogCaller caller = LogCaller());

// Formats one line without the trailing newline.
std::string FormatLogLine(LogFormat format, absl::string_view timestamp,
                          absl::string_view caller, LogLevel level,
                          absl::string_view msg, const LogFields& fields);

// Makes Log() write to `fd` instead of stderr (-1: stderr again).
void SetLogFdForTest(int fd);

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_LOGGER_H_
