"""Catalogues on disk, beside the run that embedded them: ``RUN/catalogues/NAME/``.

=================  ==========================================================
``manifest.json``  name, run, root folder, analysis settings, counts, the index
                   kind and why it was chosen, engine, timings
``tracks.csv``     per track: track_id (path under the root), title, artist,
                   genre (from folder names), predicted genre, confidence, digest
``embeddings.npz`` per track: unit embedding and class probabilities
``skipped.csv``    files left out, with the reason
``ann/``           the approximate-search index (only when the index is
                   ``ann``): :meth:`genrec.index.AnnIndex.save`'s folder
=================  ==========================================================

Catalogues built before genrec used faiss have an hnswlib graph
(``index.npz``, kind ``hnsw``); they open and are searched exactly from their
stored embeddings, with a note saying how to get the fast index back.

A catalogue is written into a temporary folder and renamed into place, so an
interrupted build never leaves a half-written one. Embeddings computed so far
live in ``RUN/catalogues/.cache/`` (shards keyed by file content), which is
what makes a build resumable and a rebuild of a changed folder cheap.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from genrec.catalogue.embed import Result
from genrec.errors import CatalogueError
from genrec.index import AnnIndex, ExactIndex, VectorIndex, ann_available
from genrec.media import vetted_path
from genrec.vectors import atomic_savez, load_track_arrays

log = logging.getLogger(__name__)

CATALOGUES = "catalogues"
CACHE = ".cache"
MANIFEST = "manifest.json"
FILES = (MANIFEST, "tracks.csv", "embeddings.npz", "skipped.csv")
TRACK_COLUMNS = ["track_id", "title", "artist", "genre", "predicted_genre", "confidence", "digest"]
#: Split label of catalogue tracks in answers (library tracks have train/valid/test).
CATALOGUE_SPLIT = "catalogue"
#: The folder of an approximate-search index inside a catalogue.
ANN_FOLDER = "ann"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def catalogues_dir(run_path: Path) -> Path:
    """Where a run's catalogues live."""
    return Path(run_path) / CATALOGUES


def check_name(name: str) -> str:
    """A catalogue name that is safe as a folder name, or CatalogueError saying what is allowed."""
    if not _NAME.match(name or ""):
        raise CatalogueError(
            f"catalogue name {name!r} is not allowed: use 1-64 letters, digits, '.', '_' "
            f"or '-', starting with a letter or digit (e.g. --name my-music)."
        )
    return name


def default_name(folder: Path) -> str:
    """A catalogue name made from a folder's name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-._")[:64]
    return name or "catalogue"


def is_servable(path: str | Path, root: str | Path) -> bool:
    """Whether ``path`` may be played: library media rules (:mod:`genrec.media`) with ``root`` as the root."""
    return vetted_path(path, [Path(root).resolve()]) is not None


class EmbeddingCache:
    """Embeddings of one run keyed by file content, in shards written atomically as batches finish."""

    def __init__(self, run_path: Path) -> None:
        self.folder = catalogues_dir(run_path) / CACHE
        self._pending: list[Result] = []

    def load(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """digest → (probabilities, embedding) of everything embedded so far; unreadable shards are ignored."""
        known: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for shard in sorted(self.folder.glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as z:
                    digests, probs, embs = z["digest"], z["probabilities"], z["embeddings"]
            except Exception as exc:  # a damaged shard only costs re-embedding its files
                log.warning("ignoring unreadable cache shard %s (%s)", shard, exc)
                continue
            if len(digests) == len(probs) == len(embs):
                known.update(zip(digests.tolist(), zip(probs, embs)))
        return known

    def add(self, results: list[Result]) -> None:
        self._pending.extend(r for r in results if not r.error)

    def flush(self) -> None:
        """Write what was added since the last flush as one new shard."""
        if not self._pending:
            return
        atomic_savez(
            self.folder / f"shard-{uuid.uuid4().hex}.npz",
            {
                "digest": np.array([r.digest for r in self._pending], dtype=str),
                "probabilities": np.stack([r.probabilities for r in self._pending]).astype(np.float32),
                "embeddings": np.stack([r.embedding for r in self._pending]).astype(np.float32),
            },
        )
        self._pending = []


def write_catalogue(
    target: Path,
    manifest: dict,
    tracks: pd.DataFrame,
    probabilities: np.ndarray,
    embeddings: np.ndarray,
    skipped: list[tuple[str, str]],
    index: VectorIndex,
) -> Path:
    """Write a catalogue into a temporary folder beside ``target`` and rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    old = target.parent / f".old-{target.name}-{uuid.uuid4().hex[:8]}"
    try:
        tracks[TRACK_COLUMNS].to_csv(tmp / "tracks.csv", index=False)
        np.savez(
            tmp / "embeddings.npz",
            track_id=tracks["track_id"].to_numpy(dtype=str),
            embeddings=embeddings.astype(np.float32),
            probabilities=probabilities.astype(np.float32),
        )
        pd.DataFrame(skipped, columns=["path", "reason"]).to_csv(tmp / "skipped.csv", index=False)
        if isinstance(index, AnnIndex):
            index.save(tmp / ANN_FOLDER)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide it from a server running as another user
        if target.exists():
            target.rename(old)  # a directory cannot be replaced in one rename; keep the old one until then
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return target


