"""`genrec demo`: the synthetic library plus one VGG16 and one ResNet50 run, on any machine."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path

from genrec.config import ARCHITECTURES
from genrec.errors import GenrecError
from genrec.library import load_demo
from genrec.progress import ProgressFn, follow, per_stage, silent
from genrec.train import TrainConfig, train

#: Printed by ``genrec demo --progress-format lines`` before the path of each finished run.
RUN_LINE = "run: "

#: Settings of the demo runs: the paper's whole-clip 224×224 images, head trained on cached features.
DEMO_SETTINGS = dict(library="demo", epochs=50, batch_size=32, input_size=224, patience=10, seed=0)


def build_demo(*, weights: str = "none", out: str | None = None, progress: ProgressFn = silent,
               architectures: tuple[str, ...] = ARCHITECTURES) -> list[Path]:
    """Generate the demo library (if needed) and train each architecture on it; return the run folders."""
    library = load_demo(progress=per_stage(progress, "demo library"))
    runs = []
    for arch in architectures:
        cfg = TrainConfig(arch=arch, weights=weights, **DEMO_SETTINGS, **({"out": out} if out else {}))
        runs.append(train(cfg, library=library, progress=lambda s, d, t, a=arch: progress(f"{a} {s}", d, t)))
    return runs


def build_demo_in_subprocess(*, weights: str = "none", out: str | None = None, progress: ProgressFn = silent,
                             command: list[str] | None = None) -> list[Path]:
    """:func:`build_demo` in a child process (``genrec demo``), following its progress.

    The app builds the demo this way: training needs TensorFlow and about 1 GB more memory than
    answering clips does, and all of it is returned when the child exits. ``command`` replaces
    the child's command line (tests). GenrecError carries the child's own error message.
    """
    argv = command or [sys.executable, "-m", "genrec", "demo", "--weights", weights, "--progress-format", "lines",
                       *(["--out", out] if out else [])]
    runs: list[Path] = []
    # stderr goes to a file: a pipe nobody reads until the end could fill up and stall the child
    with tempfile.TemporaryFile("w+") as errors:
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1) as child:
            for line in child.stdout:
                line = line.strip()
                if line.startswith(RUN_LINE):
                    runs.append(Path(line[len(RUN_LINE):]))
                else:
                    follow(line, progress)
            code = child.wait()
        errors.seek(0)
        err_tail = deque(errors, maxlen=20)
    if code != 0:
        said = [ln.strip() for ln in err_tail if ln.startswith("error: ")]
        raise GenrecError(said[-1].removeprefix("error: ") if said else
                          f"building the demo stopped (exit status {code}): "
                          + " ".join(ln.strip() for ln in list(err_tail)[-3:]))
    return runs

