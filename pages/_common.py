"""Streamlit glue shared by the pages: caches, the sidebar, error guard and small drawing helpers.

Modelling and table logic lives in :mod:`genrec.app.dashboard` and figures in
:mod:`genrec.app.plots`; this module only caches their results per process and
draws them. TensorFlow is never imported here: a model is loaded (by
:class:`genrec.serve.recommend.Recommender`) only when outside audio is analysed.
"""

from __future__ import annotations

import html
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

import genrec.app.dashboard as dashboard
import genrec.app.plots as plots
import genrec.runs.reader as runs
import genrec.serve.queries as queries
from genrec.config import ARCHITECTURES, SAMPLE_RATE
from genrec.errors import GenrecError
from genrec.utils.paths import runs_home

log = logging.getLogger("genrec.app")


# --------------------------------------------------------------------------- errors
@contextmanager
def guard(doing: str = ""):
    """Show any error inside the block as ``st.error``: genrec's own message, or a short generic one.

    Tracebacks go to the server log only, never to the page. Streamlit's own
    control flow (``st.rerun``, ``st.stop``) is not an ``Exception`` and passes through.
    """
    try:
        yield
    except GenrecError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception as exc:  # anything unexpected: short message on the page, details in the log
        log.exception("unexpected error%s", f" while {doing}" if doing else "")
        st.error(
            f"Something went wrong{f' while {doing}' if doing else ''} ({type(exc).__name__}). "
            f"Try again; if it keeps happening, check the terminal running Streamlit for details.",
            icon=":material/error:",
        )


# --------------------------------------------------------------------------- runs and models
@st.cache_resource(show_spinner=False, max_entries=4)
def _runs_in(root: str, signature: tuple) -> tuple[list, list]:
    from genrec.runs.reader import list_runs

    return list_runs(Path(root))


def all_runs() -> tuple[list, list]:
    """(complete runs newest first, broken (path, reason)); re-read only when the runs folder changes."""
    root = runs_home()
    return _runs_in(str(root), runs.runs_signature(root))


def forget_runs() -> None:
    """Drop the cached run list (after new runs were written)."""
    _runs_in.clear()


def run_by_id(run_id: str | None):
    runs, _ = all_runs()
    return next((r for r in runs if r.id == run_id), None)


def recommender(run_path: str, catalogue: str | None = None):
    """One Recommender per run (and catalogue answers come from) and process; its model is loaded
    only on the first outside clip.

    At most three are kept (the two compared runs and the map's), so switching runs does not pile up
    loaded models: the two 224-px LiteRT predictors add about 0.65 GB once they have answered
    (benchmarks/RESULTS.md).
    """
    # Always both arguments: Streamlit keys `f(p)` and `f(p, None)` apart, which loaded each model twice.
    return _recommender(run_path, catalogue)


@st.cache_resource(show_spinner=False, max_entries=3)
def _recommender(run_path: str, catalogue: str | None):
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender

    run = Run.open(run_path)
    if catalogue is None:
        return Recommender(run)
    from genrec.catalogue import open_catalogue

    return Recommender(run, catalogue=open_catalogue(run.path, catalogue))


LIBRARY_SOURCE = "library"


@st.cache_resource(show_spinner=False, max_entries=4)
def _catalogues_in(run_path: str, signature: tuple) -> tuple[list, list]:
    from genrec.catalogue import list_catalogues

    return list_catalogues(Path(run_path))


def catalogues_of(run) -> tuple[list, list]:
    """A run's (good, broken) catalogues; re-read only when its catalogues folder changes, since opening one
    checks all its vectors (about 0.9 s for 100 000 tracks)."""
    from genrec.catalogue.store import catalogues_dir

    return _catalogues_in(str(run.path), runs.runs_signature(catalogues_dir(run.path)))


def recommendation_source(runs: list, key: str) -> str | None:
    """Where recommendations come from: the run's library (None) or a catalogue built for every one of ``runs``.

    Drawn only when such a catalogue exists (``genrec catalogue build``). Catalogues that fail their checks
    are named, with the reason, and left out; the others keep working.
    """
    listed = [catalogues_of(r) for r in runs]
    broken = [(run, path, reason) for run, (_, bad) in zip(runs, listed) for path, reason in bad]
    if broken:
        st.warning(f"{len(broken)} catalogue(s) could not be opened and are left out.", icon=":material/warning:")
        with st.expander("Why"):
            for run, path, reason in broken:
                st.caption(f"**{Path(path).name}** of run {run.id}: {reason}")
    built = [{c.name: c for c in good} for good, _ in listed]
    names = sorted(set.intersection(*(set(b) for b in built))) if built else []
    if not names:
        return None
    labels = {n: f"catalogue {n} · {built[0][n].info.n_tracks} tracks" for n in names}
    choice = st.selectbox(
        "Recommend from",
        [LIBRARY_SOURCE, *names],
        key=key,
        format_func=lambda n: "the run's library" if n == LIBRARY_SOURCE else labels[n],
        help="A catalogue is any music folder embedded with the run "
        "(`genrec catalogue build RUN FOLDER`); only its own files are played.",
    )
    if choice == LIBRARY_SOURCE:
        return None
    if built[0][choice].index_fallback:
        st.caption(built[0][choice].index_fallback)
    return choice


