// gateway/writers/json_writer.h
//
// A small JSON writer that produces byte for byte what Prometheus 2.42's
// /api/v1 produces with jsoniter's ConfigCompatibleWithStandardLibrary (the
// same bytes as Go's encoding/json): strings HTML-escaped (`<` `>` `&` as
// `\u003c` `\u003e` `\u0026`), U+2028/U+2029 and control characters as
// `\uXXXX` (lower-case hex; only \n \r \t have short forms), `"` and `\`
// backslash-escaped, every byte that is not part of valid UTF-8 replaced by
// `\ufffd`; numbers as Go encodes float64 (`0.000441667`, `1e-7`, `1e+21`).
// Also the two encodings of Prometheus's `jsonutil` for sample pairs: the
// timestamp as `<seconds>.<milliseconds>` and the value as a Go-formatted
// string (`"1e+21"`, `"-0"`, `"NaN"`, `"+Inf"`).
//
// Used by the /api/v1 handlers (api_handler.h) and the JSON log lines
// (gateway/logger.h); on the read path of
// /api/v1/series and /api/v1/query (one append per token, no allocation
// beyond the output buffer's growth).
//
// Thread-safety: a JsonWriter is owned by one thread; the free functions are
// pure and thread-safe.

#ifndef FEDGATE_GATEWAY_WRITERS_JSON_WRITER_H_
#define FEDGATE_GATEWAY_WRITERS_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace fedgate {

// Whether `<`, `>` and `&` are escaped as `\u003c` `\u003e` `\u0026`: on in
// encoding/json's Marshal (Prometheus's API answers), off in go-kit's JSON
// logger (json.Encoder with SetEscapeHTML(false), Prometheus's JSON logs).
enum class JsonHtml { kEscape, kKeep };

// Appends `s` as a JSON string literal (with the quotes) as Go's
// encoding/json writes it, with HTML escaping unless `html` is kKeep.
void AppendJsonString(absl::string_view s, std::string* out,
                      JsonHtml html = JsonHtml::kEscape);

// Appends `v` as Go's encoding/json writes a float64: the shortest digits
// that round-trip, in plain notation when 1e-6 <= |v| < 1e21 (or v == 0),
// else in exponent notation with at least one exponent digit (`1e-7`,
// `1e+21`). NaN and infinities are not JSON; they are written as `null`
// (Go would fail the whole response).
void AppendJsonFloat(double v, std::string* out);

// Appends a millisecond timestamp as Prometheus's jsonutil.MarshalTimestamp
// does: seconds, then `.` and three millisecond digits unless they are all
// zero (`1700000000`, `1700000000.500`, `-1.005`).
void AppendJsonTimestamp(int64_t ms, std::string* out);

// Appends a sample value as Prometheus's jsonutil.MarshalValue does: a JSON
// string holding Go's shortest formatting, plain when 1e-6 <= |v| < 1e21 (or
// v == 0, including `-0`), else with an exponent of at least two digits
// (`"1e-07"`, `"1e+21"`); `"NaN"`, `"+Inf"`, `"-Inf"`.
void AppendJsonSampleValue(double v, std::string* out);

// Writes one JSON document into a string, inserting the commas and colons.
// Nesting is the caller's contract (asserted in debug builds only).
//
//   std::string out;
//   JsonWriter w(&out);
//   w.BeginObject();
//   w.Key("status");
//   w.String("success");
//   w.EndObject();  // out == {"status":"success"}
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // Writes an object key; the next value call writes its value.
  void Key(absl::string_view key);

  void String(absl::string_view s);
  void Bool(bool b);
  void Int(int64_t i);
  void Float(double v);  // AppendJsonFloat.
  void Null();
  // Writes `json`, which must be one complete JSON value, as is.
  void Raw(absl::string_view json);
  // A `[<timestamp>,"<value>"]` sample pair (Prometheus's jsonutil).
  void SamplePair(int64_t timestamp_ms, double value);

  // Returns the output string; a caller that streams may flush and clear it
  // between values.
  std::string* out() { return out_; }

 private:
  // Writes the comma before a value or key when it is not the first.
  void BeforeValue();
  // Begins an object or array with `bracket` (`{` or `[`).
  void Open(char bracket);
  // Ends the innermost object or array with `bracket` (`}` or `]`).
  void Close(char bracket);

  std::string* out_;
  // Per open container: whether it already holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WRITERS_JSON_WRITER_H_
