"""8-bit LiteRT predictors: the run's float network quantized, with its agreement measured.

Each run's ``predictor.tflite`` computes in float32. This module writes
``predictor-int8.tflite`` next to it: the same image → (probabilities,
embedding) network with int8 weights (float input and output are kept, so
callers see no difference). Then the 8-bit predictor answers the run's own library, and its answers are
compared with the float model's saved ones (``embeddings.npz``): top-1 genre
agreement, mean overlap of the top-5 recommendations and the largest
probability difference. These figures go to ``predictor-int8.json`` beside
the file; ``run.json`` stays as training wrote it. Serving uses the 8-bit
file only when that agreement clears the bar (:mod:`genrec.model.predict`).

Which variant ships (:data:`SHIPPED_VARIANT`) was measured: ``benchmarks/quantize_variants.py``
tries full integer (int8 activations, calibrated on a seeded sample of the run's own training
spectrograms), dynamic range and float16. The conversion route is Keras 3's: ``model.export`` to a SavedModel, then
``tf.lite.TFLiteConverter.from_saved_model``. TensorFlow is imported only
inside the functions that convert.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import genrec.audio.cache as cache
from genrec.config import TOP_K
from genrec.errors import RunError
from genrec.model.pooling import clip_predictions
from genrec.model.predict import AGREEMENT_FILE, QUANTIZED_FILE, LitePredictor, to_litert
from genrec.runs.reader import Run
from genrec.search.index import ExactIndex
from genrec.utils.fileio import atomic_write
from genrec.utils.progress import ProgressFn, silent
from genrec.utils.versions import package_versions

log = logging.getLogger(__name__)

#: How the converter is set up for each variant; "int8" is the one runs ship (benchmarks/quantize_variants.py).
VARIANTS = {
    "float": "float32 weights and activations (predictor.tflite)",
    "int8": "full integer: int8 weights and activations, float input and output",
    "dynamic": "dynamic range: int8 weights, float activations (quantized on the fly)",
    "float16": "float16 weights, float32 activations",
}
#: Dynamic range: measured fastest on this CPU and far closer to float than full integer, which on random-init
#: runs lost the genre for most tracks (benchmarks/RESULTS.md, section 8); it also needs no calibration pass.
SHIPPED_VARIANT = "dynamic"
#: Calibration images drawn (seeded) from the run's training split (full-integer "int8" only).
CALIBRATION_IMAGES = 64
CALIBRATION_SEED = 0
#: At most this many library tracks (seeded sample) answer the agreement check; the demo library has 200.
AGREEMENT_TRACKS = 400
AGREEMENT_K = TOP_K
_BATCH = 8


def convert_variant(model, variant: str = SHIPPED_VARIANT, calibration: np.ndarray | None = None) -> bytes:
    """``model``'s image → (probabilities, embedding) network as a LiteRT flatbuffer of the given variant.

    ``calibration`` (uint8 or float images, 0–255) is needed for "int8": the converter runs the float
    model over them to fix each activation's range. The conversion route is :func:`genrec.model.predict.to_litert`'s;
    unlike :func:`genrec.model.predict.write_litert` it has no feature-map output and no buffer offsets, and
    returns bytes rather than writing a file.
    """
    import tensorflow as tf  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    from genrec.model.network import with_embedding  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    if variant == "int8" and (calibration is None or not len(calibration)):
        raise ValueError("full-integer quantization needs calibration images")

    def configure(converter) -> None:
        if variant != "float":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if variant == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if variant == "int8":
            converter.representative_dataset = lambda: (
                [calibration[i : i + 1].astype(np.float32)] for i in range(len(calibration))
            )
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]

    # without the float file's buffer offsets: the variants were measured that way (benchmarks/RESULTS.md)
    return to_litert(with_embedding(model), configure=configure, defaults=False)


def calibration_sample(
    images: np.ndarray, train_mask: np.ndarray, n: int = CALIBRATION_IMAGES, seed: int = CALIBRATION_SEED
) -> np.ndarray:
    """A seeded sample of ``n`` training images (all of them when there are fewer)."""
    pool = np.flatnonzero(train_mask)
    if not len(pool):
        raise RunError("the run has no training images to calibrate the 8-bit predictor with")
    pick = np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False)
    return images[np.sort(pick)]


@dataclass
class Agreement:
    """How closely a predictor's answers on the run's library match the float model's saved ones."""

    top1_agreement: float  # share of tracks whose predicted genre is the same
    top5_overlap: float  # mean share of the top-5 recommendations in common (the track itself excluded)
    max_prob_diff: float  # largest absolute difference of any genre probability of any track
    tracks: int  # library tracks compared (a seeded sample of at most AGREEMENT_TRACKS)
    library_tracks: int


