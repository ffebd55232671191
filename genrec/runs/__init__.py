"""A run folder: its file names, typed record, reader and writer, the files it may serve, and the archives
that carry runs from one machine to another."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads them
    from genrec.runs.bundle import pack, pull
    from genrec.runs.media import library_roots, vetted_path
    from genrec.runs.reader import Run, list_runs, newest
    from genrec.runs.record import RunMetrics, RunRecord

__all__ = ["Run", "RunMetrics", "RunRecord", "library_roots", "list_runs", "newest", "pack", "pull", "vetted_path"]

# Loaded on first use (PEP 562): genrec.model's predictors and Grad-CAM import genrec.runs.layout, and
# importing it runs this file first; eager imports of the reader here would import genrec.model back.
_LAZY = {
    "pack": "genrec.runs.bundle",
    "pull": "genrec.runs.bundle",
    "library_roots": "genrec.runs.media",
    "vetted_path": "genrec.runs.media",
    "Run": "genrec.runs.reader",
    "list_runs": "genrec.runs.reader",
    "newest": "genrec.runs.reader",
    "RunMetrics": "genrec.runs.record",
    "RunRecord": "genrec.runs.record",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
