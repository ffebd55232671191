"""Library-sized forward passes in LiteRT: training's frozen-feature pass converted once per run.

Training runs the frozen part of the network once over every image (``genrec.training.trainer.extract``). On a CPU,
LiteRT's interpreter with XNNPACK runs the same float32 network faster than Keras; converting it costs a
few seconds (``benchmarks/lite_features.py`` measures both). So the frozen part is converted only when the
library is large enough for the faster pass to repay the conversion (:func:`worth_converting`); the
features agree with Keras' to float round-off (a test checks it). Any failure to convert falls back to Keras.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile

import numpy as np

from genrec.model.predict import signature_runner
from genrec.utils.progress import ProgressFn, silent

log = logging.getLogger(__name__)

#: Fewest 224-px images for which converting the frozen part pays for itself, per architecture: the break-even
#: measured with benchmarks/lite_features.py (conversion s / s saved per image: VGG16 174, ResNet50 492), rounded
#: up because the conversion also raises the peak memory. The demo library (200 images) stays with Keras.
MIN_IMAGES = {"vgg16": 250, "resnet50": 500}
_BATCH = 8


def worth_converting(arch: str, n_images: int, input_size: int) -> bool:
    """Whether LiteRT should run the frozen pass of ``n_images`` images (cost grows with the pixels)."""
    scale = (input_size / 224) ** 2  # conversion is nearly fixed; the saving per image shrinks with the input
    return n_images * scale >= MIN_IMAGES.get(arch, float("inf"))


def convert_frozen(frozen) -> bytes:
    """The frozen part (a Keras model, one or more outputs) as a float32 LiteRT flatbuffer (Keras 3 export route)."""
    import tensorflow as tf  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    with tempfile.TemporaryDirectory(prefix="genrec-frozen-") as saved:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras' export prints its whole signature
            frozen.export(saved, format="tf_saved_model")
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        with contextlib.redirect_stdout(io.StringIO()):
            return converter.convert()


def lite_extract(
    data: bytes, images: np.ndarray, progress: ProgressFn = silent, batch_size: int = _BATCH
) -> list[np.ndarray]:
    """Run a converted frozen part over ``images`` in batches; one array per output, in the Keras output order."""

    runner = signature_runner(data)
    outs: list[dict] = []
    n = len(images)
    progress("features", 0, n)
    for start in range(0, n, batch_size):
        outs.append(runner(**{_input_name(runner): images[start : start + batch_size].astype(np.float32)}))
        progress("features", min(start + batch_size, n), n)
    names = sorted(outs[0], key=lambda k: int(k.rsplit("_", 1)[1]))  # output_0, output_1, ... = Keras order
    return [np.concatenate([o[k] for o in outs]) for k in names]


def _input_name(runner) -> str:
    return next(iter(runner.get_input_details()))


def extract_with_litert(frozen, images: np.ndarray, progress: ProgressFn = silent) -> list[np.ndarray] | None:
    """The frozen pass in LiteRT, or None when it cannot be converted or run here (the caller uses Keras)."""
    try:
        data = convert_frozen(frozen)
        return lite_extract(data, images, progress)
    except Exception as exc:  # converter and runtime fail in many ways; Keras gives the same features
        log.warning("frozen pass in LiteRT failed (%s: %s); using Keras", type(exc).__name__, exc)
        return None
