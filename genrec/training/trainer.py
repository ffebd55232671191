"""Train one architecture on one library and save the result as a run.

The frozen part of the network is run once per (track, chunk) and its output
cached in memory; only the trainable tail is fitted on that cache. Because the
tail shares its layers with the full model, this trains the full model itself
— the same model a naive ``model.fit`` on images gives, at a fraction of the cost.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils.class_weight import compute_class_weight

import genrec.audio.cache as cache
from genrec.config import (
    CLIP_SECONDS,
    DEFAULT_WEIGHTS,
    GENRE_INDEX,
    GENRES,
    MAX_BATCH_SIZE,
    MAX_CHUNKS_PER_CLIP,
    MAX_CLIP_SECONDS,
    MAX_EPOCHS,
    MAX_INPUT_SIZE,
    MAX_LEARNING_RATE,
    MAX_PER_GENRE,
    MAX_SEED,
    MIN_CHUNK_SECONDS,
    MIN_CLIP_SECONDS,
    MIN_INPUT_SIZE,
    MIN_LEARNING_RATE,
)
from genrec.data.library import Library, load_library
from genrec.errors import AudioError, GenrecError, LibraryError
from genrec.evaluate.report import run_metrics
from genrec.model.lite_features import extract_with_litert, worth_converting
from genrec.model.pooling import EXTRACT_BATCH, chunk_accuracy, clip_predictions
from genrec.model.quantize import FloatPooled, float_pooled, quantize_or_none
from genrec.runs.reader import Run
from genrec.runs.writer import write_run
from genrec.utils.paths import runs_home
from genrec.utils.progress import ProgressFn, per_stage, silent
from genrec.utils.versions import package_versions


@dataclass
class TrainConfig:
    """Every parameter of a training run; stored verbatim in ``run.json``."""

    arch: str
    library: str = "demo"
    epochs: int = 20
    last_four_trainable: bool = False
    weights: str = DEFAULT_WEIGHTS  # tests, the demo and the benchmarks pass "none" (offline)
    seed: int = 0
    chunk_seconds: float | None = None
    clip_seconds: float = CLIP_SECONDS  # the analysis window cut from the middle of each file
    batch_size: int = 64
    input_size: int = 224
    learning_rate: float = 1e-3
    dropout: float = 0.2
    embedding_units: int = 256
    feature_norm: bool = True  # False: the paper's head exactly (see genrec.model.network.build_model)
    patience: int = 5
    split_seed: int = 0
    split_dir: str | None = None  # older spelling of split=<folder>; wins when given
    split: str = "paper"  # "paper", "filtered" or a folder of split files (genrec.data.library.resolve_split)
    max_per_genre: int | None = None
    out: str = field(default_factory=lambda: str(runs_home()))

    def __post_init__(self) -> None:
        check_window(self.clip_seconds, self.chunk_seconds)
        check_settings(self)


def check_settings(cfg: TrainConfig) -> None:
    """Refuse settings that would crash training, save a meaningless run or outgrow the machine (GenrecError
    naming the option and its allowed range, genrec.config's bounds).

    The CLI's argument types give the same limits at parse time; this guards the Python API.
    """
    whole = {
        "epochs": (1, MAX_EPOCHS),
        "batch_size": (1, MAX_BATCH_SIZE),
        "input_size": (MIN_INPUT_SIZE, MAX_INPUT_SIZE),
        "patience": (0, MAX_EPOCHS),
        "seed": (0, MAX_SEED),
        "split_seed": (0, MAX_SEED),
    }
    if cfg.max_per_genre is not None:  # None: every clip
        whole["max_per_genre"] = (1, MAX_PER_GENRE)
    for name, (low, high) in whole.items():
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise GenrecError(f"--{name.replace('_', '-')} {value!r}: use a whole number in {low}..{high}.")
    rate = cfg.learning_rate
    if not (isinstance(rate, (int, float)) and MIN_LEARNING_RATE <= rate <= MAX_LEARNING_RATE):  # also refuses nan
        raise GenrecError(
            f"--learning-rate {rate!r}: use a number in {MIN_LEARNING_RATE:g}..{MAX_LEARNING_RATE:g}, e.g. 0.001."
        )


def check_window(clip_seconds: float, chunk_seconds: float | None) -> None:
    """Refuse an analysis window or chunk length no file could satisfy, or that would cut a window into more
    chunks than the images' memory allows (AudioError saying what to use).

    Checked before any audio work, rather than failing once per file minutes later.
    """
    if not clip_seconds >= MIN_CLIP_SECONDS:  # also refuses nan
        raise AudioError(
            f"--clip-seconds {clip_seconds:g} is below the {MIN_CLIP_SECONDS:g}-s minimum clip length; "
            f"use {MIN_CLIP_SECONDS:g}..{MAX_CLIP_SECONDS:g}."
        )
    if clip_seconds > MAX_CLIP_SECONDS:
        raise AudioError(
            f"--clip-seconds {clip_seconds:g} is above the {MAX_CLIP_SECONDS:g} s that whole-song analysis covers; "
            f"use {MIN_CLIP_SECONDS:g}..{MAX_CLIP_SECONDS:g}."
        )
    if chunk_seconds is None:
        return
    if not MIN_CHUNK_SECONDS <= chunk_seconds <= clip_seconds:
        raise AudioError(
            f"--chunk-seconds {chunk_seconds:g} must be at least {MIN_CHUNK_SECONDS:g} and at most the "
            f"{clip_seconds:g}-s analysis window (--clip-seconds)."
        )
    chunks = int(clip_seconds // chunk_seconds)
    if chunks > MAX_CHUNKS_PER_CLIP:
        raise AudioError(
            f"--chunk-seconds {chunk_seconds:g} cuts the {clip_seconds:g}-s window into {chunks} chunks, more "
            f"than the {MAX_CHUNKS_PER_CLIP} whose images fit in memory; use "
            f"{clip_seconds / MAX_CHUNKS_PER_CLIP:g}..{clip_seconds:g}."
        )


@dataclass
class Prepared:
    """A library's images for one configuration, with per-image owners and labels."""

    tracks: pd.DataFrame  # the library rows used, in order
    images: np.ndarray  # uint8 (N_images, s, s, 3)
    owner: np.ndarray  # row index in ``tracks`` of each image
    labels: np.ndarray  # genre index of each track
    cache_hits: int = 0

    def image_mask(self, split: str) -> np.ndarray:
        return (self.tracks["split"].to_numpy() == split)[self.owner]


def select_tracks(library: Library, max_per_genre: int | None = None) -> pd.DataFrame:
    """The rows a run uses: every listed track, or the first ``max_per_genre`` of each genre per split.

    Tracks no split file lists (``unlisted``: the artist-filtered split leaves out GTZAN's repeats and
    mislabelled clips) are neither trained on, evaluated, nor recommended.
    """
    tracks = library.tracks[library.tracks["split"] != "unlisted"]
    if max_per_genre is not None:
        tracks = tracks.groupby(["genre", "split"], sort=False, group_keys=False).head(max_per_genre)
    return tracks.reset_index(drop=True)


def warm_spectrograms(cfg: TrainConfig, library: Library, stop: threading.Event | None = None) -> None:
    """Make and cache the spectrograms :func:`train` will read for ``cfg`` on ``library``, holding none of them;
    ``stop`` ends it after the current file."""
    paths = select_tracks(library, cfg.max_per_genre)["path"].tolist()
    cache.warm_library_images(paths, library.kind, cfg.chunk_seconds, cfg.input_size, cfg.clip_seconds, stop)


def prepare_images(
    library: Library,
    tracks: pd.DataFrame,
    chunk_seconds: float | None,
    size: int,
    progress: ProgressFn = silent,
    clip_seconds: float = CLIP_SECONDS,
) -> Prepared:
    """Spectrogram images (cached on disk) for the given tracks."""
    images, owner, hits = cache.library_images(
        tracks["path"].tolist(),
        library.kind,
        chunk_seconds,
        size,
        per_stage(progress, "spectrograms"),
        clip_seconds,
    )
    labels = tracks["genre"].map(GENRE_INDEX).to_numpy()
    return Prepared(tracks, images, owner, labels, hits)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the backend, and ask TensorFlow for deterministic ops."""
    import keras  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up
    import tensorflow as tf  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    keras.utils.set_random_seed(seed)
    with contextlib.suppress(Exception):  # older TF builds lack it; seeding alone still fixes initialisation
        tf.config.experimental.enable_op_determinism()


def compile_for_training(model, learning_rate: float) -> None:
    """Adam + sparse categorical cross-entropy, as in the paper."""
    import keras  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def class_weights(labels: np.ndarray) -> dict[int, float] | None:
    """Balanced class weights when genres are unbalanced, else None."""

    present = np.unique(labels)
    counts = np.bincount(labels)[present]
    if counts.min() == counts.max():
        return None
    weights = compute_class_weight("balanced", classes=present, y=labels)
    return {int(c): float(w) for c, w in zip(present, weights)}


def extract(frozen, images: np.ndarray, batch_size: int, progress: ProgressFn = silent) -> list[np.ndarray]:
    """Run the frozen part over all images in batches; one array per boundary tensor."""
    outs: list[list[np.ndarray]] = []
    n = len(images)
    progress("features", 0, n)
    for start in range(0, n, batch_size):
        batch = frozen.predict_on_batch(images[start : start + batch_size].astype(np.float32))
        batch = batch if isinstance(batch, (list, tuple)) else [batch]
        outs.append([np.asarray(b) for b in batch])
        progress("features", min(start + batch_size, n), n)
    return [np.concatenate([o[i] for o in outs]) for i in range(len(outs[0]))]


def frozen_features(cfg: TrainConfig, frozen, images: np.ndarray, progress: ProgressFn = silent) -> list[np.ndarray]:
    """The frozen pass over all images: in LiteRT where the library is large enough to repay converting, else Keras."""

    if worth_converting(cfg.arch, len(images), cfg.input_size):
        features = extract_with_litert(frozen, images, progress)
        if features is not None:
            return features
    return extract(frozen, images, min(cfg.batch_size, EXTRACT_BATCH), progress)


def _subset(features: list[np.ndarray], mask: np.ndarray) -> list[np.ndarray]:
    return [f[mask] for f in features]


def _epoch_callback(progress: ProgressFn, epochs: int, seconds: list[float]):
    import keras  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    class EpochReport(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self._t)
            progress("epochs", epoch + 1, epochs)

    return EpochReport()


def fit_tail(
    tail, x_train, y_train, x_valid, y_valid, cfg: TrainConfig, progress: ProgressFn = silent, shuffle: bool = True
) -> pd.DataFrame:
    """Fit the trainable tail with early stopping on validation loss; return the per-epoch history."""
    import keras  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    compile_for_training(tail, cfg.learning_rate)
    seconds: list[float] = []
    callbacks = [_epoch_callback(progress, cfg.epochs, seconds)]
    has_valid = len(y_valid) > 0
    if has_valid:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience, restore_best_weights=True)
        )
    fit = tail.fit(
        x_train,
        y_train,
        validation_data=(x_valid, y_valid) if has_valid else None,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        shuffle=shuffle,
        verbose=0,
        class_weight=class_weights(y_train),
        callbacks=callbacks,
    )
    history = pd.DataFrame(fit.history)
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    history["seconds"] = seconds[: len(history)]
    progress("epochs", cfg.epochs, cfg.epochs)  # close the bar when early stopping ended it sooner
    return history


#: The packages whose versions a run records beside Python's.
RECORDED_PACKAGES = ("genrec", "tensorflow", "tensorflow-cpu", "keras", "numpy", "scipy", "soxr", "scikit-learn")


@contextlib.contextmanager
def _timed(timings: dict[str, float], stage: str):
    """Record the wall time of the ``with`` block as ``timings[stage]``."""
    t = time.perf_counter()
    yield
    timings[stage] = time.perf_counter() - t


@dataclass
class _Built:
    """The model of a run, its two halves, and where its starting weights came from."""

    model: object
    frozen: object
    tail: object
    source: object


def _library(cfg: TrainConfig, library: Library | None, progress: ProgressFn, timings: dict[str, float]) -> Library:
    library = library or load_library(
        cfg.library,
        seed=cfg.split_seed,
        split_dir=cfg.split_dir,
        split=cfg.split,
        progress=per_stage(progress, "demo library" if cfg.library == "demo" else "checking clips"),
    )
    timings["library"] = library.load_seconds
    return library


def _images(cfg: TrainConfig, library: Library, progress: ProgressFn) -> Prepared:
    selected = select_tracks(library, cfg.max_per_genre)
    return prepare_images(library, selected, cfg.chunk_seconds, cfg.input_size, progress, cfg.clip_seconds)


def _model(cfg: TrainConfig) -> _Built:
    """The network with its starting weights, split into the frozen part and the trainable tail."""
    from genrec.model.network import (  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up
        build_model,
        imagenet_source,
        split_model,
        weights_source,
    )

    set_seed(cfg.seed)
    source = weights_source(cfg.weights)
    model = build_model(
        cfg.arch,
        len(GENRES),
        weights=source,
        input_size=cfg.input_size,
        last_four_trainable=cfg.last_four_trainable,
        dropout=cfg.dropout,
        embedding_units=cfg.embedding_units,
        feature_norm=cfg.feature_norm,
    )
    if source.kind == "imagenet":  # record the file Keras downloaded (or reused) and its SHA-256
        source = imagenet_source(cfg.arch)
    frozen, tail = split_model(model)
    return _Built(model, frozen, tail, source)


def _fit(
    cfg: TrainConfig, library: Library, built: _Built, features: list[np.ndarray], prepared: Prepared, progress
) -> pd.DataFrame:
    y_img = prepared.labels[prepared.owner]
    train_mask, valid_mask = prepared.image_mask("train"), prepared.image_mask("valid")
    if not train_mask.any():
        raise LibraryError(f"library {library.name} has no training clips; check its split.")
    return fit_tail(
        built.tail,
        _subset(features, train_mask),
        y_img[train_mask],
        _subset(features, valid_mask),
        y_img[valid_mask],
        cfg,
        progress,
    )


def _embeddings(model, features: list[np.ndarray], prepared: Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image probabilities, clip probabilities, clip embeddings) of every prepared track."""
    from genrec.model.network import tail_with_embedding  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    probs_img, emb_img = tail_with_embedding(model).predict(features, batch_size=256, verbose=0)
    probs, embeddings = clip_predictions(probs_img, emb_img, prepared.owner, len(prepared.tracks))
    return probs_img, probs, embeddings


def _library_record(library: Library, n_tracks: int) -> dict:
    return {
        "name": library.name,
        "label": library.label,
        "root": str(library.root),
        "kind": library.kind,
        "synthetic": library.synthetic,
        "fingerprint": library.fingerprint(),
        "split_method": library.split_method,
        "split": library.split_name,
        "n_tracks": n_tracks,
        "unlisted_excluded": int((library.tracks["split"] == "unlisted").sum()),
    }


def _record(cfg: TrainConfig, library: Library, prepared: Prepared, built: _Built, history: pd.DataFrame) -> dict:
    """``run.json``'s content but what the writer adds (run id, predictor, timings)."""
    from genrec.model.network import (  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up
        frozen_boundary,
        trainable_backbone_layers,
        training_device,
    )

    return {
        "device": training_device(),
        "config": asdict(cfg),
        "arch": cfg.arch,
        "weights": built.source.as_dict(),
        "genres": list(GENRES),
        "library": _library_record(library, len(prepared.tracks)),
        "spectrogram": cache.params_key(library.kind, cfg.chunk_seconds, cfg.input_size, cfg.clip_seconds),
        "trainable_backbone_layers": trainable_backbone_layers(built.model),
        "frozen_boundary": [list(b.shape[1:]) for b in frozen_boundary(built.model)],
        "images": {"total": int(len(prepared.images)), "cache_hits": int(prepared.cache_hits)},
        "epochs_run": int(len(history)),
        "best_epoch": int(history["val_loss"].idxmin() + 1) if "val_loss" in history else int(len(history)),
        "versions": package_versions(RECORDED_PACKAGES, python=True),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _metrics(
    cfg: TrainConfig, prepared: Prepared, probs_img: np.ndarray, probs: np.ndarray, embeddings: np.ndarray
) -> dict:
    chunk_acc = None
    if cfg.chunk_seconds:
        chunk_acc = chunk_accuracy(probs_img, prepared.owner, prepared.labels, prepared.tracks["split"].to_numpy())
    return run_metrics(prepared.tracks, probs, embeddings, chunk_accuracy=chunk_acc)


@dataclass(frozen=True)
class TrainedRun:
    """A saved run folder, and the float features its frozen pass computed for the 8-bit step's calibration images
    (None when the frozen part does not end at the pooling, e.g. with ``last_four_trainable``)."""

    path: Path
    float_pooled: FloatPooled | None


def train(
    cfg: TrainConfig, library: Library | None = None, progress: ProgressFn = silent, *, export: bool = True
) -> Path:
    """Train ``cfg.arch`` on the library and save a complete run directory; return its path.

    ``export=False`` skips the LiteRT conversions (float and 8-bit): ``genrec build`` runs them in fresh
    processes (:func:`genrec.runs.writer.export_run`, :func:`genrec.model.quantize.quantize_or_none`)
    to keep its peak low.
    """
    return train_run(cfg, library, progress, export=export).path


def train_run(
    cfg: TrainConfig, library: Library | None = None, progress: ProgressFn = silent, *, export: bool = True
) -> TrainedRun:
    """:func:`train`, also returning what the 8-bit step can reuse of the frozen pass (:class:`TrainedRun`)."""
    timings: dict[str, float] = {}
    library = _library(cfg, library, progress, timings)
    # the network first: importing TensorFlow and building it is one core's work, which `genrec build` overlaps with
    # making the spectrograms in its own process (warm_spectrograms)
    with _timed(timings, "build"):
        built = _model(cfg)
    with _timed(timings, "spectrograms"):
        prepared = _images(cfg, library, progress)
    with _timed(timings, "features"):
        features = frozen_features(cfg, built.frozen, prepared.images, progress)
    with _timed(timings, "fit"):
        history = _fit(cfg, library, built, features, prepared, progress)
    with _timed(timings, "embed"):
        probs_img, probs, embeddings = _embeddings(built.model, features, prepared)
    record = _record(cfg, library, prepared, built, history)
    metrics = _metrics(cfg, prepared, probs_img, probs, embeddings)
    pooled = _float_pooled(built, features, prepared)
    progress("saving", 0, 1)  # the model, and its LiteRT conversion: several seconds at 224 px
    model = built.model
    del built, features  # the frozen half's features are the largest arrays of a run
    # each file's content digest (memoised when its images were made), so an upload of a library file is
    # recognised as that track (genrec.runs.reader.Run.track_with_content)
    tracks = prepared.tracks.assign(digest=[cache.file_digest(Path(p)) for p in prepared.tracks["path"]])
    run_dir = write_run(
        Path(cfg.out), record, model, history, tracks, probs, embeddings, metrics, timings, export=export
    )
    progress("saving", 1, 1)
    if export:  # optional file beside the complete run; written atomically
        quantize_or_none(Run.open(run_dir), progress, pooled)
    return TrainedRun(run_dir, pooled)


def _float_pooled(built: _Built, features: list[np.ndarray], prepared: Prepared) -> FloatPooled | None:
    """The calibration images' float pooled features, when the frozen pass computed exactly those."""
    from genrec.model.network import ends_at_pooling  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    is_train = prepared.image_mask("train")
    if not ends_at_pooling(built.frozen) or not is_train.any():
        return None
    return float_pooled(prepared.images, is_train, features[0])
