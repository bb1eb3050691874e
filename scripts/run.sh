#!/usr/bin/env bash
# Builds Stratus, starts the server on 127.0.0.1:4566 with its data in ./.stratus, and seeds a
# usable example: a bucket `demo` holding this README, uploaded with the aws CLI, the function
# `hello` (examples/functions/hello), invoked once, and `stratus demo`: the AI examples (RapidOCR,
# Magika, a thumbnail -> OCR pipeline) deployed as bucket triggers on s3://demo, fed sample files,
# their results printed. The first demo installs the models' packages from PyPI (a minute or
# two); STRATUS_DEMO=0 skips it. Ctrl-C stops the server. scripts/setup-system.sh installs the
# sandbox's system packages (bubblewrap, passt, nftables) when they are missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

data_dir="${STRATUS_DATA_DIR:-.stratus}"
listen="${STRATUS_LISTEN:-127.0.0.1:4566}"

scripts/setup-system.sh
cargo build --release --locked -p stratus-cli
scripts/setup-python.sh >/dev/null

rm -f "${data_dir}/server.json"
# Functions run on the venv's Python, which has boto3 (as Lambda's base environment does).
STRATUS_PYTHON="${STRATUS_PYTHON:-$PWD/.venv/bin/python}" \
    target/release/stratus server --data-dir "${data_dir}" --listen "${listen}" &
server_pid=$!
trap 'kill -TERM "${server_pid}" 2>/dev/null; wait "${server_pid}"' INT TERM

for _ in $(seq 1 100); do
    [[ -f "${data_dir}/server.json" ]] && break
    sleep 0.1
done
eval "$(target/release/stratus env --data-dir "${data_dir}")"
.venv/bin/aws s3 mb s3://demo >/dev/null 2>&1 || true
.venv/bin/aws s3 cp README.md s3://demo/README.md >/dev/null
target/release/stratus deploy examples/functions/hello
target/release/stratus invoke hello --payload '{"name": "Stratus"}' 2>/dev/null || true
if [[ "${STRATUS_DEMO:-1}" != "0" ]]; then
    target/release/stratus demo || echo "stratus demo failed (is PyPI reachable?); the server keeps running"
fi
echo
echo "example: s3://demo/README.md is stored. In another shell:"
echo "  eval \"\$(target/release/stratus env --data-dir ${data_dir})\""
echo "  .venv/bin/aws s3 ls s3://demo/"
echo "  .venv/bin/python -c 'import boto3; print(boto3.client(\"s3\").list_buckets()[\"Buckets\"])'"
echo "  target/release/stratus invoke hello --payload '{\"name\": \"you\"}'"
echo "  curl '${AWS_ENDPOINT_URL}/fn/hello/?name=curl'"
echo "  .venv/bin/aws s3 cp examples/samples/scan.png s3://demo/scans/mine.png   # OCR text lands in s3://demo/text/"
echo "  .venv/bin/aws lambda list-functions"
echo "  .venv/bin/aws logs filter-log-events --log-group-name /aws/lambda/hello"
echo "  target/release/stratus cost"
echo "web console: ${AWS_ENDPOINT_URL}/ (sign in with the key in ${data_dir}/credentials)"
wait "${server_pid}"
