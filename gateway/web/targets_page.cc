#include "gateway/web/targets_page.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/web/html.h"
#include "merge/interned_labels.h"

namespace fedgate {
namespace {

// The page's only style and script. Both are constants: the
// Content-Security-Policy allows them by hash, and nothing else.
constexpr absl::string_view kStyle = R"css(
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#656d76;--line:#d0d7de;--up:#1a7f37;--down:#cf222e;--unknown:#9a6700;--chip:#eef1f4}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#8d96a0;--line:#30363d;--up:#3fb950;--down:#f85149;--unknown:#d29922;--chip:#21262d}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{position:sticky;top:0;z-index:1;background:var(--bg);border-bottom:1px solid var(--line);padding:12px 20px}
h1{margin:0 0 4px;font-size:20px}
main{padding:12px 20px}
.summary{color:var(--muted);margin:0 0 8px}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:center}
.controls input[type=search]{min-width:22em;padding:4px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
button{padding:3px 10px;border:1px solid var(--line);border-radius:6px;background:var(--chip);color:var(--fg);cursor:pointer}
details.job{border:1px solid var(--line);border-radius:8px;margin:0 0 12px}
details.job>summary{cursor:pointer;padding:8px 12px;font-weight:600;font-size:15px}
.count{font-weight:500;margin-left:8px;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff}
.count.all-up{background:var(--up)}.count.some-down{background:var(--down)}.count.none{background:var(--muted)}
table{width:100%;border-collapse:collapse;table-layout:fixed}
th:nth-child(1){width:24%}th:nth-child(2){width:7em}th:nth-child(3){width:26%}th:nth-child(4){width:11em}th:nth-child(5){width:14%}
th,td{text-align:left;vertical-align:top;padding:6px 12px;border-top:1px solid var(--line)}
th{font-size:12px;color:var(--muted);font-weight:600}
td.endpoint{word-break:break-all;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
.state{display:inline-block;min-width:5.5em;text-align:center;padding:1px 6px;border-radius:4px;color:#fff;font-size:12px;font-weight:600}
.state.up{background:var(--up)}.state.down{background:var(--down)}.state.unknown{background:var(--unknown)}
.labels{display:flex;flex-wrap:wrap;gap:4px}
.label{background:var(--chip);border-radius:4px;padding:0 6px;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all}
details.discovered>summary,details.dropped>summary{cursor:pointer;color:var(--muted);font-size:12px;margin-top:4px}
td.error{color:var(--down);font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;white-space:pre-wrap;word-break:break-word;max-width:32em}
.muted{color:var(--muted)}
.leader{color:var(--up);font-weight:600}.conflict{color:var(--down)}
details.dropped{padding:6px 12px 10px;border-top:1px solid var(--line)}
details.dropped ul{margin:6px 0 0;padding-left:18px}
details.dropped li{margin:0 0 6px}
[hidden]{display:none!important}
)css";

constexpr absl::string_view kScript = R"js(
(function () {
  var unhealthy = document.getElementById('unhealthy');
  var filter = document.getElementById('filter');
  function apply() {
    var only = unhealthy.checked;
    var q = filter.value.trim().toLowerCase();
    var jobs = document.querySelectorAll('details.job');
    var shownTotal = 0;
    for (var i = 0; i < jobs.length; i++) {
      var jobMatches = q !== '' &&
          jobs[i].getAttribute('data-job').toLowerCase().indexOf(q) !== -1;
      var rows = jobs[i].querySelectorAll('tr.target');
      var shown = 0;
      for (var j = 0; j < rows.length; j++) {
        var r = rows[j];
        var ok = (!only || r.getAttribute('data-health') !== 'up') &&
            (q === '' || jobMatches ||
             r.textContent.toLowerCase().indexOf(q) !== -1);
        r.hidden = !ok;
        if (ok) shown++;
      }
      jobs[i].hidden = (only || q !== '') && shown === 0 && !jobMatches;
      shownTotal += shown;
    }
    document.getElementById('shown').textContent =
        (only || q !== '') ? shownTotal + ' shown' : '';
  }
  function openAll(open) {
    var jobs = document.querySelectorAll('details.job');
    for (var i = 0; i < jobs.length; i++) jobs[i].open = open;
  }
  unhealthy.addEventListener('change', apply);
  filter.addEventListener('input', apply);
  document.getElementById('expand').addEventListener('click', function () { openAll(true); });
  document.getElementById('collapse').addEventListener('click', function () { openAll(false); });
  apply();
})();
)js";

constexpr absl::string_view kScrapeSamplesScraped = "scrape_samples_scraped";

void Append(absl::string_view markup, std::string* out) {
  out->append(markup.data(), markup.size());
}

template <typename LabelSet>
void AppendLabels(const LabelSet& labels, std::string* out) {
  Append("<div class=\"labels\">", out);
  bool any = false;
  for (const auto& label : labels) {
    const LabelView l(label);
    any = true;
    Append("<span class=\"label\">", out);
    AppendHtmlEscaped(l.name, out);
    Append("=&#34;", out);
    AppendHtmlEscaped(l.value, out);
    Append("&#34;</span>", out);
  }
  if (!any) Append("<span class=\"muted\">none</span>", out);
  Append("</div>", out);
}

std::string FormatAge(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  return absl::FormatDuration(absl::Trunc(d, absl::Milliseconds(1)));
}

struct JobSection {
  std::vector<const TargetStatus*> targets;
  std::vector<const DroppedTarget*> dropped;
  int up = 0;
};

void AppendTargetRow(
    const TargetsPageData& data, const TargetStatus& t,
    const absl::flat_hash_map<TargetId, const TargetStatus*>& by_id,
    std::string* out) {
  const absl::string_view health = TargetHealthName(t.health);
  absl::StrAppend(out, "<tr class=\"target\" data-health=\"", health, "\">");
  // Endpoint, and the discovered labels on demand.
  Append("<td class=\"endpoint\">", out);
  AppendHtmlEscaped(t.scrape_url, out);
  absl::StrAppend(out,
                  "<details class=\"discovered\"><summary>discovered labels (",
                  t.discovered_labels.size(), ")</summary>");
  AppendLabels(t.discovered_labels, out);
  Append("</details></td>", out);
  absl::StrAppend(out, "<td><span class=\"state ", health, "\">", health,
                  "</span></td>");
  Append("<td>", out);
  AppendLabels(t.labels, out);
  Append("</td>", out);
  // Last scrape: when, how long, how many samples.
  Append("<td class=\"scrape\">", out);
  if (t.last_scrape == absl::InfinitePast()) {
    Append("<span class=\"muted\">never</span>", out);
  } else {
    absl::StrAppend(out, "<time datetime=\"",
                    absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t.last_scrape,
                                     absl::UTCTimeZone()),
                    "\">", FormatAge(data.now - t.last_scrape),
                    " ago</time><br>", "<span class=\"muted\">took</span> ",
                    absl::FormatDuration(absl::Trunc(t.last_scrape_duration,
                                                     absl::Microseconds(1))));
  }
  if (auto it = data.samples_scraped.find(t.id);
      it != data.samples_scraped.end()) {
    absl::StrAppend(out, "<br><span class=\"samples\">", it->second,
                    "</span> <span class=\"muted\">samples</span>");
  }
  Append("</td>", out);
  // Dedup group, leadership, and the series not served.
  Append("<td class=\"dedup\">", out);
  if (t.dedup_group.empty()) {
    Append("<span class=\"muted\">none</span>", out);
  } else {
    AppendHtmlEscaped(t.dedup_group, out);
    Append(t.dedup_leader ? "<br><span class=\"leader\">leader</span>"
                          : "<br><span class=\"muted\">standby</span>",
           out);
  }
  if (auto it = data.merge.find(t.id); it != data.merge.end()) {
    const MergeStats::PerTarget& m = it->second;
    if (m.deduplicated > 0) {
      absl::StrAppend(out, "<br><span class=\"muted\">", m.deduplicated,
                      " series served by another member</span>");
    }
    if (m.conflicting > 0) {
      absl::StrAppend(out, "<div class=\"conflict\">", m.conflicting,
                      " conflicting series");
      if (auto w = by_id.find(m.conflict_winner); w != by_id.end()) {
        Append(", served by ", out);
        AppendHtmlEscaped(w->second->scrape_url, out);
      }
      if (!m.first_conflict.empty()) {
        Append(", e.g. ", out);
        AppendHtmlEscaped(m.first_conflict.ToString(), out);
      }
      Append("</div>", out);
    }
  }
  Append("</td>", out);
  Append("<td class=\"error\">", out);
  AppendHtmlEscaped(t.last_error, out);
  Append("</td></tr>\n", out);
}

}  // namespace