def predict_library(
    predictor, images: np.ndarray, owner: np.ndarray, n_clips: int, progress: ProgressFn = silent
) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip (probabilities, unit embedding) of ``n_clips`` library clips, ``_BATCH`` images a call.

    The pooling is training's own (:func:`genrec.model.pooling.clip_predictions`), so the agreement
    check compares like with like.
    """
    progress("8-bit: agreement", 0, n_clips)
    out_p, out_e = [], []
    for start in range(0, len(images), _BATCH):
        p, e = predictor(images[start : start + _BATCH].astype(np.float32))
        out_p.append(p)
        out_e.append(e)
    probs, embs = clip_predictions(np.concatenate(out_p), np.concatenate(out_e), owner, n_clips)
    progress("8-bit: agreement", n_clips, n_clips)
    return probs, embs


def agreement(run: Run, probs: np.ndarray, embeddings: np.ndarray, rows: np.ndarray, k: int = AGREEMENT_K) -> Agreement:
    """Compare a predictor's per-clip answers for the library ``rows`` with the run's saved float answers.

    Neighbours come from the run's saved index, as when serving: the same library, a different query vector.
    """
    ids = run.tracks["track_id"].astype(str).to_numpy()  # the arrays' order (checked when they were loaded)
    ref_p, ref_e = run.probabilities[rows], run.embeddings[rows]
    index = ExactIndex.build(list(ids), run.embeddings)
    exclude = [(t,) for t in ids[rows]]
    ref_hits = index.query_many(ref_e, k=k, exclude=exclude)
    new_hits = index.query_many(embeddings, k=k, exclude=exclude)
    overlap = [len({h[0] for h in a} & {h[0] for h in b}) / max(1, len(a)) for a, b in zip(ref_hits, new_hits)]
    return Agreement(
        top1_agreement=float((probs.argmax(1) == ref_p.argmax(1)).mean()),
        top5_overlap=float(np.mean(overlap)),
        max_prob_diff=float(np.abs(probs - ref_p).max()),
        tracks=int(len(rows)),
        library_tracks=int(len(ids)),
    )


def run_library_images(run: Run, rows: np.ndarray, progress: ProgressFn = silent) -> tuple[np.ndarray, np.ndarray]:
    """(images, owner) of the run's library tracks ``rows``, with the run's own spectrogram settings.

    A run-level wrapper of :func:`genrec.audio.cache.library_images` (cached, computed on a miss) that
    first checks the run's audio is still here.

    RunError naming the files when the run's library audio is no longer on this machine.
    """
    tracks = run.tracks.iloc[rows]
    missing = [p for p in tracks["path"] if not Path(p).is_file()]
    if missing:
        raise RunError(
            f"{run.path}: {len(missing)} of its library files are not on this machine (e.g. {missing[0]}). The "
            f"8-bit predictor is calibrated and checked on the run's own spectrograms: put the library back at "
            f"{run.library.root}, or retrain the run."
        )
    spec = run.spectrogram
    images, owner, _ = cache.library_images(
        tracks["path"].tolist(),
        spec.kind,
        spec.chunk_seconds,
        spec.size,
        lambda done, total: progress("8-bit: spectrograms", done, total),
        spec.clip_seconds,
    )
    return images, owner


def quantize_run(run: Run, model=None, progress: ProgressFn = silent) -> Path:
    """Write ``predictor-int8.tflite`` and ``predictor-int8.json`` (its agreement with float) into ``run``
    (an opened :class:`genrec.runs.reader.Run`).

    ``model`` is the run's Keras model when the caller already holds it (training); else it is loaded.
    """
    times: dict[str, float] = {}
    t = time.perf_counter()
    n = len(run.tracks)
    rows = np.arange(n)
    if n > AGREEMENT_TRACKS:
        rows = np.sort(np.random.default_rng(CALIBRATION_SEED).choice(n, AGREEMENT_TRACKS, replace=False))
    images, owner = run_library_images(run, rows, progress)
    is_train = (run.tracks["split"].to_numpy()[rows] == "train")[owner]
    times["spectrograms"] = time.perf_counter() - t

    t = time.perf_counter()
    model = model if model is not None else run.load_model()
    calibration = calibration_sample(images, is_train) if SHIPPED_VARIANT == "int8" else None
    progress("8-bit: quantize", 0, 1)
    data = convert_variant(model, SHIPPED_VARIANT, calibration)
    target = atomic_write(run.path / QUANTIZED_FILE, data)
    progress("8-bit: quantize", 1, 1)
    times["convert"] = time.perf_counter() - t

    t = time.perf_counter()
    probs, embs = predict_library(LitePredictor(target), images, owner, len(rows), progress)
    agree = agreement(run, probs, embs, rows)
    times["agreement"] = time.perf_counter() - t

    record = {
        "file": QUANTIZED_FILE,
        "variant": SHIPPED_VARIANT,
        "description": VARIANTS[SHIPPED_VARIANT],
        "size_bytes": len(data),
        **asdict(agree),
        "reference": "the run's saved float answers (embeddings.npz) for the same library tracks",
        "calibration": None
        if calibration is None
        else {"split": "train", "images": len(calibration), "seed": CALIBRATION_SEED},
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "versions": package_versions(("tensorflow", "tensorflow-cpu", "keras", "ai-edge-litert")),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write(run.path / AGREEMENT_FILE, json.dumps(record, indent=2).encode())
    return target


def quantize_or_none(run: Run, model, progress: ProgressFn = silent) -> Path | None:
    """:func:`quantize_run` after training: a failure costs serving speed, not the run (which answers in float)."""
    try:
        return quantize_run(run, model, progress)
    except Exception as exc:  # the converter fails in many ways; the float predictor still serves
        log.warning(
            "%s: no 8-bit predictor (%s: %s); the run answers with its float predictor", run.id, type(exc).__name__, exc
        )
        for name in (QUANTIZED_FILE, AGREEMENT_FILE):
            with contextlib.suppress(OSError):
                (run.path / name).unlink()
        return None
