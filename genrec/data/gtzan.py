"""Getting the GTZAN genre collection: known sources, tried in order, each with its own checksum.

The classic University of Victoria URL has been unreachable since 2022 (mirdata issues 549 and
659, torchaudio PR 2763), so the Hugging Face mirror of ``marsyas/gtzan`` comes first. A
source that fails (connection error, HTTP error, checksum mismatch) is reported with the reason
and the next one is tried. Downloads are resumable and extraction is safe (``genrec.data.download``).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from genrec.config import GENRES
from genrec.data.download import _check_checksum_shape, download_file, extract_archive
from genrec.errors import DownloadError
from genrec.utils.fileio import split_checksum
from genrec.utils.paths import data_home
from genrec.utils.progress import ProgressFn

#: The classic GTZAN location (the University of Victoria server; unreachable since 2022).
GTZAN_URL = "http://opihi.cs.uvic.ca/sound/genres.tar.gz"
#: MD5 of ``genres.tar.gz`` from GTZAN_URL, as used by mirdata and older torchaudio releases.
GTZAN_MD5 = "5b3d6dddb579ab49814ab86dba69e7c7"
#: SHA-256 of the same file, as used by current torchaudio (``_CHECKSUMS``).
GTZAN_SHA256 = "24347e0223d2ba798e0a558c4c172d9d4a19c00bb7963fe055d183dadb4ef2c6"
#: A mirror on the Hugging Face Hub (dataset ``marsyas/gtzan``).
GTZAN_MIRROR_URL = "https://huggingface.co/datasets/marsyas/gtzan/resolve/main/data/genres.tar.gz"
#: SHA-256 of the mirror's file (its Git LFS object id).  It differs from
#: GTZAN_SHA256, so the mirror's bytes are not identical to the original's.
GTZAN_MIRROR_SHA256 = "b28cc067ff6199bd826f5d1a6931458586d64acae7f44b2e882b7a97af057531"
#: A site's own mirror, tried first: ``"URL ALGO:HEX"`` (e.g. a bucket next to a Cloud deployment).
MIRROR_ENV = "GENREC_GTZAN_MIRROR"

#: Printed when every source failed: what a user can still do.
BY_HAND = (
    "Download the GTZAN zip by hand (Kaggle: 'GTZAN Dataset - Music Genre Classification'), "
    "extract it, and pass its folder on: `genrec library gtzan PATH` to check it, "
    "`genrec build --library PATH` to train both models on it."
)

Report = Callable[[str], None]


@dataclass(frozen=True)
class Source:
    """One place the GTZAN archive can be downloaded from, with the checksum of its bytes there."""

    name: str
    url: str
    algorithm: str
    checksum: str

    def __post_init__(self) -> None:
        _check_checksum_shape(self.checksum, self.algorithm)

    @property
    def archive_name(self) -> str:
        """The local file name: one per source, so a partial file is only ever resumed from its own URL."""
        base = posixpath.basename(urlsplit(self.url).path) or "genres.tar.gz"
        return f"{self.name}-{base}"

    @property
    def known_hash(self) -> str:
        """``ALGO:HEX``, the form ``--checksum`` (and pooch's ``known_hash``) takes."""
        return f"{self.algorithm}:{self.checksum}"


def parse_checksum(text: str, what: str = "--checksum") -> tuple[str, str]:
    """``"sha256:ab12..."`` → ``("sha256", "ab12...")``; DownloadError saying the expected form otherwise."""
    parts = split_checksum(text)
    if parts is None:
        raise DownloadError(
            f"{what} {text!r} is not of the form ALGO:HEX, e.g. sha256:{GTZAN_MIRROR_SHA256[:12]}... "
            "(`sha256sum FILE` prints the hex digest of a file)."
        )
    algorithm, digest = parts
    _check_checksum_shape(digest, algorithm)
    return algorithm, digest


def check_url(url: str, what: str = "--url") -> None:
    """Refuse what is not an http(s) URL with a host: a DownloadError naming ``what``, also where urlsplit
    itself raises ValueError (an unclosed ``[``, a port out of range)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- reading the port is what raises for a bad one
    except ValueError as exc:
        why = str(exc)
    else:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            why = "not http(s) with a host"
        elif any(c.isspace() for c in url):
            why = "it contains spaces"
        else:
            return
    raise DownloadError(f"{what} {url!r} is not a valid URL ({why}); give one such as https://host/genres.tar.gz.")


def custom_source(url: str, checksum: str, name: str = "custom", what: str = "--url") -> Source:
    """A mirror given by the user (``--url URL --checksum ALGO:HEX``; ``what`` names where it came from)."""
    check_url(url, what)
    algorithm, digest = parse_checksum(checksum)
    return Source(name, url, algorithm, digest)


def _env_source() -> Source | None:
    value = os.environ.get(MIRROR_ENV, "").strip()
    if not value:
        return None
    url, _, checksum = value.partition(" ")
    if not checksum.strip():
        raise DownloadError(f"{MIRROR_ENV} must be 'URL ALGO:HEX' (a URL, a space, its checksum); got {value!r}.")
    return custom_source(url, checksum.strip(), name="mirror", what=MIRROR_ENV)


def gtzan_sources(extra: Source | None = None) -> list[Source]:
    """GTZAN sources in the order they are tried: ``extra``, $GENREC_GTZAN_MIRROR, Hugging Face, UVic."""
    known = [
        Source("huggingface", GTZAN_MIRROR_URL, "sha256", GTZAN_MIRROR_SHA256),
        Source("uvic", GTZAN_URL, "md5", GTZAN_MD5),
    ]
    return [s for s in (extra, _env_source(), *known) if s is not None]


def default_gtzan_home() -> Path:
    """Where ``genrec download gtzan`` and ``genrec build --library gtzan`` keep GTZAN."""
    return data_home() / "gtzan"


def _has_genre_dirs(folder: Path) -> bool:
    return folder.is_dir() and any((folder / g).is_dir() for g in GENRES)


def find_genre_root(to: Path) -> Path | None:
    """The folder under ``to`` that holds the genre folders (``to/genres`` first), if any."""
    if not to.is_dir():
        return None
    candidates = [to / "genres", *sorted(p for p in to.iterdir() if p.is_dir()), to]
    return next((c for c in candidates if _has_genre_dirs(c)), None)


def _fetch_first(sources: list[Source], to: Path, progress: bool | ProgressFn, report: Report) -> Path:
    """Download the first source that works; report each failure with its reason."""
    failures = []
    for source in sources:
        report(f"trying {source.name}: {source.url}")
        try:
            archive = download_file(
                source.url,
                to / source.archive_name,
                checksum=source.checksum,
                algorithm=source.algorithm,
                progress=progress,
            )
        except DownloadError as exc:
            failures.append(f"{source.name} ({exc})")
            report(f"source {source.name} failed: {exc}")
            continue
        report(f"using {source.name}: {source.url} ({source.algorithm} checksum verified)")
        return archive
    raise DownloadError(
        f"GTZAN could not be downloaded from any of {len(sources)} source(s): " + "; ".join(failures) + f". {BY_HAND}"
    )


def download_gtzan(
    to: Path | None = None,
    *,
    sources: list[Source] | None = None,
    progress: bool | ProgressFn = True,
    report: Report = lambda message: None,
) -> Path:
    """Download and extract GTZAN into ``to`` (default :func:`default_gtzan_home`); return the genres folder.

    Nothing is fetched when ``to`` already holds the genre folders. Sources default to
    :func:`gtzan_sources`; ``report`` receives one line per attempt, failure and the source used.
    ``progress``: tqdm bars (True), nothing (False) or a ``progress(stage, done_bytes, total_bytes)``
    function for the download.
    The archive stays in ``to`` for resuming and reuse.
    """
    to = Path(to) if to is not None else default_gtzan_home()
    root = find_genre_root(to)
    if root is not None:
        report(f"GTZAN is already in {root}; nothing to download")
        return root
    to.mkdir(parents=True, exist_ok=True)
    archive = _fetch_first(sources if sources is not None else gtzan_sources(), to, progress, report)
    extract_archive(archive, to, progress=progress is True)
    root = find_genre_root(to)
    if root is None:
        raise DownloadError(
            f"{archive} was extracted into {to} but no genre folders ({', '.join(GENRES)}) were "
            "found. Check that the URL points at the GTZAN genres archive."
        )
    return root
