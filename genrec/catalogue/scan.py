"""Find the audio files of a folder of any layout, with a genre and tags for each.

A file's genre is the nearest enclosing folder (the scanned folder's own name
included) whose name matches one of the run's genres, ignoring case and
punctuation (``Hip-Hop`` is ``hiphop``); otherwise ``unknown``. Title and artist
come from the file's tags where it has them: libsndfile (via soundfile) reads
WAV INFO chunks, FLAC/Ogg Vorbis comments and MP3 ID3 tags, so no tag library
is needed; files without a title get their file name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from genrec.audio import SUPPORTED_FORMATS
from genrec.cache import file_digest
from genrec.progress import ProgressFn, silent

UNKNOWN_GENRE = "unknown"


@dataclass(frozen=True)
class Entry:
    """One audio file found under a catalogue's root."""

    path: Path  # absolute
    track_id: str  # path relative to the root, with "/" separators
    genre: str
    title: str
    artist: str
    digest: str  # of the file's content: the key embeddings are reused by


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def genre_of(relative: Path, root_name: str, genres: Iterable[str]) -> str:
    """The genre named by the nearest enclosing folder of ``relative``, else ``unknown``."""
    by_name = {_squash(g): g for g in genres}
    for folder in [*reversed(relative.parent.parts), root_name]:
        if _squash(folder) in by_name:
            return by_name[_squash(folder)]
    return UNKNOWN_GENRE


def read_tags(path: Path) -> tuple[str, str]:
    """(title, artist) from the file's tags; empty strings where it has none or cannot be read."""
    import soundfile

    try:
        with soundfile.SoundFile(path) as f:
            tags = f.copy_metadata()
    except Exception:  # an undecodable file has no tags; decoding reports why it is bad
        return "", ""
    return str(tags.get("title", "")).strip(), str(tags.get("artist", "")).strip()


def _walk(root: Path) -> Iterable[Path]:
    """Every non-hidden file under ``root`` in a stable order; links are not followed into folders."""
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(here) / name


def scan(root: Path, genres: Iterable[str], progress: ProgressFn = silent) -> tuple[list[Entry], list[tuple[str, str]]]:
    """Audio files under ``root`` and the files left out with the reason (relative path, reason).

    Files of other types and links pointing outside ``root`` are left out; whether an
    audio file decodes is found out when it is embedded.
    """
    root = root.resolve()
    genres = list(genres)
    candidates, skipped = [], []
    for path in _walk(root):
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() not in SUPPORTED_FORMATS:
            skipped.append(
                (
                    rel,
                    f"not a supported audio type ({path.suffix or 'no extension'}); "
                    f"genrec reads {', '.join(SUPPORTED_FORMATS)}",
                )
            )
        elif path.is_symlink() and not path.resolve().is_relative_to(root):
            skipped.append((rel, "a link to a file outside the folder"))
        else:
            candidates.append((path, rel))
    entries = []
    for done, (path, rel) in enumerate(candidates, 1):
        try:
            digest = file_digest(path)
        except OSError as exc:
            skipped.append((rel, f"cannot be read ({exc.strerror or exc})"))
            continue
        title, artist = read_tags(path)
        entries.append(Entry(path, rel, genre_of(Path(rel), root.name, genres), title or path.stem, artist, digest))
        progress("reading files", done, len(candidates))
    return entries, skipped
