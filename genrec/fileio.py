"""Plumbing every stage shares: the one atomic write and the one file digest.

Anything genrec saves goes through :func:`atomic_write`, so a crash or a full disk
never leaves a half-written file under its final name; content is identified by
:func:`file_digest`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
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


def file_digest(path: Path | str, algorithm: str = "sha256") -> str:
    """Hex digest of a file's content (streamed) with a hashlib algorithm name.

    pooch's ``file_hash`` (librosa's fetcher) does the hashing: it asks hashlib for
    ``usedforsecurity=False``, so an MD5 checksum also verifies on FIPS-mode systems.
    """
    import pooch

    return pooch.file_hash(str(path), alg=algorithm)
