"""A run folder: its file names, typed record, reader and writer, the files it may serve, and the archives
that carry runs from one machine to another."""

from genrec.runs.bundle import pack, pull
from genrec.runs.media import library_roots, vetted_path
from genrec.runs.reader import Run, list_runs, newest
from genrec.runs.record import RunMetrics, RunRecord

__all__ = ["Run", "RunMetrics", "RunRecord", "library_roots", "list_runs", "newest", "pack", "pull", "vetted_path"]
