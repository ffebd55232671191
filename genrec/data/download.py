"""Resumable, checksum-verified downloads and safe archive extraction.

``download_file`` streams a URL into ``<dest>.part`` (resuming with an HTTP
``Range`` request when a partial file exists), verifies the finished file and
only then renames it to ``dest``.  ``extract_archive`` unpacks tar/zip
archives after refusing any member that could write outside the target, into
a temporary sibling folder that is moved into place only when complete.
``download_gtzan`` combines the two for the GTZAN genre collection.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TypeVar

import requests
from tqdm.auto import tqdm

import genrec.utils.fileio as fileio
from genrec.errors import DownloadError
from genrec.utils.leftovers import remove_stale
from genrec.utils.progress import ProgressFn

T = TypeVar("T")

#: The classic GTZAN location (the University of Victoria server; often down).
GTZAN_URL = "http://opihi.cs.uvic.ca/sound/genres.tar.gz"
#: MD5 of ``genres.tar.gz`` from GTZAN_URL, as used by mirdata and older torchaudio
#: releases (``hash_type="md5"``).
GTZAN_MD5 = "5b3d6dddb579ab49814ab86dba69e7c7"
#: SHA-256 of the same file, as used by current torchaudio (``_CHECKSUMS``).
GTZAN_SHA256 = "24347e0223d2ba798e0a558c4c172d9d4a19c00bb7963fe055d183dadb4ef2c6"
#: A mirror on the Hugging Face Hub (dataset ``marsyas/gtzan``).
GTZAN_MIRROR_URL = "https://huggingface.co/datasets/marsyas/gtzan/resolve/main/data/genres.tar.gz"
#: SHA-256 of the mirror's file (its Git LFS object id).  It differs from
#: GTZAN_SHA256, so the mirror's bytes are not identical to the original's.
GTZAN_MIRROR_SHA256 = "b28cc067ff6199bd826f5d1a6931458586d64acae7f44b2e882b7a97af057531"
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


# --------------------------------------------------------------------------- hashing


def _new_hash(algorithm: str) -> hashlib._Hash:
    try:
        return hashlib.new(algorithm, usedforsecurity=False)
    except (ValueError, TypeError) as exc:
        raise DownloadError(
            f"Unknown checksum algorithm {algorithm!r}; use one of {', '.join(sorted(hashlib.algorithms_guaranteed))}."
        ) from exc


def _check_checksum_shape(checksum: str | None, algorithm: str) -> None:
    """Refuse a checksum whose length cannot be a hex digest of ``algorithm``."""
    h = _new_hash(algorithm)
    if checksum is None or h.digest_size == 0:  # shake_* have no fixed size
        return
    if len(checksum) != 2 * h.digest_size:
        raise DownloadError(
            f"The {algorithm} checksum {checksum!r} has {len(checksum)} characters but a "
            f"{algorithm} digest has {2 * h.digest_size}; pass the matching algorithm= "
            "or the correct checksum."
        )


# --------------------------------------------------------------------------- progress


class _Progress:
    """Reports bytes done to a tqdm bar, a progress function (stage ``desc``; total 0 when unknown), or nowhere."""

    def __init__(self, progress: bool | ProgressFn, total: int | None, done: int, desc: str):
        self.done, self.total, self.desc = done, total, desc
        self._callback = progress if callable(progress) else None
        self._bar = None
        if progress is True:
            self._bar = tqdm(
                total=total, initial=done, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False
            )
        if self._callback is not None:
            self._callback(desc, done, total or 0)

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        if self._callback is not None:
            self._callback(self.desc, self.done, self.total or 0)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _iter_progress(items: list[T], progress: bool, desc: str) -> Iterator[T]:
    """Yield ``items``, with a tqdm bar counting them when ``progress``."""
    if not progress:
        yield from items
        return

    with tqdm(total=len(items), unit="file", desc=desc, leave=False) as bar:
        for item in items:
            yield item
            bar.update(1)


# --------------------------------------------------------------------------- download


def _part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _keep_note(part: Path) -> str:
    """The sentence telling the user what happened to the partial file."""
    if part.exists() and part.stat().st_size > 0:
        return f"The partial file {part} ({part.stat().st_size} bytes) is kept; run the same command again to resume."
    return "Check the URL and your network connection, then try again."


def _total_from(resp: requests.Response, offset: int) -> int | None:
    """Full file size from Content-Range (206) or Content-Length (200), if known."""
    if resp.status_code == 206:
        total = resp.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = resp.headers.get("Content-Length", "")
    if length.isdigit() and not resp.headers.get("Content-Encoding"):
        return int(length) + offset
    return None


def _range_start(resp: requests.Response) -> int | None:
    """First byte position of a 206 answer's Content-Range (``bytes a-b/n``)."""
    unit, _, rest = resp.headers.get("Content-Range", "").partition(" ")
    start = rest.partition("-")[0]
    return int(start) if unit == "bytes" and start.isdigit() else None


