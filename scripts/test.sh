#!/usr/bin/env bash
# The full test suite: the gates (rustfmt, clippy with warnings denied, ruff on the Python), then
# Rust unit and end-to-end tests (aws-sdk-s3, -lambda, -sqs, -sns against the real binary), then the
# Python end-to-end tests (boto3, the aws CLI, crash recovery) against the same binary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Gates first: they fail in seconds, before any test runs.
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

scripts/setup-system.sh
scripts/setup-python.sh
scripts/setup-browser.sh

.venv/bin/ruff check tests/python scripts

# One debug build serves every test: the Rust e2e tests and the Python tests drive this binary,
# and the Rust e2e tests deploy the `bootstrap` built beside it as a `provided` function.
cargo build --locked -p stratus-cli -p stratus-rust-bootstrap

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi

# Where Chromium and playwright-core are installed, the console's browser test must run, not skip.
if [[ -x /usr/bin/chromium && -d tests/browser/node_modules/playwright-core ]]; then
    export CONSOLE_BROWSER_REQUIRED=1
fi
STRATUS_BIN="$PWD/target/debug/stratus" .venv/bin/pytest tests/python -q
