"""Reading saved training runs: one directory each under ``models/``, checked when opened.

A run holds everything needed to reload, evaluate and explain it (names: :mod:`genrec.runs.layout`):

=================  ==========================================================
``run.json``       every parameter, library fingerprint and split method,
                   weights source, package versions, wall time per stage
``model.keras``    the trained model (loaded with ``safe_mode``; a run pulled from a
                   bundle may lack it and answer with its LiteRT predictor)
``history.csv``    per epoch: loss, accuracy, val_loss, val_accuracy, seconds
``metrics.json``   test (and valid) classification report, confusion matrix,
                   retrieval figures
``tracks.csv``     the library tracks used, with genre, split, artist and the
                   SHA-256 digest of each file (runs before it was recorded
                   have none)
``embeddings.npz`` per track: L2-normalised clip embedding and probabilities
``predictor.tflite`` the model's image → (probabilities, embedding, last
                   feature map) for LiteRT, used to answer outside clips
                   without TensorFlow (optional: runs without it answer with
                   ``model.keras``)
``head.npz``       the head's weights after pooling, for Grad-CAM without
                   TensorFlow (optional; ``genrec export`` writes it)
=================  ==========================================================

The file names live in :mod:`genrec.runs.layout`; :mod:`genrec.runs.writer` writes runs (under a
temporary name, renamed when complete, so an interrupted training never leaves a half-written run behind).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
import pandas as pd

import genrec.audio.cache as cache
from genrec.data.library import demo_root
from genrec.errors import RunError
from genrec.runs.layout import (
    EMBEDDINGS_NPZ,
    HISTORY_CSV,
    METRICS_JSON,
    MODEL_KERAS,
    PREDICTOR_FILE,
    QUANTIZED_FILE,
    RUN_FILES,
    RUN_JSON,
    TMP_PREFIX,
    TRACKS_CSV,
)
from genrec.runs.media import library_roots, vetted_path
from genrec.runs.record import (
    LibraryInfo,
    RunConfig,
    RunMetrics,
    RunRecord,
    SpectrogramParams,
    WeightsInfo,
    check_embeddings,
    check_model,
    check_tracks,
    read_json,
)
from genrec.search.vectors import load_track_arrays
from genrec.utils.leftovers import remove_stale
from genrec.utils.paths import runs_home

log = logging.getLogger(__name__)
T = TypeVar("T")


class _FromRecord(Generic[T]):
    """A read-only attribute of a run that is the same-named attribute of its record: ``run.arch`` is
    ``run.info.arch``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, run, owner: type | None = None) -> T:
        if run is None:
            return self  # type: ignore[return-value]  # the descriptor itself, for introspection
        return getattr(run.info, self.name)


