#include "gateway/writers/json_writer.h"

#include <cassert>
#include <cmath>
#include <cstring>

#include "config/quote.h"
#include "config/utf8.h"
#include "merge/float_format.h"

namespace fedgate {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendUnicodeEscape(uint32_t r, std::string* out) {
  const char buf[6] = {'\\',
                       'u',
                       kHex[(r >> 12) & 0xF],
                       kHex[(r >> 8) & 0xF],
                       kHex[(r >> 4) & 0xF],
                       kHex[r & 0xF]};
  out->append(buf, sizeof(buf));
}

// Go's choice between 'f' and 'e' in encoding/json and jsonutil.
bool UseFixed(double v) {
  const double abs = std::fabs(v);
  return abs == 0 || (abs >= 1e-6 && abs < 1e21);
}

}  // namespace

void AppendJsonString(absl::string_view s, std::string* out, JsonHtml html) {
  const bool escape_html = html == JsonHtml::kEscape;
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t start = 0;  // First byte not yet copied.
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' &&
          (!escape_html || (c != '<' && c != '>' && c != '&'))) {
        ++i;
        continue;
      }
      out->append(s.data() + start, i - start);
      // Other controls and the HTML characters as \u00XX.
      if (!AppendShortEscape(static_cast<char>(c), out)) {
        AppendUnicodeEscape(c, out);
      }
      ++i;
      start = i;
      continue;
    }
    const DecodedRune decoded = DecodeRune(s.substr(i));
    const uint32_t rune = static_cast<uint32_t>(decoded.rune);
    const size_t len = decoded.width;
    if (rune == kRuneError && len == 1) {
      out->append(s.data() + start, i - start);
      out->append("\\ufffd");
      ++i;
      start = i;
      continue;
    }
    if (rune == 0x2028 || rune == 0x2029) {
      out->append(s.data() + start, i - start);
      AppendUnicodeEscape(rune, out);
      i += len;
      start = i;
      continue;
    }
    i += len;
  }
  out->append(s.data() + start, n - start);
  out->push_back('"');
}

void AppendJsonFloat(double v, std::string* out) {
  if (std::isnan(v) || std::isinf(v)) {
    out->append("null");
    return;
  }
  const bool fixed = UseFixed(v);
  const size_t before = out->size();
  AppendGoFloatLayout(v, fixed, out);
  if (!fixed) {
    // encoding/json cleans up e-09 to e-9 (only negative exponents).
    std::string& b = *out;
    const size_t n = b.size();
    if (n - before >= 4 && b[n - 4] == 'e' && b[n - 3] == '-' &&
        b[n - 2] == '0') {
      b[n - 2] = b[n - 1];
      b.resize(n - 1);
    }
  }
}

void AppendJsonTimestamp(int64_t ms, std::string* out) {
  uint64_t t = static_cast<uint64_t>(ms);
  if (ms < 0) {
    out->push_back('-');
    t = 0 - t;  // Also right for INT64_MIN.
  }
  out->append(std::to_string(t / 1000));
  const unsigned fraction = static_cast<unsigned>(t % 1000);
  if (fraction != 0) {
    out->push_back('.');
    if (fraction < 100) out->push_back('0');
    if (fraction < 10) out->push_back('0');
    out->append(std::to_string(fraction));
  }
}

void AppendJsonSampleValue(double v, std::string* out) {
  out->push_back('"');
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    AppendGoFloatLayout(v, UseFixed(v), out);
  }
  out->push_back('"');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_element_.empty()) {
    if (has_element_.back()) out_->push_back(',');
    has_element_.back() = true;
  }
}

void JsonWriter::Open(char bracket) {
  BeforeValue();
  out_->push_back(bracket);
  has_element_.push_back(false);
}

void JsonWriter::Close(char bracket) {
  assert(!has_element_.empty());
  has_element_.pop_back();
  out_->push_back(bracket);
}

void JsonWriter::BeginObject() { Open('{'); }

void JsonWriter::EndObject() { Close('}'); }

void JsonWriter::BeginArray() { Open('['); }

void JsonWriter::EndArray() { Close(']'); }

void JsonWriter::Key(absl::string_view key) {
  BeforeValue();
  AppendJsonString(key, out_);
  out_->push_back(':');
  after_key_ = true;
}

void JsonWriter::String(absl::string_view s) {
  BeforeValue();
  AppendJsonString(s, out_);
}

void JsonWriter::Bool(bool b) {
  BeforeValue();
  out_->append(b ? "true" : "false");
}

void JsonWriter::Int(int64_t i) {
  BeforeValue();
  out_->append(std::to_string(i));
}

void JsonWriter::Float(double v) {
  BeforeValue();
  AppendJsonFloat(v, out_);
}

void JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
}

void JsonWriter::Raw(absl::string_view json) {
  BeforeValue();
  out_->append(json.data(), json.size());
}

void JsonWriter::SamplePair(int64_t timestamp_ms, double value) {
  BeforeValue();
  out_->push_back('[');
  AppendJsonTimestamp(timestamp_ms, out_);
  out_->push_back(',');
  AppendJsonSampleValue(value, out_);
  out_->push_back(']');
}

}  // namespace fedgate
