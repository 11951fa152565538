#!/usr/bin/env bash
# Set up loyaltysim in ./.venv: finds a Python >= 3.12, creates the virtual environment, installs the package.
#   bash scripts/setup.sh          the package (run scenarios, comparisons, sweeps)
#   bash scripts/setup.sh --test   plus everything the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    for cand in python3.13 python3.12 python3; do
        for env in "" "PYENV_VERSION=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[2-9]' | tail -n1)"; do
            if out=$(env $env "$cand" -c 'import sys; print(sys.version_info >= (3, 12))' 2>/dev/null) \
                && [ "$out" = "True" ]; then
                echo "$env $cand"
                return 0
            fi
        done
    done
    return 1
}

if [ ! -x .venv/bin/python ]; then
    py=$(find_python) || { echo "setup: no Python >= 3.12 found (install python3.12)" >&2; exit 1; }
    echo "setup: creating .venv with $py" >&2
    env $py -m venv .venv
fi
extras=""
if [ "${1:-}" = "--test" ]; then
    extras="[test]"
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
if [ "${1:-}" = "--test" ] && [ -x scripts/setup-test-extras.sh ]; then
    bash scripts/setup-test-extras.sh
fi
echo "setup: ready (.venv/bin/loyaltysim)" >&2
