"""The one-line-error parser, the argument types and the terminal formatting shared by the command groups."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from genrec.config import (
    CLIP_SECONDS,
    MAX_BATCH_SIZE,
    MAX_CATALOGUE_BATCH,
    MAX_CLIP_SECONDS,
    MAX_EPOCHS,
    MAX_INPUT_SIZE,
    MAX_LEARNING_RATE,
    MAX_PER_GENRE,
    MAX_RESAMPLES,
    MAX_SEED,
    MAX_SONG_SECONDS,
    MAX_TOP_K,
    MAX_WORKERS,
    MIN_CHUNK_SECONDS,
    MIN_CLIP_SECONDS,
    MIN_INPUT_SIZE,
    MIN_LEARNING_RATE,
    MIN_RESAMPLES,
)
from genrec.data.library import load_library, resolve_split
from genrec.errors import GenrecError, LibraryError, RunError
from genrec.runs.reader import Run
from genrec.utils.fileio import output_problem
from genrec.utils.paths import data_home, runs_home
from genrec.utils.progress import per_stage


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``error: <message> (...--help...)``, with exit status 2, and
    whose help shows each bounded option's range.

    ``add_subparsers`` gives subcommands the parser's own class, so every subcommand does the same.
    """

    def add_argument(self, *args, **kwargs) -> argparse.Action:
        """As ArgumentParser's, and the help of a bounded option ends with its allowed range."""
        action = super().add_argument(*args, **kwargs)
        allowed = getattr(action.type, "allowed", None)
        if allowed and action.help != argparse.SUPPRESS:
            action.help = f"{action.help} [{allowed}]" if action.help else f"[{allowed}]"
        return action

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {' '.join(message.split())} (`{self.prog} --help` lists the options)\n")


# --------------------------------------------------------------------------- argument types
# Each type refuses, with the allowed range, what the pipeline cannot do (genrec.config's bounds); argparse
# puts the option's name in front of the message.
def _cut(text: str, limit: int = 40) -> str:
    """``text`` for a message: a pasted megabyte of digits is cut short."""
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class WholeNumber:
    """An argparse ``type=``: a whole number in ``minimum..maximum``; ``unit`` follows the range in messages."""

    minimum: int
    maximum: int
    unit: str = ""

    @property
    def allowed(self) -> str:
        return f"{self.minimum}..{self.maximum}{self.unit}"

    def __call__(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_cut(text)!r} is not a whole number in {self.allowed}") from None
        if not self.minimum <= value <= self.maximum:
            raise argparse.ArgumentTypeError(f"{_cut(str(value))} is outside {self.allowed}")
        return value


@dataclass(frozen=True)
class Number:
    """An argparse ``type=``: a finite number in ``minimum..maximum``; ``unit`` follows the range in messages."""

    minimum: float
    maximum: float
    unit: str = ""

    @property
    def allowed(self) -> str:
        return f"{self.minimum:g}..{self.maximum:g}{self.unit}"

    def __call__(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_cut(text)!r} is not a number in {self.allowed}") from None
        if not (math.isfinite(value) and self.minimum <= value <= self.maximum):
            raise argparse.ArgumentTypeError(f"{_cut(text.strip())} is outside {self.allowed}")
        return value


@dataclass(frozen=True)
class OutputPath:
    """An argparse ``type=``: a folder (``folder``) or file genrec may create or replace there; checked before
    any work, with nothing created (genrec.utils.fileio.output_problem)."""

    folder: bool

    def __call__(self, text: str) -> str:
        problem = output_problem(Path(text), folder=self.folder)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return text


def existing_folder(text: str) -> str:
    """An argparse ``type=``: a folder that exists (a folder genrec reads)."""
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder" if path.exists() else f"{text}: no such folder")
    return text


def split_choice(text: str) -> str:
    """An argparse ``type=``: paper, filtered or a folder of split files (genrec.data.library.resolve_split's rule),
    so a mistyped split is refused before a library is downloaded or scanned."""
    if text not in ("paper", "filtered"):
        try:
            resolve_split(text)
        except LibraryError:
            raise argparse.ArgumentTypeError(
                f"{_cut(text)!r} is not paper, filtered or a folder of train*.txt / valid*.txt / test*.txt files"
            ) from None
    return text


def weights_choice(text: str) -> str:
    """An argparse ``type=``: imagenet, none or a weights file that exists (genrec.model.network.weights_source reads it
    when training starts, after the library and its spectrograms: too late to notice a typo)."""
    if text not in ("imagenet", "none") and not Path(text).expanduser().is_file():
        raise argparse.ArgumentTypeError(f"{_cut(text)!r} is not imagenet, none or a weights file that exists")
    return text


