#!/bin/sh
# gitprov-hook-shim v1: installed by 'gitprov init'; 'gitprov uninstall' removes it.
# It hands the @HOOK@ hook to gitprov's entry point, which first runs the hook that was
# here before (kept beside this file as @HOOK@.gitprov-legacy), arguments and stdin intact.
GITPROV_PYTHON=@PYTHON@
if [ -x "$GITPROV_PYTHON" ]; then
    # -c rather than -m: runpy's module lookup costs every hook ~6 ms for nothing.
    exec "$GITPROV_PYTHON" -c 'import sys; from gitprov.hookrun import main; sys.exit(main())' --shim "$0" @HOOK@ "$@"
fi
if command -v gitprov-hook >/dev/null 2>&1; then
    exec gitprov-hook --shim "$0" @HOOK@ "$@"
fi
echo "gitprov: the @HOOK@ hook cannot find gitprov (not at $GITPROV_PYTHON, no gitprov-hook on PATH). Reinstall gitprov and run 'gitprov init', or run 'gitprov uninstall'." >&2
exit 1
