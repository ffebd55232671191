"""Making runs: train one architecture on one library, and ``genrec build``, the whole experiment.

:mod:`genrec.training.plan` (settings, stages, following a build in a child process) is light and the app
imports it; the names below bring in the training code, so they load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads them
    from genrec.training.pipeline import build, build_demo
    from genrec.training.trainer import TrainConfig, train

_LAZY = {
    "build": "genrec.training.pipeline",
    "build_demo": "genrec.training.pipeline",
    "TrainConfig": "genrec.training.trainer",
    "train": "genrec.training.trainer",
}
__all__ = ["TrainConfig", "build", "build_demo", "train"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib  # noqa: PLC0415 - lazy attribute: genrec.training.plan must import without the trainer

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
