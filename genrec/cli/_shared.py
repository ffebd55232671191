"""Arguments and terminal formatting shared by several command groups."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable

from genrec.config import CLIP_SECONDS, MIN_INPUT_SIZE


# --------------------------------------------------------------------------- argument types
def whole_number(minimum: int, why: str = "") -> Callable[[str], int]:
    """An argparse ``type=``: a whole number ≥ ``minimum``; argparse names the argument in its message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small: use {minimum} or more{why}")
        return value

    parse.__name__ = "whole number"  # argparse shows it in "invalid <name> value" messages
    return parse


def _finite_number(text: str, accept: Callable[[float], bool], wanted: str) -> float:
    """``text`` as a finite float that ``accept`` takes; otherwise an ArgumentTypeError saying ``wanted``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value) or not accept(value):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number {wanted}")
    return value


def positive_number(text: str) -> float:
    """An argparse ``type=``: a finite number above 0 (refuses 0, negatives, nan and inf)."""
    return _finite_number(text, lambda value: value > 0, "above 0")


def non_negative_number(text: str) -> float:
    """An argparse ``type=``: a finite number of 0 or more (a time in seconds)."""
    return _finite_number(text, lambda value: value >= 0, "of 0 or more")


positive_int = whole_number(1)
seed_int = whole_number(0, " (seeds are 0 or above)")
input_size_int = whole_number(
    MIN_INPUT_SIZE, f" (VGG16 and ResNet50 need images of at least {MIN_INPUT_SIZE} px; the paper uses 224)"
)


def option_values(a: argparse.Namespace, names: Iterable[str]) -> dict:
    """The named options' values, as keywords for the function whose parameters they are named after."""
    return {name: getattr(a, name) for name in names}


def library_from_args(spec: str, a: argparse.Namespace, progress: Callable[[str, int, int], None]):
    """The library ``spec`` (``demo`` or a folder) with the split and strictness a command's options name.

    The demo's generation or the folder's check reports to ``progress``.
    """
    from genrec.library import load_library
    from genrec.progress import per_stage

    stage = "demo library" if spec == "demo" else "checking clips"
    return load_library(
        spec,
        seed=a.split_seed,
        split_dir=a.split_dir,
        split=a.split,
        strict=a.strict,
        progress=per_stage(progress, stage),
    )


def strict_arg(parser: argparse.ArgumentParser) -> None:
    """``--strict``: refuse a library with unusable clips instead of skipping and listing them."""
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse a library with unusable files (silent, too short, corrupt) instead of skipping and listing them",
    )


def window_args(parser: argparse.ArgumentParser) -> None:
    """``--clip-seconds`` and ``--chunk-seconds``: the analysis window and its chunks."""
    parser.add_argument(
        "--clip-seconds",
        type=positive_number,
        default=CLIP_SECONDS,
        help=f"analysis window cut from the middle of each file; shorter files are padded (default {CLIP_SECONDS:g})",
    )
    parser.add_argument(
        "--chunk-seconds",
        type=positive_number,
        default=None,
        help="cut the window into chunks of this length (e.g. 3); clip predictions average the chunks",
    )


def library_args(parser: argparse.ArgumentParser, default_split: str = "paper") -> None:
    """``--split``, ``--split-seed`` (and the older ``--split-dir``): how a GTZAN folder is split."""
    parser.add_argument(
        "--split",
        default=default_split,
        help="filtered: the artist-filtered GTZAN lists shipped with genrec (no artist in two splits); "
        "paper: the paper's stratified random 80/10/10 per genre; or a folder of "
        f"train*.txt / valid*.txt / test*.txt split files (default {default_split})",
    )
    parser.add_argument("--split-dir", help=argparse.SUPPRESS)  # before --split existed; same as --split DIR
    parser.add_argument("--split-seed", type=seed_int, default=0, help="seed of the paper's random split (default 0)")


def weights_arg(parser: argparse.ArgumentParser, default: str | None, default_note: str | None = None) -> None:
    """``--weights``: the backbone's starting weights; ``default_note`` says what a None default stands for."""
    parser.add_argument(
        "--weights",
        default=default,
        help="imagenet (Keras downloads ~150 MB once), none (random init, works offline) or a local weights file "
        f"(default {default_note or default})",
    )


def out_arg(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """``--out``: the folder new runs are saved in (None: ``runs_home()``)."""
    parser.add_argument("--out", default=default, help="where runs are saved (default models/)")


def print_library(lib) -> None:
    """A library's clips per genre and split, and the files it skipped."""
    print(f"library: {lib.label}  ({lib.kind}, {len(lib.tracks)} clips)  root: {lib.root}")
    print(f"split: {lib.split_method}")
    print(lib.summary().to_string())
    print_skipped(lib)


def print_skipped(lib) -> None:
    """The files a library scan left out, with the reason each (nothing when there are none)."""
    unlisted = int((lib.tracks["split"] == "unlisted").sum())
    if unlisted:
        print(
            f"{unlisted} unlisted track(s): in no split file, so left out of training, evaluation and recommendations"
        )
    if lib.skipped:
        print(f"\nskipped {len(lib.skipped)} file(s) that cannot be used (--strict refuses them instead):")
        for path, reason in lib.skipped:
            print(f"  {path}: {reason}")


def print_run(run_dir) -> None:
    """The headline figures of a freshly saved run."""
    from genrec.runs import Run

    run = Run.open(run_dir)
    s = run.summary()
    print(f"saved run {run.path}")
    print(f"  {s['arch']} on {s['library']}, weights: {s['weights']}, epochs run: {s['epochs']}")
    print(
        f"  test accuracy {s['test_accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f}"
        + (f", precision@5 {s['precision_at_5']:.3f}, mAP {s['map']:.3f}" if s["map"] is not None else "")
    )
    print("  seconds per stage: " + ", ".join(f"{k} {v}" for k, v in run.info.timings.items()))
