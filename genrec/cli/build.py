"""``genrec build`` and ``genrec demo``: the whole experiment (library, both models, evaluation) in one step."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import genrec.training.pipeline as pipeline
import genrec.training.plan as plan
from genrec.cli._shared import (
    Number,
    check_data_home,
    epochs_int,
    input_size_int,
    max_per_genre_int,
    option_values,
    out_arg,
    print_run,
    split_choice,
    weights_arg,
)
from genrec.config import CLIP_SECONDS, DEMO_WEIGHTS, MIN_CHUNK_SECONDS
from genrec.runs.layout import RUN_JSON
from genrec.utils.progress import JsonLinesProgress, TqdmProgress

#: The ``genrec build`` options that ``genrec.training.pipeline.build`` takes as keywords of the same names.
BUILD_OPTIONS = ("weights", "split", "chunk_seconds", "out", "epochs", "input_size", "max_per_genre")


def run_build(library: str, progress_format: str, **options: object) -> None:
    """Build ``library`` with ``options`` (keywords of ``genrec.training.pipeline.build``) and print the outcome.

    Bars: each run and the closing table. Lines: one line per run, for a parent process to follow.
    """

    check_data_home()

    lines = progress_format == "lines"  # for a parent process (the app) following the build
    if lines:
        # stdout carries only the protocol; what the download says goes to stderr (the parent's log)
        runs = pipeline.build(
            library,
            progress=JsonLinesProgress(sys.stdout),
            report=lambda message: print(message, file=sys.stderr, flush=True),
            **options,
        )
        for run_dir in runs:
            print(trained_on(run_dir), file=sys.stderr, flush=True)
            print(f"{plan.RUN_LINE}{run_dir}", flush=True)
        return
    runs = pipeline.build(library, progress=TqdmProgress(), report=print, **options)
    for run_dir in runs:
        print_run(run_dir)
        print(trained_on(run_dir))
    print("\nboth runs next to the paper (ImageNet weights, full GTZAN, random 80/10/10 split):")
    print(pipeline.closing_table(runs))
    print("\nnext: genrec runs   |   streamlit run app.py")


def trained_on(run_dir) -> str:
    """The device a built run was trained on (recorded in its run.json by the training child process)."""

    try:
        device = json.loads((Path(run_dir) / RUN_JSON).read_text()).get("device") or "not recorded"
    except (OSError, ValueError, AttributeError):
        device = "not recorded"
    return f"{Path(run_dir).name}: trained on {device}"


def cmd_build(a) -> None:
    run_build(a.library, a.progress_format, **option_values(a, BUILD_OPTIONS))


def cmd_demo(a) -> None:
    run_build("demo", a.progress_format, weights=a.weights, split=None, chunk_seconds=None, out=a.out)


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
    weights_arg(s, None, "imagenet for real libraries, none for demo")
    s.add_argument(
        "--split",
        type=split_choice,
        default=None,
        help="filtered (default for real libraries: the artist-filtered GTZAN lists), paper (stratified "
        "random 80/10/10) or a folder of train*.txt / valid*.txt / test*.txt split files",
    )
    s.add_argument(
        "--chunk-seconds",
        type=Number(MIN_CHUNK_SECONDS, CLIP_SECONDS, " s"),  # the build's window is the default one
        default=None,
        help="train on chunks this long (3: ten times slower)",
    )
    s.add_argument(
        "--epochs", type=epochs_int, default=None, help="at most this many epochs (default 50; early stopping)"
    )
    s.add_argument(
        "--input-size", type=input_size_int, default=None, help="image size in pixels (default 224, the paper's)"
    )
    s.add_argument(
        "--max-per-genre", type=max_per_genre_int, default=None, help="use at most N clips per genre and split"
    )
    out_arg(s)
    _progress_format(s)
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("demo", help="same as `genrec build --library demo --weights none`")
    weights_arg(s, DEMO_WEIGHTS)
    out_arg(s)
    _progress_format(s)
    s.set_defaults(func=cmd_demo)
