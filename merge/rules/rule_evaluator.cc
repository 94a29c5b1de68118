#include "merge/rules/rule_evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "merge/query/label_matcher.h"

namespace fedgate {
namespace {

// A running sum is recomputed exactly after this many updates (or after
// kUpdatesPerInputBeforeExactSum times as many updates as the group has
// inputs, if more), so that the error of adding and subtracting floats stays
// bounded, at a quarter of a hash lookup per update.
constexpr size_t kMinUpdatesBeforeExactSum = 16;
constexpr size_t kUpdatesPerInputBeforeExactSum = 4;

// How many inputs ahead of the one it updates an evaluation prefetches.
constexpr size_t kPrefetchAhead = 4;

struct OutputGroup;

// One input series of a rule.
struct Input {
  InternedLabels labels;
  OutputGroup* group = nullptr;
  TargetId source = 0;  // The target whose samples it takes.
  double last_raw = 0;
  // Counters: the increase since the baseline; gauges: the current value.
  double contribution = 0;
  bool live = false;        // In its source's latest scrape.
  int64_t departed_ms = 0;  // When it left, if not live.
  // The targets' lists of supplied inputs (RuleState::by_target) that hold
  // it. A forgotten input lives on, out of RuleState::inputs, until the
  // last list lets go of it, so that a list never points at freed memory.
  uint32_t listed = 0;
  bool forgotten = false;
};

// One output series of a rule.
struct OutputGroup {
  InternedLabels labels;
  size_t index = 0;  // In RuleState::groups, and so in the output batch.
  // Its inputs with state: live ones, and for counters departed ones
  // still retained.
  absl::flat_hash_set<Input*> inputs;
  double folded = 0;  // Counters: contributions of inputs folded for good.
  double sum = 0;     // Of the contributions of `inputs`.
  size_t live = 0;
  size_t updates = 0;  // Since the last exact sum.
  bool dirty = false;  // The running sum is to be recomputed.
  // min and max: the contributions of the live inputs that are not NaN,
  // ordered, so that an update costs O(log inputs) instead of a rescan.
  absl::btree_multiset<double> ordered;
  double value = 0;      // The output value last written to a batch.
  bool written = false;  // `value` has been written to a batch.
  uint64_t touched = 0;  // The evaluation that last changed its state.
  bool removed = false;  // Its last input went; freed after the evaluation.
};

// Returns whether `a` and `b` are the same float, bit for bit (so a NaN
// equals itself and 0 differs from -0, as the text they are written as).
bool SameFloat(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Where a rule's output batches go when the store and every reader have let
// go of them: the latest comes back as the spare that the next output is
// patched from, so that an evaluation writes the output series that changed
// instead of all of them. A leaf lock: taken by whichever thread drops the
// last reference (a scrape thread, a reader), never while taking another.
struct OutputRecycler {
  absl::Mutex mu;
  std::unique_ptr<ScrapeBatch> spare ABSL_GUARDED_BY(mu);
  uint64_t spare_sequence ABSL_GUARDED_BY(mu) = 0;

  // Keeps `batch`, published as number `sequence`, if it is newer than the
  // spare held.
  void Return(ScrapeBatch* batch, uint64_t sequence) {
    std::unique_ptr<ScrapeBatch> owned(batch);
    absl::MutexLock lock(&mu);
    if (spare == nullptr || sequence > spare_sequence) {
      std::swap(spare, owned);
      spare_sequence = sequence;
    }
    // `owned`, the older batch, is freed after the lock is released.
  }
  // Returns the spare if it is batch number `sequence`, else null.
  std::unique_ptr<ScrapeBatch> Take(uint64_t sequence) {
    absl::MutexLock lock(&mu);
    if (spare == nullptr || spare_sequence != sequence) return nullptr;
    return std::move(spare);
  }
};

// Returns whether the series `name` of a family typed `family` is a
// counter for a rule: a counter, or a histogram's or summary's
// `_bucket`/`_count`/`_sum` (OpenMetrics' `_total` too).
bool IsCounterSeries(const FamilyMetadataList& metadata,
                     absl::string_view name) {
  for (const FamilyMetadata& family : metadata) {
    if (!absl::StartsWith(name, family.name)) continue;
    const absl::string_view suffix = name.substr(family.name.size());
    switch (family.type) {
      case MetricType::kCounter:
        if (suffix.empty() || suffix == "_total") return true;
        break;
      case MetricType::kHistogram:
        if (suffix == "_bucket" || suffix == "_count" || suffix == "_sum") {
          return true;
        }
        break;
      case MetricType::kSummary:
        if (suffix == "_count" || suffix == "_sum") return true;
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

struct RuleEvaluator::RuleState {
  RuleState(AggregationRule rule_in, TargetId id)
      : rule(std::move(rule_in)), output_id(id) {}

  enum class Kind { kUnknown, kCounter, kGauge };

  const AggregationRule rule;
  const TargetId output_id;

  mutable absl::Mutex mu;
  // Settled by the first scrape that has the rule's metric with a TYPE:
  // counter semantics for a counter under a rule that KeepsCounters().
  Kind kind ABSL_GUARDED_BY(mu) = Kind::kUnknown;
  // By InternedLabels::id(). Each Input stays at one address for its life.
  absl::flat_hash_map<const void*, std::unique_ptr<Input>> inputs
      ABSL_GUARDED_BY(mu);
  // Forgotten inputs that a target's list still holds (Input::listed).
  absl::flat_hash_map<Input*, std::unique_ptr<Input>> forgotten_but_listed
      ABSL_GUARDED_BY(mu);
  std::vector<std::unique_ptr<OutputGroup>> groups ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<const void*, OutputGroup*> group_index
      ABSL_GUARDED_BY(mu);
  // The inputs each target supplied in its latest scrape, in its order: a
  // scrape with the same series in the same order finds each input by
  // position, without a lookup in `inputs`.
  absl::flat_hash_map<TargetId, std::vector<Input*>> by_target
      ABSL_GUARDED_BY(mu);
  // Departed counter inputs in departure order: {labels, departed_ms}.
  std::deque<std::pair<InternedLabels, int64_t>> departed ABSL_GUARDED_BY(mu);
  uint64_t counter_resets ABSL_GUARDED_BY(mu) = 0;
  uint64_t evaluations ABSL_GUARDED_BY(mu) = 0;
  absl::Duration evaluation_time ABSL_GUARDED_BY(mu);

  // The groups whose state the current evaluation changed (each once, by
  // OutputGroup::touched), and the groups it removed, freed at its end.
  uint64_t evaluation ABSL_GUARDED_BY(mu) = 0;
  std::vector<OutputGroup*> touched ABSL_GUARDED_BY(mu);
  std::vector<std::unique_ptr<OutputGroup>> removed ABSL_GUARDED_BY(mu);

  // The output as published: the batch, its number, and the positions whose
  // series or value changed since (`changed`; `reordered` when a position
  // got another series or the size changed). The batch published before it
  // comes back to `recycler` once unread, and is patched at the positions
  // of `recycled_changes` (what changed from it to `published`) and of
  // `changed` to become the next output.
  std::shared_ptr<const ScrapeBatch> published ABSL_GUARDED_BY(mu);
  uint64_t published_sequence ABSL_GUARDED_BY(mu) = 0;
  std::vector<uint32_t> changed ABSL_GUARDED_BY(mu);
  bool reordered ABSL_GUARDED_BY(mu) = false;
  uint64_t recyclable_sequence ABSL_GUARDED_BY(mu) = 0;
  std::vector<uint32_t> recycled_changes ABSL_GUARDED_BY(mu);
  bool recycled_reordered ABSL_GUARDED_BY(mu) = false;
  const std::shared_ptr<OutputRecycler> recycler =
      std::make_shared<OutputRecycler>();
  uint64_t samples_written ABSL_GUARDED_BY(mu) = 0;

  bool Ordered() const {
    return rule.op == AggregateOp::kMin || rule.op == AggregateOp::kMax;
  }

  // Records that `group`'s state changed in this evaluation.
  void Touch(OutputGroup* group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (group->touched == evaluation) return;
    group->touched = evaluation;
    touched.push_back(group);
  }

  // Counts `input` (live) in its group's min/max order, or takes it out.
  void Order(const Input& input, bool add) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!Ordered() || std::isnan(input.contribution)) return;
    absl::btree_multiset<double>& ordered = input.group->ordered;
    if (add) {
      ordered.insert(input.contribution);
    } else if (auto it = ordered.find(input.contribution);
               it != ordered.end()) {
      ordered.erase(it);
    }
  }

  // Marks `input` present in its source's latest scrape, or not.
  void SetLive(Input& input, bool live) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (input.live == live) return;
    input.live = live;
    if (live) {
      ++input.group->live;
      Order(input, /*add=*/true);
    } else {
      --input.group->live;
      Order(input, /*add=*/false);
    }
    Touch(input.group);
  }

  // Sets a gauge input's current value.
  void SetGauge(Input& input, double v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!std::isfinite(v) || !std::isfinite(input.contribution)) {
      input.group->dirty = true;
    }
    if (input.live) Order(input, /*add=*/false);
    input.group->sum += v - input.contribution;
    input.contribution = v;
    if (input.live) Order(input, /*add=*/true);
    Touch(input.group);
  }

  OutputGroup* GroupOf(const InternedLabels& input)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    InternedLabels labels =
        InternedLabels::Intern(rule.OutputLabels(input.ToLabels()));
    auto [it, added] = group_index.try_emplace(labels.id(), nullptr);
    if (added) {
      groups.push_back(std::make_unique<OutputGroup>());
      it->second = groups.back().get();
      it->second->labels = std::move(labels);
      it->second->index = groups.size() - 1;
      reordered = true;
      Touch(it->second);
    }
    return it->second;
  }

