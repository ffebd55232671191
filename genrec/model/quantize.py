"""8-bit LiteRT predictors: the run's float predictor quantized, checked against the float answers.

Each run's ``predictor.tflite`` computes in float32. This module writes ``predictor-int8.tflite`` next to
it: the same image → (probabilities, embedding, feature map) network with int8 weights (float input and
outputs are kept, so callers see no difference, and Grad-CAM can use it too). The quantization is Google's
AI Edge Quantizer (``ai-edge-quantizer``) applied to the float flatbuffer itself: no TensorFlow, no second
conversion, well under a second.

Several recipes are tried, the fastest first (:data:`RECIPES`). Each answers the run's own library and is
compared with the float model's saved answers (``embeddings.npz``): top-1 genre agreement, mean overlap
of the top-5 recommendations and the largest probability difference. The first recipe that clears the bar
of :mod:`genrec.model.predict` (``MIN_TOP1_AGREEMENT``, ``MIN_TOP5_OVERLAP``) is kept. The tracks the
float model was least sure of are checked first, so a recipe that changes too many genres is dropped after
a fraction of the library. ``predictor-int8.json`` records the chosen recipe, its figures, every recipe
tried and why each was dropped, and this CPU's 8-bit features; ``run.json`` stays as training wrote it.
Serving uses the 8-bit file only when the recorded agreement clears the bar.

``benchmarks/quantize_variants.py`` measures these and the other recipes (float16, full integer) side by
side; benchmarks/RESULTS.md section 11 has the curve and why these three.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema

import genrec.audio.cache as cache
from genrec.config import TOP_K
from genrec.errors import RunError
from genrec.model.pooling import clip_predictions
from genrec.model.predict import (
    AGREEMENT_FILE,
    MIN_TOP1_AGREEMENT,
    MIN_TOP5_OVERLAP,
    PREDICTOR_FILE,
    QUANTIZED_FILE,
    LitePredictor,
)
from genrec.runs.reader import Run
from genrec.search.index import ExactIndex
from genrec.utils.fileio import atomic_write, file_digest
from genrec.utils.machine import cpu_features
from genrec.utils.progress import ProgressFn, silent
from genrec.utils.versions import package_versions

log = logging.getLogger(__name__)

#: The recipes a run tries, fastest first; the first whose answers agree with float is kept.
RECIPES = {
    # Plain dynamic range changed 3 genres of 200 on both demo runs (RESULTS.md section 11): its rounding
    # shifts the pooled features of every clip by about the same amount, which matters because the features
    # of random-init backbones vary little from clip to clip. Removing that shift (measured on training images)
    # halved the error and kept every genre, at dynamic's speed.
    "dynamic-corrected": (
        "int8 weights per channel, activations quantized on the fly (8-bit arithmetic); the head stays float32 and "
        "its input is shifted by the mean 8-bit error of the pooled features on the run's training images"
    ),
    "weights-only": "int8 weights per channel, widened to float32 when loaded: float arithmetic, a quarter of the file",
    # The head's dense layers hold a fraction of a percent of the weights but act on the pooled features last,
    # so their rounding moves the genre scores most: on the 60-clip real sample (RESULTS.md section 11) plain
    # weights-only changed one genre of 60 and this kept them all, for 0.1 MB more.
    "weights-only-float-head": "as weights-only, but the head's fully connected layers stay float32",
}
#: Recipes only the benchmark measures (benchmarks/quantize_variants.py, RESULTS.md section 11).
EXTRA_RECIPES = {
    "dynamic": "int8 weights per channel, activations quantized on the fly: 8-bit arithmetic",
    "dynamic-float-head": "as dynamic, but the head's fully connected layers stay float32",
    "float16": "float16 weights widened to float32 when loaded: half the file",
    "full-integer": "int8 weights and activations, activation ranges calibrated on training spectrograms",
}
#: Recipes that need training images: activation ranges ("full-integer") or the pooled-feature shift.
CALIBRATED_RECIPES = ("dynamic-corrected", "full-integer")
#: Calibration images drawn (seeded) from the run's training split (:data:`CALIBRATED_RECIPES`). 32 estimate the
#: mean shift as well as 160 did on the VGG16 demo run (RESULTS.md section 11), in a fifth of the float passes.
CALIBRATION_IMAGES = 32
CALIBRATION_SEED = 0
#: At most this many library tracks (seeded sample) answer the agreement check; the demo library has 200.
AGREEMENT_TRACKS = 400
AGREEMENT_K = TOP_K
_BATCH = 8


def quantize_predictor(
    float_model: Path | bytes,
    recipe: str,
    calibration: np.ndarray | None = None,
    float_pooled: FloatPooled | None = None,
) -> bytes:
    """A float LiteRT predictor (file or bytes) quantized with ``recipe`` (:data:`RECIPES` or
    :data:`EXTRA_RECIPES`), as flatbuffer bytes. ``calibration`` (training images, 0–255) is needed for
    :data:`CALIBRATED_RECIPES`; ``float_pooled`` spares recomputing their float features
    (:func:`correct_pooled_shift`)."""
    from ai_edge_quantizer import qtyping, quantizer  # noqa: PLC0415 - seconds to import (ml_dtypes); only quantizing needs it

    if recipe not in RECIPES and recipe not in EXTRA_RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose one of {', '.join([*RECIPES, *EXTRA_RECIPES])}")
    op = qtyping.TFLOperationName
    calibrated = None
    qt = quantizer.Quantizer(bytearray(float_model) if isinstance(float_model, bytes) else str(float_model))
    if recipe in CALIBRATED_RECIPES and (calibration is None or not len(calibration)):
        raise ValueError(f"the {recipe} recipe needs calibration images")
    if recipe in ("dynamic", "dynamic-float-head", "dynamic-corrected"):
        qt.add_dynamic_config(".*", op.ALL_SUPPORTED, 8)
    elif recipe in ("weights-only", "weights-only-float-head"):
        qt.add_weight_only_config(".*", op.ALL_SUPPORTED, 8)
    elif recipe == "float16":
        qt.add_weight_only_config(".*", op.ALL_SUPPORTED, 16, algorithm_key="float_casting")
    elif recipe == "full-integer":
        qt.add_static_config(".*", op.ALL_SUPPORTED, 8, 8)
        samples = [{"image": calibration[i : i + 1].astype(np.float32)} for i in range(len(calibration))]
        calibrated = qt.calibrate({"serving_default": samples})
    if recipe.endswith("-float-head") or recipe == "dynamic-corrected":
        qt.update_quantization_recipe(
            regex=".*",
            operation_name=op.FULLY_CONNECTED,
            op_config=qtyping.OpQuantizationConfig(),
            algorithm_key="no_quantize",
        )
    with contextlib.redirect_stderr(io.StringIO()):  # the quantizer's own tqdm bar, amid genrec's progress
        result = qt.quantize(calibrated, enable_progress_report=False, enable_progress_bar=False)
    data = bytes(result.quantized_model)
    if recipe == "dynamic-corrected":
        data = correct_pooled_shift(float_model, data, calibration, float_pooled)
    return data


def pooled_features(model: Path | bytes, images: np.ndarray) -> np.ndarray:
    """The pooled backbone features (n, K) a LiteRT predictor's head receives: its feature map, averaged."""
    predictor = (
        LitePredictor(Path("predictor.tflite"), content=model) if isinstance(model, bytes) else LitePredictor(model)
    )
    return np.concatenate(
        [
            predictor.explain_outputs(images[i : i + _BATCH].astype(np.float32))[2].mean(axis=(1, 2), dtype=np.float64)
            for i in range(0, len(images), _BATCH)
        ]
    )


