#include "gateway/writers/content_negotiation.h"

#include <charconv>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace fedgate {
namespace {

// One Accept clause as goautoneg parses it.
struct AcceptClause {
  absl::string_view type;
  absl::string_view subtype;
  double q = 1;
  // Parameters other than q, in header order; a repeated key: the last one
  // wins (a Go map assignment).
  std::vector<std::pair<absl::string_view, absl::string_view>> params;

  absl::string_view Param(absl::string_view key) const {
    absl::string_view value;
    for (const auto& [k, v] : params) {
      if (k == key) value = v;
    }
    return value;
  }
};

// strings.Trim(s, " "): spaces only.
absl::string_view TrimSpaces(absl::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// strconv.ParseFloat(s, 32) as goautoneg uses it (the error ignored): the
// value rounded to float32, 0 on a syntax error, ±Inf when out of range.
double ParseQ(absl::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  const double inf = std::numeric_limits<double>::infinity();
  if (absl::EqualsIgnoreCase(s, "inf") ||
      absl::EqualsIgnoreCase(s, "infinity")) {
    return negative ? -inf : inf;
  }
  if (absl::EqualsIgnoreCase(s, "nan")) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (s.empty() || s.front() == '+' || s.front() == '-') return 0;
  double v = 0;
  const std::from_chars_result r = std::from_chars(
      s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (r.ec == std::errc::result_out_of_range && r.ptr == s.data() + s.size()) {
    // Too large: Go returns ±Inf; too small: ±0.
    const size_t e = s.find_first_of("eE");
    const bool tiny =
        e != absl::string_view::npos && e + 1 < s.size() && s[e + 1] == '-';
    v = tiny ? 0 : inf;
  } else if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    return 0;
  }
  const double rounded = static_cast<double>(static_cast<float>(v));
  return negative ? -rounded : rounded;
}

std::vector<AcceptClause> ParseAccept(absl::string_view header) {
  std::vector<AcceptClause> clauses;
  for (absl::string_view part : absl::StrSplit(header, ',')) {
    std::vector<absl::string_view> mrp = absl::StrSplit(part, ';');
    std::vector<absl::string_view> sp = absl::StrSplit(mrp[0], '/');
    AcceptClause clause;
    clause.type = TrimSpaces(sp[0]);
    if (sp.size() == 1 && clause.type == "*") {
      clause.subtype = "*";
    } else if (sp.size() == 2) {
      clause.subtype = TrimSpaces(sp[1]);
    } else {
      continue;
    }
    for (size_t i = 1; i < mrp.size(); ++i) {
      const size_t eq = mrp[i].find('=');
      if (eq == absl::string_view::npos) continue;
      const absl::string_view token = TrimSpaces(mrp[i].substr(0, eq));
      const absl::string_view value = mrp[i].substr(eq + 1);
      if (token == "q") {
        clause.q = ParseQ(value);
      } else {
        clause.params.emplace_back(token, TrimSpaces(value));
      }
    }
    clauses.push_back(std::move(clause));
  }
  // goautoneg's accept_slice.Less, applied by Go's insertion sort.
  auto less = [](const AcceptClause& a, const AcceptClause& b) {
    if (a.q > b.q) return true;
    if (a.type != "*" && b.type == "*") return true;
    if (a.subtype != "*" && b.subtype == "*") return true;
    return false;
  };
  for (size_t i = 1; i < clauses.size(); ++i) {
    for (size_t j = i; j > 0 && less(clauses[j], clauses[j - 1]); --j) {
      std::swap(clauses[j], clauses[j - 1]);
    }
  }
  return clauses;
}

}  // namespace

ExpositionFormat NegotiateFormat(absl::string_view accept) {
  for (const AcceptClause& ac : ParseAccept(accept)) {
    const absl::string_view version = ac.Param("version");
    if (ac.type == "application" && ac.subtype == "vnd.google.protobuf" &&
        ac.Param("proto") == "io.prometheus.client.MetricFamily") {
      const absl::string_view encoding = ac.Param("encoding");
      if (encoding == "delimited") return ExpositionFormat::kProtoDelimited;
      if (encoding == "text") return ExpositionFormat::kProtoText;
      if (encoding == "compact-text") {
        return ExpositionFormat::kProtoCompactText;
      }
    }
    if (ac.type == "application" && ac.subtype == "openmetrics-text" &&
        (version == "1.0.0" || version == "0.0.1" || version.empty())) {
      return version == "1.0.0" ? ExpositionFormat::kOpenMetrics100
                                : ExpositionFormat::kOpenMetrics001;
    }
    if (ac.type == "text" && ac.subtype == "plain" &&
        (version == "0.0.4" || version.empty())) {
      return ExpositionFormat::kText;
    }
  }
  return ExpositionFormat::kText;
}

absl::string_view ContentTypeOf(ExpositionFormat format) {
  switch (format) {
    case ExpositionFormat::kText:
      return "text/plain; version=0.0.4; charset=utf-8";
    case ExpositionFormat::kOpenMetrics100:
      return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    case ExpositionFormat::kOpenMetrics001:
      return "application/openmetrics-text; version=0.0.1; charset=utf-8";
    case ExpositionFormat::kProtoDelimited:
      return "application/vnd.google.protobuf; "
             "proto=io.prometheus.client.MetricFamily; encoding=delimited";
    case ExpositionFormat::kProtoText:
      return "application/vnd.google.protobuf; "
             "proto=io.prometheus.client.MetricFamily; encoding=text";
    case ExpositionFormat::kProtoCompactText:
      return "application/vnd.google.protobuf; "
             "proto=io.prometheus.client.MetricFamily; encoding=compact-text";
  }
  return "text/plain; version=0.0.4; charset=utf-8";
}

namespace {

// The encodings fedgate compresses with, by their Content-Encoding token.
constexpr std::pair<ContentEncoding, absl::string_view> kEncodingNames[] = {
    {ContentEncoding::kGzip, "gzip"},
    {ContentEncoding::kDeflate, "deflate"},
};

}  // namespace

ContentEncoding NegotiateEncoding(absl::string_view accept_encoding) {
  for (absl::string_view token : absl::StrSplit(accept_encoding, ',')) {
    token = absl::StripAsciiWhitespace(token);
    for (const auto& [encoding, name] : kEncodingNames) {
      if (token == name) return encoding;
    }
  }
  return ContentEncoding::kIdentity;
}

absl::string_view ContentEncodingName(ContentEncoding encoding) {
  for (const auto& [e, name] : kEncodingNames) {
    if (e == encoding) return name;
  }
  return "";
}

}  // namespace fedgate
