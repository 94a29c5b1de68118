#include "scraper/label_limits.h"

#include "absl/strings/str_format.h"
#include "config/quote.h"

namespace fedgate {

absl::string_view TruncateRunes(absl::string_view s, size_t n) {
  size_t runes = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (runes == n) return s.substr(0, i);
      ++runes;
    }
  }
  return s;
}

absl::Status VerifyLabelLimits(const Labels& labels,
                               const ScrapeSettings& settings) {
  const absl::string_view metric = TruncateRunes(labels.MetricName(), 50);
  if (settings.label_limit > 0 && labels.size() > settings.label_limit) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "label_limit exceeded (metric: %s, number of labels: %d, limit: %d)",
        metric, labels.size(), settings.label_limit));
  }
  if (settings.label_name_length_limit == 0 &&
      settings.label_value_length_limit == 0) {
    return absl::OkStatus();
  }
  for (const Label& label : labels) {
    const absl::string_view name = label.name;
    const absl::string_view value = label.value;
    if (settings.label_name_length_limit > 0 &&
        name.size() > settings.label_name_length_limit) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "label_name_length_limit exceeded (metric: %s, label name: %s, "
          "length: %d, limit: %d)",
          metric, TruncateRunes(name, 50), name.size(),
          settings.label_name_length_limit));
    }
    if (settings.label_value_length_limit > 0 &&
        value.size() > settings.label_value_length_limit) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "label_value_length_limit exceeded (metric: %s, label name: %s, "
          "value: %s, length: %d, limit: %d)",
          metric, TruncateRunes(name, 50), GoQuote(TruncateRunes(value, 50)),
          value.size(), settings.label_value_length_limit));
    }
  }
  return absl::OkStatus();
}

}  // namespace fedgate
