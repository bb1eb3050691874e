#!/usr/bin/env bash
# Runs the public ceph/s3-tests conformance suite (tests/s3-tests/, vendored unchanged) against a
# fresh Stratus server and compares the passes with tests/s3-tests/expected-pass.txt.
#
#   scripts/s3-tests.sh            run, print passed/total per feature group; exit 1 if a test the
#                                  list names did not pass (tests that newly pass are printed)
#   scripts/s3-tests.sh --update   run and rewrite the list from this run's passes
#   scripts/s3-tests.sh -- ARGS    extra pytest arguments (e.g. -k test_bucket_list_empty)
#
# The server is $STRATUS_BIN (default target/debug/stratus) on 127.0.0.1, port 0 (the server picks
# a free one and writes it to server.json), on a temporary data dir; it is stopped on every exit.
# The Python is $VENV (default .venv, made by scripts/setup-python.sh). S3TESTS_JUNIT=FILE keeps
# pytest's JUnit XML (every test's outcome and error message); S3TESTS_TIMEOUT is the per-test limit.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
suite="${repo}/tests/s3-tests"
expected="${suite}/expected-pass.txt"
stratus_bin="${STRATUS_BIN:-${repo}/target/debug/stratus}"
venv="${VENV:-${repo}/.venv}"
python="${venv}/bin/python"
# A test that hangs (a server that never answers) is failed after this many seconds.
per_test_timeout="${S3TESTS_TIMEOUT:-60}"

# The selection, in one place. The issue's yardstick is "the tests of s3tests/functional/test_s3.py
# that do not need IAM, STS, KMS, S3 Select, bucket logging or cloud transition" (344 at its
# upstream commit; 343 at the vendored one). Excluded, because Stratus does not offer it by design
# or it needs another service:
#   encryption, bucket_encryption, sse_s3     SSE-C / SSE-KMS / SSE-S3 and bucket encryption (KMS)
#   bucket_logging, bucket_logging_cleanup    server access logging
#   s3select                                  S3 Select
#   iam_user, iam_account                     IAM and STS (the suite's IAM clients)
#   cloud_transition, cloud_restore           transition to and restore from a cloud tier
#   fails_on_aws                              tests of RGW extensions that AWS itself fails
# RGW's `fails_on_dbstore` tests stay in: excluding them would give the issue's count (343), but
# also drop most versioning, Object Lock and multipart tests, which are exactly what must not
# regress. The selection is 484 tests.
markers="not encryption and not bucket_encryption and not sse_s3"
markers+=" and not bucket_logging and not bucket_logging_cleanup and not s3select"
markers+=" and not iam_user and not iam_account and not cloud_transition and not cloud_restore"
markers+=" and not fails_on_aws"

update=0
pytest_extra=()
while (($#)); do
    case "$1" in
        --update) update=1 ;;
        --) shift; pytest_extra=("$@"); break ;;
        -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "s3-tests: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if ((update)) && ((${#pytest_extra[@]})); then
    echo "s3-tests: --update rewrites the list from a full run; it takes no pytest arguments" >&2
    exit 2
fi
if [[ ! -x "${stratus_bin}" ]]; then
    echo "s3-tests: no stratus binary at ${stratus_bin} (build it or set STRATUS_BIN)" >&2
    exit 2
fi
if [[ ! -x "${python}" ]]; then
    echo "s3-tests: no Python at ${python} (run scripts/setup-python.sh or set VENV)" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/stratus-s3tests.XXXXXX")"
