"""Per-unit costs of ``genrec build`` and the estimated time of the real GTZAN build (1000 clips, 2 cores).

Measures, on the real GTZAN sample (60 clips) with ``--weights none`` (ImageNet weights cost the same
compute; only their one-off download differs), with a cold spectrogram cache:

* spectrogram: seconds per 30-s clip as one whole-clip image, and per clip cut into ten 3-s chunks;
* features: seconds per 224-px image through each frozen backbone (batches of 8, as genrec.training.trainer);
* fit: seconds per training image and epoch of the head on cached features;
* fixed: model build + embedding + saving + LiteRT export, per run.

Each stage is genrec's own function (prepare_images, build_model, extract, fit_tail, export_predictor),
timed in wall and CPU seconds. CPU seconds are what carry over from a busy shared machine to an idle
one; the script turns them into idle-machine wall seconds (TensorFlow keeps 2 cores busy, librosa 1),
prints the estimate of ``genrec.training.plan.estimate_seconds`` for 1000 clips with them, and compares
with the costs ``genrec.training.plan.MEASURED_COSTS`` holds.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from benchmarks import report, workspace


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--library", help="GTZAN folder (default: the shared real sample)")
    p.add_argument("--epochs", type=int, default=10, help="epochs per run (all run: patience = epochs)")
    workspace.add_train_args(p, input_size=224)
    workspace.add_json_arg(p)
    return p.parse_args(argv)


class Clock:
    """Wall and CPU seconds (all threads of this process) of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def main(argv=None) -> int:
    a = parse_args(argv)
    report.start("genrec build: per-unit costs and the estimated GTZAN build time", argv=argv)

    import genrec.training.plan as build
    from genrec.config import GENRES
    from genrec.data.library import load_gtzan
    from genrec.model.network import build_model, split_model
    from genrec.model.predict import PREDICTOR_FILE, export_predictor
    from genrec.training.trainer import EXTRACT_BATCH, extract, fit_tail, prepare_images, select_tracks, set_seed

    root, what = (Path(a.library), a.library) if a.library else workspace.default_library()
    print(f"library: {what}\n", flush=True)
    lib = load_gtzan(root, split="paper")
    tracks = select_tracks(lib)
    n = len(tracks)
    rows, wall, cpu = [], {}, {}

    def record(stage: str, clock: Clock, units: int, unit: str) -> None:
        wall[stage], cpu[stage] = clock.wall / units, clock.cpu / units
        rows.append(
            {
                "stage": stage,
                "units": f"{units} {unit}",
                "wall_s": clock.wall,
                "cpu_s": clock.cpu,
                "wall_per_unit": clock.wall / units,
                "cpu_per_unit": clock.cpu / units,
                "cpu/wall": clock.cpu / max(clock.wall, 1e-9),
            }
        )
        print(f"{stage:<28} {clock.wall:8.1f} s wall {clock.cpu:8.1f} s CPU for {units} {unit}", flush=True)

    with Clock() as c:
        prepared = prepare_images(lib, tracks, None, a.input_size)
    record("spectrogram_clip", c, n, "clips")
    with Clock() as c:
        prepare_images(lib, tracks, 3.0, a.input_size)
    record("spectrogram_chunk_clip", c, n, "clips")

    images = prepared.images
    y = prepared.labels[prepared.owner]
    train_mask = prepared.image_mask("train")
    for arch in ("vgg16", "resnet50"):
        set_seed(0)
        cfg = workspace.train_config(a, arch, patience=a.epochs, batch_size=32, weights="none")
        with Clock() as c:
            model = build_model(arch, len(GENRES), weights="none", input_size=a.input_size)
            frozen, tail = split_model(model)
        record(f"build {arch}", c, 1, "model")
        with Clock() as c:
            features = extract(frozen, images, EXTRACT_BATCH)
        record(f"features {arch}", c, len(images), "images")
        with Clock() as c:
            history = fit_tail(
                tail,
                [f[train_mask] for f in features],
                y[train_mask],
                [f[~train_mask] for f in features],
                y[~train_mask],
                cfg,
            )
        record(f"epoch_image {arch}", c, len(history) * int(train_mask.sum()), "image-epochs")
        out = Path(os.environ["GENREC_HOME"]) / f"{arch}.keras"
        with Clock() as c:
            model.save(out)
            export_predictor(model, out.with_name(f"{arch}-{PREDICTOR_FILE}"))
        record(f"save+export {arch}", c, 1, "run")
        del model, frozen, tail, features

    # Quiet-machine wall time from CPU time: TensorFlow's stages keep both cores busy (cpu/wall ~2 when
    # the machine is otherwise idle); librosa's spectrograms run on one core.
    cores = 2
    costs = {
        "spectrogram_clip": cpu["spectrogram_clip"],
        "spectrogram_chunk_clip": cpu["spectrogram_chunk_clip"],
        "features": {a_: cpu[f"features {a_}"] / cores for a_ in ("vgg16", "resnet50")},
        "epoch_image": {a_: cpu[f"epoch_image {a_}"] / cores for a_ in ("vgg16", "resnet50")},
        "fixed": {a_: (cpu[f"build {a_}"] + cpu[f"save+export {a_}"]) / cores for a_ in ("vgg16", "resnet50")},
    }
    print(
        "\n"
        + report.table(
            rows, ["stage", "units", "wall_s", "cpu_s", "wall_per_unit", "cpu_per_unit", "cpu/wall"], "{:.4f}"
        )
    )
    print("\nper-unit costs for an idle 2-core machine (CPU seconds; TensorFlow stages / 2 cores):")
    print(json.dumps(costs, indent=1))
    print("\nestimate for 1000 clips (GTZAN), both architectures, 50 epochs at most:")
    saved = build.MEASURED_COSTS
    for label, c_ in (("with the costs measured now", costs), ("with genrec.training.plan.MEASURED_COSTS", saved)):
        build.MEASURED_COSTS = c_
        whole, chunks = build.estimate_seconds(1000), build.estimate_seconds(1000, 3.0)
        print(f"  {label:<34} whole clips {whole / 60:5.1f} min   3-s chunks {chunks / 60:5.1f} min")
    build.MEASURED_COSTS = saved
    report.dump_json(a.json, {"costs": costs, "rows": rows, "clips": n})
    return 0


if __name__ == "__main__":
    report.run_script(main)
