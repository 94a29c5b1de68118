"""The soak test's hostile clients: one asyncio process hammering a running fedgate's HTTP port
(and gRPC port, through fedgatectl) for --duration seconds, then writing what it sent and what
came back to --stats (JSON). Started and stopped (by PID) by tests/soak/soak.py, which checks
fedgate's answers to its own well-behaved client meanwhile.

Clients: full and narrow /federate in text, OpenMetrics and protobuf, gzip or not; /api/v1/*;
clients that hang up mid-answer; clients reading a few hundred bytes every 200 ms; hundreds of idle
connections; malformed and oversized requests (a 60 KB match[], a URL past 64 KiB, 5,000 and
12,000 match[] in a POST body, a 4 GiB Content-Length, pathological and too complex regexes);
gRPC Federate streams from fedgatectl, some killed mid-stream by PID.

Threading: one thread, one asyncio loop; fedgatectl runs as child processes, each waited for.
"""

import argparse
import asyncio
import collections
import json
import random
import socket
import sys
import time
import urllib.parse

ACCEPTS = [
    "text/plain;version=0.0.4",
    "application/openmetrics-text;version=1.0.0",
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
]


class Clients:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.stats = collections.Counter()
        self.deadline = time.monotonic() + args.duration
        self.idle = []

    def count(self, kind, outcome):
        self.stats[f"{kind} {outcome}"] += 1

    async def request(self, kind, raw, read_limit=None, read_delay=0.0, rcvbuf=0, timeout=20.0):
        """Sends `raw` on a new connection and reads the answer (all of it, or read_limit
        bytes, sleeping read_delay between 512-byte reads); counts the status line."""
        writer = None
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", self.args.port)), 10)
            reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
            writer.write(raw)
            await asyncio.wait_for(writer.drain(), timeout)
            got = 0
            first = b""
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                chunk = await asyncio.wait_for(reader.read(512 if read_delay else 65536),
                                               end - time.monotonic())
                if not chunk:
                    break
                if not first:
                    first = chunk[:32]
                got += len(chunk)
                if read_limit is not None and got >= read_limit:
                    break
                if read_delay:
                    await asyncio.sleep(read_delay)
            status = first.split(b" ")[1].decode() if first.startswith(b"HTTP/") else "none"
            self.count(kind, status)
        except (ConnectionError, OSError, asyncio.TimeoutError, IndexError) as e:
            self.count(kind, type(e).__name__)
        finally:
            if writer is not None:
                writer.close()

    @staticmethod
    def get(path, headers=()):
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    @staticmethod
    def post(path, body):
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        return head.encode() + body

    @staticmethod
    def federate_path(selectors):
        return "/federate?" + urllib.parse.urlencode([("match[]", s) for s in selectors])

    async def loop(self, fn, pause):
        while time.monotonic() < self.deadline:
            await fn()
            await asyncio.sleep(pause)

    async def federate(self):
        selector = self.rng.choice(['{__name__=~".+"}', '{job=~"soak.*"}',
                                    'soak_scrapes_total{target="t0001"}', 'up'])
        headers = [f"Accept: {self.rng.choice(ACCEPTS)}"]
        if self.rng.random() < 0.5:
            headers.append("Accept-Encoding: gzip")
        await self.request("federate", self.get(self.federate_path([selector]), headers))

    async def api(self):
        path = self.rng.choice([
            "/api/v1/series?" + urllib.parse.urlencode({"match[]": '{__name__=~"soak_.+"}'}),
            "/api/v1/labels", "/api/v1/label/job/values", "/api/v1/label/target/values",
            "/api/v1/query?query=up", "/api/v1/targets", "/api/v1/targets?state=dropped",
            "/api/v1/query?" + urllib.parse.urlencode({"query": 'soak_scrapes_total{job="soak"}'}),
            "/api/v1/status/config", "/metrics"])
        await self.request("api", self.get(path))

    async def hang_up(self):
        await self.request("hang_up", self.get(self.federate_path(['{__name__=~".+"}'])),
                           read_limit=4096)

    async def slow_reader(self):
        await self.request("slow_reader", self.get(self.federate_path(['{__name__=~".+"}'])),
                           read_delay=0.2, rcvbuf=4096, timeout=8.0)

    async def hostile(self):
        big_regex = "|".join(f"value{i:05d}" for i in range(5500))  # ~60 KB
        choice = self.rng.randrange(9)
        if choice == 0:
            raw = self.get(self.federate_path([f'{{target=~"{big_regex}"}}']))
        elif choice == 1:
            raw = self.get("/federate?match[]=" + "a" * 70000)  # past 64 KiB: 414
        elif choice == 2:
            body = urllib.parse.urlencode(
                [("match[]", f'soak_scrapes_total{{target="t{i:04d}"}}') for i in range(5000)])
            raw = self.post("/federate", body.encode())
        elif choice == 3:
            body = urllib.parse.urlencode([("match[]", "up")] * 12000)
            raw = self.post("/api/v1/series", body.encode())
        elif choice == 4:
            raw = (b"POST /api/v1/series HTTP/1.1\r\nHost: x\r\nContent-Length: 4294967296\r\n"
                   b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
        elif choice == 5:
            raw = self.get(self.federate_path(['{__name__=~"(a|aa)*(b|bb)*.*.*.*.*c"}',
                                               '{target=~"\\\\pL{100}"}']))
        elif choice == 6:
            raw = self.get(self.federate_path(['{__name__=~"\\pL{100}"}']))
        elif choice == 7:
            raw = bytes(self.rng.randrange(256) for _ in range(300)) + b"\r\n\r\n"
        else:
            raw = b"GET /federate?match[]=%ZZ%" + b"\xff" * 10 + b" HTTP/1.1\r\nHost\r\n\r\n"
        await self.request("hostile", raw, timeout=10.0)

    async def idle_connections(self):
        """Keeps --idle connections open, reopening those fedgate closes (--web.read-timeout)."""
        while time.monotonic() < self.deadline:
            alive = []
            for writer in self.idle:
                if writer.is_closing() or writer.transport.get_extra_info("socket") is None:
                    continue
                alive.append(writer)
            self.idle = alive
            while len(self.idle) < self.args.idle:
                try:
                    _, writer = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", self.args.port), 5)
                    self.idle.append(writer)
                    self.stats["idle opened"] += 1
                except (ConnectionError, OSError, asyncio.TimeoutError):
                    self.stats["idle refused"] += 1
                    break
            await asyncio.sleep(2)
        for writer in self.idle:
            writer.close()

    async def grpc(self):
        if not self.args.fedgatectl or not self.args.grpc_port:
            return
        cancel = self.rng.random() < 0.5
        proc = await asyncio.create_subprocess_exec(
            self.args.fedgatectl, f"--server=127.0.0.1:{self.args.grpc_port}", "--timeout=5s",
            "federate", '{__name__=~"soak_.+"}',
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            if cancel:
                await asyncio.sleep(self.rng.uniform(0.01, 0.3))
                if proc.returncode is None:
                    proc.kill()
            rc = await asyncio.wait_for(proc.wait(), 20)
            self.count("grpc", "killed" if cancel and rc < 0 else f"exit{rc}")
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            self.count("grpc", "timeout")

    async def run(self):
        tasks = [self.idle_connections()]
        tasks += [self.loop(self.federate, 0.05) for _ in range(3)]
        tasks += [self.loop(self.api, 0.1), self.loop(self.hang_up, 0.2)]
        tasks += [self.loop(self.slow_reader, 0.5) for _ in range(2)]
        tasks += [self.loop(self.hostile, 0.1), self.loop(self.grpc, 0.5)]
        await asyncio.gather(*tasks)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, default=0)
    parser.add_argument("--fedgatectl", default="")
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--idle", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--stats", required=True)
    args = parser.parse_args()
    clients = Clients(args)
    asyncio.run(clients.run())
    with open(args.stats, "w", encoding="utf-8") as f:
        json.dump(dict(clients.stats), f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