def _stream_to_part(url: str, part: Path, *, progress: bool | ProgressFn, timeout: float, chunk_size: int) -> None:
    """Fetch ``url`` into ``part``, resuming from its current size when possible."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        with requests.get(url, headers=headers, stream=True, timeout=timeout) as resp:
            if offset and (resp.status_code == 416 or (resp.status_code == 206 and _range_start(resp) != offset)):
                part.unlink()  # unusable partial file or range answer: start over
                return _stream_to_part(url, part, progress=progress, timeout=timeout, chunk_size=chunk_size)
            if resp.status_code >= 400:
                status = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
                raise DownloadError(
                    f"Could not download {url}: the server answered {status}. "
                    f"Check the URL (or use another mirror). {_keep_note(part)}"
                )
            if resp.status_code != 206:
                offset = 0  # the server ignored the Range header: restart from zero
            total = _total_from(resp, offset)
            _write_body(resp, part, offset, total, progress, chunk_size)
    except requests.RequestException as exc:
        raise DownloadError(f"Could not download {url}: {exc}. {_keep_note(part)}") from exc
    if total is not None and part.stat().st_size != total:
        raise DownloadError(
            f"Could not download {url}: the transfer stopped after {part.stat().st_size} of "
            f"{total} bytes. {_keep_note(part)}"
        )


def _write_body(
    resp: requests.Response,
    part: Path,
    offset: int,
    total: int | None,
    progress: bool | ProgressFn,
    chunk_size: int,
) -> None:
    """Append (offset > 0) or write the response body to ``part``."""
    bar = _Progress(progress, total, offset, desc=part.name.removesuffix(".part"))
    try:
        with open(part, "ab" if offset else "wb") as f:
            for chunk in resp.iter_content(chunk_size=chunk_size):
                if chunk:
                    f.write(chunk)
                    bar.update(len(chunk))
    except requests.RequestException:
        raise  # a network error (also an OSError): reported by the caller
    except OSError as exc:
        raise DownloadError(f"Could not write {part}: {exc}. Free some disk space or pick another folder.") from exc
    finally:
        bar.close()


def download_file(
    url: str,
    dest: Path,
    *,
    checksum: str | None = None,
    algorithm: str = "sha256",
    progress: bool | ProgressFn = True,
    timeout: float = 30.0,
    chunk_size: int = 1 << 20,
) -> Path:
    """Download ``url`` to ``dest`` resumably and verify it; return ``dest``.

    Bytes go to ``dest.part`` (resumed with ``Range`` when it exists); the
    finished file is checked against ``checksum`` (hex digest of
    ``algorithm``) before it is renamed to ``dest``.  An existing ``dest`` that
    matches (or any existing ``dest`` when no checksum is given) is returned
    without touching the network.  ``progress`` is a tqdm bar (True), a
    ``progress(stage, done_bytes, total_bytes)`` function (genrec.utils.progress's
    one convention; the stage is the file's name, total 0 when the server
    does not say), or nothing (False).
    """
    dest = Path(dest)
    checksum = checksum.strip().lower() if checksum else None
    _check_checksum_shape(checksum, algorithm)  # also refuses an unknown algorithm before any hashing
    if dest.is_file():
        if checksum is None or fileio.file_digest(dest, algorithm) == checksum:
            return dest
        dest.unlink()  # stale or corrupt: fetch it again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(dest)
    _stream_to_part(url, part, progress=progress, timeout=timeout, chunk_size=chunk_size)
    if checksum is not None:
        got = fileio.file_digest(part, algorithm)
        if got != checksum:
            part.unlink()
            raise DownloadError(
                f"The file downloaded from {url} does not match its checksum "
                f"({algorithm} expected {checksum}, got {got}); the corrupt download was "
                "deleted. Try again, or use another mirror / the checksum that belongs to this URL."
            )
    os.replace(part, dest)
    return dest


# --------------------------------------------------------------------------- extraction


def _unsafe_name(name: str) -> str | None:
    """Why an archive member name is unsafe, or None if it stays inside the target."""
    if (
        not name
        or PurePosixPath(name).is_absolute()
        or PureWindowsPath(name).is_absolute()
        or PureWindowsPath(name).drive
        or name.startswith(("/", "\\"))
    ):
        return "has an absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "contains a '..' component"
    return None


def _escapes(path: str) -> bool:
    """True when a normalised archive-relative path leaves the archive root."""
    norm = posixpath.normpath(path)
    return norm == ".." or norm.startswith("../") or posixpath.isabs(norm)


def _resolve_in_archive(path: str, links: dict[str, str], depth: int = 0) -> str | None:
    """Where an archive-relative path really points once extracted, following the archive's earlier
    symlinks component by component (as the filesystem will); None when it leaves the archive root.

    Normalising the text alone is not enough: after ``d/s -> ..``, ``d/s/..`` names the folder
    *above* the archive root on disk, while ``normpath`` reduces it to ``d``.
    """
    if depth > 40:  # a loop of links
        return None
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
        here = "/".join(parts)
        if here in links:
            target = links[here]
            joined = target if posixpath.isabs(target) else posixpath.join(posixpath.dirname(here), target)
            if posixpath.isabs(joined):
                return None
            resolved = _resolve_in_archive(joined, links, depth + 1)
            if resolved is None:
                return None
            parts = resolved.split("/") if resolved else []
    return "/".join(parts)


def _check_tar_member(m: tarfile.TarInfo, links: dict[str, str]) -> None:
    """Raise DownloadError for a tar member that could write outside the target."""
    why = _unsafe_name(m.name)
    name = posixpath.normpath(m.name)
    if why is None and (m.ischr() or m.isblk() or m.isfifo() or m.isdev()):
        why = "is a device file or FIFO"
    if why is None and any(p in links for p in _parents(name)):
        why = "lies beneath a symlink in the archive"
    if why is None and m.issym():
        target = m.linkname
        if (
            posixpath.isabs(target)
            or _escapes(posixpath.join(posixpath.dirname(name), target))
            or _resolve_in_archive(posixpath.join(posixpath.dirname(name), target), links) is None
        ):
            why = f"is a symlink pointing outside the archive ({target})"
    if (
        why is None
        and m.islnk()
        and (posixpath.isabs(m.linkname) or _escapes(m.linkname) or _resolve_in_archive(m.linkname, links) is None)
    ):
        why = f"is a hard link pointing outside the archive ({m.linkname})"
    if why is not None:
        raise DownloadError(f"Refusing archive member {m.name!r}: it {why}.")
    if m.issym():
        links[name] = m.linkname


def _parents(name: str) -> Iterable[str]:
    parts = name.split("/")
    return ("/".join(parts[:i]) for i in range(1, len(parts)))


def _extract_tar(archive: Path, tmp: Path, progress: bool) -> None:
    with tarfile.open(archive, "r:*") as tf:
        members = tf.getmembers()
        links: dict[str, str] = {}
        for m in members:
            _check_tar_member(m, links)
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tf.extractall(tmp, members=_iter_progress(members, progress, archive.name), **kwargs)


def _extract_zip(archive: Path, tmp: Path, progress: bool) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:
            why = _unsafe_name(info.filename)
            if why is None and (info.external_attr >> 16) & 0o170000 == 0o120000:
                why = "is a symlink"
            if why is not None:
                raise DownloadError(f"Refusing archive member {info.filename!r}: it {why}.")
        for info in _iter_progress(infos, progress, archive.name):
            zf.extract(info, tmp)


def _extractor(archive: Path) -> Callable[[Path, Path, bool], None]:
    name = archive.name.lower()
    if name.endswith(".zip"):
        return _extract_zip
    if name.endswith(_TAR_SUFFIXES):
        return _extract_tar
    raise DownloadError(f"Cannot extract {archive}: unsupported archive type (use .tar.gz, .tgz, .tar or .zip).")


def _move_into(tmp: Path, to: Path) -> None:
    """Move the extracted tree into ``to``: one rename, or one per top-level entry."""
    if not to.exists():
        os.replace(tmp, to)
        return
    entries = list(tmp.iterdir())
    clashes = [e.name for e in entries if (to / e.name).exists() or (to / e.name).is_symlink()]
    if clashes:
        raise DownloadError(
            f"Cannot extract into {to}: {', '.join(sorted(clashes))} already exist(s) there. "
            "Delete or move them to extract again."
        )
    for entry in entries:
        os.replace(entry, to / entry.name)


def extract_archive(archive: Path, to: Path, *, progress: bool = True) -> Path:
    """Safely extract a .tar.gz/.tgz/.tar/.zip archive into ``to``; return ``to``.

    Members with absolute paths, ``..`` components, links leading outside, or
    device files are refused with DownloadError before anything is written.
    Extraction happens in a temporary sibling folder whose content is renamed
    into place only when complete; top-level entries that already exist in
    ``to`` are an error rather than being overwritten.
    """
    archive, to = Path(archive), Path(to)
    extract = _extractor(archive)
    if not archive.is_file():
        raise DownloadError(f"Cannot extract {archive}: no such file. Download it first.")
    to.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(to.parent, f".{to.name}.extracting-*")  # left by an extraction that was killed
    tmp = Path(tempfile.mkdtemp(prefix=f".{to.name}.extracting-", dir=to.parent))
    try:
        extract(archive, tmp, progress)
        _move_into(tmp, to)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise DownloadError(
            f"Could not extract {archive}: {exc}. The archive may be corrupt or incomplete; "
            "delete it and download it again."
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return to
