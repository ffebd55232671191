"""``memory.py --build``: peak memory of a whole ``genrec build``, per stage, counting every process it starts.

The build runs as the app starts it (``python -m genrec build ... --progress-format lines``) in a fresh
child. Since the build trains, converts and quantizes in child processes of its own
(:mod:`genrec.utils.isolated`), one process's RSS no longer tells the story: every 0.1 s this samples the
RSS of the build's whole process tree (psutil), files the sum under the stage the build last
reported, and keeps the largest single process too. ``ru_maxrss`` of the waited-for children, read
when the build exits, gives the exact peak of the largest single process.
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

from benchmarks.measure import tree_rss_mb


def measure(library: str, extra: list[str]) -> dict:
    """Build once; the tree's peak RSS (sampled) overall and per stage, and the largest process's (exact)."""
    import psutil

    # under the benchmark's temporary GENREC_RUNS (removed at exit), never in the project's models/
    runs_dir = os.environ.get("GENREC_RUNS") or tempfile.gettempdir()
    os.makedirs(runs_dir, exist_ok=True)
    out = tempfile.mkdtemp(prefix="build-", dir=runs_dir)
    args = ["build", "--library", library, "--weights", "none", "--progress-format", "lines", "--out", out, *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "genrec", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    stage = ["start"]
    tree: dict[str, float] = {}
    single: dict[str, float] = {}

    def sample() -> None:
        while child.poll() is None:
            try:
                sizes = tree_rss_mb(child.pid)
            except psutil.Error:  # the build has just exited
                break
            total, largest = sum(sizes), max(sizes, default=0.0)
            tree[stage[0]] = max(tree.get(stage[0], 0.0), total)
            single[stage[0]] = max(single.get(stage[0], 0.0), largest)
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
        "exit": code,
        "wall_s": time.perf_counter() - t,
        "runs": runs,
        # ru_maxrss of children is the largest process so far: exact when it grew with this build
        "largest_process_peak_mb_exact": after / 1024 if after > before else None,
        "tree_peak_mb": max(tree.values(), default=0.0),
        "stage_tree_peaks_mb": tree,
        "stage_largest_process_mb": single,
    }


def main(library: str, extra: list[str]) -> dict:
    """Measure one build and print its peaks."""
    r = measure(library, extra)
    exact = r["largest_process_peak_mb_exact"]
    print(
        f"exit {r['exit']}, {r['wall_s']:.0f} s; peak RSS of the whole process tree {r['tree_peak_mb']:.0f} MB "
        f"(sampled every 0.1 s); largest single process {exact:.0f} MB (exact)"
        if exact
        else f"exit {r['exit']}, {r['wall_s']:.0f} s; peak RSS of the whole process tree {r['tree_peak_mb']:.0f} MB",
        flush=True,
    )
    print(f"    {'stage':<28} {'tree MB':>8} {'largest process MB':>19}", flush=True)
    for stage_name, mb in r["stage_tree_peaks_mb"].items():
        print(f"    {stage_name:<28} {mb:8.0f} {r['stage_largest_process_mb'][stage_name]:19.0f}", flush=True)
    return r
