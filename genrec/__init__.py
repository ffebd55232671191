"""genrec: music-genre classification and "more like this" recommendations
from mel-spectrogram images with transfer-learned VGG16 and ResNet50.

The pipeline is one subpackage per stage (see docs/architecture.md)::

    audio → model → runs → search / catalogue → serve → app, cli
    (data and training make runs; evaluate measures them)

A notebook needs only the names below. They are loaded on first use, so that
``import genrec`` is quick, has no side effects and never imports TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genrec.config import GENRES
from genrec.errors import GenrecError

__version__ = "0.1.0"

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads them
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender
    from genrec.training.pipeline import build
    from genrec.training.trainer import train

_LAZY = {
    "Run": "genrec.runs.reader",
    "Recommender": "genrec.serve.recommend",
    "build": "genrec.training.pipeline",
    "train": "genrec.training.trainer",
}
__all__ = ["GENRES", "GenrecError", "Recommender", "Run", "__version__", "build", "train"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib  # noqa: PLC0415 - lazy attribute, loaded on first use

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
