"""Training's frozen-feature pass in Keras vs LiteRT, side by side in one process, and where converting pays.

``genrec.training.trainer`` runs the frozen part of the network once over every library image. This script builds
the same model training builds (random init, 224 px), cuts it as training does (``split_model``) and runs
the frozen part over the same images three ways, in alternating order over ``--rounds`` rounds:

* Keras: ``genrec.training.trainer.extract`` in batches of 8, as training does;
* LiteRT: ``genrec.model.lite_features.convert_frozen`` once (timed separately), then ``lite_extract``
  in batches of 8;

and reports images/s of each, the conversion seconds, the largest feature difference (relative to the
features' scale), and the break-even library size: conversion seconds / seconds saved per image.
``genrec.model.lite_features.MIN_IMAGES`` holds those break-evens.
"""

from __future__ import annotations

import argparse
import gc
import time

from benchmarks import measure, report, workspace


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--archs", default="vgg16,resnet50")
    p.add_argument("--images", type=int, default=96, help="images per timed pass (default 96)")
    p.add_argument("--rounds", type=int, default=2, help="timed passes per engine (default 2)")
    p.add_argument("--input-size", type=int, default=224)
    p.add_argument("--last-four-trainable", action="store_true", help="cut where the last four backbone layers start")
    workspace.add_json_arg(p)
    return p.parse_args(argv)


def library_images(n: int, size: int):
    """``n`` real spectrogram images: 3-s chunks of the GTZAN sample (or generated clips)."""
    from genrec.data.library import load_gtzan
    from genrec.training.trainer import prepare_images, select_tracks

    root, desc = workspace.default_library()
    lib = load_gtzan(root)
    per_genre = max(1, -(-n // (10 * 10)))  # ten chunks per clip
    prepared = prepare_images(lib, select_tracks(lib, per_genre), 3.0, size)
    return prepared.images[:n], f"{min(n, len(prepared.images))} 3-s chunk images of {desc}"


def main(argv=None) -> int:
    a = parse_args(argv)
    report.start("genrec benchmark: frozen-feature pass, Keras vs LiteRT")
    import numpy as np

    from genrec.model.lite_features import MIN_IMAGES, convert_frozen, lite_extract
    from genrec.model.network import build_model, split_model
    from genrec.training.trainer import EXTRACT_BATCH, extract

    images, desc = library_images(a.images, a.input_size)
    print(f"images:   {desc}\n", flush=True)
    rows = []
    for arch in [s.strip() for s in a.archs.split(",") if s.strip()]:
        model = build_model(
            arch, 10, weights="none", input_size=a.input_size, last_four_trainable=a.last_four_trainable
        )
        frozen, _ = split_model(model)
        extract(frozen, images[:EXTRACT_BATCH], EXTRACT_BATCH)  # warm-up: tracing out of the timings
        t = time.perf_counter()
        data = convert_frozen(frozen)
        convert_s = time.perf_counter() - t
        lite_extract(data, images[:EXTRACT_BATCH])  # warm-up: XNNPACK packs the weights
        times = {"keras": [], "litert": []}
        outs = {}
        for i in range(a.rounds):
            for engine in ("keras", "litert") if i % 2 == 0 else ("litert", "keras"):
                t = time.perf_counter()
                outs[engine] = (
                    extract(frozen, images, EXTRACT_BATCH) if engine == "keras" else lite_extract(data, images)
                )
                times[engine].append(time.perf_counter() - t)
        diff = max(
            float(np.abs(k - lite).max() / max(1e-12, np.abs(k).max()))
            for k, lite in zip(outs["keras"], outs["litert"])
        )
        keras_s, lite_s = measure.median(times["keras"]), measure.median(times["litert"])
        saved_per_image = (keras_s - lite_s) / len(images)
        rows.append(
            {
                "arch": arch,
                "boundary": " + ".join(str(tuple(o.shape[1:])) for o in outs["keras"]),
                "keras_img/s": len(images) / keras_s,
                "litert_img/s": len(images) / lite_s,
                "keras/litert": f"{keras_s / lite_s:.2f}x",
                "convert_s": convert_s,
                "break_even_images": convert_s / saved_per_image if saved_per_image > 0 else None,
                "MIN_IMAGES": MIN_IMAGES.get(arch),
                "max_rel_diff": f"{diff:.1e}",
            }
        )
        print(
            f"[{arch}] keras {keras_s:.1f} s, litert {lite_s:.1f} s for {len(images)} images; "
            f"conversion {convert_s:.1f} s",
            flush=True,
        )
        del model, frozen, data, outs
        gc.collect()
    print(
        f"\nFROZEN PASS  ({len(images)} images, batches of {EXTRACT_BATCH}, median of {a.rounds} alternating passes; "
        f"{'last four trainable' if a.last_four_trainable else 'frozen backbone'})"
    )
    print(
        report.table(
            rows,
            [
                "arch",
                "boundary",
                "keras_img/s",
                "litert_img/s",
                "keras/litert",
                "convert_s",
                "break_even_images",
                "MIN_IMAGES",
                "max_rel_diff",
            ],
            "{:.1f}",
        )
    )
    report.dump_json(a.json, {"rows": rows, "images": desc})
    return 0


if __name__ == "__main__":
    report.run_script(main)
