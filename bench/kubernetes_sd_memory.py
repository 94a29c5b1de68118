#!/usr/bin/env python3
"""fedgate's memory for kubernetes_sd_configs over PODS pods.

Starts API_LOAD (bazel-bin/bench/kubernetes_api_load: a Kubernetes API server
on loopback holding PODS pods shaped like real ones, 3 container ports
each), then runs FEDGATE once per configuration of one job `pods`:

  baseline  static_configs with one target
  metrics   kubernetes_sd_configs [{role: pod, api_server: URL}] and a
            relabel rule keeping only the ports named `metrics` (PODS targets)
  all       the same without the rule (3 × PODS targets)
  none      the same with a rule dropping every target (discovery alone)

For each, it waits until fedgate's /metrics shows the expected count in
fedgate_scrape_targets (fedgate_scrape_dropped_targets for `none`), then for
RSS to settle (SETTLE s with no change above 1 MiB), and prints VmRSS and
VmHWM from /proc/PID/status, the growth over the baseline in MiB and in bytes
per pod. /api/v1/targets is not read, as its answer for 30,000 targets would
itself take tens of MiB.

The scrape interval is 1h, so that scraping does not dominate: each target's
first scrape falls somewhere in the hour, and the few that fall in the run
are refused at once (every podIP is a 127.0.0.0/8 address where nothing
listens).

Usage:
  python3 bench/kubernetes_sd_memory.py [--pods 10000] [--runs 3] \\
      [--configs baseline,metrics,all,none] API_LOAD FEDGATE

Loopback only; every wait is bounded (fedgate: 300 s per run; the API
server: 300 s to fill); every process started is stopped by its PID.
"""

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request

from fedgate_process import memory_mib, no_auth_flags, stop

CONFIGS = {
    "baseline": "  static_configs:\n  - targets: ['127.16.0.1:9090']\n",
    "metrics": "  kubernetes_sd_configs: [{{role: pod, api_server: '{url}'}}]\n"
               "  relabel_configs:\n"
               "  - source_labels: [__meta_kubernetes_pod_container_port_name]\n"
               "    regex: metrics\n    action: keep\n",
    "all": "  kubernetes_sd_configs: [{{role: pod, api_server: '{url}'}}]\n",
    "none": "  kubernetes_sd_configs: [{{role: pod, api_server: '{url}'}}]\n"
            "  relabel_configs:\n  - action: drop\n    regex: .*\n",
}


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError(f"no {what} within {seconds} s")


def gauge(port, name):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(fedgate, config_path, expect_name, expect_count, settle, err_path):
    """Runs fedgate on `config_path` and returns its memory once settled."""
    with open(err_path, "w") as err:
        proc = subprocess.Popen(
            [fedgate, f"--config.file={config_path}",
             "--web.listen-address=127.0.0.1:0", "--grpc.listen-address="]
            + no_auth_flags(fedgate, os.path.dirname(config_path)),
            stdout=subprocess.DEVNULL, stderr=err)
    try:
        def logged_port():
            with open(err_path) as f:
                m = re.search(r" web=(\d+)", f.read())
            return int(m.group(1)) if m else None
        port = wait_for(logged_port, 30, "web port in fedgate's log")
        start = time.monotonic()
        wait_for(lambda: gauge(port, expect_name) == expect_count, 300,
                 f"{expect_name} == {expect_count}")
        discovered = time.monotonic() - start
        # Settled: no change above 1 MiB for `settle` seconds (at most 120 s).
        deadline = time.monotonic() + 120
        last, since = rss_kib(proc.pid), time.monotonic()
        while time.monotonic() - since < settle and time.monotonic() < deadline:
            time.sleep(0.5)
            now = rss_kib(proc.pid)
            if abs(now - last) > 1024:
                last, since = now, time.monotonic()
        if proc.poll() is not None:
            raise RuntimeError(f"fedgate exited; see {err_path}")
        with open(f"/proc/{proc.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f)
        kib = {k: int(status[k].split()[0]) for k in ("VmRSS", "VmHWM")}
        kib["discovered_s"] = discovered
        return kib
    finally:
        stop(proc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--settle", type=float, default=10)
    ap.add_argument("--configs", default="baseline,metrics,all,none")
    ap.add_argument("api_load")
    ap.add_argument("fedgate")
    args = ap.parse_args()
    configs = args.configs.split(",")

    work = tempfile.mkdtemp(prefix="fedgate-k8s-memory.")
    api_err = open(os.path.join(work, "api_load.err"), "w")
    api = subprocess.Popen([args.api_load, f"--pods={args.pods}"],
                           stdout=subprocess.PIPE, stderr=api_err, text=True)
    try:
        # The URL comes once every pod is written.
        deadline = time.monotonic() + 300
        url = ""
        while not url and api.poll() is None and time.monotonic() < deadline:
            url = api.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"no URL from {args.api_load}; see {api_err.name}")
        api_mib = memory_mib(api.pid)["VmRSS"]
        with open(api_err.name) as f:
            print(f"API server {url}: {f.read().strip()}; its RSS {api_mib} MiB")

        expect = {"baseline": ("fedgate_scrape_targets", 1),
                  "metrics": ("fedgate_scrape_targets", args.pods),
                  "all": ("fedgate_scrape_targets", 3 * args.pods),
                  "none": ("fedgate_scrape_dropped_targets", 3 * args.pods)}
        results = {c: [] for c in configs}
        # Runs alternate the configurations, so that a change of load on the
        # machine touches all of them alike.
        for run in range(args.runs):
            for c in configs:
                path = os.path.join(work, f"{c}.yml")
                with open(path, "w") as f:
                    f.write("global:\n  scrape_interval: 1h\n  scrape_timeout: 10s\n"
                            "scrape_configs:\n- job_name: pods\n"
                            + CONFIGS[c].format(url=url))
                kib = measure(args.fedgate, path, *expect[c], args.settle,
                              os.path.join(work, f"{c}.{run}.err"))
                results[c].append(kib)
                print(f"run {run + 1} {c:8}: VmRSS {kib['VmRSS'] / 1024:6.1f} MiB, "
                      f"VmHWM {kib['VmHWM'] / 1024:6.1f} MiB "
                      f"(discovered in {kib['discovered_s']:.1f} s)", flush=True)

        def median_mib(c, key):
            values = [r[key] / 1024 for r in results[c]]
            return statistics.median(values), min(values), max(values)

        print(f"\n{args.pods} pods, {args.runs} runs: median (min–max)")
        print("| configuration | VmRSS MiB | VmHWM MiB | RSS over baseline MiB "
              "| per pod (bytes) |")
        print("| --- | --- | --- | --- | --- |")
        base = median_mib("baseline", "VmRSS")[0] if "baseline" in results else None
        for c in configs:
            rss, rss_lo, rss_hi = median_mib(c, "VmRSS")
            hwm, hwm_lo, hwm_hi = median_mib(c, "VmHWM")
            over = per_pod = ""
            if base is not None and c != "baseline" and args.pods:
                over = f"{rss - base:.1f}"
                per_pod = f"{(rss - base) * 1048576 / args.pods:,.0f}"
            print(f"| {c} | {rss:.1f} ({rss_lo:.1f}–{rss_hi:.1f}) "
                  f"| {hwm:.1f} ({hwm_lo:.1f}–{hwm_hi:.1f}) | {over} | {per_pod} |")
    finally:
        stop(api)
        api_err.close()


if __name__ == "__main__":
    main()
