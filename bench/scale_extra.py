#!/usr/bin/env python3
"""Helpers for bench/scale_run.sh (Python 3 standard library only).

  scale_extra.py sample PARENT_PID OUT EVERY [GATEWAY_BINARY]
      Every EVERY seconds, until PARENT_PID exits: for each child process of
      PARENT_PID named prometheus or fedgate (or like GATEWAY_BINARY, a copy
      of fedgate under another name, recorded as fedgate), append one line
      to OUT:
      epoch pid comm threads rss_kb fds tcp_established tcp_sockets
      (tcp_* count the process's TCP sockets, from /proc/PID/fd and
      /proc/net/tcp{,6}; established = state 01).
  scale_extra.py summary RUN_DIR K INTERVAL WINDOW [BASELINE_RSS_KB]
      Reads RUN_DIR/compare/*.kv, RUN_DIR/samples.txt, RUN_DIR/compare.log and
      RUN_DIR/sut_<key>/metrics_{a,b}.txt; prints the extra figures table and
      writes RUN_DIR/extra.kv.
"""

import datetime
import math
import os
import re
import statistics
import sys
import time

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
NAMES = ("prometheus", "fedgate")


def children(pid):
    kids = []
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def tcp_inodes():
    est, all_ = set(), set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    p = line.split()
                    all_.add(p[9])
                    if p[3] == "01":
                        est.add(p[9])
        except OSError:
            pass
    return est, all_


def status(pid):
    d = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            d[k] = v.split()[0] if v.split() else ""
    return d


def cmd_sample(parent, out, every, gateway_binary="fedgate"):
    parent = int(parent)
    every = float(every)
    # /proc/PID/comm holds the first 15 bytes of the executable's name.
    gateway_comm = os.path.basename(gateway_binary)[:15]

    def name_of(pid):
        c = comm(pid)
        return "fedgate" if c == gateway_comm else c

    with open(out, "a") as o:
        while os.path.exists("/proc/%d" % parent):
            t0 = time.time()
            pids = [p for p in children(parent) if name_of(p) in NAMES]
            if pids:
                est, all_ = tcp_inodes()
            for p in pids:
                try:
                    st = status(p)
                    socks = []
                    fds = 0
                    for fd in os.listdir("/proc/%d/fd" % p):
                        fds += 1
                        try:
                            link = os.readlink("/proc/%d/fd/%s" % (p, fd))
                        except OSError:
                            continue
                        if link.startswith("socket:["):
                            socks.append(link[8:-1])
                    n_est = sum(1 for s in socks if s in est)
                    n_tcp = sum(1 for s in socks if s in all_)
                    o.write("%.1f %d %s %s %s %d %d %d\n" % (
                        t0, p, name_of(p), st.get("Threads", "0"),
                        st.get("VmRSS", "0"), fds, n_est, n_tcp))
                except OSError:
                    continue
            o.flush()
            time.sleep(max(0.5, every - (time.time() - t0)))
    return 0


def read_kv(path):
    d = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                d[k] = v
    except OSError:
        pass
    return d


