"""Making runs: train one architecture on one library, and ``genrec build``, the whole experiment.

:mod:`genrec.training.plan` (settings, stages, following a build in a child process) is light and the app
imports it; the names below bring in the training code, so they load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader as lazy

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads them
    from genrec.training.pipeline import build as build
    from genrec.training.pipeline import build_demo as build_demo
    from genrec.training.trainer import TrainConfig as TrainConfig
    from genrec.training.trainer import train as train

__getattr__, _, __all__ = lazy.attach(
    __name__, submod_attrs={"pipeline": ["build", "build_demo"], "trainer": ["TrainConfig", "train"]}
)
