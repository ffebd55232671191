"""Train and evaluate VGG16 and ResNet50 on a GTZAN folder with the paper's protocol; print the paper's table.

Protocol (the paper's): stratified 80/10/10 split per genre (or --split-dir files), 224x224x3
mel-spectrogram images, Adam, dropout 0.2, up to 20 epochs with early stopping on validation loss,
ImageNet weights (--weights). Training is genrec's own (``genrec.training.trainer.train``), so every run is saved
(to a temp folder unless --out) and can be inspected with ``genrec evaluate``.

Per architecture it prints test accuracy (with a Wilson 95% interval, because a test set of tens of
clips is noisy), macro-F1, precision@5 and mAP of the recommendations (test clips queried against
the train split, relevant = same genre), the chance levels of both, and the training time, next to
the paper's accuracy (VGG16 0.60, ResNet50 0.40).

--compare-chunks trains every architecture twice: whole 30-s clips, and ten 3-s chunks per clip
(every chunk a training image; a clip's prediction is the mean of its chunks' probabilities).

--split-seeds 0,1,2 repeats everything on several seeded 80/10/10 splits and adds a summary: a small
folder (the 60-clip sample has 10 test clips per split) gives one clip = 0.10 of accuracy, so one
split says little; pooled over splits, every clip of the folder gets tested more than once.

Examples:
    python -m benchmarks.gtzan_report ~/data/gtzan                       # ImageNet weights (download)
    python -m benchmarks.gtzan_report ../shared/data/gtzan-sample --weights none --compare-chunks \
        --split-seeds 0,1,2,3,4
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from benchmarks import report, workspace
from genrec.config import DEFAULT_WEIGHTS, PAPER_ACCURACY


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("dir", help="GTZAN folder (any layout genrec reads: genres/<g>/<g>.000NN.au|wav, Kaggle's ...)")
    workspace.add_train_args(
        p, weights=DEFAULT_WEIGHTS, epochs=20, patience=5, chunk_seconds=None, last_four_trainable=False
    )
    p.add_argument("--compare-chunks", action="store_true", help="train whole clips AND 3-s chunks; print both")
    p.add_argument(
        "--split-dir", help="folder with train*.txt / valid*.txt / test*.txt (default: stratified 80/10/10 per genre)"
    )
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument(
        "--split-seeds",
        help="comma-separated split seeds: repeat on each and summarise (overrides --split-seed; not with --split-dir)",
    )
    p.add_argument("--archs", default="vgg16,resnet50")
    workspace.add_train_args(p, seed=0, input_size=224, batch_size=64)
    p.add_argument("--out", help="save the runs here (default: a temporary folder, deleted at exit)")
    workspace.add_keep_arg(p)
    workspace.add_json_arg(p)
    return p.parse_args(argv)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def figures(run_dir: Path) -> dict:
    from genrec.runs.reader import Run

    run = Run.open(run_dir)
    m, rec = run.metrics_summary.to_json(), run.info.to_json()  # the saved objects, as the report prints them
    test = m["test"]
    n = test["n"]
    k = round(test["accuracy"] * n)
    support = [g["support"] for g in test["per_genre"].values()]
    r = m.get("retrieval") or {}
    timings = rec["timings_seconds"]
    return {
        "run": run.id,
        "arch": run.arch,
        "chunks": rec["config"].get("chunk_seconds"),
        "images": rec["images"]["total"],
        "epochs_run": rec["epochs_run"],
        "best_epoch": rec["best_epoch"],
        "test_n": n,
        "test_acc": test["accuracy"],
        "acc_ci95": wilson(k, n),
        "chunk_acc": test.get("chunk_accuracy"),
        "macro_f1": test["macro avg"]["f1-score"],
        "valid_acc": m["valid"]["accuracy"],
        "chance_acc": max(support) / n if n else float("nan"),
        "p_at_5": r.get("precision_at_k"),
        "map": r.get("map"),
        "retrieval_chance": r.get("chance"),
        "top1": r.get("top1_agreement"),
        "n_queries": r.get("n_queries"),
        "n_base": r.get("n_base"),
        "train_s": sum(timings.values()),
        "timings": timings,
        "confusion": test["confusion_matrix"],
        "labels": test["labels"],
    }


def summarise(results: list[dict]) -> list[dict]:
    """One row per (arch, input): accuracy pooled over all splits' test clips, means of the rest."""
    import statistics

    rows = []
    for key in dict.fromkeys((f["arch"], f["chunks"]) for f in results):
        group = [f for f in results if (f["arch"], f["chunks"]) == key]
        n = sum(f["test_n"] for f in group)
        k = sum(round(f["test_acc"] * f["test_n"]) for f in group)
        lo, hi = wilson(k, n)
        accs = [f["test_acc"] for f in group]

        def mean(name: str, group: list = group) -> float | None:
            values = [f[name] for f in group if f[name] is not None]
            return statistics.fmean(values) if values else None

        rows.append(
            {
                "arch": key[0],
                "input": "whole clip" if not key[1] else f"{key[1]:g}-s chunks",
                "splits": len(group),
                "test_clips": n,
                "pooled_acc": k / n if n else float("nan"),
                "95% CI": f"{lo:.2f}-{hi:.2f}",
                "acc_sd": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                "macro_F1": mean("macro_f1"),
                "P@5": mean("p_at_5"),
                "mAP": mean("map"),
                "train_s": mean("train_s"),
                "paper_acc": PAPER_ACCURACY.get(key[0]),
            }
        )
    return rows