def run_key(arch: str) -> str:
    return f"run_{arch}"


def selected_runs() -> dict:
    """The run chosen in the sidebar for each architecture (None where there is none)."""
    runs, _ = all_runs()
    defaults = dashboard.default_runs(runs)
    chosen = {}
    for arch in ARCHITECTURES:
        run = run_by_id(st.session_state.get(run_key(arch)))
        chosen[arch] = run if run is not None and run.arch == arch else defaults[arch]
    return chosen


# --------------------------------------------------------------------------- sidebar
def synthetic_badge() -> None:
    st.badge(
        "synthetic demo library",
        icon=":material/science:",
        color="orange",
        help="Trained on generated clips, not real music: figures show the pipeline works, "
        "not how well it classifies real songs.",
    )


def library_caption(run) -> None:
    st.caption(f"Library: {run.library.label} · {len(run.tracks)} clips · split: {run.split}", help=run.split_method)
    if dashboard.is_synthetic(run):
        synthetic_badge()
    from genrec.runs.bundle import missing_audio_note

    note = missing_audio_note(run)  # a run pulled from a bundle: its library's audio may be elsewhere
    if note:
        st.caption(note.split(": ", 1)[1])


def predictor_caption(run) -> None:
    """Which predictor answers this run's uploads (8-bit or float; ``GENREC_PREDICTOR``), and why."""
    from genrec.model.predict import choose_predictor

    choice = choose_predictor(run)
    agreement = f"  \n8-bit vs float: {choice.agreement}" if choice.agreement else ""
    st.caption(f"Uploads: **{choice.label}** predictor · {choice.reason}{agreement}")


def sidebar(runs: list, broken: list) -> None:
    """Run per architecture (default: newest), with its starting weights and library always visible."""
    with st.sidebar:
        if runs:
            st.subheader("Models", help="The run used for each architecture on every page.")
            by_id = {r.id: r for r in runs}
            for arch in ARCHITECTURES:
                options = [r.id for r in runs if r.arch == arch]
                label = plots.arch_label(arch)
                if not options:
                    st.markdown(f"**{label}**")
                    st.caption(f"No {label} run yet. Train one with `genrec train --arch {arch}`.")
                    continue
                key = run_key(arch)
                if st.session_state.get(key) not in options:
                    st.session_state[key] = options[0]
                run_id = st.selectbox(
                    f"{label} run",
                    options,
                    key=key,
                    format_func=lambda i: dashboard.run_short_label(by_id[i]),
                    help="Newest first; the newest run is used by default.",
                )
                run = by_id[run_id]
                st.caption(f"`{run.id}`  \n" + dashboard.weights_caption(run))
                library_caption(run)
                predictor_caption(run)
        if broken:
            st.warning(f"{len(broken)} run folder(s) could not be opened and are left out.", icon=":material/warning:")
            with st.expander("Why"):
                for path, reason in broken:
                    st.caption(f"**{Path(path).name}**: {reason}")
        st.caption(f"Runs folder: `{runs_home()}`")


# --------------------------------------------------------------------------- audio and pictures
@st.cache_data(show_spinner=False, max_entries=12)
def clip_samples(path: str) -> np.ndarray:
    """A library clip's decoded 30-s window."""
    from genrec.audio.decode import load_audio

    return load_audio(path)


@st.cache_data(show_spinner=False, max_entries=16)
def mel_of(digest: str, _samples: np.ndarray) -> np.ndarray:
    from genrec.audio.spectrogram import mel_db

    return mel_db(_samples)


@st.cache_data(show_spinner=False)
def band_hz() -> np.ndarray:
    from genrec.audio.spectrogram import mel_frequencies

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
            from genrec.audio.spectrogram import mel_db

            return plots.spectrogram_thumbnail(mel_db(clip_samples(path)), width, height)
        from PIL import Image

        with Image.open(path) as img:
            return plots.grey_thumbnail(np.asarray(img.convert("L")), width, height)
    except Exception:  # a missing or damaged file just has no thumbnail
        log.warning("no thumbnail for %s", path, exc_info=True)
        return None


def clip_line(text: str, path: str) -> None:
    """One clip in a list: its line (markdown with genre chips; the caller escapes names) and its player."""
    st.markdown(text, unsafe_allow_html=True)
    play_file(path)


def play_file(path: str) -> None:
    """An audio player for a vetted library file (see :func:`thumbnail`); others are decoded to WAV first."""
    suffix = Path(path).suffix.lower()
    if not path or not Path(path).is_file():
        st.caption(":material/volume_off: audio not available")
    elif suffix in queries.BROWSER_FORMATS:
        st.audio(path, format=queries.BROWSER_FORMATS[suffix])
    elif queries.is_audio_file(path):
        st.audio(clip_samples(path), sample_rate=SAMPLE_RATE)
    else:
        st.caption(":material/image: spectrogram image only (no audio)")


