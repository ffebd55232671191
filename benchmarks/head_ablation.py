"""The paper's head against genrec's head (the paper's plus a ``feature_norm`` standardisation), side by side.

genrec adds one layer to the paper's classification head: a BatchNormalization (``feature_norm``)
between the pooled backbone features and the dense ``embedding`` layer (see
``genrec.model.network.build_model``). This script trains both heads with everything else equal (same
library, split, seed, epochs, early stopping, batch size, input size, weights) and prints, for each
architecture, test accuracy, macro-F1, precision@5, mAP, the epochs run and the training time.

Default: the demo runs' settings (``genrec.training.plan.DEMO_SETTINGS``) on the built-in synthetic library.

Examples:
    python -m benchmarks.head_ablation
    python -m benchmarks.head_ablation --library ../shared/data/gtzan-sample --chunk-seconds 3 --epochs 20
"""

from __future__ import annotations

import argparse
import time

from benchmarks import report, workspace


def parse_args(argv=None) -> argparse.Namespace:
    from genrec.config import DEMO_WEIGHTS
    from genrec.training.plan import DEMO_SETTINGS

    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--library", default="demo", help="'demo' (default) or a GTZAN folder")
    p.add_argument("--archs", default="vgg16,resnet50")
    demo = {name: DEMO_SETTINGS[name] for name in ("epochs", "patience", "batch_size", "input_size", "seed")}
    workspace.add_train_args(p, **demo, chunk_seconds=None, weights=DEMO_WEIGHTS)
    workspace.add_keep_arg(p)
    workspace.add_json_arg(p)
    return p.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    report.start("genrec benchmark: the paper's head vs genrec's head (+ feature_norm), everything else equal", a.keep)
    from genrec.data.library import load_library
    from genrec.errors import GenrecError
    from genrec.runs.reader import Run
    from genrec.training.trainer import train

    try:
        lib = load_library(a.library)
    except GenrecError as exc:
        print(f"ERROR: {exc}")
        return 2
    print(f"library:  {lib.label} ({len(lib.tracks)} clips; split: {lib.split_method})")
    print(
        f"settings: weights {a.weights}; up to {a.epochs} epochs, early stopping patience {a.patience}; "
        f"batch {a.batch_size}; {a.input_size}px; chunks {a.chunk_seconds or 'none (whole clip)'}; seed {a.seed}\n",
        flush=True,
    )

    results = []
    for arch in [s.strip() for s in a.archs.split(",") if s.strip()]:
        for norm in (False, True):
            head = "genrec (+feature_norm)" if norm else "paper"
            print(f"training {arch} with the {head} head ...", flush=True)
            cfg = workspace.train_config(a, arch, library=a.library, feature_norm=norm)
            t = time.perf_counter()
            try:
                run = Run.open(train(cfg, library=lib))
            except GenrecError as exc:
                print(f"ERROR: {exc}")
                return 2
            m, info = run.metrics_summary, run.info
            test, r = m.test, m.retrieval
            results.append(
                {
                    "arch": arch,
                    "head": head,
                    "test_acc": test.accuracy,
                    "macro_F1": test.macro_f1,
                    "valid_acc": m.split("valid").accuracy,
                    "P@5": r.precision_at_k if r else None,
                    "mAP": r.map if r else None,
                    "epochs": f"{info.epochs_run} (best {info.best_epoch})",
                    "fit_s": info.timings["fit"],
                    "wall_s": time.perf_counter() - t,
                    "test_n": test.n,
                }
            )

    print(f"\nRESULTS (test set: {results[0]['test_n']} clips; one clip = {1 / results[0]['test_n']:.2f} of accuracy)")
    print(
        report.table(
            results,
            ["arch", "head", "test_acc", "macro_F1", "valid_acc", "P@5", "mAP", "epochs", "fit_s", "wall_s"],
            "{:.2f}",
        )
    )
    for arch in dict.fromkeys(r["arch"] for r in results):
        paper, ours = (r for r in results if r["arch"] == arch)
        print(
            f"{arch}: test accuracy paper head {paper['test_acc']:.2f} -> with feature_norm {ours['test_acc']:.2f} "
            f"(difference {ours['test_acc'] - paper['test_acc']:+.2f})"
        )
    report.dump_json(a.json, {"settings": vars(a), "results": results})
    return 0


if __name__ == "__main__":
    report.run_script(main)
