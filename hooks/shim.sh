#!/bin/sh
# gitprov-hook-shim v1: installed by 'gitprov init'; 'gitprov uninstall' removes it.
# It hands the @HOOK@ hook to gitprov's entry point, which first runs the hook that was
# here before (kept beside this file as @HOOK@.gitprov-legacy), arguments and stdin intact.
GITPROV_PYTHON=@PYTHON@
if [ -x "$GITPROV_PYTHON" ]; then
    exec "$GITPROV_PYTHON" -m gitprov.hookrun --shim "$0" @HOOK@ "$@"
fi
if command -v gitprov-hook >/dev/null 2>&1; then
    exec gitprov-hook --shim "$0" @HOOK@ "$@"
fi
echo "gitprov: the @HOOK@ hook cannot find gitprov (not at $GITPROV_PYTHON, no gitprov-hook on PATH). Reinstall gitprov and run 'gitprov init', or run 'gitprov uninstall'." >&2
exit 1
