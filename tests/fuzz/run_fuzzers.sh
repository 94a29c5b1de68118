#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang-14 and
# -fsanitize=fuzzer,address,undefined (--config=fuzz, in its own Bazel output
# base so the normal build's toolchain is untouched) and fuzzes each one for
# FUZZ_SECONDS (default 15) from a scratch copy of its seed corpus. Exits
# non-zero on the first crash, leak, sanitizer report or timeout; the
# reproducer is left in the scratch directory, whose path is printed.
#
#   bash tests/fuzz/run_fuzzers.sh [TARGET...]     # default: all of them
#   FUZZ_SECONDS=1800 bash tests/fuzz/run_fuzzers.sh relabel   # a long run
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${REPO_ROOT}"

FUZZ_SECONDS="${FUZZ_SECONDS:-15}"
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

scratch="$(mktemp -d "${TMPDIR:-/tmp}/fedgate-fuzz.XXXXXX")"
echo "run_fuzzers: scratch directory ${scratch}" >&2
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "${scratch}/${t}/corpus" "${scratch}/${t}/artifacts"
  cp "tests/fuzz/corpus/${t}/"* "${scratch}/${t}/corpus/"
  echo "run_fuzzers: ${t} for ${FUZZ_SECONDS}s" >&2
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "${bin}/tests/fuzz/${t}_fuzz" \
    -max_total_time="${FUZZ_SECONDS}" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="${scratch}/${t}/artifacts/" \
    "${scratch}/${t}/corpus" >"${scratch}/${t}/log" 2>&1; then
    echo "run_fuzzers: ${t} FAILED; log and reproducer in ${scratch}/${t}" >&2
    tail -n 40 "${scratch}/${t}/log" >&2
    status=1
    continue
  fi
  # libFuzzer's last status line: executions, coverage edges, features.
  grep -E '^#[0-9]+[[:space:]]+DONE' "${scratch}/${t}/log" |
    sed "s/^/run_fuzzers: ${t} /" >&2
  grep -E '^stat::(number_of_executed_units|new_units_added)' \
    "${scratch}/${t}/log" | sed "s/^/run_fuzzers: ${t} /" >&2
done
if ((status == 0)); then rm -rf "${scratch}"; fi
exit "${status}"
