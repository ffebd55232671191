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


def library_args(parser: argparse.ArgumentParser) -> None:
    """``--split-dir`` and ``--split-seed``: how a library is split."""
    parser.add_argument("--split-dir", help="folder with train*.txt / valid*.txt / test*.txt split files "
                                            "(e.g. the artist-filtered GTZAN split); default: stratified 80/10/10")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the stratified split (default 0)")


def print_library(lib) -> None:
    """A library's clips per genre and split, and the files it skipped."""
    print(f"library: {lib.label}  ({lib.kind}, {len(lib.tracks)} clips)  root: {lib.root}")
    print(f"split: {lib.split_method}")
    print(lib.summary().to_string())
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
