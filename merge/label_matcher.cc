#include "merge/label_matcher.h"

#include "absl/strings/str_cat.h"

namespace fedgate {

absl::StatusOr<LabelMatcher> LabelMatcher::Create(MatchType type,
                                                  absl::string_view name,
                                                  absl::string_view value) {
  std::shared_ptr<const RE2> regex;
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    // Prometheus 2.42 anchors as ^(?:re)$; `.` does not match a newline.
    const std::string anchored = absl::StrCat("^(?:", value, ")$");
    RE2::Options options;
    options.set_log_errors(false);
    auto compiled = std::make_shared<RE2>(anchored, options);
    if (!compiled->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("error parsing regexp: ", compiled->error(), ": `",
                       compiled->error_arg(), "`"));
    }
    regex = std::move(compiled);
  }
  return LabelMatcher(type, std::string(name), std::string(value),
                      std::move(regex));
}

bool LabelMatcher::Matches(absl::string_view value) const {
  switch (type_) {
    case MatchType::kEqual:
      return value == value_;
    case MatchType::kNotEqual:
      return value != value_;
    case MatchType::kRegexMatch:
      return RE2::FullMatch(re2::StringPiece(value.data(), value.size()),
                            *regex_);
    case MatchType::kRegexNoMatch:
      return !RE2::FullMatch(re2::StringPiece(value.data(), value.size()),
                             *regex_);
  }
  return false;
}

std::string LabelMatcher::ToString() const {
  absl::string_view op = "=";
  switch (type_) {
    case MatchType::kEqual:
      op = "=";
      break;
    case MatchType::kNotEqual:
      op = "!=";
      break;
    case MatchType::kRegexMatch:
      op = "=~";
      break;
    case MatchType::kRegexNoMatch:
      op = "!~";
      break;
  }
  return absl::StrCat(name_, op, "\"", value_, "\"");
}

bool SelectorMatches(const Selector& selector, const Labels& labels) {
  for (const LabelMatcher& matcher : selector) {
    if (!matcher.Matches(labels)) return false;
  }
  return true;
}

}  // namespace fedgate