  // Takes `group` out; the last group moves to its position. The group is
  // freed at the end of the evaluation (`touched` may point to it).
  void RemoveGroup(OutputGroup* group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    group_index.erase(group->labels.id());
    const size_t index = group->index;
    if (index + 1 != groups.size()) {
      std::swap(groups[index], groups.back());
      groups[index]->index = index;
      changed.push_back(static_cast<uint32_t>(index));
    }
    group->removed = true;
    removed.push_back(std::move(groups.back()));
    groups.pop_back();
    reordered = true;
  }

  // Takes `input` out of its group and forgets it (its contribution is
  // folded into the group first when `fold`).
  void Forget(const void* id, bool fold) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto it = inputs.find(id);
    Input* input = it->second.get();
    OutputGroup* group = input->group;
    if (fold) group->folded += input->contribution;
    group->sum -= input->contribution;
    group->dirty = true;
    Touch(group);
    group->inputs.erase(input);
    input->forgotten = true;
    if (input->listed > 0) {
      forgotten_but_listed.emplace(input, std::move(it->second));
    }
    inputs.erase(it);
    if (group->inputs.empty()) RemoveGroup(group);
  }

  // Makes `list` `target`'s list of supplied inputs (none when empty),
  // counting the inputs it holds and freeing the forgotten ones no list
  // holds any more.
  void SetList(TargetId target, std::vector<Input*> list)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (Input* input : list) ++input->listed;
    auto it = by_target.find(target);
    if (it != by_target.end()) {
      for (Input* input : it->second) {
        if (--input->listed == 0 && input->forgotten) {
          forgotten_but_listed.erase(input);
        }
      }
    }
    if (list.empty()) {
      if (it != by_target.end()) by_target.erase(it);
    } else if (it != by_target.end()) {
      it->second = std::move(list);
    } else {
      by_target.emplace(target, std::move(list));
    }
  }

  double Value(const OutputGroup& group) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    double value = 0;
    switch (rule.op) {
      case AggregateOp::kCount:
        value = static_cast<double>(group.live);
        break;
      case AggregateOp::kAvg:
        value = group.sum / static_cast<double>(group.live);
        break;
      case AggregateOp::kMin:
      case AggregateOp::kMax:
        // As Prometheus: NaN gives way to any number.
        if (!group.ordered.empty()) {
          value = rule.op == AggregateOp::kMin ? *group.ordered.begin()
                                               : *group.ordered.rbegin();
        } else if (group.live > 0) {
          value = std::nan("");
        }
        break;
      default:
        value = group.folded + group.sum;
        break;
    }
    return rule.ApplyArithmetic(value);
  }

  // Settles the groups this evaluation touched: recomputes the running sums
  // that are due (after a non-finite value or a forgotten input, or after
  // enough updates to bound the float error: amortized O(1) per update), and
  // records the positions whose output value changed. Frees the groups it
  // removed.
  void Settle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (OutputGroup* group : touched) {
      if (group->removed) continue;
      const bool due =
          group->dirty || !std::isfinite(group->sum) ||
          group->updates >=
              std::max(kMinUpdatesBeforeExactSum,
                       kUpdatesPerInputBeforeExactSum * group->inputs.size());
      if (due) {
        double sum = 0;
        for (const Input* input : group->inputs) sum += input->contribution;
        group->sum = sum;
        group->updates = 0;
        group->dirty = false;
      }
      const double value = Value(*group);
      if (!group->written || !SameFloat(value, group->value)) {
        group->value = value;
        group->written = true;
        changed.push_back(static_cast<uint32_t>(group->index));
      }
    }
    touched.clear();
    removed.clear();
  }

  // Writes the output at `positions` of `batch`, sized to the groups. A
  // position that keeps its series only takes the new value (no label
  // reference is taken or dropped).
  void Patch(ScrapeBatch& batch, const std::vector<uint32_t>& positions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (uint32_t p : positions) {
      if (p >= groups.size()) continue;
      Sample& sample = batch.samples[p];
      const OutputGroup& group = *groups[p];
      if (sample.labels != group.labels) sample.labels = group.labels;
      sample.value = group.value;
    }
  }

  // Returns the next output batch, at `now_ms`: the recycled batch patched
  // where it differs (the steady state, O(changed series)), else a copy of
  // the published one patched, else a new one.
  std::unique_ptr<ScrapeBatch> NextOutput(int64_t now_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_ptr<ScrapeBatch> batch;
    if (published != nullptr) {
      batch = recycler->Take(recyclable_sequence);
    }
    if (batch != nullptr) {
      batch->samples.resize(groups.size());
      Patch(*batch, recycled_changes);
      Patch(*batch, changed);
      samples_written += recycled_changes.size() + changed.size();
      // An index is of the label sets in order; values do not matter.
      if (recycled_reordered || reordered)
        batch->index_cache = LazyBatchIndex();
    } else if (published != nullptr) {
      batch = std::make_unique<ScrapeBatch>(*published);
      batch->samples.resize(groups.size());
      Patch(*batch, changed);
      samples_written += groups.size();
      if (!reordered) batch->index_cache.Adopt(published->index_cache.Peek());
    } else {
      batch = std::make_unique<ScrapeBatch>();
      batch->samples.reserve(groups.size());
      for (const std::unique_ptr<OutputGroup>& group : groups) {
        batch->samples.push_back(Sample{group->labels, group->value});
      }
      samples_written += groups.size();
      batch->metadata = FamilyMetadataList{FamilyMetadata{
          rule.record,
          kind == Kind::kCounter ? MetricType::kCounter : MetricType::kGauge,
          absl::StrCat("Aggregation rule ", rule.record, ": ", rule.expr), ""}};
    }
    batch->timestamp_ms = now_ms;
    batch->scrape_time = absl::FromUnixMillis(now_ms);
    return batch;
  }

  // Publishes the next output to `store` as `output_id`.
  void Publish(SeriesStore& store, int64_t now_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_ptr<ScrapeBatch> next = NextOutput(now_ms);
    const uint64_t sequence = ++published_sequence;
    std::shared_ptr<const ScrapeBatch> batch(
        next.release(), [recycler = recycler, sequence](ScrapeBatch* b) {
          recycler->Return(b, sequence);
        });
    store.Publish(output_id, batch);
    // The batch published before comes back to the recycler when its last
    // reader lets go of it (now, unless a read holds it).
    recyclable_sequence = sequence - 1;
    recycled_changes = std::move(changed);
    recycled_reordered = reordered;
    changed.clear();
    reordered = false;
    published = std::move(batch);
  }
};