def main(argv=None) -> int:
    a = parse_args(argv)
    report.start("genrec benchmark: the paper's GTZAN protocol, both architectures", a.keep)
    import os

    from genrec.data.library import load_gtzan
    from genrec.errors import GenrecError
    from genrec.model.network import weights_source
    from genrec.training.trainer import train

    out = a.out or os.environ["GENREC_RUNS"]
    archs = [s.strip() for s in a.archs.split(",") if s.strip()]
    variants = [None, 3.0] if a.compare_chunks else [a.chunk_seconds]
    seeds = [int(x) for x in a.split_seeds.split(",")] if a.split_seeds else [a.split_seed]
    if len(seeds) > 1 and a.split_dir:
        print("ERROR: --split-seeds repeats seeded splits; a --split-dir split is fixed")
        return 2
    try:
        source = weights_source(a.weights)
        libs = [load_gtzan(a.dir, seed=s, split_dir=a.split_dir) for s in seeds]
    except GenrecError as exc:
        print(f"ERROR: {exc}")
        return 2
    lib = libs[0]
    print(f"library:  {lib.root} ({len(lib.tracks)} clips, kind {lib.kind}; split: {lib.split_method})")
    if lib.skipped:
        print(f"          {len(lib.skipped)} file(s) skipped, e.g. {lib.skipped[0]}")
    print(lib.summary().to_string().replace("\n", "\n          ").join(["          ", ""]))
    print(
        f"settings: weights {source.label}; up to {a.epochs} epochs, early stopping patience {a.patience} on "
        f"val_loss (best weights restored); Adam lr 1e-3; dropout 0.2; batch {a.batch_size}; "
        f"{a.input_size}x{a.input_size} images; last four trainable: {a.last_four_trainable}; seed {a.seed}"
    )
    if source.kind == "none":
        print(
            "          NOTE: random-init backbone (no ImageNet weights: they cannot be downloaded here); "
            "the paper's figures used ImageNet weights, so accuracies are not comparable to them"
        )
    print(flush=True)

    results = []
    for seed, split_lib in zip(seeds, libs):
        for chunk in variants:
            for arch in archs:
                label = f"{arch} {'whole clip' if not chunk else f'{chunk:g}-s chunks'}"
                print(f"training {label}" + (f" (split seed {seed})" if len(seeds) > 1 else "") + " ...", flush=True)
                cfg = workspace.train_config(
                    a, arch, library=str(lib.root), chunk_seconds=chunk, split_seed=seed, split_dir=a.split_dir, out=out
                )
                t = time.perf_counter()
                try:
                    run_dir = train(cfg, library=split_lib)
                except GenrecError as exc:
                    print(f"ERROR: {exc}")
                    return 2
                f = figures(run_dir)
                f["wall_s"] = time.perf_counter() - t
                f["split_seed"] = seed
                results.append(f)
                print(
                    f"  {f['run']}: test acc {f['test_acc']:.2f}, {f['epochs_run']} epochs "
                    f"(best {f['best_epoch']}), {f['wall_s']:.0f} s",
                    flush=True,
                )

    n = results[0]["test_n"]
    print(
        f"\nRESULTS  (test set: {n} clips; retrieval: {results[0]['n_queries']} test queries against "
        f"{results[0]['n_base']} train clips, k=5)"
    )
    rows = []
    for f in results:
        lo, hi = f["acc_ci95"]
        rows.append(
            {
                "split": f["split_seed"],
                "arch": f["arch"],
                "input": "whole clip" if not f["chunks"] else f"{f['chunks']:g}-s chunks",
                "test_acc": f["test_acc"],
                "95% CI": f"{lo:.2f}-{hi:.2f}",
                "chunk_acc": f["chunk_acc"],
                "macro_F1": f["macro_f1"],
                "chance_acc": f["chance_acc"],
                "P@5": f["p_at_5"],
                "mAP": f["map"],
                "P@5_chance": f["retrieval_chance"],
                "valid_acc": f["valid_acc"],
                "epochs": f"{f['epochs_run']} (best {f['best_epoch']})",
                "train_s": f["train_s"],
                "paper_acc": PAPER_ACCURACY.get(f["arch"]),
            }
        )
    print(
        report.table(
            rows,
            [
                "split",
                "arch",
                "input",
                "test_acc",
                "95% CI",
                "chunk_acc",
                "macro_F1",
                "chance_acc",
                "P@5",
                "mAP",
                "P@5_chance",
                "valid_acc",
                "epochs",
                "train_s",
                "paper_acc",
            ],
            "{:.2f}",
        )
    )
    if len(seeds) > 1:
        print(
            f"\nSUMMARY over {len(seeds)} split seeds {seeds}: pooled over every test clip of every split "
            "(Wilson 95% CI), mean and standard deviation of the per-split figures"
        )
        print(
            report.table(
                summarise(results),
                [
                    "arch",
                    "input",
                    "splits",
                    "test_clips",
                    "pooled_acc",
                    "95% CI",
                    "acc_sd",
                    "macro_F1",
                    "P@5",
                    "mAP",
                    "train_s",
                    "paper_acc",
                ],
                "{:.2f}",
            )
        )
    print("\npaper (ImageNet weights, full GTZAN): VGG16 test accuracy 0.60, ResNet50 0.40")
    print(
        "train_s = genrec's own stage timings (library, spectrograms, build, features, fit, embed); "
        "spectrograms come from genrec's on-disk cache when a previous run already computed them"
    )
    for f in results:
        t = f["timings"]
        print(
            f"  {f['arch']:<8} {'whole' if not f['chunks'] else 'chunks':<6} "
            + ", ".join(f"{k} {v:.1f}" for k, v in t.items())
            + f"  ({f['images']} images)"
        )
    if n:
        lo, hi = wilson(round(0.5 * n), n)
        print(
            f"\nnoise: {n} test clips, so one clip moves accuracy by {1 / n:.2f}; an observed 0.50 has a Wilson "
            f"95% interval of {lo:.2f}-{hi:.2f}. Differences smaller than that between rows are not evidence."
        )
    report.dump_json(a.json, {"settings": vars(a), "library": str(lib.root), "results": results})
    return 0


if __name__ == "__main__":
    report.run_script(main)
