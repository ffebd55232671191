"""Shared helpers of the genrec benchmarks: machine description, versions, temp homes, timers.

Every benchmark writes its caches and runs into a temporary GENREC_HOME / GENREC_RUNS (never into the
project's ``models/`` or ``data/``), and prints the machine, the date and the library versions with
its figures, because timings on a shared 2-core box only mean something next to that context.
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SHARED_SAMPLE = PROJECT.parent / "shared" / "data" / "gtzan-sample"
PAPER = {"vgg16": 0.60, "resnet50": 0.40}  # test accuracy in the paper's table

# Keep TensorFlow's start-up chatter out of the benchmark output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONWARNINGS", "ignore")


# --------------------------------------------------------------------------- environment
def quiet_tf() -> None:
    """Silence TensorFlow's Python-side warnings (retracing notices etc.)."""
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass


def setup_home(keep: bool = False, prefix: str = "genrec-bench-") -> Path:
    """Point GENREC_HOME / GENREC_RUNS at a fresh temp dir (removed at exit unless ``keep``)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["GENREC_HOME"] = str(root / "data")
    os.environ["GENREC_RUNS"] = str(root / "runs")
    if not keep:
        atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in (
        "genrec",
        "tensorflow-cpu",
        "tensorflow",
        "keras",
        "numpy",
        "librosa",
        "soundfile",
        "scikit-learn",
        "streamlit",
        "psutil",
    ):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return out


def machine_lines() -> list[str]:
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
        f"load:     1/5/15-min load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        " (other people's jobs share this machine)"
        if load
        else "load:     n/a",
        "versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
    ]
    return lines


def header(title: str, argv: list[str] | None = None) -> None:
    print("=" * 78)
    print(title)
    print("=" * 78)
    print(
        "command:  python "
        + " ".join([os.path.relpath(sys.argv[0], PROJECT)] + (argv if argv is not None else sys.argv[1:]))
    )
    for line in machine_lines():
        print(line)
    print(flush=True)


# --------------------------------------------------------------------------- data
def default_library(n_per_genre: int = 6, seconds: float = 30.0) -> tuple[Path, str]:
    """The shared real GTZAN sample if present, else a generated GTZAN-layout folder of WAV clips.

    Returns (folder, description).
    """
    if SHARED_SAMPLE.is_dir() and any(SHARED_SAMPLE.rglob("*.wav")):
        n = sum(1 for _ in SHARED_SAMPLE.rglob("*.wav"))
        return SHARED_SAMPLE, f"{SHARED_SAMPLE} ({n} real GTZAN clips)"
    return generated_library(n_per_genre, seconds), (
        f"generated folder ({n_per_genre} synthetic {seconds:g}-s clips per genre; {SHARED_SAMPLE} not found)"
    )


def generated_library(n_per_genre: int = 6, seconds: float = 30.0) -> Path:
    """A GTZAN-layout folder <genre>/<genre>.000NN.wav of genrec's synthetic clips, under GENREC_HOME."""
    import soundfile as sf

    from genrec import synth
    from genrec.config import GENRES, SAMPLE_RATE

    root = Path(os.environ.get("GENREC_HOME", tempfile.mkdtemp())) / "generated-gtzan"
    for genre in GENRES:
        for i in range(n_per_genre):
            path = root / genre / f"{genre}.{i:05d}.wav"
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, synth.synthesize_clip(genre, i, seed=0, seconds=seconds), SAMPLE_RATE, subtype="PCM_16")
    return root


# --------------------------------------------------------------------------- timing
def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@contextmanager
def timed(store: dict, key: str):
    """Record wall seconds and CPU seconds of the block as store[key] = (wall, cpu)."""
    w, c = time.perf_counter(), cpu_seconds()
    try:
        yield
    finally:
        store[key] = (time.perf_counter() - w, cpu_seconds() - c)


def median(xs) -> float:
    return float(statistics.median(xs))


def iqr(xs) -> tuple[float, float]:
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
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process(pid or os.getpid()).memory_info().rss / 1024 / 1024


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
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2, default=str))
        print(f"\nraw figures written to {path}")


# --------------------------------------------------------------------------- runs
def train_two_runs(library: str | None, epochs: int, input_size: int) -> tuple[Path, Path, str]:
    """Train a tiny-but-real VGG16 run and ResNet50 run into GENREC_RUNS; return (vgg16, resnet50, how).

    Random-init weights (ImageNet weights cannot be downloaded here); forward cost and memory depend on
    the architecture and input size, not on the weights' values.
    """
    from genrec.train import TrainConfig, train

    root, desc = (Path(library), library) if library else default_library()
    runs = []
    for arch in ("vgg16", "resnet50"):
        t = time.perf_counter()
        cfg = TrainConfig(
            arch=arch,
            library=str(root),
            epochs=epochs,
            weights="none",
            input_size=input_size,
            out=os.environ["GENREC_RUNS"],
        )
        runs.append(train(cfg))
        print(f"trained {arch} run {runs[-1].name} in {time.perf_counter() - t:.0f} s", flush=True)
    how = (
        f"trained here on {desc}: weights 'none' (random init; ImageNet weights cannot be downloaded "
        f"here), {epochs} epochs, {input_size}px"
    )
    return runs[0], runs[1], how


def runs_from_args(
    vgg16: str | None, resnet50: str | None, library: str | None, epochs: int, input_size: int
) -> tuple[Path, Path, str]:
    if vgg16 and resnet50:
        return Path(vgg16).resolve(), Path(resnet50).resolve(), "given on the command line"
    if vgg16 or resnet50:
        sys.exit("give both --vgg16 and --resnet50, or neither (then two runs are trained here)")
    return train_two_runs(library, epochs, input_size)


def first_clip(run_dir: Path) -> Path:
    """The first audio file of a run's library (a real 30-s clip for the GTZAN sample)."""
    from genrec.runs import Run

    tracks = Run.open(run_dir).tracks
    paths = sorted(
        p
        for p in tracks["path"]
        if Path(p).suffix.lower() in (".wav", ".au", ".flac", ".ogg", ".mp3") and Path(p).is_file()
    )
    if not paths:
        raise SystemExit(f"{run_dir}: none of its library's audio files is on this machine; pass --clip")
    return Path(paths[0])


_T0 = (time.perf_counter(), time.process_time())


def footer() -> None:
    """Wall time of the whole script and CPU time of it and its subprocesses."""
    wall = time.perf_counter() - _T0[0]
    own = cpu_seconds()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own + kids.ru_utime + kids.ru_stime
    print(
        f"\nscript finished in {wall:.0f} s wall, {cpu:.0f} s CPU (this process and its subprocesses); "
        f"on an otherwise idle machine with these {os.cpu_count()} cores expect roughly "
        f"{max(cpu / (os.cpu_count() or 1), 1):.0f}-{cpu:.0f} s"
    )


def run_script(main) -> None:
    """Run a benchmark's ``main``, print the footer (not in helper subprocesses) and exit with its code."""
    code = main()
    if "--_child" not in sys.argv:
        footer()
    sys.exit(code)


def streamlit_command(
    app: str | Path, port: int, python: str | Path = sys.executable, watcher: str | None = "none"
) -> list:
    """The command line of a headless Streamlit server for ``app`` on 127.0.0.1:``port``.

    ``watcher``: Streamlit's file watcher setting; None leaves it to ``.streamlit/config.toml``.
    """
    cmd = [str(python), "-m", "streamlit", "run", str(app), "--server.headless", "true", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    return cmd + (["--server.fileWatcherType", watcher] if watcher else [])
