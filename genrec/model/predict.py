"""Answering outside clips with a trained model: image → (genre probabilities, embedding).

Training needs TensorFlow; answering does not. Each run therefore also carries
``predictor.tflite``, the same network converted for LiteRT (``ai-edge-litert``,
TensorFlow Lite's standalone runtime). Serving both 224-px models through LiteRT
takes about a third of the memory of TensorFlow + Keras and is faster on a CPU;
outputs agree with Keras to float round-off (a test checks it). Runs without
the file, or machines without LiteRT, fall back to the Keras model.

A run may also carry ``predictor-int8.tflite``, an 8-bit version written by
:mod:`genrec.model.quantize`, with its agreement with the float model in
``predictor-int8.json``. :func:`choose_predictor` decides which file answers:
``GENREC_PREDICTOR`` = ``auto`` (default: the 8-bit one when its top-1 genre
agreement is at least 0.99, it keeps 0.9 of the top-5 recommendations and it
does 8-bit arithmetic, or when it is the only predictor the run carries),
``float`` or ``int8``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import importlib.util
import io
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from genrec.errors import GenrecError, RunError
from genrec.model.gradcam import needs_export
from genrec.model.pooling import clip_predictions
from genrec.runs.layout import AGREEMENT_FILE, MODEL_KERAS, PREDICTOR_FILE, QUANTIZED_FILE
from genrec.runs.reader import Run
from genrec.utils.fileio import atomic_write, stderr_to_log
from genrec.utils.machine import cpu_features, cpu_threads

log = logging.getLogger(__name__)

#: Environment variable choosing the predictor of every run: "auto" (default), "float" or "int8".
PREDICTOR_ENV = "GENREC_PREDICTOR"
PREDICTOR_SETTINGS = ("auto", "float", "int8")
#: Under "auto" the 8-bit predictor answers only when it predicts the float model's genre for this share of tracks
MIN_TOP1_AGREEMENT = 0.99
#: ... and keeps this share of the float model's top-5 recommendations: a genre kept is not enough when the
#: recommendations change (tiny test runs keep every genre and share under 0.2 of their top 5).
MIN_TOP5_OVERLAP = 0.9
#: 8-bit recipes (:mod:`genrec.model.quantize`) whose kernels do 8-bit arithmetic; the others widen int8 weights
#: to float32 when loaded and compute in float, at float speed.
INT8_ARITHMETIC_RECIPES = ("dynamic", "dynamic-float-head", "dynamic-corrected", "full-integer")
#: Output names of the converted signature, in the order of the Keras outputs (probabilities, embedding,
#: last feature map); files written before Grad-CAM have only the first two.
_OUTPUTS = ("output_0", "output_1", "output_2")


class Predictor(Protocol):
    """Image batch (n, size, size, 3) float32 0–255 → (probabilities (n, classes), embeddings (n, units))."""

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class KerasPredictor:
    """The Keras model itself (needs TensorFlow)."""

    def __init__(self, model) -> None:
        from genrec.model.network import with_embedding  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

        self.model = with_embedding(model)
        self._full = model

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, emb = self.model.predict_on_batch(np.asarray(images, dtype=np.float32))
        return np.asarray(probs), np.asarray(emb)

    def explain_outputs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probabilities, embeddings, last convolutional feature maps (n, H, W, K)), for Grad-CAM."""
        if not hasattr(self, "_explain"):
            from genrec.model.network import with_explain  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

            self._explain = with_explain(self._full)
        return tuple(np.asarray(o) for o in self._explain.predict_on_batch(np.asarray(images, dtype=np.float32)))


class QuietRunner:
    """A LiteRT signature runner whose first call keeps LiteRT's notes out of the terminal.

    LiteRT applies XNNPACK on the first call and prints "INFO: Created TensorFlow Lite XNNPACK delegate
    for CPU." on file descriptor 2, in the middle of a CLI's answer; that call's output goes to the log.
    """

    def __init__(self, runner) -> None:
        self._run = runner
        self._first = True

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        if not self._first:
            return self._run(**inputs)
        with stderr_to_log(log, "LiteRT"):
            out = self._run(**inputs)
        self._first = False
        return out

    def get_input_details(self) -> dict:
        return self._run.get_input_details()

    def get_output_details(self) -> dict:
        return self._run.get_output_details()


def signature_runner(model: Path | bytes, threads: int | None = None) -> QuietRunner:
    """The default signature of a LiteRT flatbuffer (a file, or its bytes) on ``threads`` (default: every
    core this process may use)."""

    source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    return QuietRunner(Interpreter(**source, num_threads=threads or cpu_threads()).get_signature_runner())


