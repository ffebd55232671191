"""Catalogues on disk, beside the run that embedded them: ``RUN/catalogues/NAME/``.

=================  ==========================================================
``manifest.json``  name, run, root folder, analysis settings, counts, the index
                   kind and why it was chosen, engine, timings (read as :class:`Manifest`)
``tracks.csv``     per track: track_id (path under the root), title, artist,
                   genre (from folder names), predicted genre, confidence, digest
``embeddings.npz`` per track: unit embedding and class probabilities
``skipped.csv``    files left out, with the reason
``ann/``           the approximate-search index (only when the index is
                   ``ann``): :meth:`genrec.search.index.AnnIndex.save`'s folder
=================  ==========================================================

Catalogues built before genrec used faiss have an hnswlib graph
(``index.npz``, kind ``hnsw``); they open and are searched exactly from their
stored embeddings, with a note saying how to get the fast index back.

A catalogue is written into a temporary folder and renamed into place, so an
interrupted build never leaves a half-written one. Catalogues are copied around
like run folders, so they are checked like them when opened: the manifest's
types, tracks.csv's ids, and the vectors' shapes (against the run's) and values (``embeddings.npz``'s and the
``ann/`` index's re-scoring vectors, a slice at a time);
a catalogue failing a check is listed as broken, with the file and the reason.
Its files are served under the same rule as a run's (:mod:`genrec.runs.media`), checked when a track is
shown (:meth:`Catalogue.rows`) rather than for every track on opening: at a million tracks, checking each file
took a minute. tracks.csv is held as Arrow strings, about the file's size, not as a million Python strings.
Embeddings computed so far
live in ``RUN/catalogues/.cache/`` (shards keyed by file content), which is
what makes a build resumable and a rebuild of a changed folder cheap.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from genrec.catalogue.embed import Result
from genrec.errors import CatalogueError
from genrec.runs.layout import EMBEDDINGS_NPZ, TRACKS_CSV
from genrec.runs.media import library_roots, vetted_path
from genrec.runs.record import Fields, check_embeddings, embedding_shapes, id_problems, refuse_bad_rows
from genrec.search.index import AnnIndex, ExactIndex, VectorIndex, ann_available
from genrec.search.vectors import TextIds, atomic_savez, check_track_arrays, load_track_arrays
from genrec.utils.fileio import atomic_folder

log = logging.getLogger(__name__)

CATALOGUES = "catalogues"
CACHE = ".cache"
MANIFEST = "manifest.json"
FILES = (MANIFEST, TRACKS_CSV, EMBEDDINGS_NPZ, "skipped.csv")
TRACK_COLUMNS = ["track_id", "title", "artist", "genre", "predicted_genre", "confidence", "digest"]
#: Columns of tracks.csv that repeat a few values (held as categories).
_FEW_VALUES = ("artist", "genre", "predicted_genre")
#: Split label of catalogue tracks in answers (library tracks have train/valid/test).
CATALOGUE_SPLIT = "catalogue"
#: Index kinds a manifest may name: exact, ann (faiss), and hnsw (hnswlib, before genrec used faiss; such
#: catalogues are searched exactly from their stored embeddings).
INDEX_KINDS = ("exact", "ann", "hnsw")
#: What to do about a damaged catalogue, ending every message about one.
FIX = "Build it again with `genrec catalogue build`."
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
    """Whether ``path`` may be played: the rule for every served file (:mod:`genrec.runs.media`), ``root`` counting
    as a run's library root does (never ``/``; folders in ``GENREC_AUDIO_ROOTS`` also allowed)."""
    return vetted_path(path, library_roots(str(root))) is not None


def track_file(root: str | Path, track_id: str) -> Path | None:
    """``root / track_id`` when ``track_id`` is a plain relative path (not absolute, no ``..``), else None.

    A catalogue's track ids are paths under its root; one leading anywhere else is never looked at.
    """
    rel = PurePosixPath(track_id)
    if not track_id or "\x00" in track_id or rel.is_absolute() or ".." in rel.parts:
        return None
    return Path(root) / rel


