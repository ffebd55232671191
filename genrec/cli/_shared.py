"""Arguments and terminal formatting shared by several command groups."""
from __future__ import annotations

import argparse

from genrec.config import CLIP_SECONDS


def window_args(parser: argparse.ArgumentParser) -> None:
    """``--clip-seconds`` and ``--chunk-seconds``: the analysis window and its chunks."""
    parser.add_argument("--clip-seconds", type=float, default=CLIP_SECONDS,
                        help=f"analysis window cut from the middle of each file; shorter files are padded "
                             f"(default {CLIP_SECONDS:g})")
    parser.add_argument("--chunk-seconds", type=float, default=None,
                        help="cut the window into chunks of this length (e.g. 3); clip predictions average the chunks")


def library_args(parser: argparse.ArgumentParser, default_split: str = "paper") -> None:
    """``--split``, ``--split-seed`` (and the older ``--split-dir``): how a GTZAN folder is split."""
    parser.add_argument("--split", default=default_split,
                        help="filtered: the artist-filtered GTZAN lists shipped with genrec (no artist in two splits); "
                             "paper: the paper's stratified random 80/10/10 per genre; or a folder of "
                             f"train*.txt / valid*.txt / test*.txt split files (default {default_split})")
    parser.add_argument("--split-dir", help=argparse.SUPPRESS)  # before --split existed; same as --split DIR
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the paper's random split (default 0)")


def print_library(lib) -> None:
    """A library's clips per genre and split, and the files it skipped."""
    print(f"library: {lib.label}  ({lib.kind}, {len(lib.tracks)} clips)  root: {lib.root}")
    print(f"split: {lib.split_method}")
    print(lib.summary().to_string())
    unlisted = int((lib.tracks["split"] == "unlisted").sum())
    if unlisted:
        print(f"{unlisted} unlisted track(s): in no split file, so left out of training, evaluation and recommendations")
    if lib.skipped:
        print(f"\nskipped {len(lib.skipped)} file(s):")
        for path, reason in lib.skipped:
            print(f"  {path}: {reason}")


def print_run(run_dir) -> None:
    """The headline figures of a freshly saved run."""
    from genrec.runs import Run

    run = Run.open(run_dir)
    s = run.summary()
    print(f"saved run {run.path}")
    print(f"  {s['arch']} on {s['library']}, weights: {s['weights']}, epochs run: {s['epochs']}")
    print(f"  test accuracy {s['test_accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f}"
          + (f", precision@5 {s['precision_at_5']:.3f}, mAP {s['map']:.3f}" if s["map"] is not None else ""))
    print("  seconds per stage: " + ", ".join(f"{k} {v}" for k, v in run.record["timings_seconds"].items()))
