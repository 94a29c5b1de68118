#include "merge/query/label_matcher.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/go_regexp.h"

namespace fedgate {
namespace {

// Compiles `value` as Prometheus 2.42's NewFastRegexMatcher does: Go's
// regexp.Compile of `^(?:value)$`, then syntax.Parse of the bare `value` (so
// `a)|(b`, balanced only by the wrapper, is rejected), with Go's error texts.
absl::StatusOr<std::shared_ptr<const RE2>> CompileAnchored(
    absl::string_view value) {
  absl::StatusOr<std::shared_ptr<const RE2>> compiled =
      CompileGoRegexp(absl::StrCat("^(?:", value, ")$"));
  if (!compiled.ok()) return compiled.status();
  // Go 1.19 has no size limit, so only the bare pattern's syntax counts.
  absl::StatusOr<std::shared_ptr<const RE2>> bare = CompileGoRegexp(value);
  if (!bare.ok() &&
      !absl::StrContains(bare.status().message(), "expression too large")) {
    return bare.status();
  }
  return compiled;
}

}  // namespace

absl::StatusOr<LabelMatcher> LabelMatcher::Create(MatchType type,
                                                  absl::string_view name,
                                                  absl::string_view value) {
  std::shared_ptr<const RE2> regex;
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    // Prometheus 2.42 anchors as ^(?:re)$; `.` does not match a newline.
    absl::StatusOr<std::shared_ptr<const RE2>> compiled =
        CompileAnchored(value);
    if (!compiled.ok()) return compiled.status();
    regex = *std::move(compiled);
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
      return MatchesRegex(value);
    case MatchType::kRegexNoMatch:
      return !MatchesRegex(value);
  }
  return false;
}

bool LabelMatcher::MatchesRegex(absl::string_view value) const {
  switch (dot_kind_) {
    case DotKind::kDotStar:
      return value.find('\n') == absl::string_view::npos;
    case DotKind::kDotPlus:
      return !value.empty() && value.find('\n') == absl::string_view::npos;
    case DotKind::kNone:
      break;
  }
  return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *regex_);
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

bool SelectorMatches(const Selector& selector, const InternedLabels& labels) {
  for (const LabelMatcher& matcher : selector) {
    if (!matcher.Matches(labels)) return false;
  }
  return true;
}

}  // namespace fedgate