def correct_pooled_shift(
    float_model: Path | bytes, quantized: bytes, calibration: np.ndarray, float_pooled: FloatPooled | None = None
) -> bytes:
    """``quantized`` with its head's input shifted by the mean difference between the float and the 8-bit
    pooled features on ``calibration`` images (bias correction, Nagel et al. 2019, "Data-Free Quantization").

    The shift is folded into the bias of the dense layer the pooling feeds, which must be float32
    (``W (x + d) + b = W x + (b + W d)``); the bytes are patched in place, so nothing else changes.
    ``float_pooled``: the float side already computed for these same images (training's frozen pass), used
    when its digest matches them; else ``float_model`` computes it. ValueError when the model has no float
    dense layer fed by the pooling.
    """
    if float_pooled is not None and float_pooled.digest == images_digest(calibration):
        float_mean = float_pooled.mean
    else:
        float_mean = pooled_features(float_model, calibration).mean(axis=0)
    shift = float_mean - pooled_features(quantized, calibration).mean(axis=0)
    data = bytearray(quantized)
    kernel, bias = _pooled_dense_layer(data)
    bias += (kernel.astype(np.float64) @ shift).astype(np.float32)
    return bytes(data)


def _pooled_dense_layer(data: bytearray) -> tuple[np.ndarray, np.ndarray]:
    """Writable float32 views (kernel (units, K), bias (units,)) into ``data`` of the fully connected layer fed by
    the model's last MEAN (the global average pooling)."""
    model = schema.Model.GetRootAs(data, 0)
    graph = model.Subgraphs(0)

    def code(op) -> int:
        oc = model.OperatorCodes(op.OpcodeIndex())
        return max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())  # LiteRT's own rule for the two fields

    ops = [graph.Operators(i) for i in range(graph.OperatorsLength())]
    means = [op.Outputs(0) for op in ops if code(op) == schema.BuiltinOperator.MEAN]
    dense = [
        op for op in ops if code(op) == schema.BuiltinOperator.FULLY_CONNECTED and means and op.Inputs(0) == means[-1]
    ]
    if len(dense) != 1 or dense[0].InputsLength() < 3 or dense[0].Inputs(2) < 0:
        raise ValueError("no dense layer with a bias after the pooling")
    views = []
    for index in (dense[0].Inputs(1), dense[0].Inputs(2)):
        tensor = graph.Tensors(index)
        if tensor.Type() != schema.TensorType.FLOAT32:
            raise ValueError("the dense layer after the pooling is not float32")
        buffer = model.Buffers(tensor.Buffer())
        if buffer.Offset() > 1:  # weights stored after the flatbuffer proper (converter's buffer offsets)
            raw = np.frombuffer(data, np.uint8, count=buffer.Size(), offset=buffer.Offset())
        else:
            raw = buffer.DataAsNumpy()
        views.append(raw.view(np.float32).reshape(tensor.ShapeAsNumpy()))
    return views[0], views[1]