class LitePredictor:
    """The run's ``predictor.tflite`` in LiteRT's interpreter (no TensorFlow import).

    An interpreter is not thread-safe and the app shares one per run between sessions, so calls
    take turns.
    """

    def __init__(self, path: Path, threads: int | None = None, *, content: bytes | None = None) -> None:
        """``content``: the flatbuffer's bytes, not yet written to ``path`` (an 8-bit candidate being checked)."""
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._run = signature_runner(content if content is not None else self.path, threads)
        except Exception as exc:  # LiteRT raises ValueError/RuntimeError for unreadable flatbuffers
            raise RunError(
                f"{path}: the LiteRT predictor is damaged or incomplete ({type(exc).__name__}). Delete it to "
                f"answer with model.keras instead, or rewrite it with `genrec export {path.parent}`."
            ) from exc

    def image_shape(self) -> tuple[int, ...]:
        """The (height, width, channels) of the images the file takes."""
        return tuple(int(v) for v in self._run.get_input_details()["image"]["shape_signature"][1:])

    def has_feature_map(self) -> bool:
        """Whether the file has the last feature map as its third output (files written before Grad-CAM do not)."""
        return _OUTPUTS[2] in self._run.get_output_details()

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            out = self._run(image=np.ascontiguousarray(images, dtype=np.float32))
            return np.array(out[_OUTPUTS[0]]), np.array(out[_OUTPUTS[1]])

    def explain_outputs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probabilities, embeddings, last convolutional feature maps (n, H, W, K)), for Grad-CAM."""
        with self._lock:
            out = self._run(image=np.ascontiguousarray(images, dtype=np.float32))
            if _OUTPUTS[2] not in out:
                raise needs_export(self.path.parent, f"its {PREDICTOR_FILE} has no feature-map output")
            return tuple(np.array(out[name]) for name in _OUTPUTS)


def predict_clips(predictor: Predictor, clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One (probabilities, unit embedding) row per clip from its chunk images, in one predictor call.

    The pooling is training's own (:func:`genrec.model.pooling.clip_predictions`), so a clip answers
    the same alone or in a batch, and as its row in the run's saved arrays.
    """
    probs, emb = predictor(np.concatenate(clips))
    owner = np.repeat(np.arange(len(clips)), [len(c) for c in clips])
    return clip_predictions(np.asarray(probs), np.asarray(emb), owner, len(clips))


def lite_runtime_available() -> bool:
    """Whether LiteRT (``ai-edge-litert``) is installed here."""
    return importlib.util.find_spec("ai_edge_litert") is not None


def export_predictor(model, target: Path) -> Path:
    """Convert ``model``'s predictor for LiteRT and write it to ``target`` atomically (temp file, rename).

    The file's outputs are (probabilities, embedding, last feature map); the third serves Grad-CAM.
    """
    from genrec.model.network import with_explain  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    return write_litert(with_explain(model), target)


#: Converter settings of every conversion. Buffer offsets keep the weights outside the flatbuffer proper,
#: which spares the converter one copy of them (ResNet50 at 224 px: 0.14 GB lower peak); LiteRT reads them.
CONVERTER_DEFAULTS = {"_experimental_use_buffer_offset": True}