struct RuleEvaluator::RuleSet {
  std::vector<std::shared_ptr<RuleState>> rules;
  // Metric name -> the rules over it.
  absl::flat_hash_map<std::string, std::vector<size_t>> by_metric;
  // Per rule, its selector's matchers but `__name__="<metric_name>"`, which
  // by_metric has settled already: often none.
  std::vector<Selector> other_matchers;
};

RuleEvaluator::RuleEvaluator(Options options)
    : options_(std::move(options)), rules_(std::make_shared<const RuleSet>()) {}

RuleEvaluator::~RuleEvaluator() = default;

std::shared_ptr<const RuleEvaluator::RuleSet> RuleEvaluator::Rules() const {
  absl::ReaderMutexLock lock(&mu_);
  return rules_;
}

void RuleEvaluator::SetRules(std::vector<AggregationRule> rules) {
  // The selectors whose series reads leave out, by metric name.
  std::shared_ptr<HiddenSeries> hidden;
  auto selectors = std::make_shared<
      absl::flat_hash_map<std::string, std::vector<Selector>>>();
  for (const AggregationRule& rule : rules) {
    if (rule.keep_inputs) continue;
    (*selectors)[rule.metric_name].push_back(rule.selector);
  }
  if (!selectors->empty()) {
    hidden = std::make_shared<HiddenSeries>();
    for (const auto& [name, list] : *selectors) hidden->names.insert(name);
    hidden->hides = [selectors](const InternedLabels& labels) {
      auto it = selectors->find(labels.MetricName());
      if (it == selectors->end()) return false;
      for (const Selector& selector : it->second) {
        if (SelectorMatches(selector, labels)) return true;
      }
      return false;
    };
  }
  auto set = std::make_shared<RuleSet>();
  std::vector<TargetId> gone;
  {
    absl::MutexLock lock(&mu_);
    absl::flat_hash_map<std::string, std::shared_ptr<RuleState>> old;
    for (const std::shared_ptr<RuleState>& state : rules_->rules) {
      old.emplace(state->rule.Key(), state);
    }
    for (AggregationRule& rule : rules) {
      auto it = old.find(rule.Key());
      if (it != old.end()) {
        set->rules.push_back(it->second);
        old.erase(it);
      } else {
        set->rules.push_back(
            std::make_shared<RuleState>(std::move(rule), next_output_id_++));
      }
      const AggregationRule& added = set->rules.back()->rule;
      set->by_metric[added.metric_name].push_back(set->rules.size() - 1);
      Selector& others = set->other_matchers.emplace_back();
      for (const LabelMatcher& matcher : added.selector) {
        if (matcher.type() == MatchType::kEqual &&
            matcher.name() == kMetricNameLabel &&
            matcher.value() == added.metric_name) {
          continue;
        }
        others.push_back(matcher);
      }
    }
    for (const auto& [key, state] : old) gone.push_back(state->output_id);
    rules_ = std::move(set);
  }
  for (TargetId id : gone) options_.store->Remove(id);
  options_.store->SetHidden(std::move(hidden));
}

