#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang-14 and
# -fsanitize=fuzzer,address,undefined (--config=fuzz, in its own Bazel output
# base so the normal build's toolchain is untouched) and fuzzes each one for
# FUZZ_SECONDS (default 15) from a scratch copy of its seed corpus. Exits
# non-zero on the first crash, leak, sanitizer report or timeout; the
# reproducer is left in the scratch directory, whose path is printed.
# FUZZ_CPU_SECONDS instead gives each target that much CPU time (user +
# system), run in rounds of at most FUZZ_ROUND_SECONDS (default 300) over the
# same growing corpus, so a long run on a busy machine still gets its budget.
#
#   bash tests/fuzz/run_fuzzers.sh [TARGET...]     # default: all of them
#   FUZZ_SECONDS=1800 bash tests/fuzz/run_fuzzers.sh relabel   # a long run
#   FUZZ_CPU_SECONDS=1800 nice -n 19 bash tests/fuzz/run_fuzzers.sh relabel
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${REPO_ROOT}"

FUZZ_SECONDS="${FUZZ_SECONDS:-15}"
FUZZ_CPU_SECONDS="${FUZZ_CPU_SECONDS:-}"
FUZZ_ROUND_SECONDS="${FUZZ_ROUND_SECONDS:-300}"
for v in FUZZ_SECONDS FUZZ_ROUND_SECONDS ${FUZZ_CPU_SECONDS:+FUZZ_CPU_SECONDS}; do
  if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
    echo "run_fuzzers: ${v} must be a positive whole number of seconds" >&2
    exit 2
  fi
done
OUTPUT_BASE="${FUZZ_OUTPUT_BASE:-${HOME}/.cache/fedgate-bazel-fuzz}"
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  TARGETS=(text_parser openmetrics_parser protobuf_parser selector_parser promql_expr config_parser
    url_form kubernetes_objects web_config match_params relabel file_sd dns_answer http_request)
fi

labels=()
for t in "${TARGETS[@]}"; do
  labels+=("//tests/fuzz:${t}_fuzz")
done
bazel --output_base="${OUTPUT_BASE}" build --config=fuzz --symlink_prefix=/ \
  --noshow_progress "${labels[@]}"
bin="$(bazel --output_base="${OUTPUT_BASE}" info --config=fuzz bazel-bin 2>/dev/null)"

# fuzz_round TARGET SECONDS: one libFuzzer run over the target's scratch corpus,
# its output appended to the target's log.
fuzz_round() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "${bin}/tests/fuzz/$1_fuzz" \
    -max_total_time="$2" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="${scratch}/$1/artifacts/" \
    "${scratch}/$1/corpus" >>"${scratch}/$1/log" 2>&1
}

report_failure() {
  echo "run_fuzzers: $1 FAILED; log and reproducer in ${scratch}/$1" >&2
  tail -n 40 "${scratch}/$1/log" >&2
  status=1
}

scratch="$(mktemp -d "${TMPDIR:-/tmp}/fedgate-fuzz.XXXXXX")"
echo "run_fuzzers: scratch directory ${scratch}" >&2
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "${scratch}/${t}/corpus" "${scratch}/${t}/artifacts"
  cp "tests/fuzz/corpus/${t}/"* "${scratch}/${t}/corpus/"
  log="${scratch}/${t}/log"
  : >"${log}"
  if [[ -z "${FUZZ_CPU_SECONDS}" ]]; then
    echo "run_fuzzers: ${t} for ${FUZZ_SECONDS}s" >&2
    if ! fuzz_round "${t}" "${FUZZ_SECONDS}"; then
      report_failure "${t}"
      continue
    fi
    # libFuzzer's last status line: executions, coverage edges, features.
    grep -E '^#[0-9]+[[:space:]]+DONE' "${log}" | sed "s/^/run_fuzzers: ${t} /" >&2
    grep -E '^stat::(number_of_executed_units|new_units_added)' "${log}" |
      sed "s/^/run_fuzzers: ${t} /" >&2
    continue
  fi
  echo "run_fuzzers: ${t} for ${FUZZ_CPU_SECONDS} CPU seconds" >&2
  cpu_ms=0
  rounds=0
  failed=0
  while ((cpu_ms < FUZZ_CPU_SECONDS * 1000)); do
    # A round's CPU time comes from bash's `time` (user and system, children).
    round_cpu="$({
      TIMEFORMAT='%3U %3S'
      time fuzz_round "${t}" "${FUZZ_ROUND_SECONDS}" 2>/dev/null
    } 2>&1)" || failed=1
    read -r user sys <<<"${round_cpu##*$'\n'}"
    cpu_ms=$((cpu_ms + 10#${user/./} + 10#${sys/./}))
    rounds=$((rounds + 1))
    if ((failed)); then break; fi
  done
  if ((failed)); then
    report_failure "${t}"
    continue
  fi
  executions="$(awk '/^stat::number_of_executed_units:/ { n += $2 } END { print n + 0 }' "${log}")"
  echo "run_fuzzers: ${t} $((cpu_ms / 1000)) CPU seconds in ${rounds} rounds," \
    "${executions} executions; last round:" >&2
  grep -E '^#[0-9]+[[:space:]]+DONE' "${log}" | tail -n 1 | sed "s/^/run_fuzzers: ${t} /" >&2
done
if ((status == 0)); then rm -rf "${scratch}"; fi
exit "${status}"
