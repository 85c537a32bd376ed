#!/usr/bin/env bash
# Set up .venv with the dev extras, then run every gate CI runs: lint, format, types, tests.
# Extra arguments go to pytest (e.g. ./scripts/test.sh -k hooks -x).
set -euo pipefail
. "$(dirname "$0")/bootstrap.sh" dev

echo "== ruff check" >&2
ruff check gitprov tests bench
echo "== ruff format --check" >&2
ruff format --check gitprov tests bench
echo "== mypy --strict gitprov" >&2
mypy --strict gitprov
echo "== pytest" >&2
python -m pytest -W error "$@"
