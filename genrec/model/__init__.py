"""Stage 2, spectrogram → model → embedding: the transfer-learned networks, chunk-to-clip pooling, and the
predictors that serve them (Keras, LiteRT float, LiteRT 8-bit) without TensorFlow in the app."""

from genrec.model.gradcam import Head
from genrec.model.pooling import clip_mean, clip_predictions
from genrec.model.predict import KerasPredictor, LitePredictor, Predictor, load_predictor
from genrec.model.quantize import quantize_run

__all__ = [
    "Head",
    "KerasPredictor",
    "LitePredictor",
    "Predictor",
    "build_model",
    "clip_mean",
    "clip_predictions",
    "load_model",
    "load_predictor",
    "quantize_run",
]

# The network module imports TensorFlow, which the app and the CLI's start-up never need: its names are
# loaded on first use (PEP 562), so ``import genrec.model`` stays light.
_KERAS_NAMES = {"build_model", "load_model"}


def __getattr__(name: str):
    if name in _KERAS_NAMES:
        import genrec.model.network as network  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

        return getattr(network, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
