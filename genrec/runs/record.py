"""A run folder's files parsed and checked once, into frozen typed records.

Run folders travel between machines, so ``run.json``, ``metrics.json``,
``tracks.csv``, the shapes in ``embeddings.npz`` and the input/output sizes in
``model.keras`` are treated as untrusted: every field the rest of genrec reads
is checked for its type, and sizes that must agree are compared (genres vs the
model's outputs and the probabilities' width, tracks vs embeddings, the
spectrogram size vs the model's input). A failed check raises
:class:`~genrec.errors.RunError` naming the file and the field.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from genrec.config import ARCHITECTURES
from genrec.errors import GenrecError, RunError

#: Split names a track may carry ("unlisted": absent from the split files it was trained with).
TRACK_SPLITS = ("train", "valid", "test", "unlisted")
TRACK_COLUMNS = ("track_id", "path", "genre", "split")
#: A track's ``digest`` in tracks.csv (runs since it was recorded): the SHA-256 of its file as
#: :func:`genrec.utils.fileio.file_digest` gives it, or empty where unknown.
DIGEST_PATTERN = r"[0-9a-f]{64}|"
LIBRARY_KINDS = ("audio", "image")
_FIX = "Retrain the run, or copy the whole run folder again."


class Fields:
    """Typed access to one JSON object of a run (or catalogue) file; errors name the file and the key path.

    ``error`` and ``fix`` (what to do, ending each message) default to a run's; a catalogue passes its own.
    """

    def __init__(
        self, file: Path, data: Any, where: str = "", *, error: type[GenrecError] = RunError, fix: str = _FIX
    ) -> None:
        if not isinstance(data, dict):
            raise error(f"{file}: {where or 'the file'} must be a JSON object, not {_kind(data)}. {fix}")
        self.file, self.data, self.where, self.error, self.fix = file, data, where, error, fix

    def _fail(self, key: str, expected: str, value: Any = None, missing: bool = False) -> GenrecError:
        name = f"{self.where}.{key}" if self.where else key
        got = "it is missing" if missing else f"got {_kind(value)} {_short(value)}"
        return self.error(f"{self.file}: '{name}' must be {expected}; {got}. {self.fix}")

    def get(self, key: str, expected: str, check, *, optional: bool = False, default: Any = None) -> Any:
        if key not in self.data or (optional and self.data[key] is None):
            if optional:
                return default
            raise self._fail(key, expected, missing=True)
        value = self.data[key]
        if not check(value):
            raise self._fail(key, expected, value)
        return value

    def text(self, key: str, **kw) -> str:
        return self.get(key, "a text", lambda v: isinstance(v, str), **kw)

    def name(self, key: str, **kw) -> str:
        return self.get(key, "a non-empty text", lambda v: isinstance(v, str) and v.strip() != "", **kw)

    def flag(self, key: str, **kw) -> bool:
        return self.get(key, "true or false", lambda v: isinstance(v, bool), **kw)

    def integer(self, key: str, minimum: int = 0, **kw) -> int:
        return self.get(
            key,
            f"a whole number ≥ {minimum}",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum,
            **kw,
        )

    def number(self, key: str, positive: bool = False, **kw) -> float | None:
        ok = (lambda v: _is_number(v) and v > 0 and math.isfinite(v)) if positive else _is_number
        value = self.get(key, "a positive number" if positive else "a number", ok, **kw)
        return None if value is None else float(value)

    def child(self, key: str, optional: bool = False) -> Fields | None:
        if optional and self.data.get(key) is None:
            return None
        value = self.get(key, "a JSON object", lambda v: isinstance(v, dict))
        return Fields(self.file, value, f"{self.where}.{key}" if self.where else key, error=self.error, fix=self.fix)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if _is_number(value) else type(value).__name__
    )


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _merged(saved: Mapping[str, Any], **typed: Any) -> dict[str, Any]:
    """``saved`` with the ``typed`` values over it; a None is written only where the saved object had the key."""
    return {**saved, **{k: v for k, v in typed.items() if v is not None or k in saved}}


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class WeightsInfo:
    """Where the backbone's starting weights came from."""

    kind: str  # "imagenet", "none" (random init) or "file"
    label: str  # how it is shown: "ImageNet", "random init", "file x.h5"
    file: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class LibraryInfo:
    """The library a run was trained on."""

    name: str
    label: str
    root: str  # the folder its tracks lie under (library media is served only from there)
    kind: str  # "audio" or "image" (pre-rendered spectrogram pictures)
    synthetic: bool
    fingerprint: str
    split_method: str
    n_tracks: int | None


