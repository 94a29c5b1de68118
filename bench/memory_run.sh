#!/usr/bin/env bash
# memory_run.sh — RSS per stored series and scraping CPU of one or more fedgate
# binaries, one after the other, on the same generated targets (a quicker
# check than scale_run.sh, without Prometheus).
#
# Usage: bench/memory_run.sh K S BIN [BIN...]
# Generates K targets of about S series with ../shared/bench/gen_targets.py
# (kept in /tmp/fedgate-memory-run.K-S), serves them with a private nginx on
# 127.0.0.1:30000+, runs each binary on the generated prometheus.yml, and
# after 75 s (5 rounds at 15 s) prints VmRSS, fedgate_series, bytes per series
# and the CPU cores used over the next 45 s. With MATCH='<selector>', a
# /federate request with that match[] is made after the 75 s (three times,
# before the CPU window), so that the read-side batch indexes a narrow
# selector builds are part of the RSS. Every process started here is
# stopped by its PID. Run it on an otherwise idle machine: under CPU
# contention more scrapes are in flight at once and their bodies add to the
# RSS (334 instead of 215 bytes per series during a parallel build).
set -eu -o pipefail
K=${1:?K}; S=${2:?S}; shift 2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN=${GEN:-$HERE/../../shared/bench/gen_targets.py}
W=/tmp/fedgate-memory-run.$K-$S
PORT=${PORT:-19401}
mkdir -p "$W/www" "$W/nginx/tmp"
[ -d "$W/data" ] || python3 "$GEN" --out "$W/data" -k "$K" -s "$S" --seed 1 \
  --generations 1 --interval 15 --prom-config "$W/prometheus.yml" --port-base 30000
ln -sfn ../data/gens/g0000 "$W/www/cur"
{
  echo "worker_processes 1;"
  [ "$(id -u)" = 0 ] && echo "user $(id -un) $(id -gn);"
  echo "pid $W/nginx/nginx.pid;"; echo "error_log $W/nginx/error.log warn;"
  echo "worker_rlimit_nofile $(( K * 4 + 1024 ));"
  echo "events { worker_connections $(( K * 2 + 1024 )); }"
  echo "http { access_log off;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $W/nginx/tmp/$t;"; done
  echo "  types { } default_type \"text/plain; version=0.0.4; charset=utf-8\";"
  echo "  keepalive_timeout 300s; keepalive_requests 1000000; etag off;"
  echo "  server {"
  for (( i = 0; i < K; i++ )); do echo "    listen 127.0.0.1:$(( 30000 + i ));"; done
  echo "    root $W/www/cur; location /t/ { } location / { return 404; } } }"
} > "$W/nginx/nginx.conf"
nginx -p "$W/nginx/" -e "$W/nginx/error.log" -c "$W/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
PID=""
trap 'kill $NGINX_PID ${PID:-} 2>/dev/null || true' EXIT
sleep 1
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Reads fedgate without tokens: outside a cluster its default authentication
# (Kubernetes service account tokens) cannot start. Binaries older than
# --web.config.file need nothing.
printf 'authentication:\n  disabled: true\n' > "$W/no-auth-web.yml"
for bin in "$@"; do
  auth=()
  if "$bin" --help 2>&1 | grep -q -- '--web.config.file'; then
    auth=(--web.config.file="$W/no-auth-web.yml")
  fi
  "$bin" --config.file="$W/prometheus.yml" --web.listen-address=127.0.0.1:$PORT \
    --grpc.listen-address= "${auth[@]}" > "$W/fedgate.log" 2>&1 &
  PID=$!
  sleep 75
  if [ -n "${MATCH:-}" ]; then
    for _ in 1 2 3; do
      curl -sG "127.0.0.1:$PORT/federate" --data-urlencode "match[]=$MATCH" | wc -l
    done
  fi
  a=$(ticks "$PID"); sleep 45; b=$(ticks "$PID")
  rss=$(awk '/VmRSS/ { print $2 }' "/proc/$PID/status")
  series=$(curl -s "127.0.0.1:$PORT/metrics" | awk '/^fedgate_series / { print $2 }')
  echo "$bin rss_kb=$rss series=$series bytes_per_series=$(( rss * 1024 / series ))" \
    "cores=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (b - a) / 100 / 45 }')"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
done
