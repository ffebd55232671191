"""Wall and CPU timers, robust summaries of repeated timings, and memory (RSS) readings."""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@contextmanager
def timed(store: dict, key: str) -> Iterator[None]:
    """Record wall seconds and CPU seconds of the block as store[key] = (wall, cpu)."""
    w, c = time.perf_counter(), cpu_seconds()
    try:
        yield
    finally:
        store[key] = (time.perf_counter() - w, cpu_seconds() - c)


def median(xs: Iterable[float]) -> float:
    """The median, as a plain float."""
    return float(statistics.median(xs))


def iqr(xs: Iterable[float]) -> tuple[float, float]:
    """The first and third quartiles (the extremes when there are fewer than four values)."""
    xs = sorted(xs)
    if len(xs) < 4:
        return xs[0], xs[-1]
    q = statistics.quantiles(xs, n=4)
    return q[0], q[2]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    Read from /proc/self/status VmHWM, which starts afresh at exec. getrusage's ru_maxrss would do on
    its own, but Linux carries it over from the parent through fork+exec, so a child spawned by a
    process that already used 1 GB would report >= 1 GB from its first line.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int | None = None) -> float | None:
    """Resident set size of a process (this one by default) in MB; None without psutil."""
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process(pid or os.getpid()).memory_info().rss / 1024 / 1024


def _tree_mb(pid: int, read) -> list[float]:
    """``read(process)`` bytes in MB for process ``pid`` and each of its descendants (those that vanish meanwhile
    are left out)."""
    import psutil

    proc = psutil.Process(pid)
    sizes = []
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            sizes.append(read(p) / 2**20)
    return sizes


def tree_rss_mb(pid: int) -> list[float]:
    """RSS in MB of process ``pid`` and each of its descendants (those that vanish meanwhile are left out)."""
    return _tree_mb(pid, lambda p: p.memory_info().rss)


def tree_pss_mb(pid: int) -> float:
    """Proportional set size in MB of process ``pid`` and its descendants, summed: pages a forked child still
    shares with its parent count once, as the machine's memory does (a sum of RSS counts them in each)."""
    return sum(_tree_mb(pid, lambda p: p.memory_full_info().pss))


def rss_split() -> dict[str, float]:
    """``anon_mb`` and ``file_mb``: the anonymous (private heap: weights, tensors, Python objects) and the
    file-backed (mapped shared libraries, memory-mapped data files) parts of the current RSS, from
    /proc/self/status (empty where there is none)."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("RssAnon:", "RssFile:")):
                out[line.split(":")[0].lower().replace("rss", "") + "_mb"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out
