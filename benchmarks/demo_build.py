"""``genrec demo`` from a cold start: its stages, its total and the peak memory of its process tree.

Runs ``python -m genrec demo --progress-format lines`` in a fresh ``GENREC_HOME`` (so the library is
synthesised and every spectrogram computed, as for a first visitor), timestamps each progress line as it
arrives and turns the lines into stage durations. A stage lasts from the end of the stage before it to its
own last line, so the start of each child process (importing TensorFlow, building the model) counts in the
stage it starts. The process tree's resident memory is sampled every 0.1 s; each stage's own peak is printed.

``--checkout DIR`` runs another checkout's genrec (e.g. a ``git worktree`` of an older commit), so
before and after are measured in one run, alternating, on the same machine::

    git worktree add /tmp/genrec-before <commit>
    python -m benchmarks.demo_build --checkout /tmp/genrec-before --checkout . --rounds 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path

import psutil

from benchmarks import report
from benchmarks.measure import median, tree_pss_mb, tree_rss_mb
from benchmarks.workspace import PROJECT


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--checkout", action="append", help="a genrec checkout to build with (repeat to compare; default: this one)"
    )
    p.add_argument("--rounds", type=int, default=1, help="builds per checkout, alternating (default 1)")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--keep", help="copy the last build's GENREC_HOME (library and runs) here for later benchmarks")
    return p.parse_args(argv)


class TreeMemory(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until stopped, and their summed PSS.

    RSS is the target's measure; PSS counts the pages the processes share (the same Python, NumPy and pandas
    libraries in the build and its children) once, as the machine's memory does.
    """

    def __init__(self, pid: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_mb, self.window_mb, self.peak_pss_mb = pid, every, 0.0, 0.0, 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            with contextlib.suppress(psutil.Error):  # the build ended between two samples
                now = sum(tree_rss_mb(self.pid))
                self.peak_mb, self.window_mb = max(self.peak_mb, now), max(self.window_mb, now)
                self.peak_pss_mb = max(self.peak_pss_mb, tree_pss_mb(self.pid))
            self._halt.wait(self.every)

    def window_peak(self) -> float:
        """The peak since the last call (a stage's own peak, called as the stage ends)."""
        peak, self.window_mb = self.window_mb, 0.0
        return peak

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak_mb


def build_once(checkout: Path, keep: str | None = None) -> dict:
    """One cold ``genrec demo`` with ``checkout``'s genrec: total, stages and peak tree RSS.

    ``keep`` names a folder that receives a copy of the build's ``GENREC_HOME`` once it is timed.
    """
    with tempfile.TemporaryDirectory(prefix="genrec-demo-bench-") as home:
        env = {**os.environ, "GENREC_HOME": home, "PYTHONPATH": str(checkout)}
        env.pop("GENREC_RUNS", None)
        argv = [sys.executable, "-m", "genrec", "demo", "--out", f"{home}/models", "--progress-format", "lines"]
        stages: OrderedDict[str, float] = OrderedDict()
        peaks: dict[str, float] = {}
        t0 = time.perf_counter()
        last = 0.0
        with subprocess.Popen(
            argv, cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        ) as child:
            memory = TreeMemory(child.pid)
            memory.start()
            for line in child.stdout:
                now = time.perf_counter() - t0
                try:
                    stage = json.loads(line)["stage"]
                except (ValueError, KeyError, TypeError):
                    continue
                stages[stage] = stages.get(stage, 0.0) + now - last
                peaks[stage] = max(peaks.get(stage, 0.0), memory.window_peak())
                last = now
            code = child.wait()
        total = time.perf_counter() - t0
        peak = memory.stop()
        if keep and code == 0:
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(home, keep, symlinks=True)
    if code != 0:
        raise SystemExit(f"genrec demo failed in {checkout} (exit status {code})")
    stages["(after the last progress line)"] = total - last
    return {
        "total_s": total,
        "peak_tree_mb": peak,
        "peak_tree_pss_mb": memory.peak_pss_mb,
        "stages": dict(stages),
        "stage_peak_mb": peaks,
    }


def main(argv=None) -> int:
    a = parse_args(argv)
    report.start("genrec demo: stages, total and the process tree's peak memory", argv=argv)
    checkouts = [Path(c).resolve() for c in (a.checkout or [str(PROJECT)])]
    results: dict[str, list[dict]] = {str(c): [] for c in checkouts}
    for r in range(a.rounds):
        for c in checkouts:
            res = build_once(c, a.keep)
            results[str(c)].append(res)
            print(
                f"round {r + 1}, {c}: {res['total_s']:.1f} s, peak tree RSS {res['peak_tree_mb']:.0f} MB, "
                f"PSS {res['peak_tree_pss_mb']:.0f} MB",
                flush=True,
            )
    for c, runs in results.items():
        print(f"\n{c}: stages of the round with the median total")
        mid = sorted(runs, key=lambda x: x["total_s"])[len(runs) // 2]
        peaks = mid["stage_peak_mb"]
        print(
            report.table(
                [
                    {"stage": k, "seconds": v, "peak tree MB": peaks.get(k, float("nan"))}
                    for k, v in mid["stages"].items()
                ],
                floatfmt="{:.1f}",
            )
        )
    rows = [
        {
            "checkout": c,
            "median total s": median(x["total_s"] for x in runs),
            "peak tree MB (max)": max(x["peak_tree_mb"] for x in runs),
            "peak tree PSS MB (max)": max(x["peak_tree_pss_mb"] for x in runs),
        }
        for c, runs in results.items()
    ]
    first = rows[0]["median total s"]
    for row in rows:
        row["ratio to the first"] = row["median total s"] / first
    print()
    print(report.table(rows, floatfmt="{:.2f}"))
    report.dump_json(a.json, {"results": results, "summary": rows})
    return 0


if __name__ == "__main__":
    report.run_script(main)
