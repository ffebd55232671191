"""Writing a run folder: a trained run's files, its LiteRT predictor and Grad-CAM head, and its publication.

A run is written under a temporary name and renamed when complete, so an interrupted training never leaves
a half-written run behind. The file names are :mod:`genrec.runs.layout`'s; :mod:`genrec.runs.reader` reads
what this writes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from genrec.model.gradcam import write_head
from genrec.model.predict import SAVED_MODEL_PREFIX, convert_saved_model, export_saved_model, release_memory
from genrec.runs.layout import (
    EMBEDDINGS_NPZ,
    HEAD_FILE,
    HISTORY_CSV,
    METRICS_JSON,
    MODEL_KERAS,
    PREDICTOR_FILE,
    RUN_JSON,
    TMP_PREFIX,
    TRACKS_CSV,
)
from genrec.runs.reader import Run
from genrec.runs.record import RunRecord, read_json
from genrec.utils.fileio import atomic_write

log = logging.getLogger(__name__)


def _run_id(record: dict) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = "-l4" if record["config"].get("last_four_trainable") else ""
    return f"{record['arch']}{suffix}-{record['library']['name']}-{stamp}"


def write_run(
    out: Path,
    record: dict,
    model,
    history: pd.DataFrame,
    tracks: pd.DataFrame,
    probs: np.ndarray,
    embeddings: np.ndarray,
    metrics: dict,
    timings: dict,
    *,
    export: bool = True,
) -> Path:
    """Write all run files into a temporary directory, then rename it into ``out``.

    ``export=False`` leaves the LiteRT predictor and the Grad-CAM head to :func:`export_run` in another
    process (``genrec build``).
    """
    out.mkdir(parents=True, exist_ok=True)
    final = _free_name(out, _run_id(record))
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{final.name}-", dir=out))
    try:
        model.save(tmp / MODEL_KERAS)
        history.to_csv(tmp / HISTORY_CSV, index=False)
        tracks.to_csv(tmp / TRACKS_CSV, index=False)
        np.savez(
            tmp / EMBEDDINGS_NPZ,
            track_id=tracks["track_id"].to_numpy(dtype=str),
            embeddings=embeddings.astype(np.float32),
            probabilities=probs.astype(np.float32),
        )
        (tmp / METRICS_JSON).write_text(json.dumps(metrics, indent=2))
        timings_seconds = {k: round(v, 2) for k, v in timings.items()}
        saved = {**record, "predictor": None, "run_id": final.name, "timings_seconds": timings_seconds}
        # checked as any reader checks it, so a run that could not be opened is never written
        typed = RunRecord.from_json(tmp / RUN_JSON, json.loads(json.dumps(saved)))
        (tmp / RUN_JSON).write_text(json.dumps(typed.to_json(), indent=2))
        if export:  # a converter failure costs speed and memory when serving, not the run
            export_run(tmp, strict=False, model=model)
        # mkdtemp's 0700 would hide the run from a server running as another user (like predictor.tflite's 0644)
        os.chmod(tmp, 0o755 & ~_umask())
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _free_name(out: Path, run_id: str) -> Path:
    """``out/run_id``, or ``out/run_id-2``, ``-3``… when a run of that name is already there."""
    final, n = out / run_id, 1
    while final.exists():
        n += 1
        final = out / f"{run_id}-{n}"
    return final


def _rewrite_record(path: Path, change: Callable[[RunRecord], RunRecord]) -> None:
    """Replace a run's run.json by ``change(record)``, atomically."""
    record = RunRecord.from_json(path / RUN_JSON, read_json(path / RUN_JSON))
    atomic_write(path / RUN_JSON, json.dumps(change(record).to_json(), indent=2))


def export_run(path: Path, *, strict: bool = True, model=None) -> Path | None:
    """Convert the run's model.keras for LiteRT and write its Grad-CAM head; record both in run.json.

    ``model`` is the run's Keras model where the caller holds it already. ``strict=False`` (a build)
    logs a converter failure and returns None: the run then answers with model.keras. Needs TensorFlow.
    """
    from genrec.model.network import head_arrays, with_explain  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    path = Path(path)
    model = model if model is not None else Run.open(path).load_model()
    t = time.perf_counter()
    write_head(head_arrays(model), path / HEAD_FILE)
    predictor: str | None = PREDICTOR_FILE
    try:
        with tempfile.TemporaryDirectory(dir=path, prefix=SAVED_MODEL_PREFIX) as saved:
            export_saved_model(with_explain(model), saved)
            # Let go of the Keras model before the converter's peak (ResNet50 at 224 px: 0.1 GB lower in a build,
            # which loaded it here); a caller that passed ``model`` still holds it, and nothing is lost.
            del model
            release_memory()
            atomic_write(path / PREDICTOR_FILE, convert_saved_model(saved))
    except Exception as exc:  # the TFLite converter fails in many ways; the Keras model still serves
        if strict:
            raise
        log.warning(
            "could not convert the model for LiteRT (%s: %s); the run answers with model.keras", type(exc).__name__, exc
        )
        predictor = None
    release_memory()
    export_s = round(time.perf_counter() - t, 2)
    _rewrite_record(
        path,
        lambda record: replace(record, predictor=predictor, timings={**record.timings, "export": export_s}),
    )
    return path / predictor if predictor else None


def publish_run(staged: Path, out: Path) -> Path:
    """Move a complete run folder (built in a hidden folder inside ``out``) into ``out`` in one rename."""
    final = _free_name(out, staged.name)
    # the run records where it was written (its config's ``out``), not the hidden folder it was built in
    _rewrite_record(
        staged,
        lambda record: replace(
            record, run_id=final.name, config=replace(record.config, raw={**record.config.raw, "out": str(out)})
        ),
    )
    os.rename(staged, final)
    return final


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it; it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