output_folder = OutputPath(folder=True)
output_file = OutputPath(folder=False)
epochs_int = WholeNumber(1, MAX_EPOCHS)
patience_int = WholeNumber(0, MAX_EPOCHS)
batch_size_int = WholeNumber(1, MAX_BATCH_SIZE)
input_size_int = WholeNumber(MIN_INPUT_SIZE, MAX_INPUT_SIZE, " px")
max_per_genre_int = WholeNumber(1, MAX_PER_GENRE)
seed_int = WholeNumber(0, MAX_SEED)
top_k_int = WholeNumber(1, MAX_TOP_K)
resamples_int = WholeNumber(MIN_RESAMPLES, MAX_RESAMPLES)
workers_int = WholeNumber(1, MAX_WORKERS)
catalogue_batch_int = WholeNumber(1, MAX_CATALOGUE_BATCH)
clip_seconds_number = Number(MIN_CLIP_SECONDS, MAX_CLIP_SECONDS, " s")
#: train and prepare check a chunk against their own --clip-seconds too (genrec.training.trainer.check_window)
chunk_seconds_number = Number(MIN_CHUNK_SECONDS, MAX_CLIP_SECONDS, " s")
learning_rate_number = Number(MIN_LEARNING_RATE, MAX_LEARNING_RATE)
song_seconds_number = Number(0.0, MAX_SONG_SECONDS, " s")


def check_data_home() -> None:
    """Refuse a data folder (GENREC_HOME) that cannot take libraries and spectrogram caches, before any work."""
    problem = output_problem(data_home(), folder=True)
    if problem:
        raise GenrecError(f"the data folder (GENREC_HOME): {problem}.")


def writable_run(spec: str):
    """The run ``spec`` (folder or id), opened; RunError when its folder cannot take the files a command adds."""

    run = Run.open(spec)
    problem = output_problem(run.path, folder=True)
    if problem:
        raise RunError(f"run {run.id}: {problem}.")
    return run


def option_values(a: argparse.Namespace, names: Iterable[str]) -> dict:
    """The named options' values, as keywords for the function whose parameters they are named after."""
    return {name: getattr(a, name) for name in names}


def library_from_args(spec: str, a: argparse.Namespace, progress: Callable[[str, int, int], None]):
    """The library ``spec`` (``demo`` or a folder) with the split and strictness a command's options name.

    The demo's generation or the folder's check reports to ``progress``.
    """

    check_data_home()  # the demo library, GTZAN's scan and the spectrograms are kept there
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
        type=clip_seconds_number,
        default=CLIP_SECONDS,
        help=f"analysis window cut from the middle of each file; shorter files are padded (default {CLIP_SECONDS:g})",
    )
    parser.add_argument(
        "--chunk-seconds",
        type=chunk_seconds_number,
        default=None,
        help="cut the window into chunks of this length (e.g. 3); clip predictions average the chunks",
    )


def library_args(parser: argparse.ArgumentParser, default_split: str = "paper") -> None:
    """``--split``, ``--split-seed`` (and the older ``--split-dir``): how a GTZAN folder is split."""
    parser.add_argument(
        "--split",
        type=split_choice,
        default=default_split,
        help="filtered: the artist-filtered GTZAN lists shipped with genrec (no artist in two splits); "
        "paper: the paper's stratified random 80/10/10 per genre; or a folder of "
        f"train*.txt / valid*.txt / test*.txt split files (default {default_split})",
    )
    parser.add_argument(
        "--split-dir", type=existing_folder, help=argparse.SUPPRESS
    )  # before --split existed; same as --split DIR
    parser.add_argument("--split-seed", type=seed_int, default=0, help="seed of the paper's random split (default 0)")


def weights_arg(parser: argparse.ArgumentParser, default: str | None, default_note: str | None = None) -> None:
    """``--weights``: the backbone's starting weights; ``default_note`` says what a None default stands for."""
    parser.add_argument(
        "--weights",
        type=weights_choice,
        default=default,
        help="imagenet (Keras downloads ~150 MB once), none (random init, works offline) or a local weights file "
        f"(default {default_note or default})",
    )


def out_arg(parser: argparse.ArgumentParser) -> None:
    """``--out``: the folder new runs are saved in (default ``runs_home()``), checked before any work."""
    parser.add_argument(
        "--out", type=output_folder, default=str(runs_home()), help="where runs are saved (default models/)"
    )


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

    run = Run.open(run_dir)
    s = run.summary()
    print(f"saved run {run.path}")
    print(f"  {s['arch']} on {s['library']}, weights: {s['weights']}, epochs run: {s['epochs']}")
    print(
        f"  test accuracy {s['test_accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f}"
        + (f", precision@5 {s['precision_at_5']:.3f}, mAP {s['map']:.3f}" if s["map"] is not None else "")
    )
    print("  seconds per stage: " + ", ".join(f"{k} {v}" for k, v in run.info.timings.items()))