def calibration_sample(
    images: np.ndarray, train_mask: np.ndarray, n: int = CALIBRATION_IMAGES, seed: int = CALIBRATION_SEED
) -> np.ndarray:
    """A seeded sample of ``n`` training images (all of them when there are fewer)."""
    pool = np.flatnonzero(train_mask)
    if not len(pool):
        raise RunError("the run has no training images to calibrate the 8-bit predictor with")
    pick = np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False)
    return images[np.sort(pick)]


def images_digest(images: np.ndarray) -> str:
    """SHA-256 of an image batch's bytes, with its dtype and shape: which images a :class:`FloatPooled` is for."""
    header = f"{images.dtype.str}{images.shape}".encode()
    return file_digest(header + np.ascontiguousarray(images).tobytes())


@dataclass(frozen=True)
class FloatPooled:
    """The float model's pooled features averaged over the calibration images, and those images' digest.

    Training's frozen pass has computed them already (:func:`float_pooled`); the 8-bit step, in another process,
    uses them instead of running the float predictor over the same images again (VGG16: about 5 s).
    """

    digest: str
    mean: np.ndarray  # (K,) float64


def float_pooled(images: np.ndarray, train_mask: np.ndarray, pooled: np.ndarray) -> FloatPooled:
    """:class:`FloatPooled` of the images :func:`calibration_sample` picks, from their pooled features ``pooled``
    (one row per image)."""
    sample = calibration_sample(np.arange(len(images)), train_mask)
    return FloatPooled(images_digest(images[sample]), pooled[sample].mean(axis=0, dtype=np.float64))


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


def check_library_audio(run: Run, rows: np.ndarray | None = None) -> None:
    """RunError naming the files when the run's library audio (tracks ``rows``, default all) is no longer on this
    machine: the 8-bit predictor is calibrated and checked on it."""
    tracks = run.tracks if rows is None else run.tracks.iloc[rows]
    missing = [p for p in tracks["path"] if not Path(p).is_file()]
    if missing:
        raise RunError(
            f"{run.path}: {len(missing)} of its library files are not on this machine (e.g. {missing[0]}). The "
            f"8-bit predictor is calibrated and checked on the run's own spectrograms: put the library back at "
            f"{run.library.root}, or retrain the run."
        )


