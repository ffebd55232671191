"""Find the audio files of a folder of any layout, with a genre and tags for each.

A file's genre is the nearest enclosing folder (the scanned folder's own name
included) whose name matches one of the run's genres, ignoring case and
punctuation (``Hip-Hop`` is ``hiphop``); otherwise ``unknown``. Title and artist
come from the file's tags where it has them: libsndfile (via soundfile) reads
WAV INFO chunks, FLAC/Ogg Vorbis comments and MP3 ID3 tags, so no tag library
is needed; files without a title get their file name.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import soundfile

from genrec.audio.cache import file_digest
from genrec.audio.decode import SUPPORTED_FORMATS
from genrec.data.library import not_a_file
from genrec.utils.progress import ProgressFn, silent

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

    try:
        with soundfile.SoundFile(path) as f:
            tags = f.copy_metadata()
    except Exception:  # an undecodable file has no tags; decoding reports why it is bad
        return "", ""
    return str(tags.get("title", "")).strip(), str(tags.get("artist", "")).strip()


def _walk(root: Path, skipped: list[tuple[str, str]]) -> Iterator[Path]:
    """Every non-hidden file under ``root``, a folder's files before its subfolders, each sorted by name.

    Folders are opened relative to their parent's handle, so files nested deeper than the system's path
    limit are found too (and then skipped with that reason) instead of vanishing. A folder that cannot be
    listed and a link to a folder (never followed) go into ``skipped`` with the reason.
    """

    def visit(fd: int, here: Path) -> Iterator[Path]:
        with os.scandir(fd) as it:
            entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        folders = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.name)
            elif entry.is_symlink() and entry.is_dir():
                skipped.append(((here / entry.name).relative_to(root).as_posix(), "a link to a folder (not followed)"))
            else:
                yield here / entry.name
        for name in folders:
            try:
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            except OSError as exc:
                skipped.append(((here / name).relative_to(root).as_posix() + "/", _cannot_read(here / name, exc)))
                continue
            try:
                yield from visit(sub, here / name)
            except OSError as exc:  # opened but not listable
                skipped.append(((here / name).relative_to(root).as_posix() + "/", _cannot_read(here / name, exc)))
            finally:
                os.close(sub)

    top = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield from visit(top, root)
    finally:
        os.close(top)


def _cannot_read(path: Path, exc: OSError) -> str:
    """The skip reason for a file or folder the system refused to open."""
    if exc.errno == errno.ENAMETOOLONG:
        return (
            f"its path is {len(str(path))} characters long, more than this system can open; move it to a shorter path"
        )
    return f"cannot be read ({exc.strerror or exc})"


def scan(root: Path, genres: Iterable[str], progress: ProgressFn = silent) -> tuple[list[Entry], list[tuple[str, str]]]:
    """Audio files under ``root`` and the files left out with the reason (relative path, reason).

    Every file found is one or the other. Files of other types, links pointing outside ``root``, and
    anything that is not a regular file (a FIFO, which would block the scan forever, a device) are left
    out without being opened (:func:`genrec.data.library.not_a_file`, the rule library scans use); whether an
    audio file decodes is found out when it is embedded.
    """
    root = root.resolve()
    genres = list(genres)
    candidates: list[tuple[Path, str]] = []
    skipped: list[tuple[str, str]] = []
    for path in _walk(root, skipped):
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() not in SUPPORTED_FORMATS:
            skipped.append(
                (
                    rel,
                    f"not a supported audio type ({path.suffix or 'no extension'}); "
                    f"genrec reads {', '.join(SUPPORTED_FORMATS)}",
                )
            )
            continue
        try:
            os.lstat(path)  # a path the system cannot open is named as such, not as "not a regular file"
            reason = not_a_file(path, root)
        except OSError as exc:
            reason = _cannot_read(path, exc)
        if reason:
            skipped.append((rel, reason))
        else:
            candidates.append((path, rel))
    entries = []
    for done, (path, rel) in enumerate(candidates, 1):
        try:
            digest = file_digest(path)
        except OSError as exc:
            skipped.append((rel, _cannot_read(path, exc)))
            continue
        title, artist = read_tags(path)
        entries.append(Entry(path, rel, genre_of(Path(rel), root.name, genres), title or path.stem, artist, digest))
        progress("reading files", done, len(candidates))
    return entries, skipped
