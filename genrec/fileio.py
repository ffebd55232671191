"""Plumbing every stage shares: the one atomic write, the one file digest, and quieting native libraries.

Anything genrec saves goes through :func:`atomic_write` (a folder of files through
:func:`atomic_folder`), so a crash or a full disk never leaves a half-written file
under its final name; content is identified by
:func:`file_digest`. C libraries that print on file descriptor 2 (libmpg123, LiteRT)
are caught by :func:`stderr_to_log`, so their notes do not land in the CLI's output.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

#: Mode of saved files: readable by a server running as another user (mkstemp's own 0600 would hide them).
FILE_MODE = 0o644


def atomic_write(target: Path | str, content: bytes | str | Callable[[BinaryIO], None]) -> Path:
    """Write ``content`` to ``target`` through a temp file in the same folder, then rename; return ``target``.

    ``content`` is bytes, text (UTF-8), or a function that writes into the open binary file (e.g.
    ``lambda f: np.save(f, array)``). The temp file is removed when anything fails; the folder is created.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so os.replace is a rename within one filesystem, never a copy.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".tmp-{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            if callable(content):
                content(out)
            else:
                out.write(content.encode("utf-8") if isinstance(content, str) else content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_folder(target: Path | str, fill: Callable[[Path], None]) -> Path:
    """Write a folder's files with ``fill(tmp)`` into a temporary folder beside ``target``, then rename it there.

    A folder cannot be replaced in one rename, so an existing ``target`` is moved aside first and removed once
    the new one is in place; when anything fails, the temporary folder is removed and the old one stays.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    old = target.parent / f".old-{target.name}-{uuid.uuid4().hex[:8]}"
    try:
        fill(tmp)
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide it from a server running as another user
        if target.exists():
            target.rename(old)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return target


def file_digest(path: Path | str, algorithm: str = "sha256") -> str:
    """Hex digest of a file's content (streamed) with a hashlib algorithm name.

    pooch's ``file_hash`` (librosa's fetcher) does the hashing: it asks hashlib for
    ``usedforsecurity=False``, so an MD5 checksum also verifies on FIPS-mode systems.
    """
    import pooch

    return pooch.file_hash(str(path), alg=algorithm)


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def stderr_to_log(logger: logging.Logger, what: str) -> Iterator[None]:
    """Catch what C code prints on file descriptor 2 meanwhile and send it to ``logger`` at debug level.

    ``what`` names the source in the log line. Python's ``sys.stderr`` redirection cannot see these writes,
    so descriptor 2 itself is swapped; the swap is process-wide, hence the lock.
    """
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode(errors="replace").strip()
            if text:
                logger.debug("%s messages: %s", what, text)