@dataclass(frozen=True)
class SpectrogramParams:
    """Every parameter that shaped the model's input images."""

    kind: str
    size: int
    clip_seconds: float
    chunk_seconds: float | None
    raw: Mapping[str, Any] = field(repr=False)  # the full saved dict (the cache key's parameters)


@dataclass(frozen=True)
class RunConfig:
    """The training settings of a run (``run.json``'s ``config``)."""

    epochs: int
    input_size: int
    last_four_trainable: bool
    chunk_seconds: float | None
    clip_seconds: float
    batch_size: int | None
    learning_rate: float | None
    seed: int | None
    feature_norm: bool | None
    raw: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class RunRecord:
    """``run.json`` checked: what was trained, on what, from which weights, and when."""

    arch: str
    genres: tuple[str, ...]
    weights: WeightsInfo
    library: LibraryInfo
    spectrogram: SpectrogramParams
    config: RunConfig
    created: str  # ISO 8601 timestamp, as saved
    created_at: datetime  # the same, timezone-aware (UTC when saved without a zone)
    epochs_run: int
    best_epoch: int | None
    timings: Mapping[str, float]
    predictor: str | None
    trainable_backbone_layers: tuple[str, ...]
    run_id: str | None = None  # the folder name it was written under (None in runs saved before it was)
    #: the whole saved object, with the fields genrec records but does not read back (device, versions, ...)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, file: Path, data: Any) -> RunRecord:
        """Check ``run.json``'s content (``data``, as parsed from ``file``); RunError naming the field at fault."""
        return _record(file, data)

    def to_json(self) -> dict[str, Any]:
        """The JSON object :meth:`from_json` reads back: the typed fields over the saved object (which keeps
        what genrec records but does not read back: device, versions, image counts, ...)."""
        raw = self.raw
        w, lib = self.weights, self.library
        return _merged(
            raw,
            arch=self.arch,
            genres=list(self.genres),
            weights=_merged(raw.get("weights", {}), kind=w.kind, label=w.label, file=w.file, sha256=w.sha256),
            library=_merged(
                raw.get("library", {}),
                name=lib.name,
                label=lib.label,
                root=lib.root,
                kind=lib.kind,
                synthetic=lib.synthetic,
                fingerprint=lib.fingerprint,
                split_method=lib.split_method,
                n_tracks=lib.n_tracks,
            ),
            spectrogram=dict(self.spectrogram.raw),
            config=dict(self.config.raw),
            created=self.created,
            epochs_run=self.epochs_run,
            best_epoch=self.best_epoch,
            timings_seconds=dict(self.timings),
            predictor=self.predictor,
            trainable_backbone_layers=list(self.trainable_backbone_layers),
            run_id=self.run_id,
        )

    @property
    def split_method(self) -> str:
        return self.library.split_method

    @property
    def train_seconds(self) -> float:
        return float(sum(self.timings.values()))


@dataclass(frozen=True)
class SplitMetrics:
    """One split's classification figures; ``raw`` is the saved dict (report and confusion matrix)."""

    accuracy: float
    n: int
    macro_f1: float
    chunk_accuracy: float | None
    labels: tuple[str, ...]  # the genres, in the order of the confusion matrix's rows and columns
    confusion_matrix: tuple[tuple[float, ...], ...]  # counts: rows true genre, columns predicted
    #: precision, recall, f1-score and support: per genre, and the macro and weighted averages
    per_genre: Mapping[str, Mapping[str, float]]
    macro_avg: Mapping[str, float]
    weighted_avg: Mapping[str, float]
    raw: Mapping[str, Any] = field(repr=False)


