#!/usr/bin/env python3
"""What fedgate's probes see while hostile or unlucky clients hit its HTTP port.

Starts one fedgate (its embedded demo: loopback targets only), then runs each
attack in turn and measures, meanwhile, the latency of GET /-/healthy (what a
kubelet probe does, with Kubernetes' default 1 s timeout in mind) and
fedgate's resident memory:

  idle       N connections opened and left idle
  reconnect  12 clients that connect, send nothing, and reconnect when closed
  federate   50 clients downloading the full /federate answer in a loop
  slowread   50 clients that ask for the full /federate answer and never read
  body       one client streaming a chunked request body of up to 2 GB
  declared   one request declaring Content-Length: 4 GiB, sending nothing

Usage:
  python3 bench/http_attacks.py --fedgate bazel-bin/gateway/fedgate [--idle 500]

Loopback only; bounded in time (each attack stops itself); the fedgate it
starts is stopped by its PID, also on error. Prints one table row per attack.
"""

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from fedgate_process import free_port, memory_mib, stop


def get(port, path, timeout):
    start = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            r.read()
            ok = r.status == 200
    except Exception:
        ok = False
    return ok, time.monotonic() - start


class Probe:
    """Probes /-/healthy every 100 ms until stopped; keeps latencies."""

    def __init__(self, port):
        self.port = port
        self.latencies = []
        self.failures = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            ok, took = get(self.port, "/-/healthy", timeout=60)
            self.latencies.append(took)
            if not ok:
                self.failures += 1
            self.stop.wait(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=70)

    def summary(self):
        if not self.latencies:
            return "no probe finished"
        lat = sorted(self.latencies)
        return (f"probes {len(lat)}, failed {self.failures}, "
                f"median {statistics.median(lat) * 1000:.1f} ms, "
                f"max {lat[-1] * 1000:.1f} ms")


def probe_while_clients_run(port, n, client, stop_clients, seconds, join_timeout):
    """Runs `client` on `n` threads for `seconds` while probing; returns the Probe."""
    threads = [threading.Thread(target=client, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    with Probe(port) as p:
        time.sleep(seconds)
    stop_clients.set()
    for t in threads:
        t.join(timeout=join_timeout)
    return p


def attack_idle(port, pid, n, seconds):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            break
        socks.append(s)
    with Probe(port) as p:
        time.sleep(seconds)
    for s in socks:
        s.close()
    return f"{len(socks)} idle: " + p.summary()


def attack_reconnect(port, pid, seconds):
    stop_clients = threading.Event()

    def client():
        while not stop_clients.is_set():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    while not stop_clients.is_set():
                        try:
                            if s.recv(1) == b"":
                                break
                        except socket.timeout:
                            continue
            except OSError:
                stop_clients.wait(0.05)

    p = probe_while_clients_run(port, 12, client, stop_clients, seconds, 5)
    return "12 reconnecting: " + p.summary()


def attack_federate(port, pid, seconds):
    stop_clients = threading.Event()
    done = [0]

    def client():
        while not stop_clients.is_set():
            ok, _ = get(port, "/federate?match%5B%5D=%7B__name__%3D~%22.%2B%22%7D", timeout=60)
            if ok:
                done[0] += 1

    p = probe_while_clients_run(port, 50, client, stop_clients, seconds, 70)
    return f"50 full /federate ({done[0]} answers): " + p.summary()


def attack_slowread(port, pid, seconds):
    socks = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /federate?match%5B%5D=%7B__name__%3D~%22.%2B%22%7D HTTP/1.1\r\n"
                  b"Host: x\r\n\r\n")
        socks.append(s)
    with Probe(port) as p:
        time.sleep(seconds)
    for s in socks:
        s.close()
    return "50 never reading /federate: " + p.summary()


def attack_body(port, pid, seconds):
    before = memory_mib(pid)["VmRSS"]
    peak = before
    sent = 0
    chunk = b"%x\r\n" % (1 << 20) + b"a" * (1 << 20) + b"\r\n"
    deadline = time.monotonic() + seconds
    with Probe(port) as p:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /-/healthy HTTP/1.1\r\nHost: x\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            try:
                while sent < (2 << 30) and time.monotonic() < deadline:
                    s.sendall(chunk)
                    sent += 1 << 20
                    if sent % (64 << 20) == 0:
                        peak = max(peak, memory_mib(pid)["VmRSS"])
            except OSError:
                pass
        peak = max(peak, memory_mib(pid)["VmRSS"])
    return (f"chunked body: {sent >> 20} MiB accepted before close, RSS "
            f"{before} -> peak {peak} MiB; " + p.summary())


def attack_declared(port, pid, seconds):
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"POST /-/healthy HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 4294967296\r\n\r\n")
        answer = s.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
    return f"Content-Length 4 GiB: '{answer}' after {(time.monotonic() - start) * 1000:.1f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fedgate", required=True, help="the fedgate binary")
    ap.add_argument("--idle", type=int, default=500, help="idle connections")
    ap.add_argument("--seconds", type=float, default=10, help="length of each attack")
    ap.add_argument("--attacks", default="idle,reconnect,federate,slowread,body,declared")
    args = ap.parse_args()

    port, grpc_port = free_port(), free_port()
    proc = subprocess.Popen(
        [args.fedgate, f"--web.listen-address=127.0.0.1:{port}",
         f"--grpc.listen-address=127.0.0.1:{grpc_port}", "--log.level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if get(port, "/-/ready", timeout=1)[0]:
                break
            time.sleep(0.1)
        else:
            sys.exit("fedgate did not become ready")
        time.sleep(3)  # A few scrapes of the demo targets.
        attacks = {
            "idle": lambda: attack_idle(port, proc.pid, args.idle, args.seconds),
            "reconnect": lambda: attack_reconnect(port, proc.pid, args.seconds),
            "federate": lambda: attack_federate(port, proc.pid, args.seconds),
            "slowread": lambda: attack_slowread(port, proc.pid, args.seconds),
            "body": lambda: attack_body(port, proc.pid, args.seconds),
            "declared": lambda: attack_declared(port, proc.pid, args.seconds),
        }
        for name in args.attacks.split(","):
            if proc.poll() is not None:
                print(f"{name:10} fedgate exited with {proc.returncode}")
                break
            print(f"{name:10} {attacks[name]()}", flush=True)
            time.sleep(1)
        alive = proc.poll() is None
        print(f"{'after':10} fedgate {'alive' if alive else 'exited'}, RSS "
              f"{memory_mib(proc.pid)['VmRSS'] if alive else 0} MiB")
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
