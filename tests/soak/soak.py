#!/usr/bin/env python3
"""The soak test: fedgate on loopback for a bounded time with 1,000+ targets (about 5% of them
misbehaving, a shared registry whose leader dies and comes back, TLS targets with bad
certificates), hostile clients, configuration reloads and file-SD rewrites; then a table of
checks, and a non-zero exit if any failed. docs/reliability.md describes it and its figures.

  python3 tests/soak/soak.py --duration 120s            # what .ci/dev.sh test runs
  python3 tests/soak/soak.py --duration 30m             # by hand
  python3 tests/soak/soak.py --duration 10m --asan      # an ASan+UBSan build of fedgate
  python3 tests/soak/soak.py --tsan --targets 100       # a ThreadSanitizer build, without gRPC

Processes: soak_targets.py (the targets), soak_clients.py (the hostile clients, during the attack
phase), fedgate, and fedgatectl (started by the clients); all started here or there are stopped
by PID. Phases: warm-up, a quiet baseline (only the checking client), then the attack (hostile
clients, reloads every few seconds, file-SD rewrites) until --duration.

Threading: the main thread runs the phases and the checks; one thread samples fedgate's RSS, one
is the well-behaved /federate client whose answers are checked.
"""

import argparse
import bisect
import datetime
import http.client
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

# The shared modules are imported from the source tree: no bytecode cache is written into it.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import test_processes  # noqa: E402  (tests/test_processes.py, after the path is set)
from soak_targets import FAULT_KINDS  # noqa: E402

INTERVAL = 5.0
TIMEOUT = 3.0
BODY_SIZE_LIMIT = 4 << 20
SAMPLE_LIMIT = 5000
# A target's series appear within one interval of its first scrape (its offset in the interval)
# plus one scrape; two intervals and the timeout leave room for a loaded machine.
PRESENT_AFTER = 2 * INTERVAL + TIMEOUT + 2
# A file-SD change reaches fedgate through inotify, then the scrape manager's update.
FILE_SD_LAG = 3.0
# A fault is judged once it has been in place for this long: two scrapes (at most one interval
# apart) after the one that may have started under the fault before.
FAULT_SETTLED = 2 * INTERVAL + TIMEOUT + 2

# lastError that each fault must give (Prometheus's wording, through fedgate's HTTP client).
DOWN_ERRORS = {
    "hang": r"context deadline exceeded",
    "silent": r"context deadline exceeded",
    "reset": r"(?i)reset|EOF|connection",
    "status500": r"server returned HTTP status 500",
    "status404": r"server returned HTTP status 404",
    "redirect_loop": r"(?i)redirect",
    "garbage": r".",
    "truncated": r"(?i)EOF|transfer|partial|closed|length",
    "big_body": r"body size limit",
    "gzip_bomb": r"body size limit",
    "cardinality": r"sample limit exceeded",
    "huge_label": r"label_value_length_limit exceeded",
    "bad_utf8": r"(?i)utf-?8",
    "nul": r".",
    "tls_expired": r"(?i)expired",
    "tls_wrong": r"(?i)certificate|SAN|name|match",
    "tls_unknown": r"(?i)certificate|issuer|verify|unknown",
}

# Jobs whose every valid reload restarts their scrape loops: soak-relabel's targets get new labels
# (new targets), soak-registry's dedup group a new leader_timeout. A restarted loop starts
# without series (scraper/scrape_loop.cc: Stop() removes its batch from the store), so their
# series may be missing until the new loop's first scrape: counted, not failed.
RESTARTED_JOBS = ("soak-relabel", "soak-registry")

# Scrape ticks started late: a scheduler blocked by a hanging target (12 s) or a silent one
# (30 s) would be late by more than this; a 2-core machine at load 10-13 is late by 2.5-5 s at
# p99 (the histogram's buckets: 2.5, 5, 10).
LATENESS_LIMIT = 10.0

# ASan's quarantine of freed memory for an --asan run (MiB), added to the RSS limit.
ASAN_QUARANTINE_MB = 64

MAIN_HOSTS = 10  # 127.0.1.1 .. 127.0.1.10


def parse_duration(text):
    m = re.fullmatch(r"(\d+)(s|m|h)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (e.g. 120s, 30m)")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100.0 * len(ordered)))]


def make_certs(d):
    """A CA; a valid, an expired and a wrong-host leaf signed by it; a self-signed leaf."""
    def run(*cmd):
        subprocess.run(cmd, cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
        "-out", "ca.crt", "-subj", "/CN=soak-ca", "-days", "2")
    leaves = {"good": ("IP:127.0.3.1", "2"), "expired": ("IP:127.0.3.1", "-1"),
              "wrong": ("IP:127.0.0.99,DNS:elsewhere.example", "2")}
    for name, (san, days) in leaves.items():
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN={name}")
        with open(os.path.join(d, f"{name}.ext"), "w", encoding="utf-8") as f:
            f.write(f"subjectAltName={san}\n")
        run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", days, "-extfile", f"{name}.ext", "-out", f"{name}.crt")
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "unknown.key",
        "-out", "unknown.crt", "-subj", "/CN=unknown", "-days", "2", "-addext",
        "subjectAltName=IP:127.0.3.1")


