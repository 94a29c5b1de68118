#!/usr/bin/env python3
"""What 10 aggregation rules cost fedgate, and what they save, over the
side-by-side harness's generated targets.

Generates K targets of about S series with ../shared/bench/gen_targets.py
(Linkerd proxies and k3s registries, new values every interval), serves them
from a private nginx on 127.0.0.1 as ../shared/bench/compare.sh does, and runs
each fedgate binary in turn without rules ("none") and with the 10 rules below
("rules", the rolled-up counters with `keep_inputs: false`), alternating
(none, rules, rules, none, ... over the rounds, so that a drift of the
machine's load hits both modes alike). Each run: start, ready, warm-up, every
target up, then a measurement window, then (first round) one plain and one gzip
/federate of `{__name__=~".+"}`. Per run it prints:

  * CPU-us per scraped sample: the process's utime + stime over the window
    (/proc/PID/stat) / the increase of fedgate_scrape_samples_total;
  * the /federate series and bytes, plain and gzip;
  * the load average at the window's end.

Then, per binary, the median CPU per sample of each mode, the median of the
per-round ratios rules / none, and the reduction of the /federate answer.

The rule file is checked with `promtool check rules` first. Everything listens
on 127.0.0.1; every process started here is stopped by its PID, also on
Ctrl-C or SIGTERM, and the whole run by --max-runtime.

Usage:
  bench/rules_cost.py [--fedgate BIN ...] [-k 1000] [-s 1000] [--rounds 2]
                      [--data DIR]
"""

import argparse
import gzip
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import fedgate_process

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Ten rules over the generated proxies' series: traffic to each destination
# deployment from all its callers (request and response counters, the
# latency histogram's buckets, _sum and _count), inbound requests per server,
# bytes read per direction and TLS, and gauges.
RULES = """\
groups:
  - name: mesh
    rules:
      - record: dst_deployment:request_total:sum
        expr: sum by (job, direction, dst_namespace, dst_deployment) (request_total)
      - record: dst_deployment:response_total:sum
        expr: sum by (job, direction, dst_namespace, dst_deployment, status_code, classification) (response_total)
      - record: dst_deployment:response_latency_ms_bucket:sum
        expr: sum by (job, direction, dst_namespace, dst_deployment, le) (response_latency_ms_bucket)
      - record: dst_deployment:response_latency_ms_sum:sum
        expr: sum by (job, direction, dst_namespace, dst_deployment) (response_latency_ms_sum)
      - record: dst_deployment:response_latency_ms_count:sum
        expr: sum by (job, direction, dst_namespace, dst_deployment) (response_latency_ms_count)
      - record: srv:request_total:sum
        expr: sum by (job, srv_name) (request_total{direction="inbound"})
      - record: direction_tls:tcp_read_bits_total:sum
        expr: sum by (job, direction, tls) (tcp_read_bytes_total) * 8
      - record: direction:tcp_open_connections:sum
        expr: sum by (job, direction) (tcp_open_connections)
      - record: job:process_resident_memory_bytes:max
        expr: max by (job) (process_resident_memory_bytes)
      - record: job:process_open_fds:avg
        expr: avg by (job) (process_open_fds)
"""
# The rules whose inputs leave fedgate only as the roll-up.
HIDDEN_INPUTS = [
    "dst_deployment:request_total:sum",
    "dst_deployment:response_total:sum",
    "dst_deployment:response_latency_ms_bucket:sum",
    "dst_deployment:response_latency_ms_sum:sum",
    "dst_deployment:response_latency_ms_count:sum",
    "srv:request_total:sum",
    "direction_tls:tcp_read_bits_total:sum",
]
FULL_MATCH = '{__name__=~".+"}'


