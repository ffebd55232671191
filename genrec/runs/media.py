"""Which files may be read and shown: the one gate between a run's or a catalogue's ``tracks.csv`` and the page.

Run folders and catalogues can come from anywhere, and their ``tracks.csv`` name
arbitrary paths. The app serves what it plays and shows (``st.audio``/``st.image``
put the file under ``/media``), so a path is used only when, with every symlink
resolved, it is a regular file under the root the run or catalogue records (never
``/``; see :func:`library_roots`) or a root listed in ``GENREC_AUDIO_ROOTS``, has
an audio (or, for spectrogram-picture libraries, an image) extension, and starts
with that format's header. Anything else is "not available" and is never opened
for the page.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from genrec.audio.decode import HEADER_BYTES, SUPPORTED_FORMATS, sniff_format

#: Extra folders (separated by the OS path separator) whose files may be served as library media.
ROOTS_ENV = "GENREC_AUDIO_ROOTS"
#: Picture formats of image-only libraries (Kaggle's ``images_original``), with their file signatures.
IMAGE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}


def configured_roots() -> list[Path]:
    """The folders named in ``GENREC_AUDIO_ROOTS`` (resolved; empty entries ignored)."""
    return [Path(p).expanduser().resolve() for p in os.environ.get(ROOTS_ENV, "").split(os.pathsep) if p.strip()]


def library_roots(recorded: str | None) -> list[Path]:
    """The root a run or catalogue records (when absolute and not the filesystem root) plus the configured roots.

    This is the rule for both: a catalogue's ``root`` passes through here exactly as a run's library root.
    """
    roots = configured_roots()
    if recorded and Path(recorded).is_absolute():
        try:
            root = Path(recorded).resolve()
        except (OSError, ValueError):  # a loop of links, or a name with a NUL byte
            return roots
        # A folder saying its files lie under "/" (or "//", "/tmp/..") would open the whole disk; such a one
        # needs GENREC_AUDIO_ROOTS. The filesystem root is the one folder that is its own parent.
        if root.parent != root:
            roots.insert(0, root)
    return roots


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def _header_matches(path: Path, suffix: str) -> bool:
    with open(path, "rb") as f:
        head = f.read(max(HEADER_BYTES, 8))
    if suffix in IMAGE_SIGNATURES:
        return head.startswith(IMAGE_SIGNATURES[suffix])
    return sniff_format(head) is not None


def vetted_path(path: str | os.PathLike | None, roots: Sequence[Path], kind: str = "audio") -> Path | None:
    """``path`` resolved, when it may be read and shown as library media (see the module doc), else None.

    ``kind`` "audio" accepts audio files; "image" (a spectrogram-picture library) also accepts PNG/JPEG.
    """
    if not path or not roots:
        return None
    allowed = set(SUPPORTED_FORMATS) | (set(IMAGE_SIGNATURES) if kind == "image" else set())
    try:
        real = Path(os.path.realpath(path))
        info = os.stat(real)
        if not (stat.S_ISREG(info.st_mode) and real.suffix.lower() in allowed and _inside(real, roots)):
            return None
        return real if _header_matches(real, real.suffix.lower()) else None
    except (OSError, ValueError):  # unreadable, a loop of links, or a name with a NUL byte
        return None