def make_spec(args, certs):
    targets = []

    def add(name, role, job, host, **extra):
        targets.append(dict(name=name, role=role, job=job, host=host, **extra))

    n_faulty = max(1, round(args.targets * args.faulty_fraction))
    for i in range(args.targets):
        add(f"t{i:04d}", "faulty" if i % (args.targets // n_faulty) == 7 else "healthy", "soak",
            f"127.0.1.{1 + i % MAIN_HOSTS}")
    for i in range(50):
        add(f"r{i:03d}", "healthy", "soak-relabel", "127.0.2.1")
    for i in range(40):
        add(f"e{i:03d}", "healthy", "soak-extra", "127.0.2.1")
    for i in range(30):
        add(f"f{i:03d}", "healthy", "soak-filesd", "127.0.2.1")
    for i in range(3):
        add(f"g{i}", "registry", "soak-registry", "127.0.2.2")
    for kind in ("good", "expired", "wrong", "unknown"):
        add(f"tls_{kind}", f"tls_{kind}", "soak-tls", "127.0.3.1",
            cert=os.path.join(certs, f"{kind}.crt"), key=os.path.join(certs, f"{kind}.key"))
    return {"targets": targets}


class Soak:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="fedgate-soak.")
        self.procs = []
        self.results = []  # (check, ok, detail)
        self.figures = []  # (figure, value)
        self.events = {}  # target name -> [(time, configured)]
        self.lock = threading.Lock()
        self.rss = []  # (time, MiB)
        self.fed_samples = []  # (phase, latency s, status)
        self.problems = {"lost": [], "stale": [], "duplicated": [], "removed": [],
                         "registry": [], "not_served": [], "lost_targets": []}
        self.loss_reports = 0
        self.answers_checked = 0
        self.restart_gaps = 0
        self.healthy_down = 0
        self.series_checked = 0
        self.phase = "warmup"
        self.stop_threads = threading.Event()

    # --- processes ----------------------------------------------------------------------------
    def start(self, cmd, log):
        proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in reversed(self.procs):
            test_processes.stop(proc)

    # --- configuration ------------------------------------------------------------------------
    def addr(self, t):
        return f"{t['host']}:{self.ports[t['name']]}"

    def job_targets(self, job):
        return [self.addr(t) for t in self.spec["targets"] if t["job"] == job]

    def config(self, variant):
        """The configuration file for variant 'a' or 'b' (valid) or 'bad' (invalid)."""
        limits = (f"    body_size_limit: {BODY_SIZE_LIMIT >> 20}MB\n    sample_limit: {SAMPLE_LIMIT}\n"
                  f"    label_value_length_limit: 65536\n")

        def static(targets):
            return "    static_configs:\n      - targets: " + json.dumps(targets) + "\n"

        text = (f"global:\n  scrape_interval: {INTERVAL:g}s\n  scrape_timeout: {TIMEOUT:g}s\n"
                "scrape_configs:\n")
        text += "  - job_name: soak\n" + limits + static(self.job_targets("soak"))
        label = "a" if variant != "b" else "b"
        text += ("  - job_name: soak-relabel\n" + static(self.job_targets("soak-relabel")) +
                 "    relabel_configs:\n      - target_label: variant\n"
                 f"        replacement: {label}\n")
        if variant != "b":
            text += "  - job_name: soak-extra\n" + static(self.job_targets("soak-extra"))
        text += ("  - job_name: soak-filesd\n    file_sd_configs:\n      - files: ["
                 + json.dumps(self.filesd_path) + "]\n")
        text += "  - job_name: soak-registry\n" + static(self.job_targets("soak-registry"))
        text += ("  - job_name: soak-tls\n    scheme: https\n    tls_config:\n"
                 f"      ca_file: {json.dumps(os.path.join(self.certs, 'ca.crt'))}\n"
                 + static(self.job_targets("soak-tls")))
        text += ("dedup_groups:\n  - name: registry\n    job_names: [soak-registry]\n"
                 f"    leader_timeout: {'10s' if variant != 'b' else '20s'}\n")
        if variant == "bad":
            text += "  - name: registry\n    job_names: [soak-nope]\n"
        return text

    def write_config(self, variant):
        with open(self.config_path + ".tmp", "w", encoding="utf-8") as f:
            f.write(self.config(variant))
        os.rename(self.config_path + ".tmp", self.config_path)

    def set_configured(self, names, configured, when):
        with self.lock:
            for name in names:
                self.events.setdefault(name, []).append((when, configured))

    def write_filesd(self, names, atomic=True):
        groups = [{"targets": [self.addr(self.by_name[n]) for n in names],
                   "labels": {"sd": "file"}}]
        text = json.dumps(groups)
        if atomic:
            with open(self.filesd_path + ".tmp", "w", encoding="utf-8") as f:
                f.write(text)
            os.rename(self.filesd_path + ".tmp", self.filesd_path)
        else:  # truncated in place, then half written: fedgate must keep the last good targets
            with open(self.filesd_path, "w", encoding="utf-8") as f:
                f.write(text[:len(text) // 2])

    # --- fedgate's HTTP -----------------------------------------------------------------------
    def http(self, method, path, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=timeout)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def metric(self, text, name):
        m = re.search(r"^" + re.escape(name) + r"(?:\{[^}]*\})? (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    def state(self, path="/state"):
        # The targets' process shares two cores with fedgate and the clients: on a loaded
        # machine its loop can wait for a CPU for seconds (soak_targets.py logs such stalls).
        conn = http.client.HTTPConnection("127.0.0.1", self.control_port, timeout=120)
        try:
            conn.request("GET", path)
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    # --- threads ------------------------------------------------------------------------------
    def sample_rss(self):
        while not self.stop_threads.wait(2.0):
            try:
                with open(f"/proc/{self.fedgate.pid}/status", encoding="utf-8") as f:
                    kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
                with self.lock:
                    self.rss.append((time.time(), kb / 1024.0, self.phase))
            except (OSError, AttributeError):
                return

    def expected(self, name, when):
        """'present', 'absent' or None (in a settling window) for target `name` at `when`."""
        events = self.events.get(name)
        if not events:
            return "present"
        i = bisect.bisect_right([e[0] for e in events], when) - 1
        if i < 0:
            return "present"
        t, configured = events[i]
        lag = FILE_SD_LAG if name.startswith("f") else 0.0
        if configured:
            return "present" if when - t >= PRESENT_AFTER else None
        return "absent" if when - t >= lag else None

    def federate_client(self):
        """The well-behaved client: one /federate per second on a kept-alive connection."""
        query = urllib.parse.urlencode(
            [("match[]", "soak_scrapes_total"), ("match[]", "soak_registry_scrapes_total"),
             ("match[]", 'up{job=~"soak.*"}'),
             ("match[]", 'scrape_samples_scraped{job=~"soak.*"}')])
        conn = None
        line_re = re.compile(r'^(soak_\w+|up|scrape_samples_scraped)(\{[^}]*\})? (\S+)', re.M)
        last_use = 0.0
        while not self.stop_threads.wait(1.0):
            try:
                before = self.state()
                # fedgate closes a connection idle for --web.read-timeout (30 s); a stalled
                # targets' process can keep this client away that long.
                if conn is not None and time.monotonic() - last_use > 20:
                    conn.close()
                    conn = None
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=30)
                started = time.time()
                t0 = time.monotonic()
                conn.request("GET", "/federate?" + query)
                resp = conn.getresponse()
                body = resp.read().decode("utf-8", "replace")
                latency = time.monotonic() - t0
                last_use = time.monotonic()
                after = self.state()
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.fed_samples.append((self.phase, 30.0, type(e).__name__))
                conn = None
                continue
            with self.lock:
                self.fed_samples.append((self.phase, latency, resp.status))
            if resp.status != 200 or self.phase == "warmup":
                continue
            lost_before = len(self.problems["lost"])
            self.check_answer(body, line_re, started, before, after)
            if len(self.problems["lost"]) > lost_before and self.loss_reports < 3:
                self.report_loss(body, self.problems["lost"][lost_before:])

    def report_loss(self, body, lost):
        """Keeps what fedgate said of targets missing from an answer (problems.json and
        loss-N.txt in the work dir): the answer, and the targets' entries in /api/v1/targets
        right after it."""
        self.loss_reports += 1
        addrs = {self.addr(self.by_name[name]) for _, name, _ in lost}
        try:
            status, targets = self.http("GET", "/api/v1/targets")
            entries = [t for t in json.loads(targets)["data"]["activeTargets"]
                       if t["labels"].get("instance") in addrs] if status == 200 else []
        except (OSError, http.client.HTTPException, ValueError) as e:
            entries = [f"/api/v1/targets failed: {e}"]
        with self.lock:
            self.problems["lost_targets"].append(
                {"lost": lost, "targets_after": entries,
                 "missing_from_targets": sorted(
                     addrs - {t["labels"].get("instance") for t in entries
                              if isinstance(t, dict)})})
        with open(os.path.join(self.work, f"loss-{self.loss_reports}.txt"), "w",
                  encoding="utf-8") as f:
            f.write(body)

    def check_answer(self, body, line_re, started, before, after):
        seen = {}
        keys = set()
        registry = []
        down = set()  # instances whose last scrape failed
        diag = {}  # instance -> {"up": v, "scrape_samples_scraped": v}, for the report
        for m in line_re.finditer(body):
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            key = name + labels
            if key in keys:
                self.problems["duplicated"].append(key)
            keys.add(key)
            if name in ("up", "scrape_samples_scraped"):
                instance = re.search(r'instance="([^"]*)"', labels)
                if instance:
                    diag.setdefault(instance.group(1), {})[name] = value
                    if name == "up" and float(value) == 0:
                        down.add(instance.group(1))
                continue
            if name == "soak_registry_scrapes_total":
                registry.append(float(value))
                continue
            target = re.search(r'target="([^"]*)"', labels)
            if target:
                seen.setdefault(target.group(1), []).append(float(value))
        with self.lock:
            self.answers_checked += 1
            for t in self.spec["targets"]:
                if t["role"] not in ("healthy", "tls_good"):
                    continue
                name = t["name"]
                want = self.expected(name, started)
                values = seen.get(name, [])
                if want == "absent" and values:
                    self.problems["removed"].append((started, name))
                if want is None and not values and t["job"] in RESTARTED_JOBS:
                    self.restart_gaps += 1
                if want != "present":
                    continue
                self.series_checked += 1
                if not values:
                    if self.addr(t) in down:  # a failed scrape: its series leave at once
                        self.healthy_down += 1
                    else:
                        self.problems["lost"].append((started, name, diag.get(self.addr(t))))
                    continue
                v = values[0]
                if len(values) > 1:
                    self.problems["duplicated"].append(name)
                if v < 1 or v > after["counts"][name] or v != int(v):
                    self.problems["not_served"].append((name, v, after["counts"][name]))
                elif v < before["counts"][name] - 1:
                    self.problems["stale"].append((started, name, v, before["counts"][name]))
            want = self.expected("@registry", started)
            members = [self.addr(t) for t in self.spec["targets"] if t["role"] == "registry"]
            if not registry and all(m in down for m in members):
                self.healthy_down += 1  # every member's last scrape failed: nothing to serve
            elif want is None and not registry:
                self.restart_gaps += 1
            elif want is None:
                pass
            elif len(registry) != 1:
                self.problems["registry"].append((started, f"{len(registry)} series"))
            elif not (before["registry_count"] - 10 <= registry[0] <= after["registry_count"]):
                self.problems["registry"].append(
                    (started, registry[0], before["registry_count"], after["registry_count"]))

    # --- checks of /api/v1/targets ------------------------------------------------------------
    def check_down_targets(self, down_stats):
        state = self.state()
        status, body = self.http("GET", "/api/v1/targets")
        if status != 200:
            down_stats["errors"].append(f"/api/v1/targets answered {status}")
            return
        now = state["time"]
        by_url = {}
        for t in json.loads(body)["data"]["activeTargets"]:
            by_url[t["scrapeUrl"]] = t
            if t["labels"].get("job") == "soak-registry" and t.get("dedupLeader"):
                leader = [n for n, port in self.ports.items()
                          if t["scrapeUrl"].endswith(f":{port}/metrics")]
                if leader:  # the member the targets' process takes down next
                    self.state(f"/leader?name={leader[0]}")
        for t in self.spec["targets"]:
            kind = None
            since = now
            if t["role"] == "faulty":
                kind, since = state["faults"][t["name"]]
                if not FAULT_KINDS[kind] or now - since < FAULT_SETTLED:
                    continue
            elif t["role"] in ("tls_expired", "tls_wrong", "tls_unknown"):
                kind = t["role"]
            else:
                continue
            scheme = "https" if kind.startswith("tls_") else "http"
            seen = by_url.get(f"{scheme}://{self.addr(t)}/metrics")
            down_stats["checked"] += 1
            down_stats["kinds"].add(kind)
            if seen is None:
                down_stats["errors"].append(f"{t['name']} ({kind}) not in /api/v1/targets")
            elif seen["health"] != "down":
                down_stats["errors"].append(f"{t['name']} ({kind}): health {seen['health']}")
            elif re.search(DOWN_ERRORS[kind], seen["lastError"]):
                down_stats["confirmed"].add(kind)
                down_stats["observed"].setdefault(kind, seen["lastError"][:120])
            elif seen["lastError"].endswith("context deadline exceeded"):
                # A loaded machine can starve the targets' process past the scrape timeout (a
                # TLS handshake, a 4 MiB body): down, but not conclusive for the kind.
                down_stats["timed_out"] += 1
            else:
                down_stats["errors"].append(
                    f"{t['name']} ({kind} for {now - since:.0f} s): lastError "
                    f"{seen['lastError'][:200]!r}, lastScrape {seen['lastScrape']}, "
                    f"lastScrapeDuration {seen['lastScrapeDuration']}, checked at "
                    f"{datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat()}")

    # --- the run ------------------------------------------------------------------------------
    def run(self):
        args = self.args
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))
        self.certs = os.path.join(self.work, "certs")
        os.mkdir(self.certs)
        make_certs(self.certs)
        self.spec = make_spec(args, self.certs)
        self.by_name = {t["name"]: t for t in self.spec["targets"]}
        spec_path = os.path.join(self.work, "spec.json")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump(self.spec, f)
        ready = os.path.join(self.work, "targets.ready")
        targets = self.start(
            [sys.executable, os.path.join(HERE, "soak_targets.py"), "--spec", spec_path,
             "--ready", ready, "--seed", str(args.seed),
             "--fault-period", str(args.fault_period), "--registry-period", "30",
             "--max-lifetime", str(args.duration + 600)],
            os.path.join(self.work, "targets.log"))

        def targets_ready():
            if targets.poll() is not None:
                raise AssertionError("soak_targets.py exited: see targets.log")
            return os.path.exists(ready)
        test_processes.wait_until("the soak targets", 120, targets_ready)
        with open(ready, encoding="utf-8") as f:
            info = json.load(f)
        self.ports = info["ports"]
        self.control_port = info["control"]

        self.filesd_path = os.path.join(self.work, "filesd.json")
        filesd_all = [t["name"] for t in self.spec["targets"] if t["job"] == "soak-filesd"]
        self.write_filesd(filesd_all)
        self.config_path = os.path.join(self.work, "fedgate.yml")
        self.write_config("a")

        web_config = os.path.join(self.work, "web.yml")
        with open(web_config, "w", encoding="utf-8") as f:
            f.write("authentication:\n  disabled: true\n")
        log_path = os.path.join(self.work, "fedgate.log")
        env = dict(os.environ)
        # ASan holds freed memory in a quarantine (256 MiB by default) before reuse: a smaller
        # one keeps the RSS check meaningful (ASAN_QUARANTINE_MB more allowed by the RSS check).
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb="
                       f"{ASAN_QUARANTINE_MB}")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        # Every race reported, not only the first.
        env.setdefault("TSAN_OPTIONS", "halt_on_error=0:second_deadlock_stack=1")
        # Debian's gRPC is not built with ThreadSanitizer: it hands a call between its threads
        # where TSan cannot see it, so a TSan build serves without gRPC (and its clients stay
        # idle), and every report left is about fedgate's own synchronization.
        grpc_address = "" if args.tsan else "127.0.0.1:0"
        self.fedgate = subprocess.Popen(
            [args.fedgate, f"--config.file={self.config_path}",
             "--web.listen-address=127.0.0.1:0", f"--grpc.listen-address={grpc_address}",
             "--web.enable-lifecycle", f"--web.config.file={web_config}"],
            stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=env)
        self.procs.insert(1, self.fedgate)

        def ports():
            if self.fedgate.poll() is not None:
                raise AssertionError(f"fedgate exited with {self.fedgate.returncode}")
            with open(log_path, encoding="utf-8", errors="replace") as f:
                m = re.search(r'Server is ready to receive web requests\." web=(\d+) grpc=(\d+)',
                              f.read())
            return (int(m.group(1)), int(m.group(2))) if m else None
        self.web_port, self.grpc_port = test_processes.wait_until("fedgate's ports", 60, ports)

        threads = [threading.Thread(target=self.sample_rss, daemon=True),
                   threading.Thread(target=self.federate_client, daemon=True)]
        for th in threads:
            th.start()
        t_start = time.time()
        warmup = min(30.0, max(20.0, 0.1 * args.duration))
        baseline = min(60.0, max(20.0, 0.1 * args.duration))
        time.sleep(warmup)
        self.phase = "baseline"
        time.sleep(baseline)
        self.phase = "attack"
        attack_start = time.time()
        state_at_attack = self.state()
        metrics_at_attack = self.http("GET", "/metrics")[1].decode()
        attack_left = args.duration - (attack_start - t_start)
        stats_path = os.path.join(self.work, "clients.json")
        clients = self.start(
            [sys.executable, os.path.join(HERE, "soak_clients.py"),
             f"--port={self.web_port}", f"--grpc-port={self.grpc_port}",
             f"--fedgatectl={args.fedgatectl}", f"--duration={max(1.0, attack_left - 5)}",
             f"--stats={stats_path}", f"--idle={args.idle}"],
            os.path.join(self.work, "clients.log"))

        reloads = []  # (variant, HTTP status, last_reload_successful)
        down_stats = {"checked": 0, "kinds": set(), "confirmed": set(), "timed_out": 0,
                      "errors": [], "observed": {}}
        extra = [t["name"] for t in self.spec["targets"] if t["job"] == "soak-extra"]
        restarted = [t["name"] for t in self.spec["targets"] if t["job"] in RESTARTED_JOBS]
        restarted.append("@registry")
        filesd_step = 0
        plan = ["b", "bad", "a", "bad"]
        step = 0
        sd_errors_before = self.metric(metrics_at_attack, "fedgate_sd_file_read_errors_total")
        while time.time() < t_start + args.duration and step < 100000:
            variant = plan[step % len(plan)]
            self.write_config(variant)
            t = time.time()
            if variant == "b":  # soak-extra is removed: gone from the moment /-/reload answers
                status, _ = self.http("POST", "/-/reload", timeout=60)
                self.set_configured(extra, False, time.time())
            elif variant == "a":  # added back: present within PRESENT_AFTER
                status, _ = self.http("POST", "/-/reload", timeout=60)
                self.set_configured(extra, True, t)
            else:
                status, _ = self.http("POST", "/-/reload", timeout=60)
            if variant != "bad":  # new target labels, new leader_timeout: new scrape loops
                self.set_configured(restarted, True, t)
            ok = self.metric(self.http("GET", "/metrics")[1].decode(),
                             "fedgate_config_last_reload_successful")
            reloads.append((variant, status, ok))
            if step % 2 == 0:  # file SD: a third removed, the file cut in half, all restored
                stage = filesd_step % 3
                if stage == 0:
                    self.write_filesd(filesd_all[:20])
                    self.set_configured(filesd_all[20:], False, time.time())
                elif stage == 1:
                    self.write_filesd(filesd_all, atomic=False)
                else:
                    t = time.time()
                    self.write_filesd(filesd_all)
                    self.set_configured(filesd_all[20:], True, t)
                filesd_step += 1
            self.check_down_targets(down_stats)
            step += 1
            time.sleep(args.reload_every)
        if filesd_step % 3 == 2:  # leave the file whole for the last answers
            self.write_filesd(filesd_all)
        test_processes.wait_until("the hostile clients to end", 120,
                                  lambda: clients.poll() is not None)
        end_state = self.state()
        metrics_end = self.http("GET", "/metrics")[1].decode()
        self.stop_threads.set()
        for th in threads:
            th.join(timeout=60)
        alive = self.fedgate.poll() is None
        rc = test_processes.stop(self.fedgate)
        self.procs.remove(self.fedgate)
        self.stop_all()
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        with open(stats_path, encoding="utf-8") as f:
            client_stats = json.load(f)
        self.report(alive, rc, log, reloads, down_stats, client_stats, state_at_attack,
                    end_state, metrics_at_attack, metrics_end, attack_start, sd_errors_before)

    # --- the table ----------------------------------------------------------------------------
    def check(self, name, ok, detail):
        self.results.append((name, ok, detail))

    def report(self, alive, rc, log, reloads, down_stats, client_stats, state0, state1, m0, m1,
               attack_start, sd_errors_before):
        sanitizer = re.findall(r"(ERROR: AddressSanitizer.*|runtime error:.*|"
                               r"ERROR: LeakSanitizer.*|WARNING: ThreadSanitizer.*)", log)
        self.check("no crash", alive and rc == 0,
                   f"running until the end: {alive}; exit status after SIGTERM: {rc}")
        self.check("no sanitizer report", not sanitizer,
                   sanitizer[0][:150] if sanitizer else "none in fedgate's log")

        rss = [(t, mib) for t, mib, phase in self.rss if t >= attack_start]
        if len(rss) >= 2:
            n = len(rss)
            mt = sum(t for t, _ in rss) / n
            mm = sum(m for _, m in rss) / n
            var = sum((t - mt) ** 2 for t, _ in rss)
            slope = 60 * sum((t - mt) * (m - mm) for t, m in rss) / var if var else 0.0
            start, end = rss[0][1], rss[-1][1]
            peak = max(m for _, m in rss)
            step = max(1, len(self.rss) // 16)
            self.figures += [("RSS at attack start / end / peak (MiB)",
                              f"{start:.0f} / {end:.0f} / {peak:.0f}"),
                             ("RSS over the run (s: MiB, phase)", ", ".join(
                                 f"{t - self.rss[0][0]:.0f}: {mib:.0f} {phase}"
                                 for t, mib, phase in self.rss[::step])),
                             ("RSS slope during the attack (MiB/min)", f"{slope:+.2f}")]
            # The attack's clients (idle and slow connections, large answers) raise the RSS
            # within seconds, more on a loaded machine where more of them are in flight at
            # once: what must not happen is growth after that, so the end (the mean of the
            # last three samples) is compared with the peak of the attack's first half.
            half = [mib for t, mib in rss if t - rss[0][0] <= (rss[-1][0] - rss[0][0]) / 2]
            early_peak = max(half)
            tail = [mib for _, mib in rss[-3:]]
            end_mean = sum(tail) / len(tail)
            extra = 32 + (ASAN_QUARANTINE_MB if self.args.asan else 0)
            limit = 1.25 * early_peak + extra
            self.check("RSS flat", end_mean <= limit,
                       f"attack start {start:.0f} MiB, peak of its first half {early_peak:.0f} "
                       f"MiB, end {end_mean:.0f} MiB, slope {slope:+.2f} MiB/min (limit: end <= "
                       f"1.25 x first-half peak + {extra} MiB = {limit:.0f} MiB"
                       + (", ASan's quarantine included)" if self.args.asan else ")"))
        else:
            self.check("RSS flat", False, "no RSS samples")

        p = self.problems
        lost = len(p["lost"]) + len(p["stale"]) + len(p["not_served"])
        self.check("nothing lost", self.answers_checked > 10 and lost == 0,
                   f"{self.answers_checked} answers, {self.series_checked} series checked; "
                   f"missing {len(p['lost'])}, older than the last scrape {len(p['stale'])}, "
                   f"never served {len(p['not_served'])}"
                   + (f"; first: {(p['lost'] + p['stale'] + p['not_served'])[0]}" if lost else ""))
        self.check("nothing duplicated", not p["duplicated"],
                   f"{len(p['duplicated'])}" + (f"; first: {p['duplicated'][0]}"
                                                if p["duplicated"] else ""))
        self.check("nothing from removed targets", not p["removed"],
                   f"{len(p['removed'])}" + (f"; first: {p['removed'][0]}"
                                             if p["removed"] else ""))
        self.check("shared registry served once, fresh", not p["registry"],
                   f"leader outages {state1['registry_outages']}; problems {len(p['registry'])}"
                   + (f"; first: {p['registry'][0]}" if p["registry"] else ""))
        unconfirmed = sorted(down_stats["kinds"] - down_stats["confirmed"])
        self.check("misbehaving targets down with their error",
                   down_stats["checked"] > 0 and not down_stats["errors"] and not unconfirmed,
                   f"{down_stats['checked']} checks of {len(down_stats['kinds'])} kinds; "
                   f"wrong {len(down_stats['errors'])}; timed out instead "
                   f"{down_stats['timed_out']}; kinds never seen with their error: "
                   f"{', '.join(unconfirmed) or 'none'}"
                   + (f"; first: {down_stats['errors'][0]}" if down_stats["errors"] else ""))

        def late_p99(text0, text1):
            buckets = []
            for m in re.finditer(r'^fedgate_scrape_tick_lateness_seconds_bucket\{[^}]*le="([^"]+)"'
                                 r'[^}]*\} (\S+)$', text1, re.M):
                le = m.group(1)
                prev = re.search(r'^fedgate_scrape_tick_lateness_seconds_bucket\{[^}]*le="'
                                 + re.escape(le) + r'"[^}]*\} (\S+)$', text0, re.M)
                buckets.append((float(le), float(m.group(2)) - (float(prev.group(1))
                                                                 if prev else 0.0)))
            buckets.sort()
            if not buckets or buckets[-1][1] <= 0:
                return None, 0
            total = buckets[-1][1]
            for le, count in buckets:
                if count >= 0.99 * total:
                    return le, total
            return float("inf"), total
        late, ticks = late_p99(m0, m1)
        self.figures.append(("scrape ticks during the attack", f"{ticks:.0f}"))
        self.check("scrape lateness p99 (attack)", late is not None and late <= LATENESS_LIMIT,
                   f"p99 <= {late} s over {ticks:.0f} ticks "
                   f"(fedgate_scrape_tick_lateness_seconds; limit {LATENESS_LIMIT:g} s)")
        self.check("healthy targets scraped",
                   self.healthy_down <= 0.2 * max(1, self.series_checked),
                   f"{self.healthy_down} of {self.series_checked} checked series absent because "
                   "their scrape failed (limit 20%: a stalled scheduler fails them all)")

        base = [lat for ph, lat, st in self.fed_samples if ph == "baseline" and st == 200]
        att = [lat for ph, lat, st in self.fed_samples if ph == "attack" and st == 200]
        failed = [(ph, st) for ph, lat, st in self.fed_samples if ph != "warmup" and st != 200]
        self.figures.append(("normal /federate p50/p99, baseline (ms)",
                             f"{1000 * percentile(base, 50):.1f} / {1000 * percentile(base, 99):.1f}"
                             f" ({len(base)} requests)"))
        self.figures.append(("normal /federate p50/p99, attack (ms)",
                             f"{1000 * percentile(att, 50):.1f} / {1000 * percentile(att, 99):.1f}"
                             f" ({len(att)} requests)"))
        self.check("normal client served during the attack",
                   not failed and att and percentile(att, 99) <= 5.0,
                   f"failed {len(failed)}{': ' + str(failed[0]) if failed else ''}; "
                   f"attack p99 {1000 * percentile(att, 99):.0f} ms (limit 5 s)")

        wrong = [r for r in reloads
                 if (r[0] == "bad" and (r[1] != 500 or r[2] != 0))
                 or (r[0] != "bad" and (r[1] != 200 or r[2] != 1))]
        self.check("reload outcomes", reloads and not wrong,
                   f"{len(reloads)} reloads ({sum(r[0] != 'bad' for r in reloads)} valid); "
                   f"wrong {len(wrong)}" + (f"; first: {wrong[0]}" if wrong else ""))
        sd_errors = self.metric(m1, "fedgate_sd_file_read_errors_total")
        self.figures.append(("answers missing series of a restarted loop (after a reload)",
                             str(self.restart_gaps)))
        self.figures.append(("dedup failovers during the attack", "%.0f" % (
            (self.metric(m1, "fedgate_dedup_failovers_total") or 0)
            - (self.metric(m0, "fedgate_dedup_failovers_total") or 0))))
        self.figures.append(("file-SD read errors during the attack",
                             f"{(sd_errors or 0) - (sd_errors_before or 0):.0f}"))

        injected = {k: state1["faults_injected"][k] for k in sorted(FAULT_KINDS)}
        self.figures.append(("targets", f"{len(self.spec['targets'])} "
                             f"({sum(t['role'] == 'faulty' for t in self.spec['targets'])} "
                             "misbehaving, 3 registry members, 4 TLS)"))
        self.figures.append(("target requests served", str(state1["requests"])))
        self.figures.append(("faults injected by kind",
                             ", ".join(f"{k} {v}" for k, v in injected.items())))
        self.figures.append(("hostile client requests", ", ".join(
            f"{k}: {v}" for k, v in sorted(client_stats.items()))))
        self.figures.append(("lastError seen per fault", "; ".join(
            f"{k}: {v!r}" for k, v in sorted(down_stats["observed"].items()))))

        with open(os.path.join(self.work, "rss.json"), "w", encoding="utf-8") as f:
            json.dump(self.rss, f)
        with open(os.path.join(self.work, "problems.json"), "w", encoding="utf-8") as f:
            json.dump({"problems": self.problems, "down": down_stats["errors"]}, f, indent=1)
        width = max(len(r[0]) for r in self.results)
        print(f"\nfedgate soak: {self.args.duration} s, work dir {self.work}")
        print(f"{'check'.ljust(width)}  result  detail")
        for name, ok, detail in self.results:
            print(f"{name.ljust(width)}  {'ok    ' if ok else 'FAILED'}  {detail}")
        print()
        for name, value in self.figures:
            print(f"{name}: {value}")
        failed_checks = [r for r in self.results if not r[1]]
        print(f"\n{len(self.results) - len(failed_checks)} checks passed, "
              f"{len(failed_checks)} failed")
        return not failed_checks


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    root = test_processes.repo_root()
    parser.add_argument("--duration", type=parse_duration, default=parse_duration("120s"))
    parser.add_argument("--fedgate", default=os.path.join(root, "bazel-bin/gateway/fedgate"))
    parser.add_argument("--fedgatectl",
                        help="the clients' binary (default: bazel-bin's, of the plain build)")
    sanitizer = parser.add_mutually_exclusive_group()
    sanitizer.add_argument("--asan", action="store_true",
                           help="build fedgate with --config=asan and run that build")
    sanitizer.add_argument("--tsan", action="store_true",
                           help="build fedgate with --config=tsan and run that build, "
                           "without its gRPC server")
    parser.add_argument("--targets", type=int, default=1000, help="targets of the main job")
    parser.add_argument("--faulty-fraction", type=float, default=0.05)
    parser.add_argument("--fault-period", type=float, default=30.0)
    parser.add_argument("--reload-every", type=float, default=3.0)
    parser.add_argument("--idle", type=int, default=300, help="idle client connections")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.duration < 90:
        parser.error("--duration must be at least 90s (warm-up, baseline, attack)")
    if args.asan or args.tsan:
        config = "--config=asan" if args.asan else "--config=tsan"
        if args.fedgatectl is None:
            # The clients are the plain build's: built, and resolved, before the sanitizer
            # build points bazel-bin at its own configuration's tree (as an earlier
            # sanitizer build may have left it).
            subprocess.run(["bazel", "build", "//gateway:fedgatectl"], cwd=root, check=True)
            args.fedgatectl = os.path.join(root, "bazel-bin/gateway/fedgatectl")
        args.fedgatectl = os.path.realpath(args.fedgatectl)
        subprocess.run(["bazel", "build", config, "//gateway:fedgate"], cwd=root, check=True)
        # The build points bazel-bin at that configuration's tree (Bazel 4's cquery has no
        # --output=files).
        args.fedgate = os.path.join(root, "bazel-bin/gateway/fedgate")
    args.fedgate = os.path.realpath(args.fedgate)
    args.fedgatectl = os.path.realpath(
        args.fedgatectl or os.path.join(root, "bazel-bin/gateway/fedgatectl"))
    for binary in (args.fedgate, args.fedgatectl):
        if not os.access(binary, os.X_OK):
            parser.error(f"{binary} is not built (bazel build //gateway:fedgate "
                         "//gateway:fedgatectl)")
    soak = Soak(args)
    ok = False
    try:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        soak.run()
        ok = all(r[1] for r in soak.results)
    finally:
        soak.stop_all()
        if ok and not args.keep:
            shutil.rmtree(soak.work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
