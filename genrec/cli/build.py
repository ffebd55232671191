"""``genrec build`` and ``genrec demo``: the whole experiment (library, both models, evaluation) in one step."""

from __future__ import annotations

import sys

from genrec.cli._shared import print_run
from genrec.config import DEMO_WEIGHTS


def run_build(
    library: str,
    *,
    weights: str | None,
    split: str | None,
    chunk_seconds: float | None,
    out: str | None,
    progress_format: str,
    epochs: int | None = None,
    input_size: int | None = None,
    max_per_genre: int | None = None,
) -> None:
    """Build, then print each run and the closing table (bars) or the run lines a parent follows (lines)."""
    from genrec.build import RUN_LINE, build, closing_table
    from genrec.progress import JsonLinesProgress, TqdmProgress

    lines = progress_format == "lines"  # for a parent process (the app) following the build
    kw = dict(
        weights=weights,
        split=split,
        chunk_seconds=chunk_seconds,
        out=out,
        epochs=epochs,
        input_size=input_size,
        max_per_genre=max_per_genre,
    )
    if lines:
        # stdout carries only the protocol; what the download says goes to stderr (the parent's log)
        runs = build(
            library,
            progress=JsonLinesProgress(sys.stdout),
            report=lambda message: print(message, file=sys.stderr, flush=True),
            **kw,
        )
        for run_dir in runs:
            print(f"{RUN_LINE}{run_dir}", flush=True)
        return
    runs = build(library, progress=TqdmProgress(), report=print, **kw)
    for run_dir in runs:
        print_run(run_dir)
    print("\nboth runs next to the paper (ImageNet weights, full GTZAN, random 80/10/10 split):")
    print(closing_table(runs))
    print("\nnext: genrec runs   |   streamlit run app.py")


def cmd_build(a) -> None:
    run_build(
        a.library,
        weights=a.weights,
        split=a.split,
        chunk_seconds=a.chunk_seconds,
        out=a.out,
        progress_format=a.progress_format,
        epochs=a.epochs,
        input_size=a.input_size,
        max_per_genre=a.max_per_genre,
    )


def cmd_demo(a) -> None:
    run_build("demo", weights=a.weights, split=None, chunk_seconds=None, out=a.out, progress_format=a.progress_format)


def _progress_format(parser) -> None:
    parser.add_argument(
        "--progress-format",
        choices=["bars", "lines"],
        default="bars",
        help="bars (default) or lines: one JSON object per progress report and one "
        "'run: PATH' line per finished run, for a parent process",
    )


def register(sub) -> None:
    """Add this group's subcommands to the ``genrec`` parser."""
    s = sub.add_parser(
        "build",
        help="the whole experiment: get a library, train and evaluate VGG16 and ResNet50, compare with the paper",
    )
    s.add_argument(
        "--library",
        required=True,
        help="demo (synthetic, offline), gtzan (downloaded into the data folder if missing) or a GTZAN folder",
    )
    s.add_argument(
        "--weights",
        default=None,
        help="imagenet (default for real libraries; Keras downloads ~150 MB once), none (random init; "
        "default for demo) or a local weights file",
    )
    s.add_argument(
        "--split",
        default=None,
        help="filtered (default for real libraries: the artist-filtered GTZAN lists), paper (stratified "
        "random 80/10/10) or a folder of train*.txt / valid*.txt / test*.txt split files",
    )
    s.add_argument(
        "--chunk-seconds",
        type=float,
        default=None,
        help="train on chunks of this length (e.g. 3: ten images per clip, about ten times slower)",
    )
    s.add_argument("--epochs", type=int, default=None, help="at most this many epochs (default 50; early stopping)")
    s.add_argument("--input-size", type=int, default=None, help="image size in pixels (default 224, the paper's)")
    s.add_argument("--max-per-genre", type=int, default=None, help="use at most N clips per genre and split")
    s.add_argument("--out", default=None, help="where runs are saved (default models/)")
    _progress_format(s)
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("demo", help="same as `genrec build --library demo --weights none`")
    s.add_argument("--weights", default=DEMO_WEIGHTS, help="none (default: works offline), imagenet, or a file")
    s.add_argument("--out", default=None, help="where runs are saved (default models/)")
    _progress_format(s)
    s.set_defaults(func=cmd_demo)
