"""The real fedgate binary for the Python end-to-end tests: finding it, bounded waits, stopping it.

Shared by targets_page_browser_test.py and logs_e2e_test.py (the C++ tests have
test_processes.h). Under Bazel the binary is the test's runfile //gateway:fedgate; run by hand,
bazel-bin's (built if missing). Every wait is bounded; a process is stopped by its PID.
"""

import os
import subprocess
import time


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def runfiles_root():
    """The workspace's files: the runfiles under Bazel, else the checkout."""
    srcdir = os.environ.get("TEST_SRCDIR")
    return os.path.join(srcdir, "fedgate") if srcdir else repo_root()


def fedgate_binary():
    """Returns the fedgate of the runfiles under Bazel, else bazel-bin's (built if missing)."""
    if os.environ.get("TEST_SRCDIR"):
        return os.path.join(runfiles_root(), "gateway", "fedgate")
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


def stop(proc):
    """Stops `proc` by its PID (SIGTERM, then SIGKILL after 10 s); returns its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode
