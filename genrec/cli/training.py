"""``genrec train``, ``runs``, ``evaluate`` and ``export``: making and inspecting runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from genrec.cli._shared import (
    batch_size_int,
    check_data_home,
    epochs_int,
    existing_folder,
    input_size_int,
    learning_rate_number,
    library_args,
    library_from_args,
    max_per_genre_int,
    out_arg,
    patience_int,
    print_run,
    print_skipped,
    seed_int,
    strict_arg,
    weights_arg,
    window_args,
    writable_run,
)
from genrec.cli.bundle import register_runs
from genrec.config import ARCHITECTURES, DEFAULT_WEIGHTS, IMAGE_SIZE
from genrec.evaluate.report import evaluate_run, format_evaluation
from genrec.model.predict import choose_predictor, quantized_agreement
from genrec.model.quantize import check_library_audio, quantize_run
from genrec.runs.layout import HEAD_FILE
from genrec.runs.reader import list_runs, remove_stale_runs, runs_table
from genrec.runs.writer import export_run
from genrec.training.trainer import TrainConfig, train
from genrec.utils.paths import runs_home
from genrec.utils.progress import TqdmProgress


def cmd_train(a) -> None:

    cfg = TrainConfig(
        arch=a.arch,
        library=a.library,
        epochs=a.epochs,
        last_four_trainable=a.last_four_trainable,
        weights=a.weights,
        seed=a.seed,
        chunk_seconds=a.chunk_seconds,
        batch_size=a.batch_size,
        input_size=a.input_size,
        learning_rate=a.learning_rate,
        patience=a.patience,
        split_seed=a.split_seed,
        split_dir=a.split_dir,
        split=a.split,
        max_per_genre=a.max_per_genre,
        out=a.out,
        feature_norm=not a.paper_head,
        clip_seconds=a.clip_seconds,
    )
    from genrec.model.network import training_device  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    progress = TqdmProgress()
    # The library is checked here, so unusable clips are listed once before training (or refused: --strict).
    library = library_from_args(a.library, a, progress)
    print_skipped(library)
    print(f"training on {training_device()}")
    run_dir = train(cfg, library=library, progress=progress)
    print_run(run_dir)


def cmd_evaluate(a) -> None:

    if not a.saved:  # recomputing caches the spectrograms
        check_data_home()
    print(format_evaluation(evaluate_run(a.run, recompute=not a.saved)))


def cmd_export(a) -> None:

    run = writable_run(a.run)  # before the model is loaded
    if a.quantize:  # before the float conversion, which takes a while and would be redone
        check_library_audio(run)
    model = run.load_model()
    target = export_run(run.path, model=model)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB); outside clips are now answered with LiteRT")
    print(f"wrote {run.path / HEAD_FILE}; Grad-CAM (`genrec explain`, the app's heatmaps) works for this run")
    if a.quantize:
        target = quantize_run(run, progress=TqdmProgress())
        print(
            f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB); 8-bit vs float: "
            f"{quantized_agreement(run.path)}\nuploads are answered by the {choose_predictor(run)}"
        )


def cmd_runs(a) -> None:

    for folder in remove_stale_runs(Path(a.dir) if a.dir else None):
        print(f"removed {folder}: an unfinished run left by an interrupted process (unchanged for hours)")
    runs, broken = list_runs(Path(a.dir) if a.dir else None)
    if not runs:
        print(f"no runs in {a.dir or runs_home()}; create some with `genrec build --library demo` or `genrec train`")
    else:
        table = runs_table(runs).drop(columns=["created"])
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for _path, reason in broken:
        print(f"warning: {reason}", file=sys.stderr)


def register(sub) -> None:
    """Add this group's subcommands to the ``genrec`` parser."""
    s = sub.add_parser("train", help="train one architecture and save a run")
    s.add_argument("--arch", required=True, choices=ARCHITECTURES)
    s.add_argument("--library", default="demo", help="'demo' (default) or a GTZAN folder")
    s.add_argument("--epochs", type=epochs_int, default=20)
    s.add_argument(
        "--last-four-trainable",
        action="store_true",
        help="also fine-tune the backbone's last four weighted layers (the paper's switch)",
    )
    weights_arg(s, DEFAULT_WEIGHTS)
    s.add_argument("--seed", type=seed_int, default=0)
    window_args(s)
    s.add_argument("--batch-size", type=batch_size_int, default=64)
    s.add_argument("--input-size", type=input_size_int, default=IMAGE_SIZE)
    s.add_argument("--learning-rate", type=learning_rate_number, default=1e-3)
    s.add_argument("--patience", type=patience_int, default=5, help="early-stopping patience in epochs")
    s.add_argument(
        "--paper-head",
        action="store_true",
        help="the paper's head exactly: no feature standardisation before the dense layer",
    )
    s.add_argument(
        "--max-per-genre",
        type=max_per_genre_int,
        default=None,
        help="use at most N clips per genre and split (default: all)",
    )
    out_arg(s)
    library_args(s)
    strict_arg(s)
    s.set_defaults(func=cmd_train)

    s = sub.add_parser(
        "evaluate", help="recompute a run's classification report, confusion matrix and retrieval figures"
    )
    s.add_argument("run", help="run folder or run id")
    s.add_argument("--saved", action="store_true", help="print the saved metrics without recomputing")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser(
        "export",
        help="(re)write a run's predictor.tflite and head.npz, used to answer and explain clips without TensorFlow",
    )
    s.add_argument("run", help="run folder or run id")
    s.add_argument(
        "--quantize",
        action="store_true",
        help="also write the 8-bit predictor-int8.tflite and its agreement with the float model "
        "(needs the run's library audio, or its cached spectrograms)",
    )
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("runs", help="list saved runs; `runs pack` / `runs pull` carry them to another host")
    s.add_argument("--dir", type=existing_folder, help="runs folder (default models/)")
    s.set_defaults(func=cmd_runs)
    register_runs(s)
