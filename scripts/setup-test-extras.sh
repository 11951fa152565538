#!/usr/bin/env bash
# What the teaching app's browser test needs beyond `pip install -e .[test]` (run by scripts/setup.sh --test):
#   - Chromium from the Debian packages (Playwright drives it; no browser download),
#   - the offline front-end assets of the Solara page, from the npm registry (python -m loyaltysim.teach.assets).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "setup-test-extras: installing chromium (Debian package)" >&2
        sudo_cmd=""
        if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
    else
        echo "setup-test-extras: /usr/bin/chromium missing and no apt-get; install Chromium by hand" >&2
        exit 1
    fi
fi
# the Python playwright package comes with the [test] extra; it launches /usr/bin/chromium, so no
# `playwright install` (no browser download)
.venv/bin/python -c "import playwright" 2>/dev/null \
    || .venv/bin/python -m pip install --quiet --disable-pip-version-check "playwright>=1.40"
.venv/bin/python -m loyaltysim.teach.assets