@dataclass
class Catalogue:
    """A built catalogue; files are read lazily and checked on open."""

    path: Path

    @classmethod
    def open(cls, path: Path | str) -> Catalogue:
        """Open a catalogue folder; CatalogueError naming what is missing or damaged."""
        path = Path(path)
        missing = [f for f in FILES if not (path / f).is_file()]
        if missing:
            raise CatalogueError(
                f"{path}: incomplete catalogue, missing {', '.join(missing)}. Build it again "
                f"with `genrec catalogue build`."
            )
        cat = cls(path)
        _ = cat.manifest  # parse now so a damaged manifest fails here, with its name
        return cat

    def _damaged(self, name: str, exc: Exception) -> CatalogueError:
        return CatalogueError(f"{self.path / name}: unreadable ({exc}). Build the catalogue again.")

    @cached_property
    def manifest(self) -> dict:
        try:
            data = json.loads((self.path / MANIFEST).read_text())
            for key in ("name", "run_id", "root", "n_tracks", "index"):
                data[key]
            str(data["index"]["kind"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise self._damaged(MANIFEST, exc) from exc
        return data

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def root(self) -> Path:
        """The folder the catalogue was built from; only files under it are served."""
        return Path(str(self.manifest["root"]))

    @property
    def index_kind(self) -> str:
        return str(self.manifest["index"]["kind"])

    @cached_property
    def tracks(self) -> pd.DataFrame:
        """Tracks with ``path`` (empty where the file may not be served), ``split`` = ``catalogue``."""
        try:
            table = pd.read_csv(self.path / "tracks.csv", dtype=str, keep_default_na=False)
            table = table[TRACK_COLUMNS].copy()
            table["confidence"] = table["confidence"].astype(float)
        except Exception as exc:  # pandas raises several types for damaged CSV
            raise self._damaged("tracks.csv", exc) from exc
        paths = [self.root / t for t in table["track_id"]]
        table["path"] = [str(p) if is_servable(p, self.root) else "" for p in paths]
        table["split"] = CATALOGUE_SPLIT
        return table

    @cached_property
    def skipped(self) -> pd.DataFrame:
        try:
            return pd.read_csv(self.path / "skipped.csv", dtype=str, keep_default_na=False)
        except Exception as exc:
            raise self._damaged("skipped.csv", exc) from exc

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """``track_id``, ``embeddings`` and ``probabilities``, aligned with :attr:`tracks`."""
        fix = "Build it again with `genrec catalogue build`."
        return load_track_arrays(self.path, self.tracks, CatalogueError, fix)

    @cached_property
    def index(self) -> VectorIndex:
        """The search index the manifest names, memory-mapped; exact search where that cannot be had.

        :attr:`index_fallback` says why when the catalogue is searched otherwise than it was built.
        """
        ids = self.tracks["track_id"].tolist()
        if self.index_kind == AnnIndex.kind and not self.index_fallback:
            try:
                return AnnIndex.load(self.path / ANN_FOLDER, ids=ids)  # its ids must be tracks.csv's, in order
            except (OSError, ValueError) as exc:
                raise self._damaged(ANN_FOLDER, exc) from exc
        return ExactIndex.build(ids, self.arrays["embeddings"])

    @property
    def index_fallback(self) -> str:
        """Why this catalogue is searched exactly although it was built otherwise ("" when it is not)."""
        kind, n = self.index_kind, self.manifest["n_tracks"]
        if kind == AnnIndex.kind and not ann_available():
            return (
                f"catalogue {self.name} was built with an approximate-search index, but faiss is not installed "
                f"here: searching its {n} tracks exactly (slower, same or better answers). "
                f"pip install 'genrec[ann]' for the fast index."
            )
        if kind not in (AnnIndex.kind, ExactIndex.kind):
            return (
                f"catalogue {self.name} was built with a {kind!r} index, which this genrec does not read "
                f"(hnswlib's, before genrec used faiss): searching its {n} tracks exactly from its stored "
                f"embeddings (slower, same or better answers). Build it again with `genrec catalogue build` for "
                f"the fast index (files whose embeddings this run has cached are not embedded again)."
            )
        return ""

    @property
    def index_note(self) -> str:
        """Why this catalogue is searched the way it is (said to the user when it is not as built)."""
        return self.index_fallback or str(self.manifest["index"].get("reason", ""))


def list_catalogues(run_path: Path) -> tuple[list[Catalogue], list[tuple[Path, str]]]:
    """A run's complete catalogues (by name) and the broken ones with the reason."""
    folder = catalogues_dir(run_path)
    good, bad = [], []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_dir() and not path.name.startswith("."):
                try:
                    good.append(Catalogue.open(path))
                except CatalogueError as exc:
                    bad.append((path, str(exc)))
    return good, bad


def open_catalogue(run_path: Path, name: str) -> Catalogue:
    """The catalogue ``name`` of a run; CatalogueError listing the ones it has otherwise."""
    check_name(name)
    path = catalogues_dir(run_path) / name
    if not path.is_dir():
        names = [c.name for c in list_catalogues(run_path)[0]]
        raise CatalogueError(
            f"run {Path(run_path).name} has no catalogue {name!r}"
            + (
                f"; it has {', '.join(names)}."
                if names
                else f". Build one with `genrec catalogue build {run_path} FOLDER --name {name}`."
            )
        )
    return Catalogue.open(path)