def paper_table(labels, per_genre: dict, n: int, accuracy: float, macro_avg: dict, weighted_avg: dict) -> pd.DataFrame:
    """The paper's classification table from its parts, as :class:`SplitMetrics` holds them: a row per genre,
    then accuracy, macro avg and weighted avg (:func:`genrec.evaluate.metrics.report_frame` takes a metrics dict)."""
    rows = {g: per_genre[g] for g in labels}
    rows["accuracy"] = {"precision": np.nan, "recall": np.nan, "f1-score": accuracy, "support": n}
    rows["macro avg"] = macro_avg
    rows["weighted avg"] = weighted_avg
    frame = pd.DataFrame(rows).T[["precision", "recall", "f1-score", "support"]]
    frame["support"] = frame["support"].astype(int)
    return frame


@dataclass(frozen=True)
class RetrievalMetrics:
    """Test queries against the train split: precision@k, mAP and chance level."""

    k: int
    precision_at_k: float
    map: float
    chance: float
    top1_agreement: float
    other_artists: float | None
    n_queries: int
    n_base: int


@dataclass(frozen=True)
class HubnessMetrics:
    """Hubness of a library's recommendations (every clip as a query against all others; see
    :mod:`genrec.evaluate.hubness`): skewness of the k-occurrence, share never recommended, largest one."""

    k: int
    n: int  # library size
    skewness: float
    never_recommended: float  # a share of the library (NaN for an empty one)
    max_k_occurrence: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any], file: Path = Path("metrics.json")) -> HubnessMetrics:
        """The figures as :func:`genrec.evaluate.hubness.hubness_report` gives and metrics.json saves them."""
        return _hubness(Fields(file, dict(data), "hubness"))

    def to_json(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "n": self.n,
            "skewness": self.skewness,
            "never_recommended": self.never_recommended,
            "max_k_occurrence": self.max_k_occurrence,
        }


@dataclass(frozen=True)
class RunMetrics:
    """``metrics.json`` checked."""

    test: SplitMetrics
    valid: SplitMetrics | None
    retrieval: RetrievalMetrics | None
    #: The hubness figures as saved (runs evaluated before they were recorded have none).
    hubness: HubnessMetrics | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, file: Path, data: Any, genres: tuple[str, ...]) -> RunMetrics:
        """Check ``metrics.json``'s content against the run's ``genres``; RunError naming the field at fault."""
        return _metrics(file, data, genres)

    def to_json(self) -> dict[str, Any]:
        """The JSON object :meth:`from_json` reads back (the figures as saved)."""
        return dict(self.raw)

    def split(self, name: str) -> SplitMetrics:
        found = {"test": self.test, "valid": self.valid}.get(name)
        if found is None:
            raise RunError(f"this run has no {name} split figures in metrics.json.")
        return found