def write_litert(model, target: Path, **converter_options) -> Path:
    """Convert a Keras model to a LiteRT flatbuffer at ``target`` (atomic); see :func:`to_litert`.

    Writes any model as given, with :data:`CONVERTER_DEFAULTS`; the 8-bit and other variants of the
    embedding network come from :func:`genrec.model.quantize.convert_variant`, as bytes.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = to_litert(model, workdir=target.parent, **converter_options)
    atomic_write(target, data)
    del data
    release_memory()
    return target


def to_litert(
    model, *, workdir: Path | None = None, configure=None, defaults: bool = True, **converter_options
) -> bytes:
    """A Keras model as LiteRT flatbuffer bytes, by way of an exported SavedModel.

    Keras 3's recommended route: ``model.export`` writes a SavedModel (inference-mode call) and the
    converter reads it from disk. ``TFLiteConverter.from_keras_model`` exports the same SavedModel
    internally, then loads it back into this process as a second copy of the graph and its weights
    and freezes a third; in a build that is the difference between a 2.2 GB and a 1.4 GB peak
    (``benchmarks/memory.py --build``). ``converter_options`` are set on the converter as attributes,
    on top of :data:`CONVERTER_DEFAULTS` unless ``defaults`` is False; ``configure(converter)`` sets
    anything nested (e.g. ``target_spec``). ``workdir`` holds the temporary SavedModel.
    """
    with tempfile.TemporaryDirectory(dir=workdir, prefix=SAVED_MODEL_PREFIX) as saved:
        export_saved_model(model, saved)
        release_memory()  # the export's traced functions and training leftovers, before the converter's peak
        return convert_saved_model(saved, configure=configure, defaults=defaults, **converter_options)


#: How the temporary SavedModel folder of a conversion is named (then random letters).
SAVED_MODEL_PREFIX = ".tmp-savedmodel-"


def export_saved_model(model, folder: Path | str) -> None:
    """The first half of :func:`to_litert`: ``model``'s inference call as a SavedModel in ``folder``.

    Split from the conversion so that a caller holding the only reference to the model can let go of it
    before the converter's peak (:func:`genrec.runs.writer.export_run`).
    """
    with contextlib.redirect_stdout(io.StringIO()):  # Keras' export prints its whole signature
        model.export(str(folder), format="tf_saved_model")


def convert_saved_model(folder: Path | str, *, configure=None, defaults: bool = True, **converter_options) -> bytes:
    """The second half of :func:`to_litert`: the SavedModel in ``folder`` as LiteRT flatbuffer bytes."""
    import tensorflow as tf  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    converter = tf.lite.TFLiteConverter.from_saved_model(str(folder))
    for name, value in {**(CONVERTER_DEFAULTS if defaults else {}), **converter_options}.items():
        setattr(converter, name, value)
    if configure is not None:
        configure(converter)
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc's ``malloc_trim``).

    Without the trim, memory TensorFlow freed stays in this process's RSS and the next model's
    training and conversion stack on top of it.
    """

    gc.collect()
    libc = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError, TypeError):  # not glibc (macOS, musl): nothing to trim
        ctypes.CDLL(libc).malloc_trim(0)


@dataclass(frozen=True)
class QuantizedAgreement:
    """The agreement of a run's 8-bit predictor with its float model, as recorded in ``predictor-int8.json``."""

    top1_agreement: float
    top5_overlap: float
    max_prob_diff: float
    tracks: int
    recipe: str = "dynamic"  # records written before recipes were chosen per run are all dynamic range

    def __str__(self) -> str:
        return (
            f"top-1 agreement {self.top1_agreement:.3f}, top-5 overlap {self.top5_overlap:.2f}, "
            f"max prob. diff {self.max_prob_diff:.3f} on {self.tracks} tracks"
        )


def quantized_agreement(run_path: Path) -> QuantizedAgreement | None:
    """The recorded agreement of the run's 8-bit predictor; None when absent, unreadable, implausible, or
    recorded for a different file (its size differs), so a copied-in or stale record never vouches for it."""
    try:
        rec = json.loads((run_path / AGREEMENT_FILE).read_text())
        size = (run_path / QUANTIZED_FILE).stat().st_size
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("size_bytes") != size:
        return None
    values = [rec.get(k) for k in ("top1_agreement", "top5_overlap", "max_prob_diff")]
    tracks = rec.get("tracks")
    if not all(type(v) in (int, float) and 0 <= v <= 1 for v in values) or type(tracks) is not int or tracks < 1:
        return None
    recipe = rec.get("recipe", "dynamic")
    return QuantizedAgreement(*(float(v) for v in values), tracks, recipe if isinstance(recipe, str) else "dynamic")


@dataclass(frozen=True)
class PredictorChoice:
    """Which predictor answers a run's outside clips, and why."""

    kind: str  # "int8" or "float" (LiteRT files), or "keras" (model.keras)
    path: Path
    reason: str
    agreement: QuantizedAgreement | None = None

    @property
    def label(self) -> str:
        return {"int8": "8-bit LiteRT", "float": "float LiteRT", "keras": "Keras"}[self.kind]

    def __str__(self) -> str:
        return f"{self.label} ({self.reason})"


def predictor_setting() -> str:
    """The ``GENREC_PREDICTOR`` setting: auto (default), float or int8."""
    value = os.environ.get(PREDICTOR_ENV, "").strip().lower() or "auto"
    if value not in PREDICTOR_SETTINGS:
        raise GenrecError(
            f"{PREDICTOR_ENV}={value!r} is not a predictor setting; use one of "
            f"{', '.join(PREDICTOR_SETTINGS)} (or leave it unset for auto)."
        )
    return value