server_pid=""
pytest_pid=""
stop_server() {
    if [[ -n "${server_pid}" ]] && kill -0 "${server_pid}" 2>/dev/null; then
        kill -TERM "${server_pid}" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "${server_pid}" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "${server_pid}" 2>/dev/null || true
        wait "${server_pid}" 2>/dev/null || true
    fi
    server_pid=""
}
cleanup() {
    local rc=$?
    if [[ -n "${pytest_pid}" ]]; then
        kill -TERM "${pytest_pid}" 2>/dev/null || true
        wait "${pytest_pid}" 2>/dev/null || true
    fi
    stop_server
    if ((rc != 0)) && [[ -s "${work}/server.log" ]]; then
        echo "--- s3-tests: last lines of the stratus server log ---" >&2
        grep -v "secret access key" "${work}/server.log" | tail -n 40 >&2 || true
    fi
    rm -rf "${work}"
    exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# No AWS settings of the caller's (profile, region, proxy) may reach the server or the suite.
while IFS= read -r name; do unset "${name}"; done < <(compgen -e | grep -E '^(AWS_|https?_proxy$|HTTPS?_PROXY$)' || true)
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export AWS_DEFAULT_REGION=us-east-1 NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# Lifecycle tests wait a few lifecycle "days": one lasts lc_day seconds here (the test knob
# --lifecycle-day-seconds, RGW's rgw_lc_debug_interval), and rules are applied every second.
lc_day=2
mkdir -p "${work}/data"
"${stratus_bin}" server --data-dir "${work}/data" --listen 127.0.0.1:0 \
    --lifecycle-day-seconds "${lc_day}" --lifecycle-interval 1s \
    >"${work}/server.log" 2>&1 </dev/null &
server_pid=$!

# Ready when server.json names the endpoint and /v1/health answers (as tests/python/conftest.py waits).
endpoint=""
for _ in $(seq 1 600); do
    if ! kill -0 "${server_pid}" 2>/dev/null; then
        echo "s3-tests: the stratus server exited during startup" >&2
        exit 1
    fi
    if [[ -s "${work}/data/server.json" ]]; then
        endpoint="$("${python}" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("endpoint",""))' \
            "${work}/data/server.json" 2>/dev/null || true)"
        if [[ -n "${endpoint}" ]] && "${python}" -c 'import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=2)' \
            "${endpoint}/v1/health" 2>/dev/null; then
            break
        fi
        endpoint=""
    fi
    sleep 0.1
done
if [[ -z "${endpoint}" ]]; then
    echo "s3-tests: the stratus server was not ready after 60 s" >&2
    exit 1
fi

"${python}" "${repo}/scripts/s3_tests.py" config --stratus-bin "${stratus_bin}" --data-dir "${work}/data" \
    --out "${work}/s3tests.conf" --lc-day-seconds "${lc_day}"
echo "s3-tests: ${stratus_bin} at ${endpoint}; pytest on tests/s3-tests/s3tests/functional/test_s3.py"

# --tb=no: a run has ~150 expected failures; the report below names the ones that matter (the
# listed tests that did not pass) with their messages, and the JUnit XML has the rest.
# pytest runs in the background and the script waits for it: `wait` returns on a signal at once,
# so a TERM from scripts/test.sh reaches the cleanup (which stops pytest and the server) without
# waiting for the suite to finish.
(
    cd "${suite}"
    S3TEST_CONF="${work}/s3tests.conf" exec "${python}" -m pytest s3tests/functional/test_s3.py \
        -c pytest.ini --rootdir . -p no:cacheprovider -q --tb=no -rN --no-header \
        --timeout "${per_test_timeout}" -m "${markers}" --junitxml "${work}/junit.xml" \
        ${pytest_extra[@]+"${pytest_extra[@]}"}
) &
pytest_pid=$!
pytest_rc=0
wait "${pytest_pid}" || pytest_rc=$?
pytest_pid=""
# 0: all passed, 1: some failed; anything else (2 interrupted, 3 internal error, 4 usage,
# 5 nothing collected) means the run itself broke.
if ((pytest_rc > 1)) || [[ ! -s "${work}/junit.xml" ]]; then
    echo "s3-tests: pytest did not complete (exit ${pytest_rc})" >&2
    exit 1
fi
stop_server
if [[ -n "${S3TESTS_JUNIT:-}" ]]; then
    cp "${work}/junit.xml" "${S3TESTS_JUNIT}"
fi

report_args=(report --junit "${work}/junit.xml" --expected "${expected}")
if ((update)); then
    report_args+=(--update)
fi
# With extra pytest arguments only part of the selection ran: compare only the tests that ran.
if ((${#pytest_extra[@]})); then
    report_args+=(--subset)
fi
"${python}" "${repo}/scripts/s3_tests.py" "${report_args[@]}"
