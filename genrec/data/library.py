"""Music libraries: one table of tracks (id, path, genre, split, artist) per source.

Sources are a GTZAN folder in any of its common layouts, or the built-in
synthetic demo library. The split (stratified 80/10/10 per genre, or a split
file) is computed once and saved beside the library, so every model trained
on it sees the same one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

import genrec.data.synth as synth
from genrec.audio.decode import check_clip
from genrec.config import GENRES
from genrec.errors import AudioError, LibraryError
from genrec.utils.fileio import atomic_write
from genrec.utils.paths import data_home

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
COLUMNS = ["track_id", "path", "genre", "split", "artist"]
DEMO_CLIPS_PER_GENRE = 20
DEMO_SEED = 0
DEMO_VERSION = 1
#: The artist-filtered GTZAN split (Kereliuk, Sturm & Larsen 2015) shipped as package data: track lists, no audio.
FILTERED_SPLIT_DIR = Path(__file__).resolve().parent / "splits"
#: ``--split`` names: the artist-filtered lists, or the paper's seeded stratified 80/10/10.
SPLIT_CHOICES = ("filtered", "paper")

# <genre>/<genre>.00012.au|wav (audio layouts) and <genre>/<genre>00012.png (Kaggle images)
_AUDIO_RE = re.compile(r"^(?P<genre>[a-z]+)\.(?P<num>\d{5})\.(?P<ext>au|wav)$")
_IMAGE_RE = re.compile(r"^(?P<genre>[a-z]+)(?P<num>\d{5})\.png$")

Progress = Callable[[int, int], None]


@dataclass
class Library:
    """A labelled collection of clips with a fixed split."""

    name: str
    root: Path
    kind: str  # "audio" or "image" (pre-rendered spectrogram PNGs)
    tracks: pd.DataFrame  # COLUMNS, one row per usable track
    synthetic: bool = False
    split_method: str = ""
    split_name: str = ""  # "paper", "filtered" or "files" (a folder of split files)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    load_seconds: float = 0.0  # how long loading (or generating) it took; runs record it

    @property
    def label(self) -> str:
        """Name for display; says so when the library is synthetic."""
        return f"{self.name} (synthetic demo library)" if self.synthetic else self.name

    def fingerprint(self) -> str:
        """Short hash of the track list, labels and split: equal fingerprints, equal data."""
        blob = self.tracks[["track_id", "genre", "split"]].to_csv(index=False).encode()
        return hashlib.sha1(blob).hexdigest()[:12]

    def split(self, name: str) -> pd.DataFrame:
        """Rows of one split ("train", "valid" or "test")."""
        return self.tracks[self.tracks["split"] == name].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Clips per genre (rows) and split (columns), with totals."""
        table = pd.crosstab(self.tracks["genre"], self.tracks["split"], margins=True, margins_name="total")
        return table.reindex(columns=[c for c in (*SPLITS, "unlisted", "total") if c in table.columns])

    def track(self, track_id: str) -> pd.Series:
        """The row of one track; LibraryError naming close matches when absent."""
        rows = self.tracks[self.tracks["track_id"] == track_id]
        if rows.empty:
            near = [t for t in self.tracks["track_id"] if t.split(".")[0] == track_id.split(".")[0]][:5]
            hint = f" Known ids look like: {', '.join(near)}." if near else ""
            raise LibraryError(f"track '{track_id}' is not in library {self.name}.{hint}")
        return rows.iloc[0]


# --------------------------------------------------------------------------- scanning
def _find_tracks(root: Path, kind: str) -> list[tuple[str, str, Path]]:
    pattern = _AUDIO_RE if kind == "audio" else _IMAGE_RE
    found = []
    for path in sorted(root.rglob("*")):
        match = pattern.match(path.name)
        if not match or match["genre"] not in GENRES or path.parent.name != match["genre"]:
            continue
        found.append((f"{match['genre']}.{match['num']}", match["genre"], path))
    return found


def not_a_file(path: Path, root: Path) -> str | None:
    """Why a found name is not a file to decode (a folder, a link leaving ``root``, a pipe, ...), or None.

    Library and catalogue scans both ask this before opening anything, so a FIFO is never opened (which
    would wait forever). OSError when the name cannot even be looked at (e.g. a path too long for the system).
    """
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.exists():
            return f"is a broken symlink (to {os.readlink(path)})"
        if not target.is_relative_to(root.resolve()):
            return f"is a symlink to {target}, outside the library folder; copy the file into the library"
    if path.is_dir():
        return "is a folder, not a file"
    if not path.is_file():
        return "is not a regular file (a device or a pipe)"
    if path.stat().st_size == 0:
        return "is empty (0 bytes)"
    return None


