#!/usr/bin/env bash
# Set up .venv with the dev extras, then run every gate CI runs: lint, format, types, tests.
# Extra arguments go to pytest (e.g. ./scripts/test.sh -k hooks -x).
set -euo pipefail
. "$(dirname "$0")/bootstrap.sh" dev

# The report's browser tests (issue 11) need Debian's chromium and its driver; install them
# once when missing and we may (root, or sudo without a password). Otherwise those tests skip.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || { sudo -n true 2>/dev/null && sudo="sudo -n"; } || sudo="none"
    if [ "$sudo" != none ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing chromium and chromium-driver for the browser tests" >&2
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null \
            || echo "Could not install chromium: the browser tests will skip." >&2
    else
        echo "chromium is missing and cannot be installed here (not root, no sudo, or no apt-get): the browser tests will skip." >&2
    fi
fi

echo "== ruff check" >&2
ruff check gitprov tests bench
echo "== ruff format --check" >&2
ruff format --check gitprov tests bench
echo "== mypy --strict gitprov" >&2
mypy --strict gitprov
echo "== pytest" >&2
python -m pytest -W error --durations=15 "$@"
