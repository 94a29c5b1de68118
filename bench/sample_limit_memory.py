#!/usr/bin/env python3
"""fedgate's memory with one target far past its sample_limit.

Serves one loopback target exposing SERIES series (text format, ~60 bytes a
line), starts each given fedgate binary in turn on a job with
`sample_limit: LIMIT` scraping it every 2 s, waits for SCRAPES failed scrapes
(`sample limit exceeded` in /api/v1/targets), and prints the process's
resident memory then (VmRSS) and its peak (VmHWM).

Usage:
  python3 bench/sample_limit_memory.py [--series 1000000] [--limit 10000] \
      BIN [BIN...]

Loopback only; bounded (120 s per binary); every fedgate started is stopped
by its PID.
"""

import argparse
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.request

from fedgate_process import free_port, memory_mib, no_auth_flags, stop


def failed_scrapes_seen(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets", timeout=5) as r:
            data = json.load(r)
    except Exception:
        return False
    return any(t.get("lastError") == "sample limit exceeded"
               for t in data["data"]["activeTargets"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, default=1_000_000)
    ap.add_argument("--limit", type=int, default=10_000)
    ap.add_argument("--scrapes", type=int, default=3)
    ap.add_argument("binaries", nargs="+")
    args = ap.parse_args()

    body = "".join(f'limit_test_series{{pod="pod-{i // 100}",i="{i}"}} {i}\n'
                   for i in range(args.series)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:  # fedgate stopped mid-body.
                pass

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = f"127.0.0.1:{server.server_address[1]}"
    work = tempfile.mkdtemp(prefix="fedgate-sample-limit.")
    config = os.path.join(work, "fedgate.yml")
    with open(config, "w") as f:
        f.write("scrape_configs:\n- job_name: big\n  scrape_interval: 2s\n"
                f"  sample_limit: {args.limit}\n"
                f"  static_configs:\n  - targets: ['{target}']\n")
    print(f"target: {args.series} series, {len(body) >> 20} MiB body; "
          f"sample_limit {args.limit}")
    for binary in args.binaries:
        port = free_port()
        proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
             "--grpc.listen-address=", "--log.level=error"]
            + no_auth_flags(binary, os.path.dirname(config)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while not failed_scrapes_seen(port) and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(2 * (args.scrapes - 1))  # The next failed scrapes.
            s = memory_mib(proc.pid)
            print(f"{binary}: VmRSS {s['VmRSS']} MiB, peak VmHWM {s['VmHWM']} MiB")
        finally:
            stop(proc)
    server.shutdown()


if __name__ == "__main__":
    main()
