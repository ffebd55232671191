"""``memory.py --build``: peak RSS of a whole ``genrec build`` child, per stage, for two conversion routes.

Each route builds in its own fresh child process (``python -m genrec build ... --progress-format lines``),
the way the app starts it. The parent samples the child's RSS (psutil, every 0.1 s) and files each sample
under the stage the child last reported, and reads the child's exact peak (``ru_maxrss``) when it exits.

Routes: ``savedmodel`` is genrec's (``serving.convert``: ``model.export`` then
``TFLiteConverter.from_saved_model``, freed memory returned first); ``keras`` is the route genrec used
before, ``TFLiteConverter.from_keras_model``, put back into the child by patching ``genrec.runs``.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

_KERAS_ROUTE = """
import contextlib, io, os, tempfile, sys
from pathlib import Path
import genrec.runs

def export_from_keras_model(model, target):
    import tensorflow as tf
    from genrec.model import with_embedding
    converter = tf.lite.TFLiteConverter.from_keras_model(with_embedding(model))
    with contextlib.redirect_stdout(io.StringIO()):
        data = converter.convert()
    Path(target).write_bytes(data)
    return Path(target)

genrec.runs.export_predictor = export_from_keras_model
"""


def _child(route: str, args: list[str]) -> list[str]:
    patch = _KERAS_ROUTE if route == "keras" else ""
    code = patch + f"\nfrom genrec.cli import main\nsys.exit(main({args!r}))\n"
    return [sys.executable, "-c", "import sys\n" + code]


def measure(route: str, library: str, extra: list[str]) -> dict:
    """Build in a child with one conversion route; peak RSS overall (exact) and per stage (sampled)."""
    import psutil

    # under the benchmark's temporary GENREC_RUNS (removed at exit), never in the project's models/
    runs_dir = os.environ.get("GENREC_RUNS") or tempfile.gettempdir()
    os.makedirs(runs_dir, exist_ok=True)
    out = tempfile.mkdtemp(prefix=f"build-{route}-", dir=runs_dir)
    args = ["build", "--library", library, "--weights", "none", "--progress-format", "lines", "--out", out, *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    child = subprocess.Popen(
        _child(route, args),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    stage = ["start"]
    peaks: dict[str, float] = {}
    proc = psutil.Process(child.pid)

    def sample() -> None:
        while child.poll() is None:
            try:
                mb = proc.memory_info().rss / 2**20
            except psutil.Error:
                break
            peaks[stage[0]] = max(peaks.get(stage[0], 0.0), mb)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    runs = []
    for line in child.stdout:
        if line.startswith("run: "):
            runs.append(line[5:].strip())
        else:
            with contextlib.suppress(ValueError, KeyError):
                stage[0] = json.loads(line)["stage"]
    code = child.wait()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "route": route,
        "exit": code,
        "wall_s": time.perf_counter() - t,
        "runs": runs,
        # ru_maxrss of children is the largest child so far: exact when it grew with this one
        "peak_mb_exact": after / 1024 if after > before else None,
        "stage_peaks_mb": peaks,
    }


def main(library: str, extra: list[str], routes: list[str]) -> list[dict]:
    """Measure each route in turn (one build at a time, so they do not compete for the cores)."""
    results = []
    for route in routes:
        r = measure(route, library, extra)
        results.append(r)
        print(
            f"[{route}] exit {r['exit']}, {r['wall_s']:.0f} s, peak RSS "
            f"{r['peak_mb_exact'] or max(r['stage_peaks_mb'].values()):.0f} MB",
            flush=True,
        )
        for stage_name, mb in r["stage_peaks_mb"].items():
            print(f"    {stage_name:<24} {mb:7.0f} MB", flush=True)
    return results
