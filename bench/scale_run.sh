#!/usr/bin/env bash
# scale_run.sh — scale run of fedgate next to Prometheus 2.42 on the same
# generated loopback targets (issue #4; also used for issue #6's memory run).
#
# Usage: bench/scale_run.sh [K] [S] [INTERVAL] [WINDOW]     (default 5000 200 15 120)
#
# Runs ../shared/bench/compare.sh (Prometheus first, then fedgate, same
# targets, same generations) and adds what it lacks, measured for both:
#   * threads and open TCP connections of the process, sampled every
#     SAMPLE_EVERY seconds (/proc/PID/status Threads; /proc/PID/fd sockets
#     matched against /proc/net/tcp{,6}, ESTABLISHED and all states);
#   * scrapes in the window against K × WINDOW / INTERVAL; fedgate's missed
#     ticks (Δ fedgate_scrape_missed_ticks_total over the window);
#   * schedule drift: fedgate's Δ fedgate_scrape_tick_lateness_seconds
#     histogram over the window (tick start − scheduled time: p50, p99, max
#     bucket); Prometheus's prometheus_target_interval_length_seconds summary
#     (time between scrape starts − interval, its last 10 minutes);
#   * with BASELINE=1 (default), fedgate's RSS with zero targets, so RSS per
#     stored series can be given net of the empty process.
# Environment (all optional; everything else is passed to compare.sh, e.g.
# FEDERATE_REPS, WARMUP, GATEWAY_FIRST, SKIP_PROMETHEUS, MAX_RUNTIME):
#   FEDGATE       fedgate binary (default bazel-bin/gateway/fedgate)
#   COMPARE       the harness (default ../shared/bench/compare.sh next to the repo,
#                 else /work/shared/bench/compare.sh)
#   OUT           results directory (default /tmp/fedgate-scale.K-S-INTERVAL.DATE)
#   SAMPLE_EVERY  seconds between thread/connection samples (default 5)
#   BASELINE=0    skip the zero-target RSS measurement
# Everything listens on 127.0.0.1. Every process started here is stopped by its
# PID on exit or Ctrl-C (compare.sh in turn stops its own by PID); the run is
# bounded by compare.sh's MAX_RUNTIME (default here 2400 s).

set -u -o pipefail

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
K=${1:-5000}
S=${2:-200}
INTERVAL=${3:-15}
WINDOW=${4:-120}
FEDGATE=${FEDGATE:-$REPO/bazel-bin/gateway/fedgate}
if [ -z "${COMPARE:-}" ]; then
  COMPARE=$REPO/../shared/bench/compare.sh
  [ -f "$COMPARE" ] || COMPARE=/work/shared/bench/compare.sh
fi
SAMPLE_EVERY=${SAMPLE_EVERY:-5}
BASELINE=${BASELINE:-1}
export MAX_RUNTIME=${MAX_RUNTIME:-2400}
OUT=${OUT:-/tmp/fedgate-scale.$K-$S-$INTERVAL.$(date +%Y%m%d-%H%M%S)}