def genre_chip(genre: str) -> str:
    """Inline HTML label of a genre in its fixed colour."""
    colour = plots.genre_colour(genre)
    return (
        f'<span style="background:{colour};color:white;border-radius:0.6rem;padding:0.05rem 0.5rem;'
        f'font-size:0.85em;font-weight:600;white-space:nowrap">{html.escape(genre)}</span>'
    )


def show_clip(samples: np.ndarray | None, digest: str, path: str | None = None, key: str = "clip") -> None:
    """Audio player, waveform and mel spectrogram of a clip (or its picture for image-only libraries)."""
    if samples is None:
        if path and Path(path).is_file() and not queries.is_audio_file(path):
            st.image(path, caption="pre-rendered spectrogram (this library has no audio)")
        else:
            st.warning(
                "The audio of this clip is not available here (not on this machine, or outside the "
                "run's library folder). Predictions and recommendations below come from the run's "
                "saved embeddings.",
                icon=":material/volume_off:",
            )
        return
    if path and Path(path).suffix.lower() in queries.BROWSER_FORMATS and Path(path).is_file():
        play_file(path)  # the library file itself
    else:
        st.audio(samples, sample_rate=SAMPLE_RATE)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(plots.waveform_figure(samples), key=f"{key}_wave", config={"displayModeBar": False})
    with right:
        st.plotly_chart(
            plots.spectrogram_figure(mel_of(digest, samples), band_hz()),
            key=f"{key}_mel",
            config={"displayModeBar": False},
        )
    st.caption(
        "The 30-s window the models analyse: the middle of longer files; shorter ones are padded with "
        "silence. The spectrogram uses the models' mel bands and dB range (−80 to +40 dB)."
    )


def recommendation_list(neighbours: pd.DataFrame, shared: set[str] = frozenset(), other: str = "") -> None:
    """The recommended clips: rank, id, genre, cosine similarity, thumbnail and player each."""
    for rank, row in enumerate(neighbours.itertuples(index=False), start=1):
        with st.container(border=True):
            pic, text = st.columns([2, 3], vertical_alignment="center")
            with pic:
                image = thumbnail(str(row.path))
                if image is not None:
                    st.image(image, width="stretch")
                else:
                    st.caption("no spectrogram")
            with text:
                also = f" · :material/link: also by {other}" if row.track_id in shared and other else ""
                artist = f" · {html.escape(str(row.artist))}" if str(row.artist or "") else ""
                clip_line(
                    f"**{rank}. {html.escape(str(row.track_id))}** {genre_chip(str(row.genre))}  \n"
                    f"similarity **{row.similarity:.3f}** · {html.escape(str(row.split))} split{artist}{also}",
                    str(row.path),
                )


_IN_APP: ContextVar[bool] = ContextVar("genrec_in_app", default=False)


@contextmanager
def app_frame():
    """Marks pages run by ``app.py``'s navigation (see :func:`ensure_app_navigation`)."""
    token = _IN_APP.set(True)
    try:
        yield
    finally:
        _IN_APP.reset(token)


def run_app() -> None:
    """The whole app: page list, navigation, sidebar and the chosen page (all of ``app.py``)."""
    st.set_page_config(page_title="genrec · genre & recommendations", page_icon=":material/graphic_eq:", layout="wide")
    from pages._pull import startup_pull  # it draws with this module's helpers

    with guard("loading the trained runs"):
        startup_pull()
    runs, broken = [], []
    with guard("reading the saved runs"):
        runs, broken = all_runs()
    if runs:
        pages = [
            st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", default=True),
            st.Page("pages/training_runs.py", title="Training runs", icon=":material/monitoring:"),
            st.Page("pages/library_map.py", title="Library map", icon=":material/scatter_plot:"),
            st.Page("pages/build_runs.py", title="Build runs", icon=":material/build:"),
        ]
    else:
        pages = [st.Page("pages/get_started.py", title="Get started", icon=":material/rocket_launch:", default=True)]
    page = st.navigation(pages)
    with st.sidebar:
        st.markdown("### :material/graphic_eq: genrec")
        st.caption(
            "Music genre from mel-spectrograms with transfer-learned VGG16 and ResNet50, "
            "and “more like this” from their embeddings."
        )
    with guard("drawing the sidebar"):
        sidebar(runs, broken)
    with app_frame():
        page.run()


def ensure_app_navigation() -> None:
    """Make sure a page runs inside the app (sidebar, run choice, first-start check).

    Until ``st.navigation`` has run once in a server process, Streamlit runs apps that have a
    ``pages/`` folder in its older multipage mode, where a URL named after a page file
    (``/library_map`` as the first request to a fresh server) runs that file on its own. Such a run
    draws the whole app instead (:func:`run_app`); its ``st.navigation`` call, public API, picks
    this page from the URL and ends the older mode for the process.
    """
    if not _IN_APP.get():
        run_app()
        st.stop()


def page_header(title: str, caption: str) -> None:
    ensure_app_navigation()
    st.title(title)
    st.caption(caption)
