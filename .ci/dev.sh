#!/usr/bin/env bash
# The two README commands, on a fresh Debian 12 machine:
#
#   bash .ci/dev.sh demo [fedgate flags...]
#       Installs the Debian packages that are missing, builds //gateway:fedgate and runs it.
#       With no flags fedgate runs its embedded demo (loopback k3s-like and Linkerd-like
#       targets) and prints the curl lines to try.
#
#   bash .ci/dev.sh test
#       Installs the Debian packages that are missing, runs `bazel test //...` and the other
#       suites below, and ends with exactly one line "N passed, M failed" counting test cases
#       (.ci/count_tests.py). Exits non-zero if anything failed. .ci/run calls this.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
cd "${REPO_ROOT}"

# Everything the build, the tests and the demo use, all from Debian 12 (see docs/building.md).
PACKAGES=(
  bazel-bootstrap bazel-platforms bazel-rules-java
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libabsl-dev libcpp-httplib-dev libbrotli-dev libre2-dev libmicrohttpd-dev libgnutls28-dev
  libcrypt-dev
  libbenchmark-dev libgtest-dev libgmock-dev
  libssl-dev zlib1g-dev libcurl4-openssl-dev libyaml-cpp-dev prometheus-cpp-dev rapidjson-dev
  prometheus
  clang-14 libclang-rt-14-dev libfuzzer-14-dev clang-format
  curl python3 openssl ca-certificates g++
  chromium chromium-driver python3-selenium
  python3-yaml
)
# kubectl, for `kubectl kustomize` of deploy/ (tests/deploy_*): Debian's kubernetes-client, unless
# a kubectl from another package is installed already (both ship /usr/bin/kubectl, so dpkg would
# refuse to install the second).
if [[ ! -x /usr/bin/kubectl ]]; then
  PACKAGES+=(kubernetes-client)
fi
readonly PACKAGES

usage() {
  echo "usage: bash .ci/dev.sh demo [fedgate flags...]   # build and run the embedded demo" >&2
  echo "       bash .ci/dev.sh test                       # run every test suite" >&2
}

# Prints the packages of PACKAGES that are not installed, one per line. Packages dpkg has never
# heard of are missing too (dpkg-query skips them, with a message on stderr we do not need).
missing_packages() {
  local installed
  installed="$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" \
    2>/dev/null || true)"
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    if ! grep -qxF "${pkg} installed" <<<"${installed}"; then
      echo "${pkg}"
    fi
  done
}

# Installs the missing packages with one apt-get run; does nothing (in ~50 ms) when none is.
ensure_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  echo "dev.sh: missing Debian packages: ${missing[*]}" >&2
  local -a as_root=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
      as_root=(sudo)
    else
      echo "dev.sh: installing them needs root, and sudo is not available. As root, run:" >&2
      echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
      echo "dev.sh: then run this command again." >&2
      exit 1
    fi
  fi
  echo "dev.sh: installing them with apt-get${as_root:+ (through sudo)}" >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} != 0)); then
    echo "dev.sh: still missing after apt-get install: ${missing[*]}" >&2
    exit 1
  fi
}

run_demo() {
  bazel build //gateway:fedgate
  exec "${REPO_ROOT}/bazel-bin/gateway/fedgate" "$@"
}

# Parallelism for the CI machine (2 cores) and for laptops alike.
JOBS="$(nproc 2>/dev/null || echo 2)"
readonly JOBS

# Results of the suites outside `bazel test //...`, as JUnit XML files that count_tests.py adds
# to the total. Set by run_tests.
EXTRA_XML_DIR=""

