"""Plumbing every stage shares: the one atomic write, the one digest, progress reporting, child processes."""

from genrec.utils.fileio import atomic_folder, atomic_write, file_digest, output_problem
from genrec.utils.isolated import run_isolated
from genrec.utils.leftovers import remove_stale
from genrec.utils.progress import ProgressFn, TqdmProgress, silent

__all__ = [
    "ProgressFn",
    "TqdmProgress",
    "atomic_folder",
    "atomic_write",
    "file_digest",
    "output_problem",
    "remove_stale",
    "run_isolated",
    "silent",
]
