"""Crash-safe writes: a file or a folder is written beside its place and renamed into it, so a
process killed at any moment leaves the old version or the new one, never half of either.
Used by ``checkpoints`` (folders) and ``runs`` (which must not delete a save in progress).

A folder ``NAME`` is replaced in two renames (``NAME`` -> ``.NAME.old``, temp -> ``NAME``);
``clean_leftovers`` undoes whatever a kill between them left. Temporary folders are named
``.NAME.tmp-PID-*`` so that ``is_stale_temp`` can tell a running save from a dead one.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

STALE_TEMP_SECONDS = 3600  # where process ids cannot be checked (Windows), temp folders older than this are leftovers


def old_path(out: Path) -> Path:
    """Where the previous checkpoint waits while a new one is renamed into place."""
    return out.parent / f".{out.name}.old"


def temp_pid(folder: Path) -> int | None:
    match = re.search(r"\.tmp-(\d+)-", folder.name)
    return int(match.group(1)) if match else None


def is_stale_temp(temp: Path) -> bool:
    """A temporary folder no running save is writing: its process is gone (or, on Windows, it is old)."""
    pid = temp_pid(temp)
    if sys.platform == "win32" or pid is None:  # os.kill(pid, 0) would terminate the process on Windows
        try:
            return time.time() - temp.stat().st_mtime > STALE_TEMP_SECONDS
        except OSError:
            return False
    if pid == os.getpid():
        return False  # another thread of this process may be saving right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def clean_leftovers(out: Path) -> None:
    """Undo what a save killed part-way left beside ``out``: put a previous checkpoint back if the
    kill came between the two renames, drop stale temporary folders."""
    old = old_path(out)
    if old.is_dir() and not old.is_symlink():
        if out.exists():
            shutil.rmtree(old)  # killed after the new folder was in place
        else:
            os.replace(old, out)  # killed between the renames: the previous checkpoint comes back
    for temp in out.parent.glob(f".{glob_escape(out.name)}.tmp-*"):
        if temp.is_dir() and not temp.is_symlink() and is_stale_temp(temp):
            shutil.rmtree(temp, ignore_errors=True)


def glob_escape(name: str) -> str:
    """``name`` with glob wildcards escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def write_file(path: Path, data: bytes) -> None:
    """Write and fsync ``data`` (Python I/O, so a full disk raises ``OSError(ENOSPC)``)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync_dir(folder: Path) -> None:
    """Make renames inside ``folder`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def swap_into_place(temp: Path, out: Path) -> None:
    """Rename the finished ``temp`` folder to ``out``, keeping the previous ``out`` until it is in place."""
    old = old_path(out)
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(temp, out)
    except OSError:
        if old.is_dir() and not out.exists():
            os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    fsync_dir(out.parent)


def replace_file(path: Path, text: str) -> None:
    """Rewrite one file atomically (temp file beside it, then rename)."""
    temp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        write_file(temp, text.encode())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
