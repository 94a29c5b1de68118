#include "merge/query/label_matcher.h"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "config/go_regexp.h"

namespace fedgate {
namespace {

bool IsTooLarge(const absl::Status& status) {
  return absl::StrContains(status.message(), "expression too large");
}

// Compiles `value` as Prometheus 2.42's NewFastRegexMatcher does: Go's
// regexp.Compile of `^(?:value)$`, then syntax.Parse of the bare `value` (so
// `a)|(b`, balanced only by the wrapper, is rejected), with Go's error texts.
absl::StatusOr<std::shared_ptr<const RE2>> CompileAnchored(
    absl::string_view value, int max_regex_program_size) {
  // RE2 spends about 16 bytes of its max_mem per program instruction: twice
  // that lets every program up to the limit compile (so its exact size can be
  // reported) and stops a compile past about twice the limit early.
  const int64_t max_mem =
      max_regex_program_size > 0
          ? int64_t{max_regex_program_size} * 32 + (int64_t{64} << 10)
          : 0;
  absl::StatusOr<std::shared_ptr<const RE2>> compiled =
      CompileGoRegexp(absl::StrCat("^(?:", value, ")$"), max_mem);
  if (!compiled.ok()) {
    if (max_mem > 0 && IsTooLarge(compiled.status())) {
      return RegexTooComplexError(
          value, absl::StrCat("RE2 program size over twice the limit of ",
                              max_regex_program_size));
    }
    return compiled.status();
  }
  // Go 1.19 has no size limit, so only the bare pattern's syntax counts.
  absl::StatusOr<std::shared_ptr<const RE2>> bare =
      CompileGoRegexp(value, max_mem);
  if (!bare.ok() && !IsTooLarge(bare.status())) return bare.status();
  return compiled;
}

// The payload that marks a refusal by a MatchLimits bound.
constexpr absl::string_view kLimitPayload = "type.fedgate/match-limit";

}  // namespace

absl::Status MatchLimitError(absl::string_view reason,
                             absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kLimitPayload, absl::Cord(reason));
  return status;
}

std::string MatchLimitReason(const absl::Status& status) {
  absl::optional<absl::Cord> reason = status.GetPayload(kLimitPayload);
  return reason.has_value() ? std::string(*reason) : std::string();
}

absl::Status RegexTooComplexError(absl::string_view value,
                                  absl::string_view detail) {
  return MatchLimitError(
      "regex_too_complex",
      absl::StrCat("invalid regular expression \"",
                   value.size() > 64 ? absl::StrCat(value.substr(0, 64), "...")
                                     : std::string(value),
                   "\": too complex (", detail,
                   ", --query.max-regex-program-size)"));
}

absl::StatusOr<LabelMatcher> LabelMatcher::Create(MatchType type,
                                                  absl::string_view name,
                                                  absl::string_view value,
                                                  int max_regex_program_size) {
  std::shared_ptr<const RE2> regex;
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    // Prometheus 2.42 anchors as ^(?:re)$; `.` does not match a newline.
    absl::StatusOr<std::shared_ptr<const RE2>> compiled =
        CompileAnchored(value, max_regex_program_size);
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
  // MatchType's operators, in its order.
  static constexpr absl::string_view kOperators[] = {"=", "!=", "=~", "!~"};
  static_assert(std::size(kOperators) ==
                static_cast<size_t>(MatchType::kRegexNoMatch) + 1);
  return absl::StrCat(name_, kOperators[static_cast<size_t>(type_)], "\"",
                      value_, "\"");
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
