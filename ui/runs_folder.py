"""The app's runs folder: runs trained in the app live under one root, kept under a size cap.
(App policy, so it lives with the app, not in the ``aigc_models`` package.)

``prune_runs`` deletes the oldest run folders directly under the root until the
total size is at most the cap (``$AIGC_RUNS_MAX_MB``, default 500 MB). It only
ever deletes checkpoint folders (a ``config.json`` inside) and the temporary
folders of saves whose process is gone, never follows a link out of the root,
never touches the run being written, and refuses a root that is, holds or
lies inside the shipped ``checkpoints/`` folder (or any other folder the caller
protects).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from aigc_models.atomic import is_stale_temp
from aigc_models.checkpoints import CONFIG_FILE, SHIPPED_DIR

DEFAULT_MAX_MB = 500.0
MB = 1_000_000


def max_runs_bytes() -> int:
    """The cap in bytes: ``$AIGC_RUNS_MAX_MB`` megabytes (a positive number), else 500 MB."""
    text = os.environ.get("AIGC_RUNS_MAX_MB", "").strip()
    if not text:
        return int(DEFAULT_MAX_MB * MB)
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = math.nan
    if not math.isfinite(megabytes) or megabytes <= 0:
        raise ValueError(f"AIGC_RUNS_MAX_MB must be a positive number of megabytes (e.g. 500), got {text!r}.")
    return int(megabytes * MB)


def folder_bytes(path: Path) -> int:
    """Total size of the regular files under ``path`` (links are neither followed nor counted)."""
    total = 0
    for folder, _, files in os.walk(path, followlinks=False):
        for name in files:
            try:
                st = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            if not os.path.islink(os.path.join(folder, name)):
                total += st.st_size
    return total


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def _age_key(folder: Path) -> float:
    """When a run was last saved: its config.json's time (rewritten by every save), else the folder's."""
    config = folder / CONFIG_FILE
    try:
        return (config if config.is_file() else folder).stat().st_mtime
    except OSError:
        return 0.0


def _prunable(child: Path) -> bool:
    """A run folder, or a temporary folder left by a save that is no longer running."""
    if child.name.startswith(".") and ".tmp-" in child.name:
        return is_stale_temp(child)
    return (child / CONFIG_FILE).is_file()


def prune_runs(
    root: str | os.PathLike,
    *,
    max_bytes: int | None = None,
    keep: Iterable[str | os.PathLike] = (),
    protected: Iterable[str | os.PathLike] = (),
) -> list[Path]:
    """Delete the oldest runs directly under ``root`` until it holds at most ``max_bytes``
    (default ``max_runs_bytes()``); return the folders deleted, oldest first.

    ``keep``: folders never deleted (the run about to be written). ``protected``: folders the
    root must not be, hold or lie in (the shipped checkpoints folder always is). Files and
    folders that are not runs count toward the total but are never deleted.
    """
    base = Path(root)
    limit = max_runs_bytes() if max_bytes is None else max_bytes
    if limit < 0:
        raise ValueError(f"max_bytes must be at least 0, got {limit}.")
    if not base.is_dir():
        return []
    real = base.resolve()
    for guarded in (SHIPPED_DIR, *protected):
        if _overlaps(real, Path(guarded).resolve()):
            raise ValueError(f"Refusing to prune {base}: it overlaps the checkpoints folder {guarded}, "
                             "whose models are never deleted. Point AIGC_RUNS_DIR at a folder of its own.")
    kept = {Path(k).resolve() for k in keep}
    total, candidates = 0, []
    for child in base.iterdir():
        if child.is_symlink():
            continue  # never followed, never deleted
        if child.is_dir():
            size = folder_bytes(child)
            if child.resolve() not in kept and _prunable(child):
                candidates.append((_age_key(child), child.name, child, size))
        else:
            size = child.stat().st_size
        total += size
    removed = []
    for _, _, child, size in sorted(candidates):
        if total <= limit:
            break
        shutil.rmtree(child, ignore_errors=True)
        if not child.exists():
            total -= size
            removed.append(child)
    return removed


__all__ = ["prune_runs", "max_runs_bytes", "folder_bytes", "DEFAULT_MAX_MB"]
