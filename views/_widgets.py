"""Shared drawing helpers of the pages: page header, genre chips, clip players, recommendation lists and the
recommendation-source choice. They draw; the data comes from :mod:`views._caches`."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

import genrec.app.dashboard as dashboard
import genrec.app.plots as plots
import genrec.serve.queries as queries
from genrec.config import SAMPLE_RATE
from genrec.runs.bundle import missing_audio_note
from genrec.runs.reader import Run
from views._caches import band_hz, catalogues_of, clip_samples, mel_of, thumbnail


def page_header(title: str, caption: str) -> None:
    """A page's title and one-line caption."""
    st.title(title)
    st.caption(caption)


def synthetic_badge() -> None:
    st.badge(
        "synthetic demo library",
        icon=":material/science:",
        color="orange",
        help="Trained on generated clips, not real music: figures show the pipeline works, "
        "not how well it classifies real songs.",
    )


def library_caption(run: Run) -> None:
    st.caption(f"Library: {run.library.label} · {len(run.tracks)} clips · split: {run.split}", help=run.split_method)
    if dashboard.is_synthetic(run):
        synthetic_badge()
    note = missing_audio_note(run)  # a run pulled from a bundle: its library's audio may be elsewhere
    if note:
        st.caption(note.split(": ", 1)[1])


LIBRARY_SOURCE = "library"


def recommendation_source(runs: list[Run], key: str) -> str | None:
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
