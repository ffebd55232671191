"""Making runs: train one architecture on one library, and ``genrec build``, the whole experiment."""

from genrec.training.pipeline import build, build_demo
from genrec.training.trainer import TrainConfig, train

__all__ = ["TrainConfig", "build", "build_demo", "train"]
