#!/usr/bin/env bash
# Creates the Python virtual environment used by the end-to-end tests in tests/python/.
# Idempotent: re-running upgrades boto3/awscli/pytest to the newest releases. awslambdaric is
# AWS's own runtime client, used as a `provided` bootstrap in the function tests; Pillow renders
# the images with known text that tests/python/test_examples.py reads back through OCR;
# prometheus-client parses `/metrics` with the Prometheus project's own text parser; ruff lints
# the Python tests and scripts (ruff.toml) in scripts/test.sh; the native API's OpenAPI document is
# checked with openapi-spec-validator, and a client generated from it by openapi-python-client
# runs against a live server (test_openapi.py).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo_root}/.venv"

if [[ ! -x "${venv}/bin/python" ]]; then
    echo "setup-python: creating ${venv}"
    python3 -m venv "${venv}"
fi

"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check -U pip
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check -U \
    boto3 awscli pytest pytest-timeout awslambdaric pillow prometheus-client ruff \
    openapi-spec-validator openapi-python-client requests

"${venv}/bin/python" - <<'PY'
import boto3, botocore, pytest
print(f"setup-python: boto3 {boto3.__version__}, botocore {botocore.__version__}, pytest {pytest.__version__}")
PY
"${venv}/bin/aws" --version
