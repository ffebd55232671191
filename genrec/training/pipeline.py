"""``genrec build``: the paper's whole experiment in one step, for the demo library, GTZAN or any GTZAN folder.

Gets the library (``gtzan`` is downloaded into the data folder when it is not there yet), computes
the spectrograms once, trains and evaluates VGG16 and ResNet50 on them and returns both run folders;
:func:`closing_table` sets the runs next to the paper's figures. ``genrec demo`` is
``genrec build --library demo --weights none``.

A parent process (the app) runs ``python -m genrec build ... --progress-format lines`` and follows
its stdout (:func:`genrec.training.plan.build_in_subprocess`); the settings, stages and costs it needs
for that live in :mod:`genrec.training.plan`, which imports neither TensorFlow nor scikit-learn.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from genrec.config import ARCHITECTURES, DEFAULT_WEIGHTS, DEMO_WEIGHTS, PAPER_ACCURACY
from genrec.data.gtzan import default_gtzan_home, download_gtzan, find_genre_root
from genrec.data.library import Library, load_demo, load_gtzan
from genrec.errors import GenrecError
from genrec.model.quantize import quantize_or_none
from genrec.runs.reader import Run
from genrec.runs.writer import export_run, publish_run
from genrec.training.plan import default_settings, staging_prefix
from genrec.training.trainer import TrainConfig, TrainedRun, train_run, warm_spectrograms
from genrec.utils.isolated import run_isolated
from genrec.utils.paths import runs_home
from genrec.utils.progress import ProgressFn, per_stage, prefixed, silent

log = logging.getLogger(__name__)

Report = Callable[[str], None]


def get_library(
    spec: str,
    *,
    split: str = "filtered",
    split_seed: int = 0,
    progress: ProgressFn = silent,
    report: Report = lambda message: None,
    sources=None,
) -> Library:
    """``demo`` (generated), ``gtzan`` (downloaded into the data folder when missing) or a GTZAN folder."""
    if spec == "demo":
        return load_demo(progress=per_stage(progress, "demo library"))
    root = Path(spec)
    if spec == "gtzan":
        root = find_genre_root(default_gtzan_home())
        if root is None:

            def on_bytes(_file: str, done: int, total: int) -> None:
                progress("gtzan download", done, total)
                if total and done >= total:
                    progress("gtzan extract", 0, 1)

            root = download_gtzan(default_gtzan_home(), sources=sources, report=report, progress=on_bytes)
            progress("gtzan extract", 1, 1)
    return load_gtzan(root, split=split, seed=split_seed)


def build(
    library: str = "demo",
    *,
    weights: str | None = None,
    split: str | None = None,
    chunk_seconds: float | None = None,
    out: str | None = None,
    epochs: int | None = None,
    input_size: int | None = None,
    max_per_genre: int | None = None,
    architectures: tuple[str, ...] = ARCHITECTURES,
    progress: ProgressFn = silent,
    report: Report = lambda message: None,
) -> list[Path]:
    """Get ``library``, train and evaluate each architecture on it; return the run folders.

    Defaults: ImageNet weights and the artist-filtered split for a real library; random weights
    (offline) and the demo's own split for ``demo``.
    """

    if library == "demo" and split not in (None, "paper"):
        raise GenrecError("--split applies to real libraries; the synthetic demo library has its own seeded split.")
    weights = weights or (DEMO_WEIGHTS if library == "demo" else DEFAULT_WEIGHTS)
    split = split or ("paper" if library == "demo" else "filtered")
    lib = get_library(library, split=split, progress=progress, report=report)
    settings = default_settings(library)
    settings.update({k: v for k, v in (("epochs", epochs), ("input_size", input_size)) if v is not None})
    settings.update(
        library="demo" if library == "demo" else str(lib.root),
        weights=weights,
        split=split,
        chunk_seconds=chunk_seconds,
        max_per_genre=max_per_genre,
    )
    out_dir = Path(out) if out else runs_home()
    out_dir.mkdir(parents=True, exist_ok=True)
    # Runs are built in a hidden folder beside the finished ones and moved in when complete, so the
    # app never lists a run whose predictors are still being converted.
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(os.getpid()), dir=out_dir))
    configs = [TrainConfig(arch=arch, out=str(staging), **settings) for arch in architectures]
    # The first training child spends its first seconds on one core importing TensorFlow and building the network:
    # this process makes the spectrograms on the other meanwhile (every architecture reads the same ones).
    stop = threading.Event()
    warming = threading.Thread(target=_warm, args=(configs[0], lib, stop), daemon=True)
    runs = []
    try:
        warming.start()
        for cfg in configs:
            arch_progress = prefixed(progress, cfg.arch)
            # training and conversion each in a fresh process: the build peaks at its larger step, not at their sum
            trained = run_isolated(train_step, cfg, lib, progress=arch_progress)
            run_isolated(export_step, trained, progress=arch_progress, environment=CONVERSION_ENV)
            runs.append(publish_run(trained.path, out_dir))
    finally:
        stop.set()
        if warming.is_alive():
            warming.join()
        shutil.rmtree(staging, ignore_errors=True)
    return runs


def _warm(cfg: TrainConfig, library: Library, stop: threading.Event) -> None:
    """:func:`~genrec.training.trainer.warm_spectrograms` in a thread: a failure is the child's to report."""
    try:
        warm_spectrograms(cfg, library, stop)
    except Exception as exc:  # an unreadable clip: the training child meets it too, and says so properly
        log.debug("making the spectrograms ahead of training stopped (%s: %s)", type(exc).__name__, exc)


