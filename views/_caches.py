"""The app's per-process caches (``st.cache_data`` / ``st.cache_resource``): runs, Recommenders, catalogues, audio.

Modelling lives in :mod:`genrec`; this module only keeps its results per process. TensorFlow is never
imported here: a model is loaded (by :class:`genrec.serve.recommend.Recommender`) only when outside audio
is analysed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

import genrec.app.plots as plots
import genrec.runs.reader as runs
import genrec.serve.queries as queries
from genrec.audio.decode import load_audio
from genrec.audio.spectrogram import mel_db, mel_frequencies
from genrec.catalogue import list_catalogues, open_catalogue
from genrec.catalogue.store import catalogues_dir
from genrec.runs.reader import Run, list_runs
from genrec.serve.recommend import Recommender
from genrec.utils.paths import runs_home
from views._guard import log


@st.cache_resource(show_spinner=False, max_entries=4)
def _runs_in(root: str, signature: tuple) -> tuple[list, list]:
    return list_runs(Path(root))


def all_runs() -> tuple[list, list]:
    """(complete runs newest first, broken (path, reason)); re-read only when the runs folder changes."""
    root = runs_home()
    return _runs_in(str(root), runs.runs_signature(root))


def forget_runs() -> None:
    """Drop the cached run list (after new runs were written)."""
    _runs_in.clear()


def run_by_id(run_id: str | None) -> Run | None:
    """The complete run with this id, or None."""
    found, _ = all_runs()
    return next((r for r in found if r.id == run_id), None)


def recommender(run_path: str, catalogue: str | None = None) -> Recommender:
    """One Recommender per run (and catalogue answers come from) and process; its model is loaded
    only on the first outside clip.

    At most three are kept (the two compared runs and the map's), so switching runs does not pile up
    loaded models: the two 224-px LiteRT predictors add about 0.65 GB once they have answered
    (benchmarks/RESULTS.md).
    """
    # Always both arguments: Streamlit keys `f(p)` and `f(p, None)` apart, which loaded each model twice.
    return _recommender(run_path, catalogue)


@st.cache_resource(show_spinner=False, max_entries=3)
def _recommender(run_path: str, catalogue: str | None) -> Recommender:
    run = Run.open(run_path)
    if catalogue is None:
        return Recommender(run)
    return Recommender(run, catalogue=open_catalogue(run.path, catalogue))


@st.cache_resource(show_spinner=False, max_entries=4)
def _catalogues_in(run_path: str, signature: tuple) -> tuple[list, list]:
    return list_catalogues(Path(run_path))


def catalogues_of(run: Run) -> tuple[list, list]:
    """A run's (good, broken) catalogues; re-read only when its catalogues folder changes, since opening one
    checks all its vectors (about 0.9 s for 100 000 tracks)."""
    return _catalogues_in(str(run.path), runs.runs_signature(catalogues_dir(run.path)))


@st.cache_data(show_spinner=False, max_entries=12)
def clip_samples(path: str) -> np.ndarray:
    """A library clip's decoded 30-s window."""
    return load_audio(path)


@st.cache_data(show_spinner=False, max_entries=16)
def mel_of(digest: str, _samples: np.ndarray) -> np.ndarray:
    return mel_db(_samples)


@st.cache_data(show_spinner=False)
def band_hz() -> np.ndarray:
    return mel_frequencies()


@st.cache_data(show_spinner=False, max_entries=1024)
def thumbnail(path: str, width: int = 192, height: int = 72) -> np.ndarray | None:
    """Small colour spectrogram of a vetted library file (audio or pre-rendered image); None if unreadable.

    ``path`` comes from :meth:`genrec.runs.reader.Run.media_path` (or a Recommender's answer); "" means none.
    """
    if not path:
        return None
    try:
        if queries.is_audio_file(path):
            return plots.spectrogram_thumbnail(mel_db(clip_samples(path)), width, height)
        with Image.open(path) as img:
            return plots.grey_thumbnail(np.asarray(img.convert("L")), width, height)
    except Exception:  # a missing or damaged file just has no thumbnail
        log.warning("no thumbnail for %s", path, exc_info=True)
        return None