log() { printf '[scale_run %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ -x "$FEDGATE" ] || die "no fedgate binary at $FEDGATE (bazel build -c opt //gateway:fedgate)"
[ -f "$COMPARE" ] || die "no harness at $COMPARE (set COMPARE=)"
FEDGATE=$(cd "$(dirname "$FEDGATE")" && pwd)/$(basename "$FEDGATE")
# Reads fedgate without tokens: outside a cluster its default authentication
# (Kubernetes service account tokens) cannot start. Binaries older than
# --web.config.file need nothing.
AUTH_FLAGS=""
if "$FEDGATE" --help 2>&1 | grep -q -- '--web.config.file'; then
  mkdir -p "$OUT"
  printf 'authentication:\n  disabled: true\n' > "$OUT/no-auth-web.yml"
  AUTH_FLAGS="--web.config.file=$OUT/no-auth-web.yml"
fi
mkdir -p "$OUT" || die "cannot create $OUT"

# Each target connection is a file descriptor: allow what the hard limit allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $(( K + 1024 )) ] \
  || log "warning: ulimit -n $(ulimit -n) is below K + 1024"

CMP_PID="" SAMPLER_PID="" BASE_PID=""
stop_pid() {     # TERM, wait up to $2 s, then KILL — by PID only
  local pid=$1 grace=${2:-10} i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for (( i = 0; i < grace * 10; i++ )); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$BASE_PID" 30
  stop_pid "$CMP_PID" 120      # compare.sh stops its own processes on TERM
  stop_pid "$SAMPLER_PID" 5
  [ -n "${CMP_WORK:-}" ] || CMP_WORK=$(sed -n 's/.*work directory kept: //p' "$OUT/compare.log" 2>/dev/null | tail -n 1)
  if [ -n "${CMP_WORK:-}" ] && [ -d "$CMP_WORK" ]; then rm -rf "$CMP_WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---- fedgate with zero targets: the empty process's RSS
BASE_KB=""
if [ "$BASELINE" = 1 ]; then
  mkdir -p "$OUT/baseline"
  printf 'global:\n  scrape_interval: %ss\nscrape_configs: []\n' "$INTERVAL" > "$OUT/baseline/fedgate.yml"
  port=$(python3 "${COMPARE%/*}/benchutil.py" free-port-base 1 19400) || die "no free port"
  ( cd "$OUT/baseline" && exec "$FEDGATE" --config.file="$OUT/baseline/fedgate.yml" \
      --web.listen-address=127.0.0.1:$port --grpc.listen-address= $AUTH_FLAGS ) >"$OUT/baseline/stdout.log" 2>&1 &
  BASE_PID=$!
  for (( i = 0; i < 300; i++ )); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/metrics")" = 200 ] && break
    kill -0 "$BASE_PID" 2>/dev/null || break
    sleep 0.1
  done
  sleep 10
  curl -s --max-time 5 -o "$OUT/baseline/metrics.txt" "http://127.0.0.1:$port/metrics"
  BASE_KB=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$BASE_PID/status" 2>/dev/null)
  base_thr=$(awk '$1 == "Threads:" { print $2 }' "/proc/$BASE_PID/status" 2>/dev/null)
  log "fedgate with zero targets: VmRSS ${BASE_KB:-?} kB, ${base_thr:-?} threads"
  { echo "baseline_rss_kb=${BASE_KB}"; echo "baseline_threads=${base_thr}"; } > "$OUT/baseline.kv"
  stop_pid "$BASE_PID" 30; BASE_PID=""
fi

# ---- the side-by-side run
log "compare.sh $K $S $INTERVAL $WINDOW -> $OUT (log: $OUT/compare.log)"
KEEP_WORKDIR=1 RESULTS_DIR="$OUT/compare" GATEWAY_NAME=fedgate \
  GATEWAY_CMD="$FEDGATE --grpc.listen-address= $AUTH_FLAGS" \
  bash "$COMPARE" "$K" "$S" "$INTERVAL" "$WINDOW" >"$OUT/compare.table" 2>"$OUT/compare.log" &
CMP_PID=$!
python3 "$HERE/scale_extra.py" sample "$CMP_PID" "$OUT/samples.txt" "$SAMPLE_EVERY" "$FEDGATE" &
SAMPLER_PID=$!
wait "$CMP_PID"; rc=$?
CMP_PID=""
stop_pid "$SAMPLER_PID" 5; SAMPLER_PID=""
CMP_WORK=$(sed -n 's/.*work directory kept: //p' "$OUT/compare.log" | tail -n 1)
if [ -n "$CMP_WORK" ] && [ -d "$CMP_WORK" ]; then
  for key in prometheus gateway; do
    [ -d "$CMP_WORK/sut_$key" ] || continue
    mkdir -p "$OUT/sut_$key"
    cp "$CMP_WORK/sut_$key"/metrics_*.txt "$CMP_WORK/sut_$key"/scrape_meta.txt \
       "$CMP_WORK/sut_$key"/stdout.log "$CMP_WORK/sut_$key"/fed_*.tsv "$OUT/sut_$key"/ 2>/dev/null
  done
  cp "$CMP_WORK/data/manifest.json" "$OUT/" 2>/dev/null
  rm -rf "$CMP_WORK"; CMP_WORK=""     # generated targets: gigabytes
fi
[ "$rc" = 0 ] || log "compare.sh exited with $rc (see $OUT/compare.log)"

cat "$OUT/compare.table"
echo
python3 "$HERE/scale_extra.py" summary "$OUT" "$K" "$INTERVAL" "$WINDOW" $BASE_KB | tee "$OUT/extra.table"
log "results in $OUT"
exit "$rc"
