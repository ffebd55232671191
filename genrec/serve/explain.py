"""Explain a clip's genre: Grad-CAM of each run on the clip's mel spectrogram (no TensorFlow).

The model's input image shows the mel spectrogram with low frequencies at the
bottom, squeezed to a square; a feature-map cell therefore covers a band of mel
bands and a span of seconds. :class:`Explanation` keeps the map in those terms
(rows low → high frequency, columns in time order, chunks side by side), so it
can be drawn over the spectrogram with its own time and Hz axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genrec.audio.decode import AudioSource, DecodedAudio
from genrec.audio.spectrogram import audio_to_images, mel_db, mel_frequencies
from genrec.config import N_MELS
from genrec.model.gradcam import Head, gradcam
from genrec.serve.windows import decode_windows, windows_of


@dataclass
class Explanation:
    """One run's Grad-CAM for one clip and one genre."""

    run_id: str
    arch: str
    genre: str  # the genre explained
    predicted: str  # the run's predicted genre for the clip
    probabilities: np.ndarray  # (classes,) the clip's probabilities
    cells: np.ndarray  # (rows, columns) ReLU'd Grad-CAM, row 0 = lowest frequencies
    seconds: float  # time covered by the columns, from 0
    db: np.ndarray  # (N_MELS, frames) mel spectrogram of the analysed window

    @property
    def total(self) -> float:
        return float(self.cells.sum())

    def relative(self, times: np.ndarray, bands: np.ndarray | None = None) -> np.ndarray:
        """The map bilinearly interpolated at ``times`` (s) × mel band indices, 1 = the map's average.

        A map with no positive evidence at all is zero everywhere.
        """
        bands = np.arange(N_MELS) if bands is None else np.asarray(bands, dtype=float)
        rows, cols = self.cells.shape
        t_centres = (np.arange(cols) + 0.5) * self.seconds / cols
        b_centres = (np.arange(rows) + 0.5) * N_MELS / rows - 0.5
        along_time = np.stack([np.interp(times, t_centres, row) for row in self.cells])  # (rows, T)
        grid = np.stack([np.interp(bands, b_centres, col) for col in along_time.T], axis=1)
        mean = self.cells.mean()
        return grid / mean if mean > 0 else np.zeros_like(grid)

    def hotspot(self) -> tuple[tuple[float, float], tuple[float, float], float]:
        """((start s, end s), (low Hz, high Hz), share of the map's weight in that time span).

        The time span is the column of cells with the most weight, the band the row with the most.
        """
        rows, cols = self.cells.shape
        col = int(np.argmax(self.cells.sum(axis=0)))
        row = int(np.argmax(self.cells.sum(axis=1)))
        step = self.seconds / cols
        hz = mel_frequencies()
        lo, hi = row * N_MELS // rows, (row + 1) * N_MELS // rows - 1
        share = float(self.cells[:, col].sum() / self.total) if self.total > 0 else 0.0
        return (col * step, (col + 1) * step), (float(hz[lo]), float(hz[hi])), share


def genre_index(genres: list[str], genre: str | None, probabilities: np.ndarray) -> int:
    """Index of ``genre`` (the predicted one when None); ValueError listing the choices when unknown."""
    if genre is None:
        return int(np.argmax(probabilities))
    if genre not in genres:
        raise ValueError(f"unknown genre '{genre}'; choose one of {', '.join(genres)}")
    return genres.index(genre)


def explain_window(recommender, samples: np.ndarray, genre: str | None = None) -> Explanation:
    """Grad-CAM of one run on its own analysis window ``samples`` (decoded as the run was trained)."""
    head = Head.load(recommender.run.path)
    images = audio_to_images(samples, chunk_seconds=recommender.chunk_seconds, size=recommender.input_size)
    probs, _, fmaps = recommender.explainer.explain_outputs(images)
    mean_probs = np.asarray(probs).mean(axis=0)
    genres = recommender.run.genres
    target = genre_index(genres, genre, mean_probs)
    cams = gradcam(fmaps, head, target)[:, ::-1, :]  # image rows run high → low frequency
    seconds = (recommender.chunk_seconds or recommender.clip_seconds) * len(cams)
    return Explanation(
        recommender.run.id,
        recommender.run.arch,
        genres[target],
        genres[int(np.argmax(mean_probs))],
        mean_probs,
        np.concatenate(list(cams), axis=1),
        float(seconds),
        mel_db(samples),
    )


def explain(
    recommenders: list, *, source: AudioSource | None = None, name: str | None = None, genre: str | None = None
) -> list[Explanation]:
    """Grad-CAM of several runs for one clip: each on its own window, the clip decoded once."""
    windows = decode_windows(source, [r.clip_seconds for r in recommenders], name)
    return [explain_window(r, windows[r.clip_seconds], genre) for r in recommenders]


def explain_audio(recommenders: list, audio: DecodedAudio, genre: str | None = None) -> list[Explanation]:
    """Grad-CAM of several runs for a query decoded already (:attr:`genrec.serve.queries.Query.audio`)."""
    windows = windows_of(audio, [r.clip_seconds for r in recommenders])
    return [explain_window(r, windows[r.clip_seconds], genre) for r in recommenders]


def shared_scale(explanations: list[Explanation], times: np.ndarray) -> float:
    """One colour-scale top for several maps drawn at ``times``, so their colours compare."""
    tops = [float(e.relative(times).max(initial=0.0)) for e in explanations]
    return max([*tops, 1.0])


def describe(expl: Explanation) -> str:
    """One line: the time span and frequency band with the most Grad-CAM weight."""
    if expl.total <= 0:
        return f"{expl.arch}: no part of the clip raises the '{expl.genre}' logit (the map is zero)"
    (t0, t1), (f0, f1), share = expl.hotspot()
    return (
        f"{expl.arch}: most weight for '{expl.genre}' at {t0:.1f}–{t1:.1f} s ({share:.0%} of the map) "
        f"and in the {f0:.0f}–{f1:.0f} Hz band"
    )