def _readable(path: Path, kind: str, root: Path | None = None) -> str | None:
    """None if the file is usable as audio (as training will read it) or as an image, else the reason."""
    reason = not_a_file(path, root or path.parent)
    if reason:
        return reason
    try:
        if kind == "audio":
            check_clip(path)
        else:
            with Image.open(path) as img:
                img.verify()
    except AudioError as exc:
        return str(exc).removeprefix(f"{path}: ")
    except Exception as exc:  # any decoder failure means the file is unusable
        return f"cannot be decoded ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    return None


class _CheckMemo:
    """Results of :func:`_readable` kept beside the saved split, keyed by path, size and modification time.

    Decoding every clip costs about 0.05 s each (a minute for GTZAN), so an unchanged file is checked once.
    """

    def __init__(self, file: Path) -> None:
        self.file = file
        try:
            self.saved = json.loads(file.read_text())
        except (OSError, ValueError):
            self.saved = {}
        self.seen: dict[str, list] = {}

    def reason(self, path: Path, check: Callable[[Path], str | None]) -> str | None:
        try:
            info = path.stat()  # the file a link leads to: its change is what counts
            stamp = [info.st_size, info.st_mtime_ns, os.path.realpath(path)]
        except OSError:
            return check(path)
        entry = self.saved.get(str(path))
        if not (isinstance(entry, list) and len(entry) == 2 and entry[0] == stamp):
            entry = [stamp, check(path)]
        self.seen[str(path)] = entry
        return entry[1]

    def save(self) -> None:
        if self.seen != self.saved:
            try:
                atomic_write(self.file, json.dumps(self.seen))
            except OSError:  # a read-only home only costs the next scan its speed
                log.debug("could not save %s", self.file)


def scan_gtzan(
    root: Path | str, kind: str = "auto", *, strict: bool = False, progress: Progress | None = None
) -> tuple[list[dict], list[tuple[str, str]], str]:
    """Find GTZAN tracks below ``root`` in any common layout.

    Layouts: ``genres/<g>/<g>.000NN.au`` (original), Kaggle's
    ``Data/genres_original/<g>/<g>.000NN.wav`` and Kaggle's spectrogram images
    ``images_original/<g>/<g>000NN.png``. ``kind`` "auto" prefers audio when
    both are present. Every file is decoded and checked as training will read it (silent, too
    short, NaN, corrupt or a header that is not its format's), so unusable clips are skipped and
    listed here, before any training; ``strict`` refuses the library instead (LibraryError listing
    them). Returns (rows, skipped (path, reason), kind).
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise LibraryError(f"{root}: folder not found. Pass the folder that holds the GTZAN genre folders.")
    if not root.is_dir():
        raise LibraryError(f"{root}: is a file, not a folder. Pass the folder that holds the GTZAN genre folders.")
    kinds = ["audio", "image"] if kind == "auto" else [kind]
    for k in kinds:
        found = _find_tracks(root, k)
        if found:
            break
    else:
        raise LibraryError(
            f"{root}: no GTZAN tracks found. Expected <genre>/<genre>.00000.au|wav or "
            f"<genre>/<genre>00000.png below it (genres: {', '.join(GENRES)})."
        )
    rows, skipped, seen = [], [], set()
    checks = _CheckMemo(_state_dir(root) / f"checked-{k}.json")
    for done, (track_id, genre, path) in enumerate(found):
        if progress:
            progress(done, len(found))
        if track_id in seen:  # e.g. an archive extracted twice; the first copy wins
            skipped.append((str(path), f"duplicate of track {track_id}"))
            continue
        reason = checks.reason(path, lambda p: _readable(p, k, root))
        if reason:
            log.warning("skipping %s: %s", path, reason)
            skipped.append((str(path), reason))
            continue
        seen.add(track_id)
        rows.append({"track_id": track_id, "path": str(path), "genre": genre, "artist": ""})
    checks.save()
    if progress:
        progress(len(found), len(found))
    if not rows:
        raise LibraryError(
            f"{root}: none of the {len(found)} GTZAN {k} file(s) found could be read "
            f"(e.g. {skipped[0][0]}: {skipped[0][1]}). Re-download or re-extract the dataset."
        )
    if strict and skipped:
        listed = "; ".join(f"{p}: {why}" for p, why in skipped[:10])
        more = f" (and {len(skipped) - 10} more)" if len(skipped) > 10 else ""
        raise LibraryError(
            f"{root}: {len(skipped)} file(s) cannot be used: {listed}{more}. Fix or remove them, "
            f"or leave out --strict to train without them."
        )
    return rows, skipped, k


# --------------------------------------------------------------------------- splits
def stratified_split(
    genres: pd.Series, seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> np.ndarray:
    """Per-genre shuffled split into train/valid/test with the given fractions.

    Every genre with at least three clips gets at least one valid and one test
    clip, so tiny libraries still have something to evaluate on.
    """
    rng = np.random.default_rng(seed)
    out = np.empty(len(genres), dtype=object)
    for genre in sorted(genres.unique()):
        idx = np.flatnonzero((genres == genre).to_numpy())
        idx = idx[rng.permutation(len(idx))]
        n = len(idx)
        n_valid = max(1, round(fractions[1] * n)) if n >= 3 else 0
        n_test = max(1, round(fractions[2] * n)) if n >= 3 else 0
        out[idx[: n - n_valid - n_test]] = "train"
        out[idx[n - n_valid - n_test : n - n_test]] = "valid"
        out[idx[n - n_test :]] = "test"
    return out


def read_split_files(split_dir: Path | str) -> dict[str, str]:
    """Track id → split from ``{train,valid,test}*.txt`` files listing ``genre/genre.000NN.ext``."""
    split_dir = Path(split_dir).expanduser()
    if not split_dir.is_dir():
        raise LibraryError(f"{split_dir}: split folder not found. It should hold train*.txt, valid*.txt, test*.txt.")
    mapping: dict[str, str] = {}
    for split in SPLITS:
        files = sorted(split_dir.glob(f"{split}*.txt"))
        if not files:
            raise LibraryError(f"{split_dir}: no {split}*.txt split file.")
        for line in files[0].read_text().split():
            name = Path(line).name
            m = _AUDIO_RE.match(name) or _IMAGE_RE.match(name)
            if not m:
                raise LibraryError(f"{files[0]}: cannot read a track id from line '{line}'.")
            mapping[f"{m['genre']}.{m['num']}"] = split
    return mapping


# --------------------------------------------------------------------------- persistence
def _state_dir(root: Path) -> Path:
    """Where a GTZAN folder's split is saved (the folder itself may be read-only)."""
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
    return data_home() / "libraries" / f"{root.resolve().name}-{digest}"