def run_library_images(run: Run, rows: np.ndarray, progress: ProgressFn = silent) -> tuple[np.ndarray, np.ndarray]:
    """(images, owner) of the run's library tracks ``rows``, with the run's own spectrogram settings.

    A run-level wrapper of :func:`genrec.audio.cache.library_images` (cached, computed on a miss) that
    first checks the run's audio is still here.

    RunError naming the files when the run's library audio is no longer on this machine.
    """
    check_library_audio(run, rows)
    tracks = run.tracks.iloc[rows]
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


@dataclass
class Trial:
    """One recipe tried on a run: kept or dropped, and why."""

    recipe: str
    kept: bool
    why: str
    seconds: float
    agreement: Agreement | None  # None when dropped before the whole library was answered

    def as_dict(self) -> dict:
        figures = {} if self.agreement is None else asdict(self.agreement)
        return {"recipe": self.recipe, "kept": self.kept, "why": self.why, "seconds": self.seconds, **figures}


def check_recipe(
    run: Run, data: bytes, images: np.ndarray, owner: np.ndarray, rows: np.ndarray, *, stop_early: bool = True
) -> tuple[Agreement | None, str | None]:
    """(agreement, None) when the quantized ``data`` clears the bar on the library ``rows``; else (agreement or
    None, why not).

    Clips are answered in the order of the float model's margin between its two likeliest genres, smallest
    first: a genre flips there first, so with ``stop_early`` a failing recipe is dropped as soon as more genres
    changed than the bar allows, usually after a fraction of the library.
    """
    predictor = LitePredictor(run.path / QUANTIZED_FILE, content=data)
    ref = run.arrays["probabilities"][rows]
    top2 = np.sort(ref, axis=1)[:, -2:]
    order = np.argsort(top2[:, 1] - top2[:, 0], kind="stable")
    allowed = math.floor((1 - MIN_TOP1_AGREEMENT) * len(rows) + 1e-9)
    probs = np.zeros_like(ref)
    embs: np.ndarray | None = None
    flips = 0
    for start in range(0, len(order), _BATCH):
        clips = np.sort(order[start : start + _BATCH])
        pick = np.isin(owner, clips)
        cp, ce = predict_library(predictor, images[pick], np.searchsorted(clips, owner[pick]), len(clips))
        if embs is None:
            embs = np.zeros((len(rows), ce.shape[1]), dtype=ce.dtype)
        probs[clips], embs[clips] = cp, ce
        flips += int((cp.argmax(1) != ref[clips].argmax(1)).sum())
        if stop_early and flips > allowed:
            done = start + len(clips)
            return None, f"dropped after {done} of {len(rows)} tracks: {flips} genres changed, at most {allowed} may"
    agree = agreement(run, probs, embs, rows)
    if agree.top1_agreement < MIN_TOP1_AGREEMENT:
        return agree, f"top-1 agreement {agree.top1_agreement:.3f} is below {MIN_TOP1_AGREEMENT}"
    if agree.top5_overlap < MIN_TOP5_OVERLAP:
        return agree, f"top-5 overlap {agree.top5_overlap:.3f} is below {MIN_TOP5_OVERLAP}"
    return agree, None


def choose_recipe(
    run: Run,
    images: np.ndarray,
    owner: np.ndarray,
    rows: np.ndarray,
    progress: ProgressFn = silent,
    calibration: np.ndarray | None = None,
    float_pooled: FloatPooled | None = None,
) -> tuple[bytes, Agreement, list[Trial]]:
    """The first of :data:`RECIPES` whose answers agree with float, its agreement and every recipe tried.

    ``calibration``: training images for :data:`CALIBRATED_RECIPES`, which are skipped without them. When none
    agrees, the last one (the closest to float) is returned with its figures, which keep ``auto`` serving in float.
    """
    trials: list[Trial] = []
    names = list(RECIPES)
    for i, recipe in enumerate(names):
        progress("8-bit: quantize and check", i, len(names))
        t = time.perf_counter()
        last = i == len(names) - 1
        try:
            data = quantize_predictor(run.path / PREDICTOR_FILE, recipe, calibration, float_pooled)
        except (ValueError, RunError) as exc:  # no calibration images, or no feature map for the correction
            if last:
                raise
            trials.append(Trial(recipe, False, f"cannot be made for this run: {exc}", 0.0, None))
            continue
        agree, why = check_recipe(run, data, images, owner, rows, stop_early=not last)
        kept = why is None or last
        trials.append(Trial(recipe, kept, why or "agrees with float", round(time.perf_counter() - t, 2), agree))
        if kept:
            progress("8-bit: quantize and check", len(names), len(names))
            return data, agree, trials
    raise AssertionError("unreachable: the last recipe is always kept")


