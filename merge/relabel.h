// merge/relabel.h
//
// The relabel engine: Prometheus 2.42's model/relabel, for target labels
// (`relabel_configs`, before a target is scraped) and for scraped series
// (`metric_relabel_configs`). Rules are compiled once when a configuration
// is applied (RE2, anchored `^(?:regex)$` as Prometheus 2.42 anchors, with
// the `target_label` and `replacement` templates pre-parsed), then applied
// to label sets:
//   replace, keep, drop, hashmod (MD5 of the joined values, last 8 bytes
//   big-endian, modulo), labelmap, labeldrop, labelkeep, keepequal,
//   dropequal, lowercase, uppercase.
// Replacement templates expand as Go's Regexp.Expand: `$1`, `${1}`, `$name`,
// `${name}`, `$$` for `$`; `$1x` is the (absent) group named `1x`, so empty.
//
// Callers: the scraper, once per target at config apply, and once per series
// that is new to a target's scrape cache (the result is cached per raw series
// text, so a steady-state scrape does no regex work). Cold cost: about one
// RE2 match per rule; see docs/performance.md.
//
// Thread-safety: a compiled RelabelRule/RelabelChain is immutable and safe to
// share and use from many threads at once.

#ifndef FEDGATE_MERGE_RELABEL_H_
#define FEDGATE_MERGE_RELABEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "config/relabel_config.h"
#include "merge/labels.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace fedgate {

// Returns Prometheus's hashmod of `value`: the MD5 of `value`, its last 8
// bytes read as a big-endian integer, modulo `modulus` (not 0). The `hashmod`
// action and target sharding (scraper/shard_selector.h) both use it.
uint64_t HashMod(absl::string_view value, uint64_t modulus);

class RelabelRule {
 public:
  // Compiles `config`. InvalidArgument with Go's wording when the regex does
  // not compile (`error parsing regexp: missing closing ): `^(?:()$``); the
  // config loader has already reported that with file:line, so it only
  // happens for configs built in code. The other fields are not validated
  // here (config_loader does that with Prometheus's messages).
  static absl::StatusOr<RelabelRule> Compile(const RelabelConfig& config);

  // Applies the rule to `*labels`. Returns false when the rule drops the
  // label set (keep, drop, keepequal, dropequal); `*labels` is then
  // unchanged. Setting a label to "" removes it.
  bool Apply(Labels* labels) const;

  const RelabelConfig& config() const { return config_; }

 private:
  // A pre-parsed Go expansion template: literal text and capture groups.
  struct Piece {
    std::string literal;
    int group = -1;  // Capture group appended after `literal`; -1: none.
  };
  using Template = std::vector<Piece>;

  RelabelRule() = default;
  Template ParseTemplate(absl::string_view text) const;
  // Appends the expansion of `t` for the submatches `groups` to `*out`.
  static void Expand(const Template& t,
                     absl::Span<const absl::string_view> groups,
                     std::string* out);
  // Go's Regexp.ReplaceAllString(src, replacement).
  std::string ReplaceAll(absl::string_view src) const;

  RelabelConfig config_;
  std::shared_ptr<const re2::RE2> regex_;  // Shared: RE2 is not copyable.
  int groups_ = 0;                         // Capturing groups + 1 (whole).
  bool target_is_template_ = false;        // `target_label` contains `$`.
  Template target_;
  Template replacement_;
};

// Rules applied in order, as relabel.Process does: processing stops at the
// first rule that drops.
class RelabelChain {
 public:
  RelabelChain() = default;  // No rules: Apply() keeps everything as is.

  // Compiles every rule; fails on the first that does not compile.
  static absl::StatusOr<RelabelChain> Compile(
      absl::Span<const RelabelConfig> configs);

  // Applies the rules in order to `*labels`. Returns false when a rule
  // drops the label set (`*labels` is then unspecified). A kept result may be
  // empty; what that means is the caller's decision.
  bool Apply(Labels* labels) const;

  bool empty() const { return rules_.empty(); }
  size_t size() const { return rules_.size(); }

  // Returns whether both chains have the same rules (so the same results:
  // a scrape cache built with one is valid for the other).
  friend bool operator==(const RelabelChain& a, const RelabelChain& b) {
    if (a.rules_.size() != b.rules_.size()) return false;
    for (size_t i = 0; i < a.rules_.size(); ++i) {
      if (a.rules_[i].config() != b.rules_[i].config()) return false;
    }
    return true;
  }
  friend bool operator!=(const RelabelChain& a, const RelabelChain& b) {
    return !(a == b);
  }

 private:
  std::vector<RelabelRule> rules_;
};

}  // namespace fedgate

#endif  // FEDGATE_MERGE_RELABEL_H_
