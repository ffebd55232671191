"""Plumbing every stage shares: the one atomic write, the one file digest, and quieting native libraries.

Anything genrec saves goes through :func:`atomic_write`, so a crash or a full disk
never leaves a half-written file under its final name; content is identified by
:func:`file_digest`. C libraries that print on file descriptor 2 (libmpg123, LiteRT)
are caught by :func:`stderr_to_log`, so their notes do not land in the CLI's output.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
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


def file_digest(path: Path | str | bytes, algorithm: str = "sha256") -> str:
    """Hex digest of a file's content (streamed), or of a file's bytes held in memory (an upload).

    Both give the same digest for the same content, so an upload can be recognised as a saved file.
    pooch's ``file_hash`` (librosa's fetcher) hashes files: it asks hashlib for ``usedforsecurity=False``,
    so an MD5 checksum also verifies on FIPS-mode systems; bytes are hashed the same way.
    """
    if isinstance(path, bytes):
        return hashlib.new(algorithm, path, usedforsecurity=False).hexdigest()
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
