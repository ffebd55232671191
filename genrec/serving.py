"""Answering outside clips with a trained model: image → (genre probabilities, embedding).

Training needs TensorFlow; answering does not. Each run therefore also carries
``predictor.tflite``, the same network converted for LiteRT (``ai-edge-litert``,
TensorFlow Lite's standalone runtime). Serving both 224-px models through LiteRT
takes about a third of the memory of TensorFlow + Keras and is faster on a CPU;
outputs agree with Keras to float round-off (a test checks it). Runs without
the file, or machines without LiteRT, fall back to the Keras model.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from genrec.errors import RunError
from genrec.gradcam import needs_export

log = logging.getLogger(__name__)

PREDICTOR_FILE = "predictor.tflite"
#: Output names of the converted signature, in the order of the Keras outputs (probabilities, embedding,
#: last feature map); files written before Grad-CAM have only the first two.
_OUTPUTS = ("output_0", "output_1", "output_2")


class Predictor(Protocol):
    """Image batch (n, size, size, 3) float32 0–255 → (probabilities (n, classes), embeddings (n, units))."""

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class KerasPredictor:
    """The Keras model itself (needs TensorFlow)."""

    def __init__(self, model) -> None:
        from genrec.model import with_embedding

        self.model = with_embedding(model)
        self._full = model

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, emb = self.model.predict_on_batch(np.asarray(images, dtype=np.float32))
        return np.asarray(probs), np.asarray(emb)

    def explain_outputs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probabilities, embeddings, last convolutional feature maps (n, H, W, K)), for Grad-CAM."""
        if not hasattr(self, "_explain"):
            from genrec.model import with_explain

            self._explain = with_explain(self._full)
        return tuple(np.asarray(o) for o in self._explain.predict_on_batch(np.asarray(images, dtype=np.float32)))


class LitePredictor:
    """The run's ``predictor.tflite`` in LiteRT's interpreter (no TensorFlow import).

    An interpreter is not thread-safe and the app shares one per run between sessions, so calls
    take turns.
    """

    def __init__(self, path: Path, threads: int | None = None) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            interpreter = Interpreter(model_path=str(path), num_threads=threads or os.cpu_count() or 1)
            self._run = interpreter.get_signature_runner()
        except Exception as exc:  # LiteRT raises ValueError/RuntimeError for unreadable flatbuffers
            raise RunError(
                f"{path}: the LiteRT predictor is damaged or incomplete ({type(exc).__name__}). Delete it to "
                f"answer with model.keras instead, or rewrite it with `genrec export {path.parent}`."
            ) from exc

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


def clip_outputs(predictor: Predictor, clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One (probabilities, unit embedding) row per clip from its chunk images, in one predictor call.

    A clip's probabilities are the mean of its chunks'; its embedding is the renormalised mean of its
    chunks' unit embeddings (as in training), so a clip answers the same alone or in a batch.
    """
    from genrec.vectors import l2_normalize

    probs, emb = predictor(np.concatenate(clips))
    edges = np.cumsum([0] + [len(c) for c in clips])
    unit = l2_normalize(np.asarray(emb))
    probs = np.stack([np.asarray(probs)[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:])])
    embs = np.stack([unit[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:])])
    return probs, l2_normalize(embs)


def lite_runtime_available() -> bool:
    """Whether LiteRT (``ai-edge-litert``) is installed here."""
    import importlib.util

    return importlib.util.find_spec("ai_edge_litert") is not None


def export_predictor(model, target: Path) -> Path:
    """Convert ``model``'s predictor for LiteRT and write it to ``target`` atomically (temp file, rename).

    The file's outputs are (probabilities, embedding, last feature map); the third serves Grad-CAM.
    """
    from genrec.model import with_explain

    return convert(with_explain(model), target)


#: Converter settings of every conversion. Buffer offsets keep the weights outside the flatbuffer proper,
#: which spares the converter one copy of them (ResNet50 at 224 px: 0.14 GB lower peak); LiteRT reads them.
CONVERTER_DEFAULTS = {"_experimental_use_buffer_offset": True}


def convert(model, target: Path, **converter_options) -> Path:
    """Convert a Keras model to a LiteRT flatbuffer at ``target`` (atomic), by way of an exported SavedModel.

    Keras 3's recommended route: ``model.export`` writes a SavedModel (inference-mode call) and the
    converter reads it from disk. ``TFLiteConverter.from_keras_model`` exports the same SavedModel
    internally, then loads it back into this process as a second copy of the graph and its weights
    and freezes a third; in a build that is the difference between a 2.2 GB and a 1.4 GB peak
    (``benchmarks/memory.py --build``). ``converter_options`` are set on the converter as attributes
    on top of :data:`CONVERTER_DEFAULTS` (e.g. ``optimizations=[tf.lite.Optimize.DEFAULT]``).
    """
    import tensorflow as tf

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".tmp-savedmodel-") as saved:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras' export prints its whole signature
            model.export(saved, format="tf_saved_model")
        release_memory()  # the export's traced functions and training leftovers, before the converter's peak
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        for name, value in {**CONVERTER_DEFAULTS, **converter_options}.items():
            setattr(converter, name, value)
        data = converter.convert()
        del converter
    _write_atomic(target, data)
    del data
    release_memory()
    return target


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc's ``malloc_trim``).

    Without the trim, memory TensorFlow freed stays in this process's RSS and the next model's
    training and conversion stack on top of it.
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    libc = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(libc).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, musl): nothing to trim
        pass


def _write_atomic(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".tflite")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a server running as another user
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_predictor(run) -> Predictor:
    """The fastest predictor available for ``run``: LiteRT when it has ``predictor.tflite``, else Keras."""
    path = run.path / PREDICTOR_FILE
    if path.is_file() and lite_runtime_available():
        try:
            return LitePredictor(path)
        except ImportError as exc:  # installed but unusable here (e.g. a missing system library)
            log.warning("%s: LiteRT cannot be loaded (%s); answering with model.keras", run.id, exc)
    elif path.is_file():
        log.info("%s: LiteRT (ai-edge-litert) is not installed; answering with model.keras", run.id)
    return KerasPredictor(run.load_model())