def read_metrics(path):
    """{name: [(labels dict, value)]}"""
    m = {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                s = SAMPLE_RE.match(line)
                if not s:
                    continue
                try:
                    v = float(s.group(3))
                except ValueError:
                    v = math.nan
                m.setdefault(s.group(1), []).append(
                    (dict(LABEL_RE.findall(s.group(2) or "")), v))
    except OSError:
        pass
    return m


def total(m, name, **match):
    vals = [v for lab, v in m.get(name, [])
            if all(lab.get(k) == w for k, w in match.items())]
    return sum(vals) if vals else math.nan


def hist_delta(a, b, name):
    """[(le, cumulative count delta)] sorted by le."""
    def buckets(m):
        out = {}
        for lab, v in m.get(name + "_bucket", []):
            out[float(lab["le"])] = v
        return out
    ba, bb = buckets(a), buckets(b)
    return sorted((le, bb[le] - ba.get(le, 0.0)) for le in bb)


def hist_quantile(bk, q):
    """Prometheus's histogram_quantile (linear inside the bucket)."""
    if not bk or bk[-1][1] <= 0:
        return math.nan
    n = bk[-1][1]
    rank = q * n
    prev_le, prev_c = 0.0, 0.0
    for le, c in bk:
        if c >= rank:
            if math.isinf(le):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return bk[-2][0]


def hist_max_bound(bk):
    """Upper bound of the highest non-empty bucket (the maximum is <= it)."""
    if not bk or bk[-1][1] <= 0:
        return math.nan
    n = bk[-1][1]
    for le, c in bk:
        if c >= n:
            return le
    return math.inf


def window_of(log_path, title, window):
    """(start, end) epoch of TITLE's window, from compare.sh's log."""
    pat = re.compile(r'^\[compare (\d\d):(\d\d):(\d\d)\] \[%s\] measuring' % re.escape(title))
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                mm = pat.match(line)
                if mm:
                    st = os.stat(log_path)
                    day = datetime.datetime.fromtimestamp(st.st_mtime).replace(
                        hour=int(mm.group(1)), minute=int(mm.group(2)),
                        second=int(mm.group(3)), microsecond=0)
                    start = day.timestamp()
                    if start > st.st_mtime + 60:   # the run crossed midnight
                        start -= 86400
                    return start, start + window
    except OSError:
        pass
    return None


def fmt(v, spec):
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "?"
    return format(v, spec)


def cmd_summary(run_dir, k, interval, window, baseline_kb=None):
    k, interval, window = int(k), float(interval), float(window)
    samples = []
    try:
        with open(os.path.join(run_dir, "samples.txt")) as f:
            for line in f:
                p = line.split()
                if len(p) == 8:
                    samples.append((float(p[0]), p[2], int(p[3]), int(p[4]),
                                    int(p[5]), int(p[6]), int(p[7])))
    except OSError:
        pass
    systems = [("prometheus", "prometheus", "prometheus"),
               ("gateway", "fedgate", None)]
    cols = {}
    extra = []
    for key, cname, _ in systems:
        kv = read_kv(os.path.join(run_dir, "compare", "sut_%s.kv" % key))
        if not kv:
            continue
        title = kv.get("name", key)
        a = read_metrics(os.path.join(run_dir, "sut_" + key, "metrics_a.txt"))
        b = read_metrics(os.path.join(run_dir, "sut_" + key, "metrics_b.txt"))
        c = {}
        win = window_of(os.path.join(run_dir, "compare.log"), title, window)
        ss = [s for s in samples if s[1] == cname and
              (win is None or win[0] <= s[0] <= win[1] + 1)]
        c["samples_in_window"] = len(ss)
        for i, nm in ((2, "threads"), (3, "rss_kb"), (4, "fds"), (5, "tcp_est"), (6, "tcp_all")):
            vals = [s[i] for s in ss]
            c[nm + "_median"] = statistics.median(vals) if vals else math.nan
            c[nm + "_max"] = max(vals) if vals else math.nan
        expected = k * window / interval
        c["scrapes_expected"] = expected
        if key == "prometheus":
            n = (total(b, "prometheus_target_interval_length_seconds_count") -
                 total(a, "prometheus_target_interval_length_seconds_count"))
            c["scrapes_in_window"] = n
            c["missed"] = "n/a (no counter)"
            # Summary over Prometheus's last 10 minutes (warm-up included).
            qs = {}
            for lab, v in b.get("prometheus_target_interval_length_seconds", []):
                if "quantile" in lab:
                    qs[float(lab["quantile"])] = v
            c["drift_p50_ms"] = (qs.get(0.5, math.nan) - interval) * 1000
            c["drift_p99_ms"] = (qs.get(0.99, math.nan) - interval) * 1000
            c["drift_p01_ms"] = (qs.get(0.01, math.nan) - interval) * 1000
            c["drift_max_ms"] = "n/a (summary has no max)"
            c["drift_basis"] = "interval between scrape starts - interval (summary, last 10 min)"
        else:
            n = (total(b, "fedgate_scrapes_total") - total(a, "fedgate_scrapes_total"))
            c["scrapes_in_window"] = n
            c["scrapes_success"] = (total(b, "fedgate_scrapes_total", result="success") -
                                    total(a, "fedgate_scrapes_total", result="success"))
            c["missed"] = (total(b, "fedgate_scrape_missed_ticks_total") -
                           total(a, "fedgate_scrape_missed_ticks_total"))
            c["missed_since_start"] = total(b, "fedgate_scrape_missed_ticks_total")
            bk = hist_delta(a, b, "fedgate_scrape_tick_lateness_seconds")
            c["drift_p50_ms"] = hist_quantile(bk, 0.5) * 1000
            c["drift_p99_ms"] = hist_quantile(bk, 0.99) * 1000
            c["drift_p01_ms"] = hist_quantile(bk, 0.01) * 1000
            c["drift_max_ms"] = "<= %s" % fmt(hist_max_bound(bk) * 1000, "g")
            sb = total(b, "fedgate_scrape_tick_lateness_seconds_sum") - \
                total(a, "fedgate_scrape_tick_lateness_seconds_sum")
            cb = total(b, "fedgate_scrape_tick_lateness_seconds_count") - \
                total(a, "fedgate_scrape_tick_lateness_seconds_count")
            c["drift_mean_ms"] = sb / cb * 1000 if cb else math.nan
            c["drift_basis"] = "tick start - scheduled time (histogram delta over the window)"
        series = float(kv.get("store_series", "nan") or "nan")
        rss = float(kv.get("rss_end_kb", "nan") or "nan") * 1024
        c["store_series"] = series
        c["bytes_per_series"] = rss / series if series else math.nan
        if baseline_kb and key == "gateway":
            c["bytes_per_series_net"] = (rss - float(baseline_kb) * 1024) / series
        c["us_per_sample"] = float(kv.get("us_per_sample", "nan") or "nan")
        c["cores"] = float(kv.get("cores", "nan") or "nan")
        cols[key] = (title, c)
        for kk, vv in c.items():
            extra.append("%s_%s=%s" % (key, kk, vv))
    rows = [
        ("CPU cores busy (window)", "cores", ".4f"),
        ("CPU-s per million scraped samples (= CPU-us/sample)", "us_per_sample", ".3f"),
        ("scrapes in window / expected", None, None),
        ("missed scrapes in window", "missed", ".0f"),
        ("drift p1 (ms)", "drift_p01_ms", ".3f"),
        ("drift p50 (ms)", "drift_p50_ms", ".3f"),
        ("drift p99 (ms)", "drift_p99_ms", ".3f"),
        ("drift max (ms)", "drift_max_ms", ".3f"),
        ("threads: median / max in window", ("threads_median", "threads_max"), ".0f"),
        ("TCP connections established: median / max", ("tcp_est_median", "tcp_est_max"), ".0f"),
        ("TCP sockets (all states): median / max", ("tcp_all_median", "tcp_all_max"), ".0f"),
        ("open fds: median / max", ("fds_median", "fds_max"), ".0f"),
        ("RSS sampled in window: median / max (MiB)", ("rss_kb_median", "rss_kb_max"), ".1f"),
        ("stored/head series", "store_series", ".0f"),
        ("RSS end of window / series (bytes)", "bytes_per_series", ".1f"),
        ("  net of zero-target RSS (bytes)", "bytes_per_series_net", ".1f"),
    ]
    keys = [k2 for k2 in ("prometheus", "gateway") if k2 in cols]
    head = ["figure"] + [cols[k2][0] for k2 in keys]
    if len(keys) == 2:
        head.append("ratio")
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for label, key, spec in rows:
        vals = []
        for k2 in keys:
            c = cols[k2][1]
            if key is None:
                vals.append("%s / %s" % (fmt(c.get("scrapes_in_window"), ".0f"),
                                         fmt(c.get("scrapes_expected"), ".0f")))
            elif isinstance(key, tuple):
                div = 1024.0 if key[0].startswith("rss") else 1.0
                x, y = c.get(key[0], math.nan), c.get(key[1], math.nan)
                vals.append("%s / %s" % (fmt(x / div if not isinstance(x, str) else x, spec),
                                         fmt(y / div if not isinstance(y, str) else y, spec)))
            else:
                vals.append(fmt(c.get(key, math.nan), spec))
        row = [label] + vals
        if len(keys) == 2:
            x = cols["prometheus"][1].get(key) if isinstance(key, str) else None
            y = cols["gateway"][1].get(key) if isinstance(key, str) else None
            if key in ("cores", "us_per_sample", "bytes_per_series") and x and y:
                row.append("%.3f" % (y / x))
            else:
                row.append("")
        lines.append("| " + " | ".join(row) + " |")
    if baseline_kb:
        lines.append("")
        lines.append("fedgate with zero targets: VmRSS %s kB (%.1f MiB)" %
                     (baseline_kb, float(baseline_kb) / 1024))
    for k2 in keys:
        lines.append("%s drift: %s" % (cols[k2][0], cols[k2][1].get("drift_basis")))
    print("\n".join(lines))
    with open(os.path.join(run_dir, "extra.kv"), "w") as f:
        f.write("\n".join(extra) + "\n")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "sample":
        return cmd_sample(*argv[2:6])
    if len(argv) >= 2 and argv[1] == "summary":
        return cmd_summary(*argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