def log(msg):
    print("[rules_cost %s] %s" % (time.strftime("%H:%M:%S"), msg),
          file=sys.stderr, flush=True)


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()

    def sleep(self, seconds, proc=None):
        """Sleeps `seconds`; raises if the deadline passes or `proc` dies."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.left() <= 0:
                raise RuntimeError("--max-runtime reached")
            if proc is not None and proc.poll() is not None:
                raise RuntimeError("fedgate exited with %s" % proc.returncode)
            time.sleep(min(0.5, max(0.0, end - time.monotonic())))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def get(url, timeout=120, gzip_ok=False):
    """Returns the body of `url` (as sent: compressed if gzip_ok)."""
    request = urllib.request.Request(url)
    request.add_header("Accept-Encoding", "gzip" if gzip_ok else "identity")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def metric(text, name):
    """Returns the sum of the samples of `name` in a /metrics text."""
    total = None
    for line in text.splitlines():
        if line.startswith(name) and line[len(name):len(name) + 1] in (" ", "{"):
            total = (total or 0) + float(line.rsplit(" ", 1)[1])
    return total


class Targets:
    """The generated targets served by a private nginx, one port each, and
    the thread that moves the served generation forward every interval."""

    def __init__(self, work, data, harness, k, s, interval, generations):
        """Generates the targets in `data` (with the Prometheus config
        beside them), unless it holds targets of the same shape already."""
        self.work = work
        self.interval = interval
        self.generations = generations
        manifest = os.path.join(data, "data", "manifest.json")
        same = False
        if os.path.exists(manifest):
            with open(manifest) as f:
                m = json.load(f)
            same = (m["k"], m["s"], m["generations"], m["interval"]) == (
                k, s, generations, interval)
        if not same:
            port_base = subprocess.run(
                [sys.executable, os.path.join(harness, "benchutil.py"),
                 "free-port-base", str(k), "20000"],
                check=True, capture_output=True, text=True).stdout.strip()
            log("generating %d targets x ~%d series, %d generations" %
                (k, s, generations))
            subprocess.run(
                [sys.executable, os.path.join(harness, "gen_targets.py"),
                 "--out", os.path.join(data, "data"), "-k", str(k), "-s",
                 str(s), "--generations", str(generations), "--interval",
                 str(interval), "--prom-config",
                 os.path.join(data, "prometheus.yml"), "--port-base",
                 port_base], check=True)
        else:
            log("reusing the targets in " + data)
        with open(manifest) as f:
            self.manifest = json.load(f)
        self.port_base = self.manifest["port_base"]
        os.symlink(os.path.join(data, "data"), os.path.join(work, "data"))
        shutil.copy(os.path.join(data, "prometheus.yml"), work)
        self.k = k
        self.www = os.path.join(work, "www")
        os.makedirs(self.www, exist_ok=True)
        self.point(0)
        self.nginx = None
        self.stop_swap = threading.Event()
        self.swapper = None

    def point(self, generation):
        link = os.path.join(self.www, "cur.new")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink("../data/gens/g%04d" % generation, link)
        os.replace(link, os.path.join(self.www, "cur"))

    def start_nginx(self):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            raise RuntimeError("no nginx: apt-get install -y nginx-light")
        d = os.path.join(self.work, "nginx")
        os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
        lines = ["worker_processes 1;", "pid %s/nginx.pid;" % d,
                 "error_log %s/error.log warn;" % d,
                 "worker_rlimit_nofile %d;" % (self.k * 4 + 1024),
                 "events { worker_connections %d; }" % (self.k * 2 + 1024),
                 "http {", "  access_log off;"]
        if os.getuid() == 0:
            lines.insert(1, "user root root;")
        for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            lines.append("  %s_temp_path %s/tmp/%s;" % (t, d, t))
        lines += ["  types { }",
                  '  default_type "text/plain; version=0.0.4; charset=utf-8";',
                  "  sendfile on; tcp_nopush on; tcp_nodelay on;",
                  "  keepalive_timeout 300s; keepalive_requests 1000000;",
                  "  etag off; server_tokens off;", "  server {"]
        lines += ["    listen 127.0.0.1:%d;" % (self.port_base + i)
                  for i in range(self.k)]
        lines += ["    root %s/cur;" % self.www, "    location /t/ { }",
                  "    location / { return 404; }", "  }", "}"]
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.nginx = subprocess.Popen(
            [binary, "-p", d + "/", "-e", d + "/error.log", "-c", conf, "-g",
             "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        last = self.port_base + self.k - 1
        for _ in range(100):
            try:
                get("http://127.0.0.1:%d/t/%d/metrics" % (last, self.k - 1), 2)
                return
            except OSError:
                if self.nginx.poll() is not None:
                    raise RuntimeError("nginx exited (see %s/error.log)" % d)
                time.sleep(0.1)
        raise RuntimeError("nginx does not answer on 127.0.0.1:%d" % last)

    def start_swapper(self):
        """Serves generation 0 now, then the next one every interval."""
        self.point(0)
        self.stop_swap.clear()

        def run():
            g = 1
            while not self.stop_swap.wait(self.interval):
                self.point(g % self.generations)
                g += 1

        self.swapper = threading.Thread(target=run, daemon=True)
        self.swapper.start()

    def stop_swapper(self):
        self.stop_swap.set()
        if self.swapper is not None:
            self.swapper.join()
            self.swapper = None

    def stop(self):
        self.stop_swapper()
        if self.nginx is not None:
            fedgate_process.stop(self.nginx)


def run_fedgate(args, deadline, targets, binary, config, auth_flags, label,
                federate):
    """Runs one fedgate over the targets; returns its figures, with the
    /federate answer's when `federate`."""
    directory = tempfile.mkdtemp(prefix=label + ".", dir=args.work)
    port = fedgate_process.free_port()
    url = "http://127.0.0.1:%d" % port
    out = {"binary": binary, "mode": label}
    with open(os.path.join(directory, "stdout.log"), "w") as logfile:
        proc = subprocess.Popen(
            [binary, "--config.file=" + config,
             "--web.listen-address=127.0.0.1:%d" % port,
             "--grpc.listen-address=",
             # The whole /federate answer is over the default limit.
             "--query.max-series=0"] + auth_flags,
            cwd=directory, stdout=logfile, stderr=subprocess.STDOUT)
    try:
        started = time.monotonic()
        while True:
            try:
                if get(url + "/-/ready", 2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() - started > 120:
                raise RuntimeError("%s not ready in 120 s" % binary)
            deadline.sleep(0.2, proc)
        targets.start_swapper()
        deadline.sleep(args.warmup, proc)
        for _ in range(3 * args.interval):
            body = get(url + "/federate?match[]=up", 10)[1].decode()
            up = sum(1 for line in body.splitlines()
                     if line.startswith("up{") and line.endswith(" 1"))
            if up >= targets.k:
                break
            deadline.sleep(1, proc)
        out["targets_up"] = up

        samples_a = metric(get(url + "/metrics")[1].decode(),
                           "fedgate_scrape_samples_total")
        cpu_a, wall_a = cpu_seconds(proc.pid), time.monotonic()
        deadline.sleep(args.window, proc)
        cpu_b, wall_b = cpu_seconds(proc.pid), time.monotonic()
        out["loadavg"] = loadavg()
        metrics_b = get(url + "/metrics")[1].decode()
        samples_b = metric(metrics_b, "fedgate_scrape_samples_total")
        out["cpu_s"] = cpu_b - cpu_a
        out["wall_s"] = wall_b - wall_a
        out["samples"] = samples_b - samples_a
        out["us_per_sample"] = out["cpu_s"] * 1e6 / out["samples"]
        out["rule_output_series"] = metric(metrics_b,
                                           "fedgate_rule_output_series") or 0
        targets.stop_swapper()
        if not federate:
            return out

        query = "/federate?" + urllib.parse.urlencode({"match[]": FULL_MATCH})
        body = get(url + query)[1]
        out["federate_series"] = sum(
            1 for line in body.splitlines() if line and not line.startswith(b"#"))
        out["federate_bytes"] = len(body)
        zipped = get(url + query, gzip_ok=True)[1]
        if zipped[:2] != b"\x1f\x8b":
            raise RuntimeError("/federate did not answer gzip")
        out["federate_gzip_bytes"] = len(zipped)
        gzip.decompress(zipped)  # A whole gzip stream.
    finally:
        targets.stop_swapper()
        fedgate_process.stop(proc)
    return out


def write_configs(work, promtool):
    """Writes rules.yml and the two configs; checks the rules with promtool."""
    rules = os.path.join(work, "rules.yml")
    with open(rules, "w") as f:
        f.write(RULES)
    check = subprocess.run([promtool, "check", "rules", rules],
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError("promtool check rules: " + check.stdout + check.stderr)
    log("promtool check rules: " + check.stdout.strip().replace("\n", " "))
    with open(os.path.join(work, "prometheus.yml")) as f:
        base = f.read()
    none = os.path.join(work, "none.yml")
    with open(none, "w") as f:
        f.write(base)
    with_rules = os.path.join(work, "rules-config.yml")
    with open(with_rules, "w") as f:
        f.write(base + "rule_files:\n  - rules.yml\nrule_options:\n" +
                "".join("  %s:\n    keep_inputs: false\n" % r
                        for r in HIDDEN_INPUTS))
    return {"none": none, "rules": with_rules}


def report(runs):
    binaries = []
    for r in runs:
        if r["binary"] not in binaries:
            binaries.append(r["binary"])
    print("| round | binary | mode | CPU-s | samples | CPU-us/sample | "
          "/federate series | bytes | gzip bytes | load avg |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in runs:
        print("| %d | %s | %s | %.1f | %d | %.3f | %s | %s | %s | %s |" %
              (r["round"], r["binary"], r["mode"], r["cpu_s"], r["samples"],
               r["us_per_sample"], r.get("federate_series", "-"),
               r.get("federate_bytes", "-"), r.get("federate_gzip_bytes", "-"),
               r["loadavg"]))
    print()
    for b in binaries:
        mine = [r for r in runs if r["binary"] == b]
        by_mode = {m: [r for r in mine if r["mode"] == m]
                   for m in ("none", "rules")}
        ratios = []
        for rnd in sorted({r["round"] for r in mine}):
            pair = {r["mode"]: r for r in mine if r["round"] == rnd}
            if "none" in pair and "rules" in pair:
                ratios.append(pair["rules"]["us_per_sample"] /
                              pair["none"]["us_per_sample"])
        med = {m: statistics.median(r["us_per_sample"] for r in rs)
               for m, rs in by_mode.items() if rs}
        print(b)
        if "none" in med and "rules" in med:
            print("  CPU-us per scraped sample: none %.3f, rules %.3f; "
                  "rules / none: median %.3f (rounds %s)" %
                  (med["none"], med["rules"], statistics.median(ratios),
                   ", ".join("%.3f" % x for x in ratios)))
            last = {m: next(r for r in rs if "federate_series" in r)
                    for m, rs in by_mode.items()}
            for key, what in (("federate_series", "series"),
                              ("federate_bytes", "bytes"),
                              ("federate_gzip_bytes", "gzip bytes")):
                a, c = last["none"][key], last["rules"][key]
                print("  /federate %s %s: %d without rules, %d with, "
                      "-%.1f%%" % (FULL_MATCH, what, a, c, 100.0 * (a - c) / a))
            print("  rule output series: %d" % last["rules"]["rule_output_series"])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fedgate", action="append",
                        help="fedgate binary; repeat to compare binaries "
                             "(default bazel-bin/gateway/fedgate)")
    parser.add_argument("-k", type=int, default=1000, help="targets")
    parser.add_argument("-s", type=int, default=1000, help="series per target")
    parser.add_argument("--interval", type=int, default=5, help="seconds")
    parser.add_argument("--warmup", type=int, default=30, help="seconds")
    parser.add_argument("--window", type=int, default=60, help="seconds")
    parser.add_argument("--rounds", type=int, default=2,
                        help="runs of each mode per binary")
    parser.add_argument("--generations", type=int, default=12,
                        help="target snapshots, one per interval, cycled "
                             "(K=1000 S=1000: 330 MB each)")
    parser.add_argument("--harness", default=None,
                        help="the shared harness folder (default "
                             "../shared/bench beside the repository)")
    parser.add_argument("--promtool", default="promtool")
    parser.add_argument("--max-runtime", type=int, default=2400,
                        help="seconds for the whole run")
    parser.add_argument("--data",
                        help="keep the generated targets here, and reuse "
                             "them if they have the same shape (default: "
                             "in the work directory, removed at the end)")
    parser.add_argument("--json", help="also write the runs here")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory")
    args = parser.parse_args()
    binaries = [os.path.abspath(b) for b in
                (args.fedgate or [os.path.join(REPO, "bazel-bin/gateway/fedgate")])]
    harness = args.harness or os.path.join(REPO, "..", "shared", "bench")
    if not os.path.exists(os.path.join(harness, "gen_targets.py")):
        harness = "/work/shared/bench"
    deadline = Deadline(args.max_runtime)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    args.work = tempfile.mkdtemp(prefix="fedgate-rules-cost.")
    targets = None
    runs = []
    try:
        data = args.data or os.path.join(args.work, "targets")
        targets = Targets(args.work, data, harness, args.k, args.s,
                          args.interval, args.generations)
        configs = write_configs(args.work, args.promtool)
        auth_flags = fedgate_process.no_auth_flags(binaries[0], args.work)
        targets.start_nginx()
        log("nginx pid %d serving %d targets; load %s" %
            (targets.nginx.pid, args.k, loadavg()))
        for rnd in range(args.rounds):
            modes = ["none", "rules"] if rnd % 2 == 0 else ["rules", "none"]
            for binary in binaries:
                for mode in modes:
                    r = run_fedgate(args, deadline, targets, binary,
                                    configs[mode], auth_flags, mode,
                                    federate=rnd == 0)
                    r["round"] = rnd + 1
                    runs.append(r)
                    log("%s %s: %.3f CPU-us/sample (%.1f CPU-s, %d samples), "
                        "/federate %s series, %s bytes, %s gzip; load %s" %
                        (mode, binary, r["us_per_sample"], r["cpu_s"],
                         r["samples"], r.get("federate_series", "-"),
                         r.get("federate_bytes", "-"),
                         r.get("federate_gzip_bytes", "-"), r["loadavg"]))
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # Finish cleaning up.
        if targets is not None:
            targets.stop()
        if args.keep:
            log("work directory kept: " + args.work)
        else:
            shutil.rmtree(args.work, ignore_errors=True)
        if args.json and runs:
            with open(args.json, "w") as f:
                json.dump(runs, f, indent=1)
        if runs:
            report(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