def read_tracks_csv(file: Path) -> pd.DataFrame:
    """A catalogue's ``tracks.csv`` as text (empty fields as ""), its columns pandas strings stored by Arrow.

    A million tracks then take about the file's size in memory; pandas' own reader made Python strings of
    them (pandas before 3) or held its parse buffers, several times that.
    """
    table = pa_csv.read_csv(
        file,
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),  # pandas quotes titles holding line breaks
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(TRACK_COLUMNS, pa.string()), strings_can_be_null=False
        ),
    )
    kept = table.select([c for c in table.column_names if c in TRACK_COLUMNS]).combine_chunks()
    # the columns of few values (a genre, an artist, for many tracks) as categories: codes, not the text again
    for name in _FEW_VALUES:
        if name in kept.column_names:
            at = kept.column_names.index(name)
            kept = kept.set_column(at, name, kept[name].dictionary_encode())
    return kept.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def _release_arrow_memory() -> None:
    """Give the memory Arrow freed (the parser's buffers, the checks' hash tables and sorts) back to the system:
    its pool keeps it otherwise, a few hundred MB after reading a million tracks."""
    pa.default_memory_pool().release_unused()


@dataclass(frozen=True)
class IndexInfo:
    """The search index a catalogue was built with, and why."""

    kind: str  # one of INDEX_KINDS
    reason: str
    requested: str  # the --index asked for ("auto", "exact" or "ann"; "hnsw" in older catalogues)
    library: str = ""  # the approximate index's library and version ("" for exact search)
    settings: dict[str, int | float | str] | None = None  # its build and search settings
    recall_at_5: float | None = None  # its recall@5 against exact search, measured on its own vectors at build
    recall_sample: int | None = None  # how many of its own tracks were the queries of that measurement


@dataclass(frozen=True)
class EngineInfo:
    """What embedded a catalogue."""

    name: str
    workers: int | None


@dataclass(frozen=True)
class Manifest:
    """``manifest.json`` checked and typed."""

    name: str
    run_id: str
    root: str  # the folder the catalogue was built from; its files are served only from there
    n_tracks: int
    index: IndexInfo
    engine: EngineInfo | None
    created: str  # ISO 8601 timestamp as saved, or "" when absent
    n_skipped: int | None
    seconds: float | None


def parse_manifest(file: Path, data: Any) -> Manifest:
    """Check ``manifest.json``'s content; CatalogueError naming the field at fault."""
    top = Fields(file, data, error=CatalogueError, fix=FIX)
    index = top.child("index")
    engine = top.child("engine", optional=True)
    return Manifest(
        name=top.get(
            "name",
            "a catalogue name (1-64 letters, digits, '.', '_' or '-')",
            lambda v: isinstance(v, str) and _NAME.match(v) is not None,
        ),
        run_id=top.name("run_id"),
        root=top.name("root"),
        n_tracks=top.integer("n_tracks", minimum=1),
        index=IndexInfo(
            kind=index.get(
                "kind", f"one of {', '.join(INDEX_KINDS)}", lambda v: isinstance(v, str) and v in INDEX_KINDS
            ),
            reason=index.text("reason", optional=True, default=""),
            requested=index.text("requested", optional=True, default="auto"),
            library=index.text("library", optional=True, default=""),
            settings=index.get(
                "settings",
                "an object of names to numbers or words",
                lambda v: isinstance(v, dict) and all(isinstance(x, int | float | str) for x in v.values()),
                optional=True,
            ),
            recall_at_5=index.number("recall_at_5", optional=True),
            recall_sample=index.integer("recall_sample", optional=True),
        ),
        engine=None if engine is None else EngineInfo(engine.name("name"), engine.integer("workers", 1, optional=True)),
        created=top.text("created", optional=True, default=""),
        n_skipped=top.integer("n_skipped", optional=True),
        seconds=top.number("seconds", optional=True),
    )


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

    def fill(tmp: Path) -> None:
        tracks[TRACK_COLUMNS].to_csv(tmp / TRACKS_CSV, index=False)
        np.savez(
            tmp / EMBEDDINGS_NPZ,
            track_id=tracks["track_id"].to_numpy(dtype=str),
            embeddings=embeddings.astype(np.float32),
            probabilities=probabilities.astype(np.float32),
        )
        pd.DataFrame(skipped, columns=["path", "reason"]).to_csv(tmp / "skipped.csv", index=False)
        if isinstance(index, AnnIndex):
            index.save(tmp / ANN_FOLDER)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))

    return atomic_folder(target, fill)


