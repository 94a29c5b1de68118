"""The soak test's scrape targets: one asyncio process serving 1,000+ loopback /metrics
endpoints, each on its own listening port on a 127.0.x.y address, so that fedgate sees as many
distinct targets as a cluster has. Started and stopped (by PID) by tests/soak/soak.py.

Roles (from the spec file soak.py writes):
  healthy   a counter equal to the number of requests this target has answered, so the checker
            knows which values it really served ("nothing lost"); counts are in GET /state.
  faulty    every --fault-period seconds a new fault at random (FAULT_KINDS), the same kind
            never twice in a row; the current kind and since when are in GET /state.
  registry  the members of one shared registry (a dedup group): one counter for all members;
            every --registry-period seconds the leader (the member soak.py last named in
            GET /leader?name=..., at first the first member) stops listening for half the
            period, then listens again on the same port.
  tls_*     HTTPS: a valid certificate (healthy), an expired one, one for another host, one
            signed by an unknown CA.

Threading: one thread, one asyncio loop. The control endpoint (GET /state) is on --control.
"""

import argparse
import asyncio
import faulthandler
import json
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time
import zlib

# Faults a misbehaving target picks from, with whether fedgate must report it down.
FAULT_KINDS = {
    "hang": True,  # answers after three scrape timeouts
    "silent": True,  # accepts, never reads nor answers
    "reset": True,  # TCP RST at once
    "status500": True,
    "status404": True,
    "redirect_loop": True,  # 302 to itself, forever
    "garbage": True,  # 200 with random bytes
    "truncated": True,  # Content-Length larger than what is sent
    "big_body": True,  # a valid text body past body_size_limit
    "gzip_bomb": True,  # gzip of 4 GiB of zeros, streamed as read
    "cardinality": True,  # more series than sample_limit
    "huge_label": True,  # a 1 MiB label value (past label_value_length_limit)
    "bad_utf8": True,  # a label value that is not UTF-8
    "nul": True,  # NUL bytes in a metric name
    "duplicate": False,  # the same series twice in one scrape
    "churn": False,  # 200 new series names every scrape
    "flap": False,  # every other scrape fails with 500
}

HANG_SECONDS = 12.0
SILENT_SECONDS = 30.0
GZIP_BOMB_BYTES = 4 << 30


