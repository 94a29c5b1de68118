"""What the bench scripts share: a free loopback port, a process's memory
from /proc, stopping a process by its PID (SIGTERM, then SIGKILL after
20 s), and the flags that let a benchmark read fedgate without tokens."""

import os
import signal
import socket
import subprocess


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mib(pid):
    """Returns {"VmRSS": MiB, "VmHWM": MiB} of process `pid`."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) // 1024
    return out


def stop(proc):
    """Stops the subprocess.Popen `proc` by its PID, if it still runs."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def no_auth_flags(binary, workdir):
    """Returns the flags that turn fedgate's authentication off for a
    loopback benchmark (a web config with `authentication: {disabled:
    true}` written in `workdir`): outside a cluster, fedgate's default,
    Kubernetes service account tokens, cannot start. Binaries older than
    --web.config.file get none."""
    out = subprocess.run([binary, "--help"], capture_output=True, text=True,
                         timeout=30)
    if "--web.config.file" not in out.stdout + out.stderr:
        return []
    path = os.path.join(workdir, "no-auth-web.yml")
    with open(path, "w") as f:
        f.write("authentication:\n  disabled: true\n")
    return [f"--web.config.file={path}"]
