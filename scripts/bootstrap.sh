# Sourced by demo.sh and test.sh: create .venv and install gitprov into it.
# Usage: . scripts/bootstrap.sh EXTRAS   (e.g. "" or "dev")
# Reinstalls only when pyproject.toml changed since the last install.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

find_python() {
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "gitprov needs Python 3.11 or newer: install it (or set PYTHON=/path/to/python3.11)." >&2
    return 1
}

command -v git >/dev/null 2>&1 || { echo "gitprov needs git: install it first." >&2; exit 1; }

extras=${1:-}
venv="$repo/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python=$(find_python)
    echo "Creating $venv with $python" >&2
    "$python" -m venv "$venv" || {
        echo "Could not create a virtual environment: on Debian/Ubuntu install python3-venv." >&2
        exit 1
    }
fi

spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp="$venv/.gitprov-installed-$(echo "$extras" | tr -c 'a-z0-9' '_')"
want=$(cat pyproject.toml | "$venv/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing gitprov$( [ -n "$extras" ] && echo "[$extras]") into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec"
    echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