def choose_predictor(run: Run, setting: str | None = None) -> PredictorChoice:
    """The predictor :func:`load_predictor` uses for ``run`` under ``setting`` (default: the current
    ``GENREC_PREDICTOR``); nothing is loaded."""
    setting = setting or predictor_setting()
    path, quantized = run.path / PREDICTOR_FILE, run.path / QUANTIZED_FILE
    agreement = quantized_agreement(run.path) if quantized.is_file() else None

    def floating(reason: str) -> PredictorChoice:
        if not path.is_file() and quantized.is_file() and not (run.path / MODEL_KERAS).is_file():
            # a pulled run may carry only the 8-bit file (genrec.runs.bundle): it is the one that can answer
            return PredictorChoice("int8", quantized, "the only predictor this run carries", agreement)
        if not path.is_file():
            return PredictorChoice(
                "keras", run.path / MODEL_KERAS, f"no {PREDICTOR_FILE}; `genrec export {run.id}` writes it"
            )
        return PredictorChoice("float", path, reason, agreement)

    if not lite_runtime_available():
        return PredictorChoice("keras", run.path / MODEL_KERAS, "LiteRT (ai-edge-litert) is not installed")
    if setting == "float":
        return floating(f"{PREDICTOR_ENV}=float")
    if not quantized.is_file():
        return floating(f"no 8-bit predictor; `genrec export {run.id} --quantize` writes it")
    if setting == "int8":
        return PredictorChoice("int8", quantized, f"{PREDICTOR_ENV}=int8", agreement)
    if agreement is None:
        return floating("the 8-bit predictor's agreement record is missing or unreadable")
    if agreement.top1_agreement < MIN_TOP1_AGREEMENT:
        return floating(f"8-bit top-1 agreement {agreement.top1_agreement:.3f} is below {MIN_TOP1_AGREEMENT}")
    if agreement.top5_overlap < MIN_TOP5_OVERLAP:
        return floating(f"8-bit top-5 overlap {agreement.top5_overlap:.2f} is below {MIN_TOP5_OVERLAP}")
    if agreement.recipe not in INT8_ARITHMETIC_RECIPES:
        # a weights-only file computes in float32: no faster, and its first answer is slower (weights widened)
        return floating(f"the 8-bit file ({agreement.recipe} recipe) computes in float32, so float answers as fast")
    return PredictorChoice("int8", quantized, _why_8bit(agreement), agreement)


def _why_8bit(agreement: QuantizedAgreement) -> str:
    """Why ``auto`` answers in 8-bit, and what that buys on this CPU (the figures are the agreement's own)."""
    cpu = cpu_features()
    if cpu is None:
        gain = "8-bit arithmetic"
    elif cpu["int8_dot"]:
        gain = "8-bit arithmetic on this CPU's int8 dot products (VNNI/AMX), several times float's speed"
    else:
        gain = "8-bit arithmetic, a little faster than float on this CPU (no VNNI), a quarter of the weights in memory"
    return f"its {agreement.recipe} recipe agrees with float: {gain}"


def load_predictor(run: Run, *, explain: bool = False) -> Predictor:
    """The predictor :func:`choose_predictor` picks for ``run``: 8-bit or float LiteRT, else Keras.

    ``explain``: a predictor with the feature-map output Grad-CAM needs. 8-bit files made from a float file
    with that output keep it; older 8-bit files (converted from Keras without it) leave Grad-CAM to the float one.
    """
    choice = choose_predictor(run)
    if choice.kind != "keras":
        try:
            predictor = LitePredictor(choice.path)
        except ImportError as exc:  # installed but unusable here (e.g. a missing system library)
            log.warning("%s: LiteRT cannot be loaded (%s); answering with model.keras", run.id, exc)
            return KerasPredictor(run.load_model())
        if not explain or choice.kind != "int8" or predictor.has_feature_map():
            return predictor
        if not (run.path / PREDICTOR_FILE).is_file():
            raise RunError(
                f"{run.path}: Grad-CAM needs a predictor with the feature-map output, and this run's 8-bit one was "
                f"made without it; rewrite it with `genrec export {run.path} --quantize`."
            )
        return LitePredictor(run.path / PREDICTOR_FILE)
    if (run.path / PREDICTOR_FILE).is_file():
        log.info("%s: %s; answering with model.keras", run.id, choice.reason)
    return KerasPredictor(run.load_model())
