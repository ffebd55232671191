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

import lazy_loader as lazy

from genrec.config import GENRES
from genrec.errors import GenrecError

__version__ = "0.1.0"

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads them
    from genrec.runs.reader import Run as Run
    from genrec.serve.recommend import Recommender as Recommender
    from genrec.training.pipeline import build as build
    from genrec.training.trainer import train as train

#: Loaded on first use (lazy_loader, as librosa and scikit-image do): ``import genrec`` stays quick and TensorFlow-free.
__getattr__, _, _LAZY_NAMES = lazy.attach(
    __name__,
    submod_attrs={
        "runs.reader": ["Run"],
        "serve.recommend": ["Recommender"],
        "training.pipeline": ["build"],
        "training.trainer": ["train"],
    },
)
__all__ = ["GENRES", "GenrecError", "__version__", *_LAZY_NAMES]
