"""`genrec demo`: the synthetic library plus one VGG16 and one ResNet50 run, on any machine."""
from __future__ import annotations

from pathlib import Path

from genrec.config import ARCHITECTURES
from genrec.library import load_demo
from genrec.progress import ProgressFn, per_stage, silent
from genrec.train import TrainConfig, train

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