TargetsPageData CollectTargetsPage(std::vector<TargetStatus> targets,
                                   std::vector<DroppedTarget> dropped,
                                   const StoreSnapshot* snapshot,
                                   absl::Time now) {
  TargetsPageData data;
  data.targets = std::move(targets);
  data.dropped = std::move(dropped);
  data.now = now;
  if (snapshot == nullptr) return data;
  MergeStats stats = ComputeMergeStats(*snapshot);
  data.merge = std::move(stats.targets);
  for (const auto& [id, batch] : snapshot->batches) {
    if (batch == nullptr) continue;
    // The synthetic series come last in a batch: a few steps from the end.
    for (auto it = batch->samples.rbegin(); it != batch->samples.rend(); ++it) {
      if (it->labels.MetricName() == kScrapeSamplesScraped) {
        data.samples_scraped[id] = static_cast<int64_t>(it->value);
        break;
      }
    }
  }
  return data;
}

std::string RenderTargetsPage(const TargetsPageData& data) {
  std::map<std::string, JobSection> jobs;  // By name.
  absl::flat_hash_map<TargetId, const TargetStatus*> by_id;
  int up = 0;
  for (const TargetStatus& t : data.targets) {
    JobSection& job = jobs[t.scrape_pool];
    job.targets.push_back(&t);
    by_id[t.id] = &t;
    if (t.health == TargetHealth::kUp) {
      ++job.up;
      ++up;
    }
  }
  for (const DroppedTarget& t : data.dropped) {
    jobs[t.scrape_pool].dropped.push_back(&t);
  }

  std::string out;
  out.reserve(4096 + data.targets.size() * 1024);
  Append(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>Targets - fedgate</title>\n<style>",
      &out);
  Append(kStyle, &out);
  Append("</style>\n</head>\n<body>\n<header>\n<h1>Targets</h1>\n", &out);
  absl::StrAppend(
      &out, "<p class=\"summary\" id=\"summary\">", up, " of ",
      data.targets.size(), " targets up in ", jobs.size(),
      jobs.size() == 1 ? " job" : " jobs", "; ", data.dropped.size(),
      " dropped by relabeling. Rendered at ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", data.now, absl::UTCTimeZone()),
      ".</p>\n");
  Append(
      "<div class=\"controls\">"
      "<label><input type=\"checkbox\" id=\"unhealthy\"> Unhealthy only"
      "</label>"
      "<input type=\"search\" id=\"filter\" placeholder=\"Filter by job, "
      "endpoint, labels or error\" aria-label=\"Filter targets\">"
      "<button type=\"button\" id=\"expand\">Expand all</button>"
      "<button type=\"button\" id=\"collapse\">Collapse all</button>"
      "<span class=\"muted\" id=\"shown\"></span></div>\n</header>\n<main>\n",
      &out);
  if (jobs.empty()) {
    Append("<p class=\"muted\" id=\"empty\">No targets.</p>\n", &out);
  }
  for (const auto& [name, job] : jobs) {
    const int total = static_cast<int>(job.targets.size());
    const char* count_class = total == 0        ? "none"
                              : job.up == total ? "all-up"
                                                : "some-down";
    Append("<details class=\"job\" open data-job=\"", &out);
    AppendHtmlEscaped(name, &out);
    Append("\"><summary><span class=\"job-name\">", &out);
    AppendHtmlEscaped(name, &out);
    absl::StrAppend(&out, "</span> <span class=\"count ", count_class, "\">",
                    job.up, "/", total, " up</span></summary>\n");
    if (!job.targets.empty()) {
      Append(
          "<table><thead><tr><th>Endpoint</th><th>State</th><th>Labels</th>"
          "<th>Last scrape</th><th>Dedup group</th><th>Error</th></tr>"
          "</thead>\n<tbody>\n",
          &out);
      for (const TargetStatus* t : job.targets) {
        AppendTargetRow(data, *t, by_id, &out);
      }
      Append("</tbody></table>\n", &out);
    }
    if (!job.dropped.empty()) {
      absl::StrAppend(
          &out, "<details class=\"dropped\"><summary>", job.dropped.size(),
          job.dropped.size() == 1 ? " dropped target" : " dropped targets",
          " (discovered labels)</summary><ul>\n");
      for (const DroppedTarget* t : job.dropped) {
        Append("<li class=\"dropped-target\">", &out);
        AppendLabels(t->discovered_labels, &out);
        Append("</li>\n", &out);
      }
      Append("</ul></details>\n", &out);
    }
    Append("</details>\n", &out);
  }
  Append("</main>\n<script>", &out);
  Append(kScript, &out);
  Append("</script>\n</body>\n</html>\n", &out);
  return out;
}

std::vector<std::pair<std::string, std::string>> TargetsPageHeaders() {
  static const std::string* const csp = new std::string(
      absl::StrCat("default-src 'none'; style-src ", CspSha256Source(kStyle),
                   "; script-src ", CspSha256Source(kScript),
                   "; img-src 'none'; base-uri 'none'; form-action 'none'; "
                   "frame-ancestors 'none'"));
  return {
      {"X-Content-Type-Options", "nosniff"},
      {"Content-Security-Policy", *csp},
      {"Cache-Control", "no-store"},
      {"Referrer-Policy", "no-referrer"},
  };
}

}  // namespace fedgate
