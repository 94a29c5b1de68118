// gateway/rule_metrics.h
//
// fedgate's self-metrics of the aggregation rules (docs/metrics.md): how
// many rules run, and per rule (label `rule`, its record name) its input and
// output series, the scrapes that updated it and the time spent, and the
// counter resets it absorbed. Read from RuleEvaluator::Stats() when /metrics
// is collected; a rule that a reload removed or restarted (changed) loses
// or restarts its series.
//
// Called by the HTTP workers serving /metrics (HttpServer's update_metrics);
// not on a scrape path.
//
// Thread-safety: thread-safe (Update is serialized internally).

#ifndef FEDGATE_GATEWAY_RULE_METRICS_H_
#define FEDGATE_GATEWAY_RULE_METRICS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "merge/rules/rule_evaluator.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace fedgate {

class RuleMetrics {
 public:
  // Registers the families in `registry`, which must outlive this.
  explicit RuleMetrics(prometheus::Registry& registry);
  RuleMetrics(const RuleMetrics&) = delete;
  RuleMetrics& operator=(const RuleMetrics&) = delete;

  // Sets the series from `stats` (RuleEvaluator::Stats(), one per rule).
  void Update(const std::vector<RuleStats>& stats) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // One rule's series and the counter values they were last set to.
  struct PerRule {
    prometheus::Gauge* inputs = nullptr;
    prometheus::Gauge* outputs = nullptr;
    prometheus::Counter* evaluations = nullptr;
    prometheus::Counter* seconds = nullptr;
    prometheus::Counter* resets = nullptr;
    RuleStats last;
  };
  void Add(const RuleStats& stats, PerRule* rule)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Remove(const PerRule& rule) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  prometheus::Gauge& rules_;
  prometheus::Family<prometheus::Gauge>& inputs_;
  prometheus::Family<prometheus::Gauge>& outputs_;
  prometheus::Family<prometheus::Counter>& evaluations_;
  prometheus::Family<prometheus::Counter>& seconds_;
  prometheus::Family<prometheus::Counter>& resets_;
  absl::Mutex mu_;
  std::map<std::string, PerRule> by_record_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_RULE_METRICS_H_