@dataclass
class Run:
    """A saved run, checked when opened (see :mod:`genrec.runs.record`); arrays are loaded lazily.

    Typed attributes: ``info`` (the whole :class:`~genrec.runs.record.RunRecord`), ``metrics_summary``
    (:class:`~genrec.runs.record.RunMetrics`), ``arch``, ``genres``, ``weights``, ``weights_label``,
    ``library``, ``spectrogram``, ``config``, ``created``, ``created_at``, ``split_method``, ``tracks``,
    ``embeddings`` and ``probabilities``. The records as JSON objects are ``info.to_json()`` and
    ``metrics_summary.to_json()`` (what the writer saves).
    """

    path: Path

    @classmethod
    def open(cls, path: Path | str) -> Run:
        """Open a run directory, or a run id under ``models/``; RunError naming the file and the fault."""
        path = Path(path)
        if not path.exists() and not path.is_absolute() and (runs_home() / path).exists():
            path = runs_home() / path
        if not path.is_dir():
            raise RunError(f"{path}: no such run directory. `genrec runs` lists the saved runs.")
        missing = [f for f in RUN_FILES if not (path / f).is_file()]
        if MODEL_KERAS in missing and any((path / f).is_file() for f in (PREDICTOR_FILE, QUANTIZED_FILE)):
            missing.remove(MODEL_KERAS)  # a pulled run (genrec.runs.bundle) answers with its LiteRT predictor
        if missing:
            raise RunError(
                f"{path}: incomplete run, missing {', '.join(missing)}. Retrain it, or copy the whole run folder again."
            )
        run = cls(path)
        run.check()
        return run

    def check(self) -> None:
        """Parse and cross-check every run file once, so a damaged run fails here, with its name."""
        info, tracks = self.info, self.tracks
        _ = self.metrics_summary
        check_embeddings(self.path / EMBEDDINGS_NPZ, len(tracks), len(info.genres))
        if (self.path / MODEL_KERAS).is_file():
            check_model(self.path / MODEL_KERAS, info)

    @property
    def id(self) -> str:
        return self.path.name

    @cached_property
    def info(self) -> RunRecord:
        """``run.json`` checked and typed."""
        data = read_json(self.path / RUN_JSON)
        if not isinstance(data, dict):
            raise RunError(f"{self.path / RUN_JSON}: must be a JSON object. Retrain the run or restore the file.")
        return RunRecord.from_json(self.path / RUN_JSON, data)

    @cached_property
    def metrics_summary(self) -> RunMetrics:
        """``metrics.json`` checked against the run's genres."""
        return RunMetrics.from_json(self.path / METRICS_JSON, read_json(self.path / METRICS_JSON), self.info.genres)

    @cached_property
    def history(self) -> pd.DataFrame:
        return self._csv(HISTORY_CSV)

    @cached_property
    def tracks(self) -> pd.DataFrame:
        """``tracks.csv`` checked: track_id, path, genre, split, artist (text columns)."""
        return check_tracks(self.path / TRACKS_CSV, self._csv(TRACKS_CSV, dtype=str, keep_default_na=False), self.info)

    def _csv(self, name: str, **kw) -> pd.DataFrame:
        try:
            return pd.read_csv(self.path / name, **kw)
        except Exception as exc:  # pandas raises several types for damaged CSV
            raise RunError(f"{self.path / name}: unreadable ({exc}). Retrain the run or restore the file.") from exc

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """``track_id``, ``embeddings`` (L2-normalised) and ``probabilities``, aligned with :attr:`tracks`."""
        return load_track_arrays(self.path / EMBEDDINGS_NPZ, self.tracks, RunError, "Retrain the run.")

    @property
    def embeddings(self) -> np.ndarray:
        """(tracks, units) L2-normalised clip embeddings, aligned with :attr:`tracks`."""
        return self.arrays["embeddings"]

    @property
    def probabilities(self) -> np.ndarray:
        """(tracks, genres) clip-level genre probabilities, aligned with :attr:`tracks`."""
        return self.arrays["probabilities"]

    def load_model(self):
        from genrec.model.network import load_model  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

        return load_model(self.path / MODEL_KERAS)

    arch = _FromRecord[str]()
    weights = _FromRecord[WeightsInfo]()
    library = _FromRecord[LibraryInfo]()
    spectrogram = _FromRecord[SpectrogramParams]()
    config = _FromRecord[RunConfig]()
    created = _FromRecord[str]()
    created_at = _FromRecord[datetime]()
    split_method = _FromRecord[str]()

    @property
    def genres(self) -> list[str]:
        return list(self.info.genres)

    @property
    def weights_label(self) -> str:
        return self.info.weights.label

    @property
    def split(self) -> str:
        """The split's short name: ``filtered``, ``paper``, ``files`` (older runs: from its description)."""
        return split_name(self.info.raw["library"])

    @property
    def trained_on_demo(self) -> bool:
        """Whether the run's library is the synthetic demo library, which any host regenerates from its seed."""
        return self.library.synthetic and self.library.name == "demo"

    @cached_property
    def _demo_here(self) -> Path | None:
        """This host's demo library folder, for a demo run trained on another host (or under another home)."""

        here = demo_root()
        return here if self.trained_on_demo and Path(self.library.root) != here else None

    @cached_property
    def _media_roots(self) -> list[Path]:
        roots = library_roots(self.library.root)
        return [*roots, self._demo_here.resolve()] if self._demo_here is not None else roots

    def _local(self, path: str) -> str:
        """A ``tracks.csv`` path, moved onto this host's demo library where the recorded file is not here."""
        if self._demo_here is None or not path or os.path.exists(path):
            return path
        try:
            return str(self._demo_here / Path(path).relative_to(self.library.root))
        except ValueError:  # not under the recorded root: left to vetted_path to refuse
            return path

    def media_path(self, track_id: str) -> Path | None:
        """The library file of a track when it may be read and shown (see :mod:`genrec.runs.media`), else None."""
        rows = self.tracks.loc[self.tracks["track_id"] == track_id, "path"]
        return self.media_paths(rows.iloc[:1])[0] if len(rows) else None

    def media_paths(self, paths) -> list[Path | None]:
        """:meth:`media_path` for many ``tracks.csv`` paths at once."""
        return [vetted_path(self._local(p), self._media_roots, self.library.kind) for p in paths]

    @cached_property
    def _tracks_by_digest(self) -> dict[str, str] | None:
        """Recorded digest → the first track with that content; None for a run that recorded no digests."""
        if "digest" not in self.tracks.columns:
            return None
        found: dict[str, str] = {}
        for track_id, digest in zip(self.tracks["track_id"], self.tracks["digest"]):
            if digest:
                found.setdefault(digest, track_id)
        return found

    def track_digest(self, track_id: str) -> str | None:
        """The SHA-256 of a track's file: as recorded, else (older runs) of its vetted file; None when unknown."""
        rows = self.tracks.loc[self.tracks["track_id"] == track_id]
        if not len(rows):
            return None
        if self._tracks_by_digest is not None:
            return rows["digest"].iloc[0] or None
        path = self.media_path(track_id)
        try:
            return cache.file_digest(path) if path is not None else None
        except OSError:
            return None

    def track_with_content(self, digest: str, size: int) -> str | None:
        """The library track whose file is exactly this content (SHA-256 ``digest`` of ``size`` bytes), else None.

        Only identical bytes count: a near-identical answer from the model is never taken for the track.
        Runs that recorded no digests hash their vetted library files of that size (memoised per file);
        where those files are not on this machine, nothing is recognised.
        """
        if self._tracks_by_digest is not None:
            return self._tracks_by_digest.get(digest)
        for track_id, path in self._vetted_files:
            try:
                if path.stat().st_size == size and cache.file_digest(path) == digest:
                    return track_id
            except OSError:  # a file that vanished or cannot be read is not this one
                continue
        return None

    @cached_property
    def _vetted_files(self) -> list[tuple[str, Path]]:
        """(track id, file) of the library files that may be read (vetted once: each check opens the file)."""
        paths = self.media_paths(self.tracks["path"])
        return [(t, p) for t, p in zip(self.tracks["track_id"], paths) if p is not None]

    def summary(self) -> dict:
        """One row for `genrec runs` and the dashboard's summary table."""
        info, m = self.info, self.metrics_summary
        return {
            "run": self.id,
            "arch": self.arch,
            "library": info.library.label,
            "weights": self.weights_label,
            "split": self.split,
            "last_four_trainable": info.config.last_four_trainable,
            "chunk_s": info.config.chunk_seconds,
            "epochs": info.epochs_run,
            "test_accuracy": m.test.accuracy,
            "macro_f1": m.test.macro_f1,
            "precision_at_5": m.retrieval.precision_at_k if m.retrieval else None,
            "map": m.retrieval.map if m.retrieval else None,
            "train_s": round(info.train_seconds, 1),
            "created": info.created,
        }