# --------------------------------------------------------------------------- parsing
def read_json(path: Path) -> Any:
    """A run file's JSON; RunError naming it when unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path}: unreadable ({exc}). {_FIX}") from exc


def _timestamp(file: Path, value: Any) -> datetime:
    try:
        stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        stamp = None
    if stamp is None:
        raise RunError(
            f"{file}: 'created' must be an ISO 8601 timestamp text such as "
            f"2024-05-01T12:00:00+00:00; got {_kind(value)} {_short(value)}. {_FIX}"
        )
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _weights(w: Fields) -> WeightsInfo:
    return WeightsInfo(w.name("kind"), w.name("label"), w.text("file", optional=True), w.text("sha256", optional=True))


def _library(lib: Fields) -> LibraryInfo:
    return LibraryInfo(
        name=lib.name("name"),
        label=lib.name("label"),
        root=lib.text("root"),
        kind=lib.get("kind", f"one of {', '.join(LIBRARY_KINDS)}", lambda v: v in LIBRARY_KINDS),
        synthetic=lib.flag("synthetic", optional=True, default=False),
        fingerprint=lib.text("fingerprint", optional=True, default=""),
        split_method=lib.text("split_method", optional=True, default=""),
        n_tracks=lib.integer("n_tracks", minimum=1, optional=True),
    )


def _config(c: Fields, arch: str) -> RunConfig:
    config = RunConfig(
        epochs=c.integer("epochs", minimum=1),
        input_size=c.integer("input_size", minimum=1),
        last_four_trainable=c.flag("last_four_trainable"),
        chunk_seconds=c.number("chunk_seconds", positive=True, optional=True),
        clip_seconds=c.number("clip_seconds", positive=True, optional=True, default=30.0),
        batch_size=c.integer("batch_size", minimum=1, optional=True),
        learning_rate=c.number("learning_rate", positive=True, optional=True),
        seed=c.integer("seed", optional=True),
        feature_norm=c.flag("feature_norm", optional=True),
        raw=dict(c.data),
    )
    if c.data.get("arch", arch) != arch:
        raise c._fail("arch", f"the run's architecture '{arch}'", c.data["arch"])
    return config


def _spectrogram(s: Fields, library: LibraryInfo, config: RunConfig) -> SpectrogramParams:
    return SpectrogramParams(
        kind=s.get("kind", f"the library kind '{library.kind}'", lambda v: v == library.kind),
        size=s.get(
            "size",
            f"the model input size {config.input_size} (config.input_size)",
            lambda v: v == config.input_size and isinstance(v, int) and not isinstance(v, bool),
        ),
        clip_seconds=s.number("clip_seconds", positive=True, optional=True, default=30.0),
        chunk_seconds=s.number("chunk_seconds", positive=True, optional=True),
        raw=dict(s.data),
    )


def _record(file: Path, data: Any) -> RunRecord:
    """Check ``run.json``'s content (see :meth:`RunRecord.from_json`)."""
    top = Fields(file, data)
    arch = top.get("arch", f"one of {', '.join(ARCHITECTURES)}", lambda v: v in ARCHITECTURES)
    genres = top.get(
        "genres",
        "a list of distinct genre names",
        lambda v: (
            isinstance(v, list) and len(v) >= 2 and all(isinstance(g, str) and g for g in v) and len(set(v)) == len(v)
        ),
    )
    weights = _weights(top.child("weights"))
    library = _library(top.child("library"))
    config = _config(top.child("config"), arch)
    spectrogram = _spectrogram(top.child("spectrogram"), library, config)
    created_at = _timestamp(file, data.get("created"))
    epochs_run = top.integer("epochs_run", minimum=1)
    timings = top.get(
        "timings_seconds",
        "an object of seconds per stage",
        lambda v: isinstance(v, dict) and all(_is_number(t) for t in v.values()),
    )
    layers = top.get(
        "trainable_backbone_layers",
        "a list of layer names",
        lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v),
        optional=True,
        default=[],
    )
    return RunRecord(
        arch=arch,
        genres=tuple(genres),
        weights=weights,
        library=library,
        spectrogram=spectrogram,
        config=config,
        created=data["created"],
        created_at=created_at,
        epochs_run=epochs_run,
        best_epoch=top.integer("best_epoch", minimum=1, optional=True),
        timings={k: float(v) for k, v in timings.items()},
        predictor=top.text("predictor", optional=True),
        trainable_backbone_layers=tuple(layers),
        run_id=top.text("run_id", optional=True),
        raw=dict(data),
    )


def _split_metrics(m: Fields, genres: tuple[str, ...]) -> SplitMetrics:
    n = m.integer("n")
    labels = m.get("labels", f"the run's genres ({len(genres)})", lambda v: tuple(v or ()) == genres)
    per_genre = m.get(
        "per_genre",
        "an object with figures for every genre",
        lambda v: isinstance(v, dict) and all(isinstance(v.get(g), dict) for g in labels),
    )
    confusion = m.get(
        "confusion_matrix",
        f"a {len(genres)}×{len(genres)} matrix of counts",
        lambda v: (
            isinstance(v, list)
            and len(v) == len(genres)
            and all(isinstance(r, list) and len(r) == len(genres) and all(_is_number(x) for x in r) for r in v)
        ),
    )
    macro = m.child("macro avg")
    weighted = m.child("weighted avg")
    return SplitMetrics(
        accuracy=m.number("accuracy"),
        n=n,
        macro_f1=macro.number("f1-score"),
        chunk_accuracy=m.number("chunk_accuracy", optional=True),
        labels=tuple(labels),
        confusion_matrix=tuple(tuple(float(x) for x in row) for row in confusion),
        per_genre={g: dict(per_genre[g]) for g in labels},
        macro_avg=dict(macro.data),
        weighted_avg=dict(weighted.data),
        raw=dict(m.data),
    )