# Runs one suite outside `bazel test //...` and records it as one test case named NAME: passed
# if COMMAND exits 0, failed otherwise (its output stays in the log above the summary). A suite
# that reports its own cases can instead write JUnit XML files into "${EXTRA_XML_DIR}".
#   run_suite NAME COMMAND [ARGS...]
run_suite() {
  local name="$1"
  shift
  if [[ ! "${name}" =~ ^[A-Za-z0-9_.-]+$ ]]; then
    echo "dev.sh: run_suite: bad suite name '${name}'" >&2
    return 1
  fi
  echo "dev.sh: running suite ${name}: $*" >&2
  local failure=""
  local rc=0
  local output="${EXTRA_XML_DIR}/${name}.log"
  # The suite's output goes to the log as before and to a file for the digest below; its exit
  # status comes through a file, as the pipeline's own is tee's.
  { "$@" 2>&1 && echo 0 >"${output}.rc" || echo "$?" >"${output}.rc"; } | tee "${output}"
  rc="$(cat "${output}.rc")"
  if ((rc != 0)); then
    # The lines that say what failed (or the last ones), so that the summary at the end of a
    # long log names the cause and not only the suite.
    local digest
    digest="$(grep -a -E 'FAILED|Failure|[Ee]rror|Expected|Which is|Sanitizer|timed out|TIMEOUT' \
      "${output}" | tail -n 15 || true)"
    if [[ -z "${digest}" ]]; then
      digest="$(tail -n 15 "${output}")"
    fi
    digest="$(printf '%s' "${digest}" | cut -c 1-300 | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' \
      -e 's/>/\&gt;/g' | tr -d '\000-\010\013\014\016-\037')"
    failure="<failure message=\"exited with status ${rc}\">${digest}</failure>"
    echo "dev.sh: suite ${name} FAILED (exit status ${rc})" >&2
  fi
  rm -f "${output}" "${output}.rc"
  printf '<testsuites><testsuite name="%s"><testcase name="%s" classname="dev.sh">%s</testcase></testsuite></testsuites>\n' \
    "${name}" "${name}" "${failure}" >"${EXTRA_XML_DIR}/${name}.xml"
}

# ===== Extra test suites ========================================================================
# Suites beyond `bazel test //...` go here, one `run_suite NAME COMMAND...` line each (a short
# fuzz run, a sanitizer pass, ...). Each one adds its test case(s) to the final count.
extra_suites() {
  # The 2-minute soak (tests/soak/, docs/reliability.md) of the fedgate that `bazel test //...`
  # just built: first, while bazel-bin still points at that build.
  run_suite soak python3 tests/soak/soak.py --duration 120s
  # libFuzzer (clang-14, ASan+UBSan), 15 s per target from its seed corpus (~4 min in all).
  run_suite fuzz.text_parser bash tests/fuzz/run_fuzzers.sh text_parser
  run_suite fuzz.openmetrics_parser bash tests/fuzz/run_fuzzers.sh openmetrics_parser
  run_suite fuzz.protobuf_parser bash tests/fuzz/run_fuzzers.sh protobuf_parser
  run_suite fuzz.selector_parser bash tests/fuzz/run_fuzzers.sh selector_parser
  run_suite fuzz.promql_expr bash tests/fuzz/run_fuzzers.sh promql_expr
  run_suite fuzz.config_parser bash tests/fuzz/run_fuzzers.sh config_parser
  run_suite fuzz.url_form bash tests/fuzz/run_fuzzers.sh url_form
  run_suite fuzz.kubernetes_objects bash tests/fuzz/run_fuzzers.sh kubernetes_objects
  run_suite fuzz.web_config bash tests/fuzz/run_fuzzers.sh web_config
  run_suite fuzz.match_params bash tests/fuzz/run_fuzzers.sh match_params
  run_suite fuzz.relabel bash tests/fuzz/run_fuzzers.sh relabel
  run_suite fuzz.file_sd bash tests/fuzz/run_fuzzers.sh file_sd
  run_suite fuzz.dns_answer bash tests/fuzz/run_fuzzers.sh dns_answer
  run_suite fuzz.http_request bash tests/fuzz/run_fuzzers.sh http_request
  # docs/architecture.md names every room of the tree, and only rooms that exist.
  run_suite docs.architecture python3 tests/architecture_doc_check.py
  # ThreadSanitizer over the concurrent core: interned label sets, the store
  # with its dedup groups, scrape loops publishing while readers select, the
  # HTTP client's I/O thread running the scrape timers, the Kubernetes test
  # server's watch streams next to the writes that feed them, the discovery
  # manager and the Kubernetes informers, Kubernetes access reviews from many
  # request threads at once. (Left out: the gRPC and HTTP-server tests, as
  # Debian's gRPC is not instrumented, and the Kubernetes discovery test, whose
  # test API server's uninstrumented cpp-httplib hands work between its
  # threads where TSan cannot see it.)
  run_suite tsan bazel test --config=tsan --keep_going --test_output=errors \
    --jobs="${JOBS}" --local_test_jobs="${JOBS}" \
    //merge/... //scraper:scrape_manager_test //scraper:scrape_loop_test \
    //scraper:scrape_cache_test //scraper:scrape_scheduler_test //scraper:scrape_context_test \
    //scraper:http_client_test //scraper:worker_pool_test \
    //scraper:kubernetes_test_server_test //scraper:discovery_manager_test \
    //scraper:kubernetes_informer_test //scraper:file_discovery_test \
    //gateway:kubernetes_access_review_test
  # The 2-minute soak of a fedgate built with ThreadSanitizer, without its gRPC server (Debian's
  # gRPC is not instrumented), with 100 targets in the main job, as TSan is 5-15 times slower.
  run_suite soak_tsan python3 tests/soak/soak.py --duration 120s --tsan --targets 100
  # Every test again under AddressSanitizer + UBSan (.bazelrc --config=asan), in the same output
  # base (other configuration directory): one case here; the failing targets are in the log.
  # The build is clang-14's with -Wthread-safety: the ABSL_GUARDED_BY and lock annotations are
  # checked at compile time, as errors, in the same pass.
  run_suite asan_ubsan bazel test //... --config=asan --keep_going --test_output=errors \
    --jobs="${JOBS}" --local_test_jobs="${JOBS}"
}
# ================================================================================================

