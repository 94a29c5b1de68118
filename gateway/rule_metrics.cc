#include "gateway/rule_metrics.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

namespace fedgate {

RuleMetrics::RuleMetrics(prometheus::Registry& registry)
    : rules_(prometheus::BuildGauge()
                 .Name("fedgate_rules")
                 .Help("Aggregation rules loaded from rule_files.")
                 .Register(registry)
                 .Add({})),
      inputs_(prometheus::BuildGauge()
                  .Name("fedgate_rule_input_series")
                  .Help("Input series an aggregation rule holds state for "
                        "(present, or departed counters kept for the "
                        "lookback).")
                  .Register(registry)),
      outputs_(prometheus::BuildGauge()
                   .Name("fedgate_rule_output_series")
                   .Help("Series an aggregation rule produces.")
                   .Register(registry)),
      evaluations_(prometheus::BuildCounter()
                       .Name("fedgate_rule_evaluations_total")
                       .Help("Scrapes that updated an aggregation rule.")
                       .Register(registry)),
      seconds_(prometheus::BuildCounter()
                   .Name("fedgate_rule_evaluation_seconds_total")
                   .Help("Time spent updating an aggregation rule from "
                         "scrapes.")
                   .Register(registry)),
      resets_(prometheus::BuildCounter()
                  .Name("fedgate_rule_counter_resets_total")
                  .Help("Input counter resets an aggregation rule absorbed.")
                  .Register(registry)) {}

void RuleMetrics::Add(const RuleStats& stats, PerRule* rule) {
  const prometheus::Labels labels = {{"rule", stats.record}};
  rule->inputs = &inputs_.Add(labels);
  rule->outputs = &outputs_.Add(labels);
  rule->evaluations = &evaluations_.Add(labels);
  rule->seconds = &seconds_.Add(labels);
  rule->resets = &resets_.Add(labels);
  rule->last = RuleStats();
}

void RuleMetrics::Remove(const PerRule& rule) {
  inputs_.Remove(rule.inputs);
  outputs_.Remove(rule.outputs);
  evaluations_.Remove(rule.evaluations);
  seconds_.Remove(rule.seconds);
  resets_.Remove(rule.resets);
}

void RuleMetrics::Update(const std::vector<RuleStats>& stats) {
  absl::MutexLock lock(&mu_);
  rules_.Set(static_cast<double>(stats.size()));
  std::map<std::string, PerRule> next;
  for (const RuleStats& s : stats) {
    auto it = by_record_.find(s.record);
    PerRule rule;
    if (it != by_record_.end()) {
      rule = it->second;
      by_record_.erase(it);
      // A rule with new state (changed by a reload) starts its counters
      // over, as a restarted process's would.
      if (s.evaluations < rule.last.evaluations) {
        Remove(rule);
        Add(s, &rule);
      }
    } else {
      Add(s, &rule);
    }
    rule.inputs->Set(static_cast<double>(s.input_series));
    rule.outputs->Set(static_cast<double>(s.output_series));
    rule.evaluations->Increment(
        static_cast<double>(s.evaluations - rule.last.evaluations));
    rule.seconds->Increment(
        absl::ToDoubleSeconds(s.evaluation_time - rule.last.evaluation_time));
    rule.resets->Increment(
        static_cast<double>(s.counter_resets - rule.last.counter_resets));
    rule.last = s;
    next.emplace(s.record, rule);
  }
  for (const auto& [record, rule] : by_record_) Remove(rule);
  by_record_ = std::move(next);
}

}  // namespace fedgate
