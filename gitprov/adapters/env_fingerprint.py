"""Cheap facts for the environment cache key: file stat tokens and machine marks.

A full probe spawns the interpreter and nvidia-smi; these stats and small reads tell
the caller whether anything a probe would see can have changed since the last one
(a distribution installed, an interpreter replaced, a reboot, a new driver).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gitprov.adapters.gpu_probe import find_nvidia_smi
from gitprov.adapters.host_probe import read_small

NVIDIA_PROC_VERSION = Path("/proc/driver/nvidia/version")
_METADATA_SUFFIXES = (".dist-info", ".egg-info", ".egg", ".egg-link", ".pth")
_STARTUP_HOOKS = ("sitecustomize.py", "usercustomize.py")  # may edit sys.path at startup
# The file inside a metadata folder that holds Name and Version ("" : the entry itself).
_METADATA_FILES = {"dist-info": "METADATA", "egg-info": "PKG-INFO"}


def stat_token(path: str) -> tuple[int, int, int, int] | None:
    """``(mtime_ns, ctime_ns, inode, size)`` of ``path`` (symlinks followed); None if absent.

    ctime cannot be set by tools that restore mtimes (tar, rsync -t, cp -p), so a file
    unpacked with old timestamps still changes the token.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _token(st)


def _token(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)


def search_path_token(path: str) -> tuple[object, int]:
    """What a ``sys.path`` entry holds that can change the package list, and its newest
    mtime/ctime (for the caller's racy-change check).

    For a directory, the name and the metadata file's ``stat_token`` of every entry
    ``importlib.metadata`` or ``site`` reads (``*.dist-info/METADATA``,
    ``*.egg-info/PKG-INFO``, ``*.egg``, ``*.egg-link``, ``*.pth``, and the
    ``sitecustomize.py``/``usercustomize.py`` that may extend ``sys.path``): installing,
    upgrading or removing a distribution changes it, while other files appearing in
    the directory (run outputs in a project top that an editable install put on
    ``sys.path``) do not. For a file (a zip), its own token; None when absent.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None, 0
    if not stat.S_ISDIR(st.st_mode):
        return ["file", *_token(st)], max(st.st_mtime_ns, st.st_ctime_ns)
    entries: list[tuple[str, tuple[int, int, int, int] | None]] = []
    try:
        with os.scandir(path) as scan:
            for entry in scan:
                lower = entry.name.lower()
                if lower.endswith(_METADATA_SUFFIXES) or lower in _STARTUP_HOOKS:
                    inner = _METADATA_FILES.get(lower.rpartition(".")[2])
                    target = os.path.join(entry.path, inner) if inner and entry.is_dir() else None
                    entries.append((entry.name, stat_token(target or entry.path)))
    except OSError:
        return ["unreadable", *_token(st)], max(st.st_mtime_ns, st.st_ctime_ns)
    entries.sort()
    newest = max((max(t[0], t[1]) for _, t in entries if t is not None), default=0)
    return ["dir", entries], newest


def machine_marks() -> dict[str, object]:
    """What identifies this machine and boot, cheaply: host, kernel, boot ID, driver.

    A reboot (new kernel, new hardware), another host sharing the repository over NFS,
    an OS upgrade or a new NVIDIA driver each change one of these.
    """
    nvidia_smi = find_nvidia_smi()
    return {
        "uname": list(os.uname()),
        "boot_id": read_small(Path("/proc/sys/kernel/random/boot_id")),
        "os_release": stat_token("/etc/os-release"),
        "nvidia_smi": [nvidia_smi, stat_token(nvidia_smi) if nvidia_smi else None],
        # Content, not mtime: procfs invents inode times when it instantiates them.
        "nvidia_driver": read_small(NVIDIA_PROC_VERSION),
    }