#: The conversion's child runs without TensorFlow's oneDNN custom ops: on an AVX-512 Xeon they raised ResNet50's
#: conversion peak from 1.45 to 1.58 GB, the build's highest, and made it no faster (25.1 against 23.7 s); the
#: demo build's peak fell from 1745 to 1482 MB. Training keeps them: VGG16's frozen pass took 120 ms an image with
#: them, 148 without (RESULTS.md section 1).
CONVERSION_ENV = {"TF_ENABLE_ONEDNN_OPTS": "0"}


def train_step(cfg, library: Library, progress: ProgressFn = silent) -> TrainedRun:
    """Train and save one run without its LiteRT predictors (a child process of :func:`build`)."""

    return train_run(cfg, library=library, progress=progress, export=False)


def export_step(trained: TrainedRun, progress: ProgressFn = silent) -> None:
    """Write a staged run's float LiteRT predictor, Grad-CAM head and 8-bit predictor with its agreement figures
    (a child process of :func:`build`).

    The 8-bit step needs no TensorFlow, but it follows the conversion in the same process: a child of its own
    cost a second interpreter start and the imports again, and export_run returns the memory TensorFlow held first.
    """
    progress("saving", 0, 1)
    export_run(trained.path, strict=False)
    progress("saving", 1, 1)
    quantize_or_none(Run.open(trained.path), progress, trained.float_pooled)


def build_demo(
    *,
    weights: str = "none",
    out: str | None = None,
    progress: ProgressFn = silent,
    architectures: tuple[str, ...] = ARCHITECTURES,
) -> list[Path]:
    """Generate the demo library (if needed) and train each architecture on it; return the run folders."""
    return build("demo", weights=weights, out=out, progress=progress, architectures=architectures)


def closing_table(runs: list[Path]) -> str:
    """Both runs' headline figures next to the paper's test accuracy, as text."""

    rows = []
    for path in runs:
        s = Run.open(path).summary()
        rows.append(
            {
                "run": s["run"],
                "arch": s["arch"],
                "weights": s["weights"],
                "split": s["split"],
                "epochs": s["epochs"],
                "test accuracy": s["test_accuracy"],
                "paper": PAPER_ACCURACY.get(s["arch"]),
                "macro-F1": s["macro_f1"],
                "precision@5": s["precision_at_5"],
            }
        )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        return pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}")