@dataclass
class Catalogue:
    """A built catalogue, checked when opened (:meth:`check`); ``info`` is its typed manifest."""

    path: Path
    # whether check() has read the approximate index's vectors, so that loading it need not read them again
    _ann_checked: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def open(cls, path: Path | str) -> Catalogue:
        """Open a catalogue folder; CatalogueError naming what is missing or damaged."""
        path = Path(path)
        missing = [f for f in FILES if not (path / f).is_file()]
        if missing:
            raise CatalogueError(f"{path}: incomplete catalogue, missing {', '.join(missing)}. {FIX}")
        cat = cls(path)
        cat.check()
        return cat

    def check(self) -> None:
        """Parse and cross-check the manifest, tracks.csv and the vectors once, so a damaged catalogue fails
        here, with its name, rather than in a search (as :meth:`genrec.runs.reader.Run.check` does for runs)."""
        info, table = self.info, self.table
        if info.name != self.path.name:
            raise CatalogueError(
                f"{self.path / MANIFEST}: 'name' is {info.name!r}, but the folder is {self.path.name!r} (a catalogue "
                f"is chosen by its folder's name). Rename the folder back to {info.name}, or build it again."
            )
        n_genres, dim = self._run_widths()
        check_embeddings(self.path / EMBEDDINGS_NPZ, len(table), n_genres, dim, error=CatalogueError, fix=FIX)
        # the values (finite numbers, ids as in tracks.csv), a slice at a time: a big catalogue is searched
        # through its memory-mapped index, and its vectors are never all read at once
        check_track_arrays(self.path / EMBEDDINGS_NPZ, table, CatalogueError, FIX)
        if info.index.kind == AnnIndex.kind:
            # the vectors faiss' shortlists are re-scored with, checked the same way: a NaN there would reorder
            # answers silently, and a file of the wrong shape would fail in the first search
            try:
                AnnIndex.check_folder(self.path / ANN_FOLDER, len(table), dim)
            except (OSError, ValueError) as exc:
                raise self._damaged(ANN_FOLDER, exc) from exc
            self._ann_checked = True

    def _run_widths(self) -> tuple[int, int]:
        """(genres, embedding width) of the run this catalogue lies in: its vectors must have the same."""
        file = self.path.parent.parent / EMBEDDINGS_NPZ
        fix = "A catalogue must lie in the catalogues folder of a complete run (RUN/catalogues/NAME)."
        shapes = embedding_shapes(file, error=CatalogueError, fix=fix)
        if len(shapes["probabilities"]) != 2 or len(shapes["embeddings"]) != 2:
            raise CatalogueError(f"{file}: not the arrays of a run. {fix}")
        return shapes["probabilities"][1], shapes["embeddings"][1]

    def _damaged(self, name: str, exc: Exception) -> CatalogueError:
        return CatalogueError(f"{self.path / name}: unreadable ({exc}). {FIX}")

    @cached_property
    def manifest(self) -> dict:
        """``manifest.json`` as saved (a JSON object); prefer the typed :attr:`info`."""
        try:
            data = json.loads((self.path / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise self._damaged(MANIFEST, exc) from exc
        Fields(self.path / MANIFEST, data, error=CatalogueError, fix=FIX)  # a JSON object, or a clear error
        return data

    @cached_property
    def info(self) -> Manifest:
        """``manifest.json`` checked and typed."""
        return parse_manifest(self.path / MANIFEST, self.manifest)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def root(self) -> Path:
        """The folder the catalogue was built from; only files under it are served."""
        return Path(self.info.root)

    @property
    def index_kind(self) -> str:
        return self.info.index.kind

    @cached_property
    def table(self) -> pd.DataFrame:
        """``tracks.csv`` checked: the columns, at least one track, distinct non-empty ids, numeric confidence.

        Rows are in the vectors' order; no ``path`` (a track's file is checked when it is shown: :meth:`rows`).
        """
        file = self.path / TRACKS_CSV
        try:
            table = read_tracks_csv(file)
        except Exception as exc:  # Arrow raises several types for damaged CSV
            raise self._damaged(TRACKS_CSV, exc) from exc
        missing = [c for c in TRACK_COLUMNS if c not in table.columns]
        if missing:
            raise CatalogueError(f"{file}: missing column(s) {', '.join(missing)}. {FIX}")
        if table.empty:
            raise CatalogueError(f"{file}: lists no tracks. {FIX}")
        table = table[TRACK_COLUMNS].copy()
        table["confidence"] = pd.to_numeric(table["confidence"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        problems = [*id_problems(table), ("a confidence that is not a number", ~np.isfinite(table["confidence"]))]
        refuse_bad_rows(file, table, problems, error=CatalogueError, fix=FIX)
        if len(table) != self.info.n_tracks:
            raise CatalogueError(
                f"{file}: {len(table)} tracks, but manifest.json's n_tracks says {self.info.n_tracks}. {FIX}"
            )
        _release_arrow_memory()
        return table

    @cached_property
    def _media_roots(self) -> list[Path]:
        return library_roots(self.info.root)

    def media_path(self, track_id: str) -> Path | None:
        """The file of ``track_id`` when it may be played (the one rule for served files,
        :func:`genrec.runs.media.vetted_path`, applied now), else None."""
        file = track_file(self.root, track_id)
        return None if file is None else vetted_path(file, self._media_roots)

    def rows(self, positions: np.ndarray | list[int]) -> pd.DataFrame:
        """The tracks at ``positions`` (rows of :attr:`table`, in the order given) with ``path`` (empty where
        the file may not be played, checked now: :meth:`media_path`) and ``split`` = ``catalogue``."""
        rows = self.table.iloc[np.asarray(positions, dtype=np.intp)].reset_index(drop=True)
        rows = rows.astype(dict.fromkeys(_FEW_VALUES, rows["track_id"].dtype))  # plain text again, as a run's
        paths = [self.media_path(t) for t in rows["track_id"]]
        rows["path"] = [str(p) if p is not None else "" for p in paths]
        rows["split"] = CATALOGUE_SPLIT
        return rows

    def named(self, track_ids: list[str]) -> pd.DataFrame:
        """:meth:`rows` of the tracks with these ids, in the order given; KeyError naming an id it lacks."""
        column = pa.array(self.table["track_id"].array)
        found = np.flatnonzero(pc.is_in(column, value_set=pa.array(track_ids, pa.string())).to_numpy(False))
        at = dict(zip(column.take(found).to_pylist(), found.tolist()))
        missing = [t for t in track_ids if t not in at]
        if missing:
            raise KeyError(f"catalogue {self.name} has no track {missing[0]!r}")
        return self.rows([at[t] for t in track_ids])

    def track_with_digest(self, digest: str) -> str | None:
        """The first track whose file has this content (SHA-256 as recorded), else None."""
        at = pc.index(pa.array(self.table["digest"].array), digest).as_py()
        return None if at < 0 else str(self.table["track_id"].iat[at])

    @property
    def tracks(self) -> pd.DataFrame:
        """Every track with ``path`` and ``split`` (:meth:`rows`); checks every file, so a minute at a million
        tracks: answers use :meth:`named`, and counts :attr:`table`."""
        return self.rows(np.arange(len(self.table)))

    @cached_property
    def skipped(self) -> pd.DataFrame:
        try:
            return pd.read_csv(self.path / "skipped.csv", dtype=str, keep_default_na=False)
        except Exception as exc:
            raise self._damaged("skipped.csv", exc) from exc

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """``track_id``, ``embeddings`` and ``probabilities``, aligned with :attr:`table`."""
        return load_track_arrays(self.path / EMBEDDINGS_NPZ, self.table, CatalogueError, FIX)

    @cached_property
    def index(self) -> VectorIndex:
        """The search index the manifest names, memory-mapped; exact search where that cannot be had.

        :attr:`index_fallback` says why when the catalogue is searched otherwise than it was built.
        """
        if self.index_kind == AnnIndex.kind and not self.index_fallback:
            try:
                # the tracks' ids in order, shared with the table: not a million Python strings more
                ids = TextIds(pa.array(self.table["track_id"].array))
                return AnnIndex.load(self.path / ANN_FOLDER, ids=ids, values_checked=self._ann_checked)
            except (OSError, ValueError) as exc:
                raise self._damaged(ANN_FOLDER, exc) from exc
            finally:
                _release_arrow_memory()
        return ExactIndex.build(self.table["track_id"].tolist(), self.arrays["embeddings"])

    @property
    def index_fallback(self) -> str:
        """Why this catalogue is searched exactly although it was built otherwise ("" when it is not)."""
        kind, n = self.index_kind, self.info.n_tracks
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
        return self.index_fallback or self.info.index.reason


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
                except Exception as exc:  # a check not foreseen must not hide the good catalogues beside it
                    log.exception("could not open catalogue %s", path)
                    bad.append((path, f"{path}: could not be read ({type(exc).__name__}: {exc}). {FIX}"))
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