def resolve_split(split: str | Path = "paper", split_dir: Path | str | None = None) -> tuple[str, Path | None]:
    """``--split`` (``paper``, ``filtered`` or a folder of split files) → (short name, split-file folder or None).

    ``split_dir`` is the older ``--split-dir`` spelling of a folder; it wins when given.
    """
    if split_dir:
        return "files", Path(split_dir).expanduser()
    if str(split) == "paper":
        return "paper", None
    if str(split) == "filtered":
        return "filtered", FILTERED_SPLIT_DIR
    folder = Path(split).expanduser()
    if not folder.is_dir():
        raise LibraryError(
            f"--split {split}: not 'paper', 'filtered' or a folder of train*.txt / valid*.txt / test*.txt split files."
        )
    return "files", folder


def _method(name: str, seed: int, split_dir: Path | None) -> str:
    """The run-record description of a split (stable strings: a saved split is reused when they match)."""
    if name == "filtered":
        return "artist-filtered GTZAN split (Kereliuk/Sturm lists shipped with genrec)"
    return f"split files {Path(split_dir).resolve()}" if split_dir else f"stratified 80/10/10 per genre, seed {seed}"


def _with_split(
    rows: list[dict], state: Path, seed: int, split_dir: Path | None, method: str
) -> tuple[pd.DataFrame, str]:
    """Attach the saved split if it matches the request, else compute and save one."""
    tracks = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "split"])
    meta_path, table_path = state / "split.json", state / "split.csv"
    if meta_path.exists() and table_path.exists():
        saved = pd.read_csv(table_path, dtype=str, keep_default_na=False)
        meta = json.loads(meta_path.read_text())
        if meta.get("method") == method and sorted(saved["track_id"]) == sorted(tracks["track_id"]):
            splits = dict(zip(saved["track_id"], saved["split"]))
            tracks.insert(3, "split", tracks["track_id"].map(splits))
            return tracks, method
    if split_dir:
        mapping = read_split_files(split_dir)
        tracks.insert(3, "split", tracks["track_id"].map(mapping).fillna("unlisted"))
    else:
        tracks.insert(3, "split", stratified_split(tracks["genre"], seed))
    atomic_write(table_path, tracks[["track_id", "split"]].to_csv(index=False))
    atomic_write(meta_path, json.dumps({"method": method}))
    return tracks, method