def _retrieval(r: Fields) -> RetrievalMetrics:
    return RetrievalMetrics(
        k=r.integer("k", minimum=1),
        precision_at_k=r.number("precision_at_k"),
        map=r.number("map"),
        chance=r.number("chance"),
        top1_agreement=r.number("top1_agreement"),
        other_artists=r.number("precision_at_k_other_artists", optional=True, default=None),
        n_queries=r.integer("n_queries"),
        n_base=r.integer("n_base"),
    )


def _hubness(h: Fields) -> HubnessMetrics:
    return HubnessMetrics(
        k=h.integer("k"),
        n=h.integer("n"),
        skewness=h.number("skewness"),
        never_recommended=h.number("never_recommended"),
        max_k_occurrence=h.integer("max_k_occurrence"),
    )


def _metrics(file: Path, data: Any, genres: tuple[str, ...]) -> RunMetrics:
    """Check ``metrics.json`` against the run's genres (see :meth:`RunMetrics.from_json`)."""
    top = Fields(file, data)
    valid = top.child("valid", optional=True)
    r = top.child("retrieval", optional=True)
    h = top.child("hubness", optional=True)
    return RunMetrics(
        test=_split_metrics(top.child("test"), genres),
        valid=None if valid is None else _split_metrics(valid, genres),
        retrieval=None if r is None else _retrieval(r),
        hubness=None if h is None else _hubness(h),
        raw=dict(data),
    )


