"""What a benchmark prints besides its figures: the machine and versions, text tables, JSON, the footer.

Timings on a shared 2-core box only mean something next to their context, so every benchmark prints the
machine, the date, the load and the library versions with its figures.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from benchmarks import workspace
from benchmarks.measure import cpu_seconds
from benchmarks.workspace import PROJECT
from genrec.utils.machine import cpu_features, describe_cpu
from genrec.utils.versions import package_versions

#: The distributions whose versions a benchmark's header names.
VERSIONED = (
    "genrec",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "numpy",
    "scipy",
    "soxr",
    "soundfile",
    "scikit-learn",
    "streamlit",
    "psutil",
    "faiss-cpu",
)


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> str:
    """Which of genrec's speed-relevant CPU flags /proc/cpuinfo lists, e.g. ``avx2 (no avx512f, ...)``."""
    return describe_cpu(cpu_features())


def mem_total_gb() -> float | None:
    """The machine's memory in GB, None where /proc/meminfo cannot say."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def versions() -> dict[str, str]:
    """Python's version and those of the installed distributions in VERSIONED."""
    return package_versions(VERSIONED, python=True)


def machine_lines() -> list[str]:
    """The date, machine, load and versions lines of a header."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    mem = mem_total_gb()
    lines = [
        f"date:     {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine:  {cpu_model()}, {os.cpu_count()} logical cores ({usable} usable), "
        + (f"{mem:.1f} GB RAM, " if mem else "")
        + f"{platform.system()} {platform.release()}",
        f"cpu flags: {cpu_flags()}",
        f"load:     1/5/15-min load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        " (other people's jobs share this machine)"
        if load
        else "load:     n/a",
        "versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
    ]
    return lines


def command_line(argv: list[str] | None = None) -> str:
    """The command that runs this script, ``python -m benchmarks.NAME ...`` for a benchmark module."""
    script = Path(sys.argv[0]).resolve()
    if script.suffix == ".py" and script.is_relative_to(PROJECT):
        program = ["-m", ".".join(script.relative_to(PROJECT).with_suffix("").parts)]
    else:  # python -c, or a script outside the project
        program = [sys.argv[0]]
    return " ".join(["python", *program, *(argv if argv is not None else sys.argv[1:])])


def header(title: str, argv: list[str] | None = None) -> None:
    """Print the title, the command and the machine lines."""
    print("=" * 78)
    print(title)
    print("=" * 78)
    print(f"command:  {command_line(argv)}")
    for line in machine_lines():
        print(line)
    print(flush=True)


def start(title: str, keep: bool = False, argv: list[str] | None = None) -> Path:
    """A benchmark's first steps: quieten TensorFlow, point GENREC_HOME at a throwaway folder, print the header.

    ``keep`` keeps that folder at exit; returns it (``workspace.setup_home``).
    """
    workspace.quiet_tensorflow()  # first: its environment variables count only before TensorFlow is imported
    root = workspace.setup_home(keep)
    header(title, argv)
    return root


def table(rows: list[dict], columns: list[str] | None = None, floatfmt: str = "{:.3f}") -> str:
    """A plain fixed-width text table (pasted verbatim into RESULTS.md)."""
    columns = columns or list(rows[0])
    cells = [[c for c in columns]]
    for r in rows:
        cells.append(
            [
                floatfmt.format(r[c]) if isinstance(r.get(c), float) else ("" if r.get(c) is None else str(r[c]))
                for c in columns
            ]
        )
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    out = []
    for n, row in enumerate(cells):
        out.append("  ".join(v.rjust(w) if n and _numeric(v) else v.ljust(w) for v, w in zip(row, widths)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _numeric(v: str) -> bool:
    try:
        float(v.rstrip("x%s"))
        return True
    except ValueError:
        return False


def dump_json(path: str | None, payload: dict) -> None:
    """Write the raw figures to ``path`` (nothing when None)."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2, default=str))
        print(f"\nraw figures written to {path}")


def footer(started: float) -> None:
    """Wall time of the whole script since ``started`` (perf_counter) and CPU time of it and its subprocesses."""
    wall = time.perf_counter() - started
    own = cpu_seconds()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own + kids.ru_utime + kids.ru_stime
    print(
        f"\nscript finished in {wall:.0f} s wall, {cpu:.0f} s CPU (this process and its subprocesses); "
        f"on an otherwise idle machine with these {os.cpu_count()} cores expect roughly "
        f"{max(cpu / (os.cpu_count() or 1), 1):.0f}-{cpu:.0f} s"
    )


def run_script(main: Callable[[], int | None]) -> None:
    """Run a benchmark's ``main``, print the footer (not in helper subprocesses) and exit with its code."""
    started = time.perf_counter()
    code = main()
    if "--_child" not in sys.argv:
        footer(started)
    sys.exit(code)