def quantize_run(run: Run, progress: ProgressFn = silent, float_pooled: FloatPooled | None = None) -> Path:
    """Write ``predictor-int8.tflite`` and ``predictor-int8.json`` (its recipe and agreement with float) into
    ``run`` (an opened :class:`genrec.runs.reader.Run` with its ``predictor.tflite``). Needs no TensorFlow.
    ``float_pooled``: what training's frozen pass already knows of the calibration images (:func:`float_pooled`).
    """
    if not (run.path / PREDICTOR_FILE).is_file():
        raise RunError(
            f"{run.path}: the 8-bit predictor is made from {PREDICTOR_FILE}, which is missing; "
            f"write it first with `genrec export {run.path}`."
        )
    t = time.perf_counter()
    n = len(run.tracks)
    rows = np.arange(n)
    if n > AGREEMENT_TRACKS:
        rows = np.sort(np.random.default_rng(CALIBRATION_SEED).choice(n, AGREEMENT_TRACKS, replace=False))
    images, owner = run_library_images(run, rows, progress)
    spectrogram_s = time.perf_counter() - t
    is_train = run.tracks["split"].to_numpy()[rows][owner] == "train"
    calibration = calibration_sample(images, is_train) if is_train.any() else None
    data, agree, trials = choose_recipe(run, images, owner, rows, progress, calibration, float_pooled)
    target = atomic_write(run.path / QUANTIZED_FILE, data)
    chosen = trials[-1]
    record = {
        "file": QUANTIZED_FILE,
        "recipe": chosen.recipe,
        "description": RECIPES[chosen.recipe],
        "size_bytes": len(data),
        **asdict(agree),
        "passes_bar": chosen.why == "agrees with float",
        "calibration_images": int(len(calibration)) if chosen.recipe in CALIBRATED_RECIPES else 0,
        "bar": {"top1_agreement": MIN_TOP1_AGREEMENT, "top5_overlap": MIN_TOP5_OVERLAP},
        "why": "the fastest recipe whose answers agree with float"
        if chosen.why == "agrees with float"
        else f"no recipe agrees with float ({chosen.why}); auto answers with the float predictor",
        "tried": [
            {"recipe": tr.recipe, "kept": tr.kept, "why": tr.why, "seconds": tr.seconds}
            | (
                {}
                if tr.agreement is None
                else {k: getattr(tr.agreement, k) for k in ("top1_agreement", "top5_overlap")}
            )
            for tr in trials
        ],
        "reference": "the run's saved float answers (embeddings.npz) for the same library tracks",
        "cpu": cpu_features(),
        "seconds": {"spectrograms": round(spectrogram_s, 2), "recipes": round(sum(tr.seconds for tr in trials), 2)},
        "versions": package_versions(("ai-edge-quantizer", "ai-edge-litert")),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write(run.path / AGREEMENT_FILE, json.dumps(record, indent=2).encode())
    return target


def quantize_or_none(run: Run, progress: ProgressFn = silent, float_pooled: FloatPooled | None = None) -> Path | None:
    """:func:`quantize_run` after training: a failure costs serving speed, not the run (which answers in float)."""
    try:
        return quantize_run(run, progress, float_pooled)
    except Exception as exc:  # the quantizer fails in many ways; the float predictor still serves
        log.warning(
            "%s: no 8-bit predictor (%s: %s); the run answers with its float predictor", run.id, type(exc).__name__, exc
        )
        for name in (QUANTIZED_FILE, AGREEMENT_FILE):
            with contextlib.suppress(OSError):
                (run.path / name).unlink()
        return None
