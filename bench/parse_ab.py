#!/usr/bin/env python3
"""Runs parse_bench binaries in alternation and prints their ratios to memchr.

The #3 goal is a ratio: full text parsing within 12x of a memchr line count
over the same bytes, in the same run. On a shared VM the host's load shifts
from minute to minute, so two binaries are only comparable when their runs
interleave. Each round runs every binary once (BM_MemchrLineCount,
BM_TextParse and BM_TextScrapeCacheHit, 3 repetitions each); the output gives,
per binary and body, the median over all runs of TextParse time / memchr
time, the per-run ratios, and TextParse and cache-hit throughput.

Usage:
  bench/parse_ab.py --rounds 4 --k3s_body F --proxy_body F BIN [BIN...]

BIN is a parse_bench binary (bazel build -c opt //bench:parse_bench; copy
bazel-bin/bench/parse_bench aside to keep one build per variant), with
flags of its own if quoted as one argument, e.g.
`"bazel-bin/bench/parse_bench --text_parser_simd=baseline"`.
"""

import argparse
import json
import shlex
import statistics
import subprocess
import sys


def run_once(binary, k3s_body, proxy_body):
    cmd = shlex.split(binary) + [
        f"--k3s_body={k3s_body}",
        f"--proxy_body={proxy_body}",
        "--benchmark_filter=Memchr|BM_TextParse/|CacheHit",
        "--benchmark_repetitions=3",
        "--benchmark_format=json",
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    # {(benchmark family, body label): [cpu ns per iteration, ...]}, and
    # bytes per second of the same.
    times = {}
    speeds = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        family = b["name"].split("/")[0]
        key = (family, b.get("label", ""))
        times.setdefault(key, []).append(b["cpu_time"])
        if "bytes_per_second" in b:
            speeds.setdefault(key, []).append(b["bytes_per_second"])
    return times, speeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--k3s_body", required=True)
    parser.add_argument("--proxy_body", required=True)
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()

    # ratios[binary][body] = [TextParse / memchr per run]
    ratios = {b: {} for b in args.binaries}
    parse_speed = {b: {} for b in args.binaries}
    hit_speed = {b: {} for b in args.binaries}
    for round_index in range(args.rounds):
        for binary in args.binaries:
            times, speeds = run_once(binary, args.k3s_body, args.proxy_body)
            for (family, body), values in times.items():
                if family != "BM_TextParse":
                    continue
                memchr = statistics.median(times[("BM_MemchrLineCount", body)])
                ratio = statistics.median(values) / memchr
                ratios[binary].setdefault(body, []).append(ratio)
                parse_speed[binary].setdefault(body, []).extend(
                    speeds.get((family, body), []))
                hit_speed[binary].setdefault(body, []).extend(
                    speeds.get(("BM_TextScrapeCacheHit", body), []))
            print(f"round {round_index + 1}/{args.rounds} {binary}: " +
                  ", ".join(f"{body} {r[-1]:.1f}x"
                            for body, r in sorted(ratios[binary].items())),
                  file=sys.stderr)

    for binary in args.binaries:
        print(binary)
        for body in sorted(ratios[binary]):
            r = ratios[binary][body]
            mbs = statistics.median(parse_speed[binary][body]) / 1e6
            hit = hit_speed[binary][body]
            hit_text = (f", cache hit {statistics.median(hit) / 1e6:,.0f} MB/s"
                        if hit else "")
            print(f"  {body}: median {statistics.median(r):.1f}x memchr "
                  f"(runs {', '.join(f'{x:.1f}' for x in r)}), "
                  f"TextParse {mbs:,.0f} MB/s{hit_text}")


if __name__ == "__main__":
    main()