run_tests() {
  local work
  work="$(mktemp -d "${TMPDIR:-/tmp}/fedgate-ci.XXXXXX")"
  # shellcheck disable=SC2064  # expand now: work is local
  trap "rm -rf '${work}'" EXIT
  EXTRA_XML_DIR="${work}/extra"
  mkdir -p "${EXTRA_XML_DIR}"

  # Bazel's convenience link named after the checkout's folder (bazel-<folder>) points into the
  # output base; a second run's `//...` would descend into it and fail to load Bazel's own
  # packages there. Bazel recreates the link during the build.
  local workspace_link
  workspace_link="${REPO_ROOT}/bazel-$(basename "${REPO_ROOT}")"
  if [[ -L "${workspace_link}" ]]; then
    rm -f "${workspace_link}"
  fi

  # The test targets `bazel test //...` runs (manual ones are skipped by it, so here too). A
  # target without a result from this run counts as one failed case.
  local query_rc=0
  bazel query --noshow_progress \
    'tests(//...) except attr("tags", "\bmanual\b", //...)' >"${work}/targets" || query_rc=$?

  local bazel_rc=0
  bazel test //... \
    --keep_going \
    --test_output=errors \
    --jobs="${JOBS}" \
    --local_test_jobs="${JOBS}" \
    --build_event_json_file="${work}/bep.json" || bazel_rc=$?
  if ((query_rc != 0 && bazel_rc == 0)); then
    bazel_rc="${query_rc}"
  fi

  extra_suites

  python3 "${REPO_ROOT}/.ci/count_tests.py" \
    --targets "${work}/targets" \
    --bep "${work}/bep.json" \
    --testlogs "${REPO_ROOT}/bazel-testlogs" \
    --bazel-exit "${bazel_rc}" \
    --extra-xml-dir "${EXTRA_XML_DIR}"
}

main() {
  if (($# == 0)); then
    usage
    exit 2
  fi
  local mode="$1"
  shift
  case "${mode}" in
    demo)
      ensure_packages
      run_demo "$@"
      ;;
    test)
      if (($# != 0)); then
        usage
        exit 2
      fi
      ensure_packages
      run_tests
      ;;
    *)
      usage
      exit 2
      ;;
  esac
}

main "$@"
