"""Removing hidden work folders that a killed process left behind.

Runs are written into ``.tmp-*`` folders and archives extracted into
``.<name>.extracting-*`` folders, then renamed; a process killed in between
(SIGKILL, power loss) leaves them. Only folders untouched for longer than any
such work takes (:data:`STALE_WORK_SECONDS`) are removed, so
one still being written by another process is never touched.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

log = logging.getLogger(__name__)


def _last_change(folder: Path) -> float:
    """The newest modification time of a folder and anything in it."""
    newest = folder.lstat().st_mtime
    for entry in folder.rglob("*"):
        try:
            newest = max(newest, entry.lstat().st_mtime)
        except OSError:  # removed meanwhile
            continue
    return newest


#: Age after which a hidden work folder (a run being written, an archive being extracted) is surely abandoned:
#: far longer than writing a run or extracting GTZAN takes, so only leftovers of killed processes are removed.
STALE_WORK_SECONDS = 6 * 3600


def remove_stale(parent: Path, pattern: str, max_age: float = STALE_WORK_SECONDS) -> list[Path]:
    """Delete folders in ``parent`` matching ``pattern`` unchanged for ``max_age`` seconds; return them.

    Each removal is logged as a warning, naming the folder and its age.
    """
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    now = time.time()
    for folder in sorted(parent.glob(pattern)):
        try:
            if folder.is_symlink() or not folder.is_dir():
                continue
            age = now - _last_change(folder)
        except OSError:
            continue
        if age < max_age:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            log.warning("removed %s, left by an interrupted process %.1f hours ago", folder, age / 3600)
            removed.append(folder)
    return removed
