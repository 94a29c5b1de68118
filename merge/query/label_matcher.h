// merge/query/label_matcher.h
//
// One matcher of a series selector (`job="x"`, `code=~"5.."`), with its regex
// compiled once and fully anchored as Prometheus 2.42 anchors it
// (`^(?:re)$`). Produced by the selector parser (merge/query/selector_parser.h)
// from `match[]` parameters; evaluated by merge/query/series_query.h against
// every series of a store snapshot for /federate, /api/v1 and gRPC, so
// Matches() is on the per-series path (`.*` and `.+` skip RE2).
//
// Thread-safety: immutable after Create(); safe to share across threads.

#ifndef FEDGATE_MERGE_QUERY_LABEL_MATCHER_H_
#define FEDGATE_MERGE_QUERY_LABEL_MATCHER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "re2/re2.h"

namespace fedgate {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// Returns InvalidArgument(`message`) marked as a refusal by a query limit
// (merge/query/match_params.h MatchLimits), with `reason` the value of the
// `reason` label of the refusal counters.
absl::Status MatchLimitError(absl::string_view reason,
                             absl::string_view message);

// Returns which bound refused a request, for the `reason` label of the
// refusal counters: "too_many_match_params", "selector_too_long" or
// "regex_too_complex" for the errors of MatchLimitError (CheckMatchParamSizes,
// CheckRegexComplexity, ParseMatchParams and the selector parser under a
// regex limit), "" for any other status.
std::string MatchLimitReason(const absl::Status& status);

// Returns the "regex_too_complex" refusal of the regex `value`:
// `invalid regular expression "a|b": too complex (<detail>,
// --query.max-regex-program-size)`, the value cut at 64 bytes.
absl::Status RegexTooComplexError(absl::string_view value,
                                  absl::string_view detail);

class LabelMatcher {
 public:
  // Builds a matcher; fails with InvalidArgument and Go's regexp error wording
  // (`error parsing regexp: missing closing ): `^(?:()$``) for a bad regex.
  // With `max_regex_program_size` > 0 (--query.max-regex-program-size), a
  // regex whose RE2 program would be far larger (more than twice) stops
  // compiling early and fails with RegexTooComplexError, so that a short
  // hostile regex (`\pL{283}`) costs milliseconds, not a second of CPU;
  // CheckRegexComplexity (merge/query/match_params.h) refuses the ones in
  // between with their exact size.
  static absl::StatusOr<LabelMatcher> Create(MatchType type,
                                             absl::string_view name,
                                             absl::string_view value,
                                             int max_regex_program_size = 0);

  // Returns whether a label value (empty when the label is absent) matches.
  bool Matches(absl::string_view value) const;
  // Returns whether the series' label set satisfies this matcher.
  bool Matches(const Labels& labels) const {
    return Matches(labels.Get(name_));
  }
  bool Matches(const InternedLabels& labels) const {
    return Matches(labels.Get(name_));
  }
  // Returns whether the matcher accepts the empty string (so it also selects
  // series without the label).
  bool MatchesEmpty() const { return Matches(absl::string_view()); }

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // Returns the size of the compiled regex program (RE2's ProgramSize(), a
  // measure of the work per matched value); 0 for the equality types.
  int RegexProgramSize() const { return regex_ ? regex_->ProgramSize() : 0; }
  // Returns the matcher as PromQL prints it: `job="x"`, `a=~"b.*"`.
  std::string ToString() const;

 private:
  LabelMatcher(MatchType type, std::string name, std::string value,
               std::shared_ptr<const RE2> regex)
      : type_(type),
        name_(std::move(name)),
        value_(std::move(value)),
        regex_(std::move(regex)),
        dot_kind_(value_ == ".*"   ? DotKind::kDotStar
                  : value_ == ".+" ? DotKind::kDotPlus
                                   : DotKind::kNone) {}

  // `.*` and `.+`, the commonest regexes (`{__name__=~".+"}` selects
  // everything), matched without RE2: any value without a newline (`.`
  // does not match one), non-empty for `.+`.
  enum class DotKind { kNone, kDotStar, kDotPlus };
  bool MatchesRegex(absl::string_view value) const;

  MatchType type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<const RE2> regex_;  // Set for the two regex types.
  DotKind dot_kind_;
};

// A series selector: all matchers must match (AND).
using Selector = std::vector<LabelMatcher>;

// Returns whether every matcher of `selector` matches `labels`.
bool SelectorMatches(const Selector& selector, const Labels& labels);
bool SelectorMatches(const Selector& selector, const InternedLabels& labels);

}  // namespace fedgate

#endif  // FEDGATE_MERGE_QUERY_LABEL_MATCHER_H_