# --------------------------------------------------------------------------- loading
def _timed(loader: Callable[..., Library]) -> Callable[..., Library]:
    """``loader`` with its wall time stored in the returned library's ``load_seconds``.

    The build loads the library once in its parent and hands it to each training child, so a run's
    ``timings_seconds.library`` must come from the library, not from a clock started in the child.
    """

    @functools.wraps(loader)
    def timed(*args, **kwargs) -> Library:
        start = time.perf_counter()
        library = loader(*args, **kwargs)
        library.load_seconds = time.perf_counter() - start
        return library

    return timed


@_timed
def load_gtzan(
    root: Path | str,
    *,
    seed: int = 0,
    split_dir: Path | str | None = None,
    kind: str = "auto",
    split: str | Path = "paper",
    strict: bool = False,
    progress: Progress | None = None,
) -> Library:
    """A GTZAN folder as a :class:`Library` (see :func:`scan_gtzan` for layouts, checks and ``strict``).

    ``split``: ``paper`` (stratified 80/10/10, ``seed``), ``filtered`` (the artist-filtered lists) or a
    folder of split files. Tracks no split file lists are marked ``unlisted``; runs leave them out.
    """
    # Absolute paths: runs store track paths, which must not depend on the working directory.
    root = Path(root).expanduser().resolve()
    name, folder = resolve_split(split, split_dir)
    rows, skipped, found_kind = scan_gtzan(root, kind, strict=strict, progress=progress)
    tracks, method = _with_split(rows, _state_dir(root), seed, folder, _method(name, seed, folder))
    if name == "filtered" and not (tracks["split"] == "train").any():
        raise LibraryError(
            f"{root}: none of its {len(tracks)} tracks is in the artist-filtered split's training "
            "list (it names the original GTZAN tracks, e.g. blues/blues.00012.wav). For another "
            "collection use --split paper."
        )
    return Library(
        root.name, root, found_kind, tracks, synthetic=False, split_method=method, split_name=name, skipped=skipped
    )


def demo_root() -> Path:
    """Folder of the generated demo library (audio and its split)."""
    return data_home() / f"demo-v{DEMO_VERSION}"


@_timed
def load_demo(
    *, clips_per_genre: int = DEMO_CLIPS_PER_GENRE, progress: Progress | None = None, workers: int = 2
) -> Library:
    """The built-in synthetic library, generated (seeded, deterministic) on first use and cached; ``workers``
    processes synthesise it (1: in this thread, with no child process)."""

    root = demo_root()
    table = root / "tracks.csv"
    if table.exists():
        tracks = pd.read_csv(table, dtype=str, keep_default_na=False)
        if len(tracks) == clips_per_genre * len(GENRES) and all(Path(p).exists() for p in tracks["path"]):
            return Library(
                "demo",
                root,
                "audio",
                tracks[COLUMNS],
                synthetic=True,
                split_method=f"stratified 80/10/10 per genre, seed {DEMO_SEED}",
                split_name="paper",
            )
    rows = synth.write_library(
        root / "audio", clips_per_genre=clips_per_genre, seed=DEMO_SEED, workers=workers, progress=progress
    )
    tracks = pd.DataFrame(rows)
    tracks["split"] = stratified_split(tracks["genre"], DEMO_SEED)
    tracks = tracks[COLUMNS]
    atomic_write(table, tracks.to_csv(index=False))
    return Library(
        "demo",
        root,
        "audio",
        tracks,
        synthetic=True,
        split_method=f"stratified 80/10/10 per genre, seed {DEMO_SEED}",
        split_name="paper",
    )


def load_library(
    spec: str | Path,
    *,
    seed: int = 0,
    split_dir: Path | str | None = None,
    progress: Progress | None = None,
    strict: bool = False,
    split: str | Path = "paper",
) -> Library:
    """``"demo"`` for the built-in synthetic library, or a path to a GTZAN folder.

    ``progress`` follows the demo's generation or the GTZAN folder's check; ``strict`` refuses a GTZAN
    folder with unusable files instead of skipping them; ``split`` as in :func:`load_gtzan`.
    """
    if str(spec) == "demo":
        return load_demo(progress=progress)
    return load_gtzan(spec, seed=seed, split_dir=split_dir, strict=strict, progress=progress, split=split)