void RuleEvaluator::OnPublish(TargetId target, const ScrapeBatch& batch) {
  Evaluate(target, &batch, batch.timestamp_ms);
}

void RuleEvaluator::OnRemove(TargetId target) {
  Evaluate(target, nullptr, options_.now_ms());
}

void RuleEvaluator::Evaluate(TargetId target, const ScrapeBatch* batch,
                             int64_t now_ms) {
  const std::shared_ptr<const RuleSet> set = Rules();
  if (set->rules.empty()) return;
  // The matching samples of each rule: one lookup per family.
  std::vector<std::vector<uint32_t>> matched(set->rules.size());
  if (batch != nullptr) {
    // A family's samples come together: a name like the previous sample's
    // (the same interned text) has the same rules.
    absl::string_view last_name;
    const std::vector<size_t>* last_rules = nullptr;
    for (uint32_t i = 0; i < batch->samples.size(); ++i) {
      const InternedLabels& labels = batch->samples[i].labels;
      const absl::string_view name = labels.MetricName();
      if (name.data() != last_name.data() || name.size() != last_name.size()) {
        auto it = set->by_metric.find(name);
        last_name = name;
        last_rules = it == set->by_metric.end() ? nullptr : &it->second;
      }
      if (last_rules == nullptr) continue;
      for (size_t r : *last_rules) {
        const Selector& others = set->other_matchers[r];
        if (others.empty() || SelectorMatches(others, labels)) {
          matched[r].push_back(i);
        }
      }
    }
  }
  bool group_known = false;
  bool leader = false;
  for (size_t r = 0; r < set->rules.size(); ++r) {
    RuleState& state = *set->rules[r];
    const absl::Time start = absl::Now();
    absl::MutexLock lock(&state.mu);
    auto previous = state.by_target.find(target);
    if (matched[r].empty() && previous == state.by_target.end() &&
        state.departed.empty()) {
      continue;
    }
    ++state.evaluation;
    if (state.kind == RuleState::Kind::kUnknown && !matched[r].empty()) {
      state.kind =
          state.rule.KeepsCounters() &&
                  IsCounterSeries(batch->metadata, state.rule.metric_name)
              ? RuleState::Kind::kCounter
              : RuleState::Kind::kGauge;
    }
    const bool counter = state.kind == RuleState::Kind::kCounter;
    bool changed = false;
    // The inputs this scrape supplies. In the steady state (the same series
    // in the same order as the previous scrape) they are only compared with
    // the previous list, not copied: `same` counts the leading inputs equal
    // to it, and `supplied` is built from the first difference on.
    const std::vector<Input*>* before =
        previous != state.by_target.end() ? &previous->second : nullptr;
    size_t same = 0;
    bool differs = before == nullptr;
    std::vector<Input*> supplied;
    auto supply = [&](Input* input) {
      if (!differs) {
        if (same < before->size() && (*before)[same] == input) {
          ++same;
          return;
        }
        differs = true;
        supplied.reserve(matched[r].size());
        supplied.assign(before->begin(), before->begin() + same);
      }
      supplied.push_back(input);
    };
    for (uint32_t i : matched[r]) {
      const Sample& sample = batch->samples[i];
      const double v = sample.value;
      // The steady state: the input at this position of the previous list.
      Input* found = nullptr;
      if (!differs && same < before->size()) {
        // The inputs are spread over the heap: ask for one a few ahead.
        if (same + kPrefetchAhead < before->size()) {
          __builtin_prefetch((*before)[same + kPrefetchAhead]);
        }
        Input* listed = (*before)[same];
        if (listed->labels == sample.labels && !listed->forgotten) {
          found = listed;
        }
      }
      bool added = false;
      if (found == nullptr) {
        auto [it, inserted] = state.inputs.try_emplace(sample.labels.id());
        if (inserted) it->second = std::make_unique<Input>();
        found = it->second.get();
        added = inserted;
      }
      Input& input = *found;
      if (added) {
        input.labels = sample.labels;
        input.group = state.GroupOf(sample.labels);
        input.source = target;
        input.last_raw = v;
        input.contribution = counter ? 0 : v;
        input.group->inputs.insert(&input);
        input.group->sum += input.contribution;
        if (!std::isfinite(v)) input.group->dirty = true;
        state.SetLive(input, true);
      } else if (input.source != target) {
        if (input.live) {
          if (!group_known) {
            leader = options_.store->Group(target).leader;
            group_known = true;
          }
          // Another target serves it; only its group's leader takes over.
          if (!leader) continue;
        }
        // A new source: its value is a baseline.
        input.source = target;
        input.last_raw = v;
        if (!counter) state.SetGauge(input, v);
        state.SetLive(input, true);
      } else {
        state.SetLive(input, true);
        if (counter) {
          if (!std::isnan(v)) {
            double delta = v - input.last_raw;
            if (v < input.last_raw) {
              delta = v;  // A reset: the counter counted v since it.
              ++state.counter_resets;
            }
            input.contribution += delta;
            input.group->sum += delta;
            input.last_raw = v;
            state.Touch(input.group);
          }
        } else {
          state.SetGauge(input, v);
          input.last_raw = v;
        }
      }
      ++input.group->updates;
      supply(&input);
      changed = true;
    }
    if (!differs && same < before->size()) {
      // The scrape supplied a prefix of the previous list.
      differs = true;
      supplied.assign(before->begin(), before->begin() + same);
    }
    const bool same_as_before = !differs;
    // Inputs the target supplied last time and not now have departed. The
    // steady state (the same series in the same order) needs no set.
    if (previous != state.by_target.end() && !same_as_before) {
      const absl::flat_hash_set<const Input*> now_supplied(supplied.begin(),
                                                           supplied.end());
      for (Input* listed : previous->second) {
        if (now_supplied.contains(listed)) continue;
        if (listed->forgotten || listed->source != target || !listed->live) {
          continue;
        }
        changed = true;
        Input& input = *listed;
        state.SetLive(input, false);
        if (counter) {
          input.departed_ms = now_ms;
          state.departed.emplace_back(input.labels, now_ms);
        } else {
          state.Forget(input.labels.id(), /*fold=*/false);
        }
      }
    }
    if (!same_as_before) state.SetList(target, std::move(supplied));
    // Departed counter inputs past their retention are folded for good.
    while (!state.departed.empty() &&
           state.departed.front().second + options_.retention_ms <= now_ms) {
      const auto [labels, departed_ms] = std::move(state.departed.front());
      state.departed.pop_front();
      auto it = state.inputs.find(labels.id());
      if (it == state.inputs.end() || it->second->live ||
          it->second->departed_ms != departed_ms) {
        continue;  // It came back, or left again later.
      }
      state.Forget(labels.id(), /*fold=*/true);
      changed = true;
    }
    state.Settle();
    if (!changed) continue;
    state.Publish(*options_.store, now_ms);
    ++state.evaluations;
    state.evaluation_time += absl::Now() - start;
  }
}

std::vector<RuleStats> RuleEvaluator::Stats() const {
  const std::shared_ptr<const RuleSet> set = Rules();
  std::vector<RuleStats> out;
  for (const std::shared_ptr<RuleState>& state : set->rules) {
    absl::MutexLock lock(&state->mu);
    RuleStats stats;
    stats.record = state->rule.record;
    stats.input_series = state->inputs.size();
    stats.output_series = state->groups.size();
    stats.counter_resets = state->counter_resets;
    stats.evaluations = state->evaluations;
    stats.evaluation_time = state->evaluation_time;
    stats.output_samples_written = state->samples_written;
    out.push_back(std::move(stats));
  }
  return out;
}

}  // namespace fedgate
