"""What a build will do, and how a parent follows one: light enough for the app, which imports it at start-up.

The settings ``genrec build`` trains with, its progress stages and their measured costs (the estimate the
app shows, and :class:`DemoProgress`'s one overall bar), the hidden folder a build stages its runs in, and
the child-process protocol (:func:`build_in_subprocess`). No TensorFlow and no scikit-learn here: the
training itself is :mod:`genrec.training.pipeline`, which runs in the child.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from genrec.config import ARCH_LABELS, ARCHITECTURES, CLIP_SECONDS
from genrec.errors import GenrecError
from genrec.runs.layout import TMP_PREFIX
from genrec.utils.progress import ProgressFn, follow, silent

#: Printed by ``genrec build --progress-format lines`` before the path of each finished run.
RUN_LINE = "run: "


#: Settings of the demo runs: the paper's whole-clip 224×224 images, head trained on cached features.
DEMO_SETTINGS = dict(library="demo", epochs=50, batch_size=32, input_size=224, patience=10, seed=0)
#: Settings for a real library (GTZAN). Whole clips, not 3-s chunks: chunks make ten images per clip, so
#: 1000 clips would take about 22 minutes on 2 cores instead of about 3 (:func:`estimate_seconds`) and
#: hold 1.5 GB of images in memory instead of 0.15 GB. The head trains on cached features, so epochs are cheap.
REAL_SETTINGS = dict(epochs=50, batch_size=32, input_size=224, patience=10, seed=0)

#: Every progress stage a build reports, in order; ``{arch}`` is vgg16 or resnet50.
STAGES = (
    "demo library",
    "gtzan download",
    "gtzan extract",
    "{arch} spectrograms",
    "{arch} features",
    "{arch} epochs",
    "{arch} saving",
)

#: Seconds per unit on an idle 2-core machine, from the stage timings of the `genrec demo` run in
#: benchmarks/RESULTS.md section 1 (same 224-px images and code path as any library); the 3-s chunk
#: spectrogram cost is the whole-clip one times the chunk/whole CPU ratio that ``benchmarks/build_cost.py``
#: measured on the 60 real GTZAN clips. spectrogram: per 30-s clip; features: per image through the frozen
#: backbone; epoch_image: per training image and epoch; fixed: build + embed + save + LiteRT export per run.
MEASURED_COSTS = {
    "spectrogram_clip": 0.035,
    "spectrogram_chunk_clip": 0.13,
    "features": {"vgg16": 0.067, "resnet50": 0.027},
    "epoch_image": {"vgg16": 0.00048, "resnet50": 0.00053},
    "fixed": {"vgg16": 6.0, "resnet50": 20.0},
}


def default_settings(library: str) -> dict:
    """The training settings ``genrec build`` uses for ``library`` ("demo", "gtzan" or a folder)."""
    return dict(DEMO_SETTINGS) if library == "demo" else {**REAL_SETTINGS, "library": library}


def estimate_seconds(
    n_clips: int,
    chunk_seconds: float | None = None,
    *,
    epochs: int = REAL_SETTINGS["epochs"],
    architectures: tuple[str, ...] = ARCHITECTURES,
    train_fraction: float = 443 / 930,
) -> float:
    """Estimated wall time of ``genrec build`` for ``n_clips`` 30-s clips at 224 px on 2 CPU cores.

    Spectrograms once per clip (the cache serves the second architecture), then per architecture: the
    frozen pass over every image, ``epochs`` epochs over the training images (an upper bound: early
    stopping usually ends sooner), and the fixed cost of building, saving and exporting the model. The
    ImageNet weights cost the same compute as random ones; downloads (GTZAN ~1.2 GB, weights ~150 MB)
    are not included. ``train_fraction``: the artist-filtered split trains on 443 of its 930 clips.
    """
    per_clip = 1 if not chunk_seconds else max(1, int(CLIP_SECONDS // chunk_seconds))
    images = n_clips * per_clip
    c = MEASURED_COSTS
    total = n_clips * (c["spectrogram_chunk_clip"] if chunk_seconds else c["spectrogram_clip"])
    for arch in architectures:
        total += images * c["features"][arch]
        total += epochs * images * train_fraction * c["epoch_image"][arch]
        total += c["fixed"][arch]
    return total


def staging_prefix(pid: int) -> str:
    """How the hidden folder that build process ``pid`` stages its runs in is named (then random letters).

    The pid lets whoever follows a build that was killed remove exactly its folder (:mod:`genrec.app.buildjob`).
    """
    return f"{TMP_PREFIX}build-{pid}-"


def build_in_subprocess(
    args: list[str], *, progress: ProgressFn = silent, command: list[str] | None = None
) -> list[Path]:
    """``genrec build ARGS --progress-format lines`` in a child process, following its progress; the run folders.

    Training needs TensorFlow and about 1 GB more memory than answering clips does, and all of it
    is returned when the child exits. ``command`` replaces the child's command line (tests).
    GenrecError carries the child's own error message.
    """
    argv = command or [sys.executable, "-m", "genrec", "build", *args, "--progress-format", "lines"]
    runs: list[Path] = []
    # stderr goes to a file: a pipe nobody reads until the end could fill up and stall the child
    with tempfile.TemporaryFile("w+") as errors:
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1) as child:
            for line in child.stdout:
                line = line.strip()
                if line.startswith(RUN_LINE):
                    runs.append(Path(line[len(RUN_LINE) :]))
                else:
                    follow(line, progress)
            code = child.wait()
        errors.seek(0)
        err_tail = deque(errors, maxlen=20)
    if code != 0:
        said = [ln.strip() for ln in err_tail if ln.startswith("error: ")]
        raise GenrecError(
            said[-1].removeprefix("error: ")
            if said
            else f"the build stopped (exit status {code}): " + " ".join(ln.strip() for ln in list(err_tail)[-3:])
        )
    return runs


def build_demo_in_subprocess(
    *, weights: str = "none", out: str | None = None, progress: ProgressFn = silent, command: list[str] | None = None
) -> list[Path]:
    """:func:`build_demo` in a child process (``genrec build --library demo``), following its progress."""
    args = ["--library", "demo", "--weights", weights, *(["--out", out] if out else [])]
    return build_in_subprocess(args, progress=progress, command=command)


#: Seconds each reported stage of the demo build takes on 2 idle cores, as shares of one overall progress bar:
#: ``python -m benchmarks.demo_build`` on 2026-12-06 at 06:03 UTC (RESULTS.md section 1), rounded. A stage runs
#: from the report before it, so "spectrograms" holds the training child's start and the network's build (the
#: build's own process has made the spectrograms meanwhile). Saving (the float export) reports no steps in between,
#: so it has no share.
_DEMO_SECONDS = {"demo library": 21.0}
_ARCH_SECONDS = {
    "vgg16": {"spectrograms": 5.0, "features": 21.0, "epochs": 4.0, "8-bit: quantize and check": 5.0},
    "resnet50": {"spectrograms": 5.0, "features": 9.0, "epochs": 4.0, "8-bit: quantize and check": 3.0},
}
_DEMO_STAGES = list(_DEMO_SECONDS.items()) + [
    (f"{arch} {stage}", seconds) for arch in ARCHITECTURES for stage, seconds in _ARCH_SECONDS[arch].items()
]


class DemoProgress:
    """Turns ``build_demo``'s per-stage reports into one overall fraction and a status line."""

    def __init__(self, architectures: Sequence[str] = ARCHITECTURES) -> None:
        self.stages = [(s, w) for s, w in _DEMO_STAGES if s in _DEMO_SECONDS or s.split()[0] in architectures]
        self.seconds = sum(w for _, w in self.stages)  # whole seconds: the last stage's end divides to exactly 1.0
        self.fraction = 0.0

    def update(self, stage: str, done: int, total: int) -> tuple[float, str]:
        """Record a report; return (overall fraction 0–1, never going back, and a status line)."""
        start = 0.0
        for name, seconds in self.stages:
            if name == stage:
                part = min(1.0, done / total) if total else 1.0
                self.fraction = max(self.fraction, min(1.0, (start + seconds * part) / self.seconds))
                break
            start += seconds
        what = stage
        for arch, label in ARCH_LABELS.items():
            what = what.replace(arch, label)
        return self.fraction, f"{what}: {done}/{total}"
