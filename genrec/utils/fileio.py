"""Plumbing every stage shares: the one atomic write, the one output-path check, the one file digest and
checksum parser, and quieting native libraries.

Anything genrec saves goes through :func:`atomic_write` (a folder of files through
:func:`atomic_folder`), so a crash or a full disk never leaves a half-written file
under its final name; :func:`output_problem` says before any work whether a path
can be written at all; content is identified by
:func:`file_digest`. C libraries that print on file descriptor 2 (libmpg123, LiteRT)
are caught by :func:`stderr_to_log`, so their notes do not land in the CLI's output.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pooch

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


def output_problem(path: Path | str, *, folder: bool) -> str | None:
    """Why ``path`` cannot be written as a folder (``folder``) or a file, or None when it can; leaves nothing.

    Checked before any work, so a command does not train for a minute and then fail to save. Missing parents
    are fine (they are created); the nearest existing one must be a folder genrec may create files in, which is
    tried for real (an unnamed temp file), since permission bits do not tell for root or a read-only mount.
    """
    path = Path(path).expanduser()
    if os.path.lexists(path):
        if folder and not path.is_dir():
            return f"{path} is a file, not a folder" if path.is_file() else f"{path} is not a folder"
        if not folder and path.is_dir():
            return f"{path} is a folder, not a file"
    existing = path if folder and path.is_dir() else path.parent
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder, so {path} cannot be created"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return f"cannot create files in {existing} ({exc.strerror or exc}); choose a folder you can write to"
    return None


def file_digest(path: Path | str | bytes, algorithm: str = "sha256") -> str:
    """Hex digest of a file's content (streamed), or of a file's bytes held in memory (an upload).

    Both give the same digest for the same content, so an upload can be recognised as a saved file.
    pooch's ``file_hash`` (librosa's fetcher) hashes files: it asks hashlib for ``usedforsecurity=False``,
    so an MD5 checksum also verifies on FIPS-mode systems; bytes are hashed the same way.
    """
    if isinstance(path, bytes):
        return hashlib.new(algorithm, path, usedforsecurity=False).hexdigest()

    return pooch.file_hash(str(path), alg=algorithm)


def split_checksum(text: str, default_algorithm: str | None = None) -> tuple[str, str] | None:
    """``"ALGO:HEX"`` as lower-case ``(algo, hex)``; None when ``text`` is not of that form.

    With ``default_algorithm`` a bare ``HEX`` is also taken, as that algorithm's digest. Callers raise
    their own error (which names the setting the text came from) for None.
    """
    algorithm, sep, digest = text.strip().partition(":")
    if not sep:
        if default_algorithm is None:
            return None
        algorithm, digest = default_algorithm, algorithm
    algorithm, digest = algorithm.strip().lower(), digest.strip().lower()
    if not algorithm or not re.fullmatch(r"[0-9a-f]+", digest):
        return None
    return algorithm, digest


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
