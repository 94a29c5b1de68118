// merge/rules/rule_evaluator.h
//
// Evaluates the aggregation rules (merge/rules/aggregation_rule.h)
// incrementally, from each scrape as it lands, and publishes each rule's
// output into the SeriesStore as a batch of its own (target id
// kRuleTargetIdBase + n), with TYPE and HELP, so that /federate, /api/v1
// and gRPC serve it as any scraped series.
//
// Counters stay counters (docs/architecture.md, "Aggregation rules"): per
// input series the evaluator keeps its last raw value and its contribution.
// A new input's first sample is its baseline; an increase adds to the
// contribution; a decrease is a reset and adds the new raw value. An input
// missing from its target's latest scrape keeps its contribution, and its
// state lives on for `retention_ms` (the 5-minute lookback) after its last
// sample: back within it, it continues; after it, its contribution is
// folded for good into its output group's constant. An output group goes
// when its last input is folded. Gauges aggregate the current values of
// the inputs present. In a dedup group an input's value comes from one
// target at a time (the leader when it has the series); a change of source
// takes the new source's value as a baseline.
//
// Called by the scrape loops right after SeriesStore::Publish (OnPublish)
// and Remove (OnRemove), on the publishing thread. Per sample of that
// scrape: the rules of its metric name (one lookup per family, whose
// samples come together). Per input it matches: its state, found by its
// position in the target's previous scrape when the series are the same
// and in the same order (the steady state), else by one hash lookup (min
// and max: plus O(log inputs)). Plus, per rule that scrape touched, the
// output series whose value changed. A
// published output batch is immutable; once the store and its readers let
// go of it, it is patched into the next output (the series that changed
// since), so that a scrape does not rewrite all of a rule's outputs. While
// a read still holds it, the next output is a copy of the published one
// (O(outputs), with no per-series evaluation). A rule's kind is settled by
// the first scrape that has its metric: counter semantics when that
// scrape's TYPE makes it a counter (or a histogram's or summary's
// `_bucket`, `_count`, `_sum`) and the rule is a `sum` scaled by positive
// numbers at most; gauge semantics otherwise. Reloads call SetRules.
//
// Thread-safety: thread-safe. Each rule's state has its own mutex; lock
// order: a scrape loop → a rule → SeriesStore.

#ifndef FEDGATE_MERGE_RULES_RULE_EVALUATOR_H_
#define FEDGATE_MERGE_RULES_RULE_EVALUATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "merge/rules/aggregation_rule.h"
#include "merge/series_store.h"

namespace fedgate {

// The store's target ids of rule outputs: kRuleTargetIdBase, +1, ... (scrape
// targets count up from 1 and never get there).
inline constexpr TargetId kRuleTargetIdBase = TargetId{1} << 62;

// What one rule holds and has done, for self-metrics.
struct RuleStats {
  std::string record;
  size_t input_series = 0;         // Inputs with state (live or retained).
  size_t output_series = 0;        // Output groups.
  uint64_t counter_resets = 0;     // Input resets absorbed.
  uint64_t evaluations = 0;        // Scrapes that touched the rule.
  absl::Duration evaluation_time;  // Spent in those evaluations.
  // Output series written into output batches: in the steady state those
  // whose value changed, not all of the rule's outputs (see OnPublish).
  uint64_t output_samples_written = 0;
};

class RuleEvaluator {
 public:
  struct Options {
    SeriesStore* store = nullptr;  // Required; must outlive the evaluator.
    // How long a departed counter input's state is kept (see above).
    int64_t retention_ms = kLookbackDeltaMs;
    // The time of OnRemove(), in Unix milliseconds; tests set it.
    std::function<int64_t()> now_ms = [] {
      return absl::ToUnixMillis(absl::Now());
    };
  };

  explicit RuleEvaluator(Options options);
  RuleEvaluator(const RuleEvaluator&) = delete;
  RuleEvaluator& operator=(const RuleEvaluator&) = delete;
  ~RuleEvaluator();

  // Replaces the rules. A rule whose Key() is unchanged keeps its state and
  // its output; the outputs of the rules gone are removed from the store.
  // The inputs of the rules without keep_inputs are hidden from the store's
  // reads (SeriesStore::SetHidden).
  void SetRules(std::vector<AggregationRule> rules) ABSL_LOCKS_EXCLUDED(mu_);
  // Updates every rule from `batch`, the latest scrape of `target` (just
  // published), and publishes the outputs that changed.
  void OnPublish(TargetId target, const ScrapeBatch& batch)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Takes `target`'s series out of every rule (the target left).
  void OnRemove(TargetId target) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns each rule's statistics, in rule order.
  std::vector<RuleStats> Stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct RuleState;
  struct RuleSet;

  std::shared_ptr<const RuleSet> Rules() const ABSL_LOCKS_EXCLUDED(mu_);
  void Evaluate(TargetId target, const ScrapeBatch* batch, int64_t now_ms)
      ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const RuleSet> rules_ ABSL_GUARDED_BY(mu_);
  TargetId next_output_id_ ABSL_GUARDED_BY(mu_) = kRuleTargetIdBase;
};

}  // namespace fedgate

#endif  // FEDGATE_MERGE_RULES_RULE_EVALUATOR_H_
