"""What the Python tests of tests/ share, as tests/test_processes.h does for the C++ ones: the
fedgate binary, loopback /metrics targets, starting fedgate and reading its port from its log,
bounded waits, and stopping a process by its PID. Test code only.

Threading: each target serves on its own daemon thread; the rest runs on the caller's.
"""

import http.server
import os
import re
import subprocess
import threading
import time


def repo_root():
    """The checkout this file is in (under Bazel, the runfiles tree, which mirrors it)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fedgate_binary():
    """Returns the fedgate of the runfiles under Bazel, else bazel-bin's (built if missing)."""
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        return os.path.join(srcdir, "fedgate", "gateway", "fedgate")
    path = os.path.join(repo_root(), "bazel-bin", "gateway", "fedgate")
    if not os.path.exists(path):
        subprocess.run(["bazel", "build", "//gateway:fedgate"], cwd=repo_root(), check=True)
    return path


def wait_until(what, timeout_s, fn):
    """Polls fn() every 100 ms until it returns a true value; fails after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


class _Target(http.server.BaseHTTPRequestHandler):
    """GET answers the server's `status` (with its `reason` phrase) and `body` (text format)."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = self.server.body.encode()
        self.send_response(self.server.status, self.server.reason)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_target(body, status=200, reason=None):
    """Serves `body` with `status` on 127.0.0.1, a free port, until shutdown(). The status
    line's reason phrase is `reason` if given, else the standard one."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    server.body = body
    server.status = status
    server.reason = reason
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_fedgate(binary, config, web_config, log_path):
    """Starts fedgate on 127.0.0.1 (web port 0, no gRPC) with its output in log_path; returns
    the process and the web port from its log line, waited for 30 s at most."""
    log = open(log_path, "w+", encoding="utf-8")
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", "--web.listen-address=127.0.0.1:0",
         "--grpc.listen-address=", f"--web.config.file={web_config}"],
        stdout=log, stderr=subprocess.STDOUT)

    def port():
        if proc.poll() is not None:
            raise AssertionError(f"fedgate exited with {proc.returncode}: see {log_path}")
        with open(log_path, encoding="utf-8") as f:
            m = re.search(r'msg="Server is ready to receive web requests\." web=(\d+)', f.read())
        return int(m.group(1)) if m else 0

    return proc, wait_until("fedgate's web port in its log", 30, port)


def stop(proc):
    """Stops `proc` by its PID (SIGTERM, then SIGKILL after 20 s); returns its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode
