"""Cached-feature training vs a naive Keras ``model.fit`` on images, side by side in one process.

genrec trains by running the frozen part of the network once per image, caching its output, and
fitting only the trainable tail on that cache (``genrec.training.trainer``). The naive way feeds the images
through the whole model every epoch. Both ways here start from the same seed, the same model
(``build_model``), the same clips, epochs, batch size, optimizer, class weights and callbacks (both
go through ``genrec.training.trainer.fit_tail``), so the only difference is where the frozen forward pass
happens. Reported: wall and CPU time of each way, their ratio naive/cached, and the validation
accuracy of both (they should agree: it is the same model trained on the same numbers).

Cached cost counted = feature extraction over the train+valid images + fitting the tail.
Naive cost counted = converting the images to float32 + ``fit`` on them. Spectrogram images are
computed once beforehand and shared (same cost either way, reported separately).

Examples:
    python -m benchmarks.training_cost                       # frozen backbone, both archs, 224 px
    python -m benchmarks.training_cost --last-four-trainable # the paper's "last four layers trainable"
    python -m benchmarks.training_cost --input-size 112 --epochs 5 --archs resnet50
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

import numpy as np

from benchmarks import measure, report, workspace


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--library",
        help="GTZAN-layout folder (default: ../shared/data/gtzan-sample if present, "
        "else a generated folder of 6 synthetic 30-s clips per genre)",
    )
    p.add_argument("--archs", default="vgg16,resnet50", help="comma-separated (default vgg16,resnet50)")
    workspace.add_train_args(p, epochs=10, input_size=224, last_four_trainable=False, batch_size=64, seed=0)
    p.add_argument("--patience", type=int, default=None, help="early-stopping patience (default: = epochs)")
    p.add_argument("--max-per-genre", type=int, default=None, help="at most N clips per genre and split")
    p.add_argument("--order", choices=["cached-first", "naive-first"], default="cached-first")
    workspace.add_keep_arg(p)
    workspace.add_json_arg(p)
    return p.parse_args(argv)


def warm_up(arch: str, size: int) -> None:
    """Build a throw-away model and run one batch, so one-off TensorFlow start-up cost favours neither way."""
    from genrec.model.network import build_model

    m = build_model(arch, 10, weights="none", input_size=size)
    m.predict_on_batch(np.zeros((2, size, size, 3), np.float32))
    del m
    _clear()


def _clear() -> None:
    import keras

    keras.backend.clear_session()
    gc.collect()


def _seeded_model(arch: str, cfg):
    """The model genrec.training.trainer builds for ``cfg`` (random init), seeded as training seeds it."""
    from genrec.model.network import build_model
    from genrec.training.trainer import set_seed

    set_seed(cfg.seed)
    return build_model(
        arch,
        10,
        weights="none",
        input_size=cfg.input_size,
        last_four_trainable=cfg.last_four_trainable,
        dropout=cfg.dropout,
        embedding_units=cfg.embedding_units,
    )


def run_cached(arch, cfg, images, y, tr, va):
    """genrec's way: the frozen part's outputs computed once, then only the tail trained on them."""
    from genrec.model.network import split_model
    from genrec.model.pooling import EXTRACT_BATCH
    from genrec.training.trainer import extract, fit_tail

    model = _seeded_model(arch, cfg)
    frozen, tail = split_model(model)
    t: dict = {}
    used = tr | va
    with measure.timed(t, "extract"):
        feats = extract(frozen, images[used], min(cfg.batch_size, EXTRACT_BATCH))  # as genrec.training.trainer does
    sub_tr, sub_va = tr[used], va[used]
    with measure.timed(t, "fit"):
        hist = fit_tail(tail, [f[sub_tr] for f in feats], y[tr], [f[sub_va] for f in feats], y[va], cfg)
    boundary = [tuple(f.shape[1:]) for f in feats]
    weights = model.get_layer("genre").get_weights()[0].copy()
    n_trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    del model, frozen, tail, feats
    _clear()
    return t, hist, weights, boundary, n_trainable


def run_naive(arch, cfg, images, y, tr, va):
    """The naive way: a plain fit of the whole model on the images, every epoch."""
    from genrec.training.trainer import fit_tail

    model = _seeded_model(arch, cfg)
    t: dict = {}
    with measure.timed(t, "fit"):
        x_tr = images[tr].astype(np.float32)
        x_va = images[va].astype(np.float32)
        hist = fit_tail(model, x_tr, y[tr], x_va, y[va], cfg)  # the whole model, fed images
    weights = model.get_layer("genre").get_weights()[0].copy()
    del model, x_tr, x_va
    _clear()
    return t, hist, weights


def main(argv=None) -> int:
    a = parse_args(argv)
    report.start("genrec benchmark: cached-feature training vs naive model.fit on images", a.keep)
    from genrec.data.library import load_gtzan
    from genrec.training.trainer import prepare_images, select_tracks

    root, desc = (Path(a.library), str(a.library)) if a.library else workspace.default_library()
    archs = [s.strip() for s in a.archs.split(",") if s.strip()]
    mode = "last four backbone layers trainable" if a.last_four_trainable else "frozen backbone (head only)"
    patience = a.patience if a.patience is not None else a.epochs
    print(f"library:  {desc}")
    print(
        f"settings: {', '.join(archs)}; {mode}; {a.epochs} epochs; input {a.input_size}x{a.input_size}; "
        f"batch {a.batch_size}; seed {a.seed}; early-stopping patience {patience}"
        + (" (never triggers)" if patience >= a.epochs else "")
    )
    print(
        "weights:  'none' (random init) -- ImageNet weights cannot be downloaded on this machine (no internet);"
        " the cost comparison does not depend on the weights' values, the accuracies do\n",
        flush=True,
    )

    lib = load_gtzan(root)
    tracks = select_tracks(lib, a.max_per_genre)
    t0 = time.perf_counter()
    prepared = prepare_images(lib, tracks, None, a.input_size)
    spec_s = time.perf_counter() - t0
    y = prepared.labels[prepared.owner]
    tr, va = prepared.image_mask("train"), prepared.image_mask("valid")
    print(
        f"clips:    {len(tracks)} ({int(tr.sum())} train, {int(va.sum())} valid images used; "
        f"{len(tracks) - int(tr.sum()) - int(va.sum())} test clips unused); "
        f"spectrogram images computed once in {spec_s:.1f} s and shared by both ways\n",
        flush=True,
    )

    rows, raw = [], {"settings": vars(a), "library": desc, "archs": {}}
    for arch in archs:
        cfg = workspace.train_config(a, arch, library=str(root), weights="none", patience=patience)
        warm_up(arch, a.input_size)
        results = {}
        order = ["cached", "naive"] if a.order == "cached-first" else ["naive", "cached"]
        for way in order:
            print(f"[{arch}] {way} ...", flush=True)
            if way == "cached":
                results["cached"] = run_cached(arch, cfg, prepared.images, y, tr, va)
            else:
                results["naive"] = run_naive(arch, cfg, prepared.images, y, tr, va)
        (ct, ch, cw, boundary, n_trainable), (nt, nh, nw) = results["cached"], results["naive"]
        c_wall = sum(v[0] for v in ct.values())
        c_cpu = sum(v[1] for v in ct.values())
        n_wall, n_cpu = nt["fit"]
        for way, hist, wall, cpu, extract in (
            ("cached", ch, c_wall, c_cpu, ct["extract"][0]),
            ("naive", nh, n_wall, n_cpu, None),
        ):
            rows.append(
                {
                    "arch": arch,
                    "way": way,
                    "epochs": len(hist),
                    "extract_s": extract,
                    "fit_s": ct["fit"][0] if way == "cached" else n_wall,
                    "total_s": wall,
                    "cpu_s": cpu,
                    "s/epoch": measure.median(hist["seconds"]),
                    "final_val_acc": float(hist["val_accuracy"].iloc[-1]),
                    "best_val_acc": float(hist["val_accuracy"].max()),
                    "final_val_loss": float(hist["val_loss"].iloc[-1]),
                }
            )
        n = min(len(ch), len(nh))
        dloss = float(np.max(np.abs(ch["val_loss"].to_numpy()[:n] - nh["val_loss"].to_numpy()[:n])))
        dw = float(np.max(np.abs(cw - nw)))
        raw["archs"][arch] = {
            "cached": {"timings": ct, "history": ch.to_dict("list")},
            "naive": {"timings": nt, "history": nh.to_dict("list")},
            "ratio_wall": n_wall / c_wall,
            "ratio_cpu": n_cpu / c_cpu,
            "frozen_boundary": boundary,
            "trainable_params": n_trainable,
            "max_abs_val_loss_diff": dloss,
            "max_abs_weight_diff": dw,
        }
        print(
            f"[{arch}] naive/cached: wall {n_wall / c_wall:.2f}x, cpu {n_cpu / c_cpu:.2f}x; "
            f"max |val_loss diff| over epochs {dloss:.2e}; max |softmax kernel diff| {dw:.2e}\n",
            flush=True,
        )

    print("\nRESULTS  (" + mode + f", {a.epochs} epochs, {a.input_size}px, {len(tracks)} clips)")
    print(
        report.table(
            rows,
            [
                "arch",
                "way",
                "epochs",
                "extract_s",
                "fit_s",
                "total_s",
                "cpu_s",
                "s/epoch",
                "final_val_acc",
                "best_val_acc",
                "final_val_loss",
            ],
            "{:.2f}",
        )
    )
    print()
    for arch, r in raw["archs"].items():
        print(
            f"{arch:<9} naive/cached wall-time ratio {r['ratio_wall']:.2f}x   (CPU-time ratio {r['ratio_cpu']:.2f}x)"
            f"   trainable params {r['trainable_params']:,}; frozen boundary {r['frozen_boundary']}"
        )
    print(
        f"\nvalidation set: {int(va.sum())} clips, so one clip = {1 / max(1, int(va.sum())):.2f} of accuracy. "
        "Both ways start from the same seed and weights; 'max |val_loss diff|' shows how far apart their "
        "training curves end up (float rounding only, if the cached way trains the same model)."
    )
    raw["rows"] = rows
    report.dump_json(a.json, raw)
    return 0


if __name__ == "__main__":
    report.run_script(main)