def gzip_bomb_segment():
    """One MiB of zeros as raw deflate ending in a full flush: repeating it is valid deflate."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(b"\0" * (1 << 20)) + comp.flush(zlib.Z_FULL_FLUSH)


class Targets:
    def __init__(self, spec, args):
        self.spec = spec
        self.args = args
        self.rng = random.Random(args.seed)
        self.counts = {t["name"]: 0 for t in spec["targets"]}
        self.registry_count = 0
        self.faults = {}  # name -> [kind, since]
        self.flap_state = {}
        self.registry_servers = {}
        self.ssl_contexts = {}
        self.requests = 0
        self.faults_injected = {k: 0 for k in FAULT_KINDS}
        self.registry_down_since = None
        self.registry_outages = 0
        self.segment = gzip_bomb_segment()
        self.cardinality_body = "".join(
            f'soak_cardinality{{i="{i}"}} {i}\n' for i in range(20000)).encode()
        self.huge_label_body = ('soak_huge{v="' + "x" * (1 << 20) + '"} 1\n').encode()
        line = "".join(f'soak_big_series{{i="{i}",pad="{"p" * 40}"}} {i}\n' for i in range(12000))
        self.big_block = line.encode()

    # --- faults -----------------------------------------------------------------------------
    def rotate_faults(self):
        now = time.time()
        for t in self.spec["targets"]:
            if t["role"] != "faulty":
                continue
            old = self.faults.get(t["name"], [None, 0])[0]
            kind = self.rng.choice([k for k in FAULT_KINDS if k != old])
            self.faults[t["name"]] = [kind, now]
            self.faults_injected[kind] += 1

    async def fault_rotator(self):
        while True:
            await asyncio.sleep(self.args.fault_period)
            self.rotate_faults()

    # --- HTTP ---------------------------------------------------------------------------------
    @staticmethod
    def head(status, reason, headers, length=None):
        lines = [f"HTTP/1.1 {status} {reason}"] + headers
        if length is not None:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def send(self, writer, status, reason, body, content_type="text/plain; version=0.0.4"):
        writer.write(self.head(status, reason, [f"Content-Type: {content_type}"], len(body)) + body)
        await writer.drain()

    async def handle(self, target, reader, writer):
        try:
            await self.serve(target, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, OSError,
                asyncio.LimitOverrunError):
            pass
        finally:
            try:
                writer.close()
            except (ConnectionError, OSError, RuntimeError):
                pass

    def kind(self, target):
        return self.faults.get(target["name"], [None])[0] if target["role"] == "faulty" else None

    async def serve(self, target, reader, writer):
        name = target["name"]
        role = target["role"]
        # A fault that refuses the whole connection; the kind is read again at each request of a
        # kept-alive connection, so that a new fault applies at the next scrape.
        if not await self.connection_fault(self.kind(target), writer):
            return
        while True:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
            self.requests += 1
            if role in ("healthy", "tls_good"):
                self.counts[name] += 1
                body = (f"# TYPE soak_scrapes_total counter\n"
                        f'soak_scrapes_total{{target="{name}"}} {self.counts[name]}\n').encode()
                await self.send(writer, 200, "OK", body)
            elif role == "registry":
                self.counts[name] += 1
                self.registry_count += 1
                body = (f"# TYPE soak_registry_scrapes_total counter\n"
                        f"soak_registry_scrapes_total {self.registry_count}\n").encode()
                await self.send(writer, 200, "OK", body)
            elif role.startswith("tls_"):
                await self.send(writer, 200, "OK", b"soak_tls_bad 1\n")
            else:
                self.counts[name] += 1
                kind = self.kind(target)
                if not await self.connection_fault(kind, writer):
                    return
                if not await self.fault(name, kind, writer):
                    return

    async def connection_fault(self, kind, writer):
        """Applies the faults that take the connection ("silent", "reset"); returns whether
        the connection may go on."""
        if kind == "silent":
            await asyncio.sleep(SILENT_SECONDS)
            return False
        if kind == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        return True

    async def fault(self, name, kind, writer):
        """Answers one request with fault `kind`; returns whether the connection may go on."""
        if kind == "hang":
            await asyncio.sleep(HANG_SECONDS)
            await self.send(writer, 200, "OK", b"soak_late 1\n")
            return False
        if kind == "status500":
            await self.send(writer, 500, "Internal Server Error", b"boom\n")
        elif kind == "status404":
            await self.send(writer, 404, "Not Found", b"no\n")
        elif kind == "redirect_loop":
            writer.write(self.head(302, "Found", ["Location: /metrics"], 0))
            await writer.drain()
        elif kind == "garbage":
            # A NUL first, or `#` and a NUL before the first newline, would end the body there:
            # a valid empty scrape, as in Prometheus. `-` starts no line of any format.
            await self.send(writer, 200, "OK", b"-" + os.urandom(4095))
            return False
        elif kind == "truncated":
            writer.write(self.head(200, "OK", ["Content-Type: text/plain"], 100000) +
                         b"soak_truncated 1\n" * 100)
            await writer.drain()
            return False
        elif kind == "big_body":
            writer.write(self.head(200, "OK", ["Content-Type: text/plain", "Connection: close"]))
            for _ in range(64):  # 64 x 0.9 MiB, or until fedgate hangs up at its limit
                if writer.is_closing():
                    break
                writer.write(self.big_block)
                await writer.drain()
            return False
        elif kind == "gzip_bomb":
            writer.write(self.head(200, "OK", ["Content-Type: text/plain", "Content-Encoding: gzip",
                                               "Connection: close"]))
            writer.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")
            for _ in range(GZIP_BOMB_BYTES >> 20):  # stops when fedgate hangs up
                if writer.is_closing():
                    return False
                writer.write(self.segment)
                await writer.drain()
                await asyncio.sleep(0)  # drain() does not yield below the high-water mark
            # Only a client that reads all 4 GiB gets here: the CRC is computed then, in
            # slices, so that the segments above cost no CPU.
            crc = 0
            zeros = b"\0" * (1 << 20)
            for i in range(GZIP_BOMB_BYTES >> 20):
                crc = zlib.crc32(zeros, crc)
                if i % 64 == 0:
                    await asyncio.sleep(0)
            tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
            writer.write(tail + struct.pack("<II", crc, GZIP_BOMB_BYTES & 0xFFFFFFFF))
            await writer.drain()
            return False
        elif kind == "cardinality":
            await self.send(writer, 200, "OK", self.cardinality_body)
        elif kind == "huge_label":
            await self.send(writer, 200, "OK", self.huge_label_body)
        elif kind == "bad_utf8":
            await self.send(writer, 200, "OK", b'soak_bad_utf8{v="\xff\xfe\xc3"} 1\n')
        elif kind == "nul":
            await self.send(writer, 200, "OK", b'soak_nul{v="a\x00b"} 1\nsoak_\x00nul 1\n')
        elif kind == "duplicate":
            body = f'soak_dup{{target="{name}"}} 1\nsoak_dup{{target="{name}"}} 2\n'.encode()
            await self.send(writer, 200, "OK", body)
        elif kind == "churn":
            base = self.counts[name] * 200
            body = "".join(f'soak_churn_{base + i}{{target="{name}"}} 1\n' for i in range(200))
            await self.send(writer, 200, "OK", body.encode())
        elif kind == "flap":
            up = self.flap_state.get(name, False)
            self.flap_state[name] = not up
            if up:
                await self.send(writer, 200, "OK", f'soak_flap{{target="{name}"}} 1\n'.encode())
            else:
                await self.send(writer, 500, "Internal Server Error", b"flap\n")
        return True

    # --- listeners ----------------------------------------------------------------------------
    def listen_socket(self, host, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        return sock

    async def start(self, target, port=0):
        sock = self.listen_socket(target["host"], port)
        ssl_ctx = None
        if target["role"].startswith("tls_"):
            ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ssl_ctx.load_cert_chain(target["cert"], target["key"])
        server = await asyncio.start_server(
            lambda r, w: self.handle(target, r, w), sock=sock, ssl=ssl_ctx, backlog=64)
        target["port"] = sock.getsockname()[1]
        return server

    async def registry_flapper(self, members):
        half = self.args.registry_period / 2
        while True:
            await asyncio.sleep(half)
            leader = next(m for m in members if m["name"] == self.registry_leader)
            server = self.registry_servers[leader["name"]]
            server.close()
            await server.wait_closed()
            self.registry_down_since = time.time()
            self.registry_outages += 1
            await asyncio.sleep(half)
            for _ in range(50):  # the port is ours; a few retries cover a lingering socket
                try:
                    self.registry_servers[leader["name"]] = await self.start(leader,
                                                                             leader["port"])
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            self.registry_down_since = None

    async def heartbeat(self):
        while True:
            self.last_beat = time.monotonic()
            await asyncio.sleep(0.5)

    def watchdog(self):
        """Prints every thread's stack to the log when the loop has not run for 5 s."""
        dumped = 0.0
        while True:
            time.sleep(1)
            beat = getattr(self, "last_beat", time.monotonic())
            if time.monotonic() - beat > 5 and beat != dumped:
                dumped = beat
                print(f"soak_targets: event loop stalled for {time.monotonic() - beat:.1f} s",
                      file=sys.stderr, flush=True)
                faulthandler.dump_traceback(file=sys.stderr, all_threads=True)

    async def control(self, reader, writer):
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            path = request.split(b" ")[1].decode()
            if path.startswith("/leader?name="):
                name = path[len("/leader?name="):]
                if any(t["name"] == name and t["role"] == "registry" for t in self.spec["targets"]):
                    self.registry_leader = name
            state = {
                "time": time.time(),
                "counts": self.counts,
                "registry_count": self.registry_count,
                "registry_down_since": self.registry_down_since,
                "registry_outages": self.registry_outages,
                "faults": self.faults,
                "faults_injected": self.faults_injected,
                "requests": self.requests,
            }
            await self.send(writer, 200, "OK", json.dumps(state).encode(), "application/json")
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, OSError):
            pass
        finally:
            writer.close()

    async def run(self):
        self.rotate_faults()
        for t in self.spec["targets"]:
            server = await self.start(t)
            if t["role"] == "registry":
                self.registry_servers[t["name"]] = server
        control = await asyncio.start_server(self.control, "127.0.0.1", 0)
        ports = {t["name"]: t["port"] for t in self.spec["targets"]}
        with open(self.args.ready + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"control": control.sockets[0].getsockname()[1], "ports": ports}, f)
        os.rename(self.args.ready + ".tmp", self.args.ready)
        tasks = [asyncio.ensure_future(self.fault_rotator()),
                 asyncio.ensure_future(self.heartbeat())]
        threading.Thread(target=self.watchdog, daemon=True).start()
        members = [t for t in self.spec["targets"] if t["role"] == "registry"]
        if members:
            self.registry_leader = members[0]["name"]
            tasks.append(asyncio.ensure_future(self.registry_flapper(members)))
        await asyncio.sleep(self.args.max_lifetime)  # never outlives a lost parent for long
        for task in tasks:
            task.cancel()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--ready", required=True, help="file written with the ports once ready")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-period", type=float, default=20.0)
    parser.add_argument("--registry-period", type=float, default=30.0)
    parser.add_argument("--max-lifetime", type=float, default=7200.0)
    args = parser.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    asyncio.run(Targets(spec, args).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