def id_problems(tracks: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """The track-id faults any ``tracks.csv`` must be free of: (what, rows having it)."""
    return [
        ("an empty track_id", tracks["track_id"].str.strip() == ""),
        ("a repeated track_id", _repeated(tracks["track_id"])),
    ]


def _repeated(ids: pd.Series) -> pd.Series:
    """Rows whose id an earlier row has. Ids that Arrow stores are counted there first: when all differ (the
    usual case) a million of them are checked without pandas' hash table of them, hundreds of MB kept."""
    arrow = isinstance(ids.dtype, pd.StringDtype) and ids.dtype.storage == "pyarrow"
    if arrow and pc.count_distinct(pa.array(ids.array)).as_py() == len(ids):
        return pd.Series(False, index=ids.index)
    return ids.duplicated()


def refuse_bad_rows(
    file: Path,
    tracks: pd.DataFrame,
    problems: list[tuple[str, pd.Series]],
    *,
    error: type[GenrecError] = RunError,
    fix: str = _FIX,
) -> None:
    """``error`` naming the first row (as numbered in the CSV) of the first of ``problems`` that any row has."""
    for what, bad in problems:
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise error(f"{file}: row {row + 2} has {what} ({_short(tracks.iloc[row]['track_id'])}). {fix}")


def check_tracks(file: Path, tracks: pd.DataFrame, record: RunRecord) -> pd.DataFrame:
    """Check ``tracks.csv``: its columns, unique ids, known genres and splits, content digests where recorded;
    ``artist`` added when absent."""
    missing = [c for c in TRACK_COLUMNS if c not in tracks.columns]
    if missing:
        raise RunError(f"{file}: missing column(s) {', '.join(missing)} (it needs {', '.join(TRACK_COLUMNS)}). {_FIX}")
    if tracks.empty:
        raise RunError(f"{file}: lists no tracks. {_FIX}")
    problems = [
        *id_problems(tracks),
        (f"a genre outside the run's genres ({', '.join(record.genres)})", ~tracks["genre"].isin(record.genres)),
        (f"a split other than {', '.join(TRACK_SPLITS)}", ~tracks["split"].isin(TRACK_SPLITS)),
    ]
    if "digest" in tracks.columns:  # older runs have none; a copied run may carry anything
        problems.append(("a digest that is not a SHA-256 hex digest", ~tracks["digest"].str.fullmatch(DIGEST_PATTERN)))
    refuse_bad_rows(file, tracks, problems)
    n = record.library.n_tracks
    if n is not None and n != len(tracks):
        raise RunError(f"{file}: {len(tracks)} tracks, but run.json's library.n_tracks says {n}. {_FIX}")
    if "artist" not in tracks.columns:
        tracks = tracks.assign(artist="")
    return tracks


def _npy_shape(archive: zipfile.ZipFile, name: str) -> tuple[int, ...]:
    with archive.open(f"{name}.npy") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, _ = read(f)
    return tuple(shape)


def embedding_shapes(file: Path, *, error: type[GenrecError] = RunError, fix: str = _FIX) -> dict[str, tuple[int, ...]]:
    """The shapes of ``track_id``, ``embeddings`` and ``probabilities`` in an ``embeddings.npz``, read
    without loading the arrays; ``error`` when the file is unreadable or lacks one of them."""
    try:
        with zipfile.ZipFile(file) as archive:
            return {k: _npy_shape(archive, k) for k in ("track_id", "embeddings", "probabilities")}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise error(f"{file}: unreadable or incomplete ({exc}). {fix}") from exc


def check_embeddings(
    file: Path,
    n_tracks: int,
    n_genres: int,
    dim: int | None = None,
    *,
    error: type[GenrecError] = RunError,
    fix: str = _FIX,
) -> tuple[int, ...]:
    """Check the array shapes in ``embeddings.npz`` without loading them; return the embeddings' shape.

    ``dim``, when given, is the width the embeddings must have (a catalogue's: its run's).
    """
    shapes = embedding_shapes(file, error=error, fix=fix)
    expected = {"track_id": (n_tracks,), "probabilities": (n_tracks, n_genres)}
    for key, shape in expected.items():
        if shapes[key] != shape:
            raise error(
                f"{file}: '{key}' has shape {shapes[key]}, but tracks.csv and the run's genres need {shape}. {fix}"
            )
    emb = shapes["embeddings"]
    if len(emb) != 2 or emb[0] != n_tracks or emb[1] < 1:
        raise error(f"{file}: 'embeddings' has shape {emb}, not ({n_tracks}, units). {fix}")
    if dim is not None and emb[1] != dim:
        raise error(f"{file}: embeddings are {emb[1]} wide, but the run's model gives {dim}-wide ones. {fix}")
    return emb


def check_model(file: Path, record: RunRecord) -> None:
    """Check ``model.keras``'s input size and genre outputs against run.json, reading only its config.

    This opens the archive's directory, so a truncated or damaged file is named here as damaged.
    """
    try:
        with zipfile.ZipFile(file) as archive:
            config = json.loads(archive.read("config.json"))
            if "model.weights.h5" not in archive.namelist():
                raise KeyError("model.weights.h5")
        layers = {layer.get("name") or layer["config"]["name"]: layer for layer in config["config"]["layers"]}
        inputs = [lay for lay in layers.values() if lay.get("class_name") == "InputLayer"]
        shape = inputs[0]["config"].get("batch_shape") or inputs[0]["config"]["batch_input_shape"]
        units = layers["genre"]["config"]["units"]
    except (OSError, KeyError, IndexError, TypeError, ValueError, zipfile.BadZipFile) as exc:
        raise RunError(
            f"{file}: the model file is damaged or incomplete ({type(exc).__name__}: {exc}). {_FIX}"
        ) from exc
    size = record.spectrogram.size
    if list(shape[1:]) != [size, size, 3]:
        raise RunError(
            f"{file}: the model takes {shape[1]}×{shape[2]}-px images, but run.json's spectrogram.size "
            f"is {size}; its answers would be wrong. {_FIX}"
        )
    if units != len(record.genres):
        raise RunError(
            f"{file}: the model has {units} genre outputs, but run.json lists {len(record.genres)} genres. {_FIX}"
        )