def split_name(library: dict) -> str:
    """A run's split as a short name: ``filtered``, ``paper`` or ``files`` (older runs: read from its description)."""
    if library.get("split"):
        return str(library["split"])
    method = str(library.get("split_method", ""))
    return (
        "filtered"
        if method.startswith("artist-filtered")
        else "paper"
        if method.startswith("stratified")
        else "files"
        if method.startswith("split files")
        else "unknown"
    )


def list_runs(root: Path | None = None) -> tuple[list[Run], list[tuple[Path, str]]]:
    """Complete runs under ``root`` (newest first) and the broken ones with the reason."""
    root = root or runs_home()
    good, bad = [], []
    if not root.is_dir():
        return good, bad
    remove_stale_runs(root)
    for path in sorted(root.iterdir()):
        if not path.is_dir() or path.name.startswith("."):
            continue
        try:
            good.append(Run.open(path))
        except RunError as exc:
            bad.append((path, str(exc)))
        except Exception as exc:  # a check not foreseen must not hide the good runs beside it
            log.exception("could not open run %s", path)
            bad.append(
                (
                    path,
                    f"{path}: could not be read ({type(exc).__name__}: {exc}). "
                    f"Retrain the run, or copy the whole run folder again.",
                )
            )
    good.sort(key=lambda r: r.created_at, reverse=True)
    return good, bad


def remove_stale_runs(root: Path | None = None) -> list[Path]:
    """Delete ``.tmp-*`` folders of runs whose writing was killed long ago; return them."""
    return remove_stale(root or runs_home(), f"{TMP_PREFIX}*")


def runs_table(runs: list[Run]) -> pd.DataFrame:
    """Summary rows of several runs."""
    return pd.DataFrame([r.summary() for r in runs])


def newest(runs: list[Run], arch: str) -> Run | None:
    """The most recent run of an architecture, if any."""
    return next((r for r in runs if r.arch == arch), None)


def runs_signature(root: Path) -> tuple[tuple[str, float], ...]:
    """A cheap fingerprint of the runs folder (names and modification times) to key caches on."""
    if not root.is_dir():
        return ()
    out = []
    for path in sorted(root.iterdir()):
        if path.is_dir() and not path.name.startswith("."):
            try:
                stamp = max((f.stat().st_mtime for f in path.iterdir()), default=path.stat().st_mtime)
            except OSError:
                stamp = 0.0
            out.append((path.name, stamp))
    return tuple(out)
