#!/usr/bin/env bash
# Installs what the console's browser tests (tests/python/test_console_browser.py) need:
# playwright-core from npm, exactly as tests/browser/package-lock.json pins it. It never
# downloads a browser (no `npx playwright install`): the tests drive Debian's chromium
# (/usr/bin/chromium), which .ci/run installs with apt-get.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../tests/browser"

if ! command -v npm >/dev/null 2>&1; then
    echo "setup-browser: npm not found; the console browser test will be skipped" >&2
    exit 0
fi
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent
