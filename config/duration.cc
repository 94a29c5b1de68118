#include "config/duration.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/quote.h"

namespace fedgate {
namespace {

struct Unit {
  absl::string_view suffix;
  int64_t millis;
};

// In the only order the Prometheus regex allows.
constexpr Unit kUnits[] = {
    {"y", int64_t{365} * 24 * 60 * 60 * 1000},
    {"w", int64_t{7} * 24 * 60 * 60 * 1000},
    {"d", int64_t{24} * 60 * 60 * 1000},
    {"h", int64_t{60} * 60 * 1000},
    {"m", int64_t{60} * 1000},
    {"s", int64_t{1000}},
    {"ms", int64_t{1}},
};
constexpr int kNumUnits = sizeof(kUnits) / sizeof(kUnits[0]);

constexpr int64_t kNanosPerMilli = 1000 * 1000;
constexpr int64_t kMaxNanos = std::numeric_limits<int64_t>::max();

absl::Status InvalidDuration(absl::string_view s) {
  return absl::InvalidArgumentError(
      absl::StrCat("not a valid duration string: ", GoQuote(s)));
}

// Returns the index in kUnits of the unit at the start of `rest`, or -1.
// `ms` is tried before `m`: a following `s` could never start a new term,
// because every term starts with a digit.
int UnitAt(absl::string_view rest) {
  if (absl::StartsWith(rest, "ms")) return kNumUnits - 1;
  if (rest.empty()) return -1;
  for (int i = 0; i < kNumUnits - 1; ++i) {
    if (rest[0] == kUnits[i].suffix[0]) return i;
  }
  return -1;
}

}  // namespace

absl::StatusOr<absl::Duration> ParsePrometheusDuration(absl::string_view s) {
  if (s == "0") return absl::ZeroDuration();  // The only unitless form.
  if (s.empty()) return absl::InvalidArgumentError("empty duration string");

  // First the syntax, then the range: as with Prometheus's regex match, a
  // malformed string is "not valid" even when it would also overflow.
  struct Term {
    absl::string_view digits;
    int unit;
  };
  Term terms[kNumUnits];
  int num_terms = 0;
  absl::string_view rest = s;
  int next_unit = 0;  // Units must strictly follow the kUnits order.
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() && absl::ascii_isdigit(rest[n])) ++n;
    if (n == 0) return InvalidDuration(s);
    const absl::string_view digits = rest.substr(0, n);
    rest.remove_prefix(n);
    const int unit = UnitAt(rest);
    if (unit < next_unit) return InvalidDuration(s);  // Also catches -1.
    rest.remove_prefix(kUnits[unit].suffix.size());
    terms[num_terms++] = {digits, unit};
    next_unit = unit + 1;
  }

  // Go's time.Duration is int64 nanoseconds; Prometheus rejects any term or
  // total above that ("duration out of range").
  int64_t total_nanos = 0;
  for (int i = 0; i < num_terms; ++i) {
    const int64_t unit_nanos = kUnits[terms[i].unit].millis * kNanosPerMilli;
    const int64_t max_count = kMaxNanos / unit_nanos;
    int64_t count = 0;
    for (char c : terms[i].digits) {
      count = count * 10 + (c - '0');
      if (count > max_count) break;
    }
    if (count > max_count || count * unit_nanos > kMaxNanos - total_nanos) {
      return absl::InvalidArgumentError(
          absl::StrCat("duration out of range: ", GoQuote(s)));
    }
    total_nanos += count * unit_nanos;
  }
  return absl::Nanoseconds(total_nanos);
}

std::string FormatPrometheusDuration(absl::Duration d) {
  // ToInt64Milliseconds truncates toward zero and saturates at infinities.
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms == 0) return "0s";
  std::string out;
  uint64_t magnitude;
  if (ms < 0) {
    out = "-";
    magnitude = static_cast<uint64_t>(-(ms + 1)) + 1;  // No overflow at min.
  } else {
    magnitude = static_cast<uint64_t>(ms);
  }
  for (const Unit& unit : kUnits) {
    const uint64_t count = magnitude / static_cast<uint64_t>(unit.millis);
    if (count == 0) continue;
    absl::StrAppend(&out, count, unit.suffix);
    magnitude -= count * static_cast<uint64_t>(unit.millis);
  }
  return out;
}

}  // namespace fedgate
