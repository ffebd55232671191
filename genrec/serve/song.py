"""Whole-song analysis: a file longer than a run's window, judged over its whole length.

The song is decoded and resampled once. Each run then sees it as consecutive
windows of the length it was trained on (its ``--clip-seconds`` window, or its
chunks for chunk-trained runs), each turned into an image exactly as in
training. The song-level prediction is the mean of the windows' probabilities
and its embedding the renormalised mean of their embeddings, as for a clip's
chunks; both can be narrowed to a region of the song.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import soundfile as sf

from genrec.audio.decode import AudioSource, DecodedAudio, decode_audio
from genrec.audio.spectrogram import images_of
from genrec.config import MAX_SONG_SECONDS, SAMPLE_RATE, SONG_SLACK_SECONDS, TOP_K
from genrec.model.pooling import EXTRACT_BATCH
from genrec.search.index import l2_normalize
from genrec.utils.progress import ProgressFn, silent


@dataclass
class Song:
    """A decoded song (mono, SAMPLE_RATE) and what was left out of it."""

    name: str
    samples: np.ndarray
    file_seconds: float  # the file's own length

    @property
    def seconds(self) -> float:
        """Length analysed (at most MAX_SONG_SECONDS)."""
        return len(self.samples) / SAMPLE_RATE

    @property
    def capped(self) -> bool:
        return self.file_seconds > MAX_SONG_SECONDS

    def note(self) -> str:
        """What was analysed, in words (the cap is said plainly)."""
        if self.capped:
            return (
                f"{self.name} is {self.file_seconds / 60:.1f} minutes long; only its middle "
                f"{MAX_SONG_SECONDS / 60:g} minutes are analysed (the limit for one file)."
            )
        return f"{self.name}: the whole {self.seconds:.0f} s are analysed."


def file_seconds(source: AudioSource) -> float | None:
    """Length of an audio file from its header without decoding it; None when the header is unreadable."""

    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source
        if hasattr(handle, "seek"):
            handle.seek(0)
        info = sf.info(handle)
    except Exception:  # load_audio then says what is wrong with the file, in its words
        return None
    return float(info.frames / info.samplerate) if info.samplerate else None


def decode_song(source: AudioSource, name: str | None = None) -> Song:
    """Decode a whole song once (its middle MAX_SONG_SECONDS when longer), resampled once.

    Raises:
        AudioError: the file is missing, empty, corrupt, unsupported, too short or silent.
    """
    return song_of(decode_audio(source, seconds=MAX_SONG_SECONDS, name=name), name or str(source))


def song_of(audio: DecodedAudio, name: str) -> Song:
    """The song in an already decoded file (decoded with at least MAX_SONG_SECONDS): all of it, or its
    middle MAX_SONG_SECONDS when longer.

    Raises:
        AudioError: the song is too short or silent.
    """
    capped = audio.seconds > MAX_SONG_SECONDS
    return Song(name, audio.window(MAX_SONG_SECONDS if capped else None), audio.seconds)


def window_starts(seconds: float, window: float) -> np.ndarray:
    """Start times of consecutive windows covering ``seconds``; the last one ends at the song's end.

    A song no longer than one window gets one window (padded, as a short clip is). A rest shorter than a
    window gets a last window ending at the song's end (overlapping the one before), unless the rest is
    under SONG_SLACK_SECONDS: four GTZAN clips one after another last 120.05 s, and their last 0.05 s are
    not worth a fifth window that repeats the fourth.
    """
    if seconds <= window:
        return np.zeros(1)
    starts = np.arange(0.0, seconds - window + 1e-9, window)
    if seconds - (starts[-1] + window) > SONG_SLACK_SECONDS:
        starts = np.append(starts, seconds - window)
    return starts


def window_samples(samples: np.ndarray, starts: np.ndarray, window: float) -> list[np.ndarray]:
    """The samples of each window starting at ``starts`` (s), zero-padded to the window's length."""
    width = round(window * SAMPLE_RATE)
    pieces = [samples[round(s * SAMPLE_RATE) :][:width] for s in starts]
    return [np.pad(p, (0, width - len(p))) for p in pieces]


@dataclass
class Timeline:
    """One run's windows over a song: start times, probabilities and L2-normalised embeddings."""

    run_id: str
    arch: str
    genres: list[str]
    window: float
    starts: np.ndarray  # (n,)
    probabilities: np.ndarray  # (n, classes)
    embeddings: np.ndarray  # (n, units)

    def in_region(self, start: float | None = None, end: float | None = None) -> np.ndarray:
        """Windows whose middle lies in [start, end]; the nearest one when none does."""
        middles = self.starts + self.window / 2
        lo = -np.inf if start is None else start
        hi = np.inf if end is None else end
        mask = (middles >= lo) & (middles <= hi)
        if not mask.any():
            mask[int(np.argmin(np.abs(middles - (max(lo, 0) + min(hi, middles[-1] + self.window)) / 2)))] = True
        return mask

    def song_probabilities(self, start: float | None = None, end: float | None = None) -> np.ndarray:
        return self.probabilities[self.in_region(start, end)].mean(axis=0)

    def song_embedding(self, start: float | None = None, end: float | None = None) -> np.ndarray:
        return l2_normalize(self.embeddings[self.in_region(start, end)].mean(axis=0, keepdims=True))[0]

    def frame(self) -> pd.DataFrame:
        """Long table for plotting: start, middle, end (s), genre, probability."""
        n, classes = self.probabilities.shape
        return pd.DataFrame(
            {
                "start": np.repeat(self.starts, classes),
                "middle": np.repeat(self.starts + self.window / 2, classes),
                "end": np.repeat(self.starts + self.window, classes),
                "genre": np.tile(self.genres, n),
                "probability": self.probabilities.reshape(-1).astype(float),
            }
        )


def window_of(recommender) -> float:
    """The length a run judges at once: its chunk length for chunk-trained runs, else its window."""
    return float(recommender.chunk_seconds or recommender.clip_seconds)


def analyse_song(recommenders: list, song: Song, progress: ProgressFn = silent) -> list[Timeline]:
    """Each run's timeline over the song; each image is built once for runs that share window and size.

    Images are made and answered EXTRACT_BATCH at a time, so a long song never holds all of them.
    """
    groups: dict[tuple[float, int], list] = {}
    for r in recommenders:
        groups.setdefault((window_of(r), r.input_size), []).append(r)
    results: dict[int, tuple[list, list]] = {id(r): ([], []) for r in recommenders}
    plan = [(key, window_starts(song.seconds, key[0])) for key in groups]
    total, done = sum(len(s) for _, s in plan), 0
    for (window, size), starts in plan:
        for first in range(0, len(starts), EXTRACT_BATCH):
            batch = starts[first : first + EXTRACT_BATCH]
            images = images_of(window_samples(song.samples, batch, window), size=size)
            for r in groups[(window, size)]:
                probs, emb = r.predictor(images)
                results[id(r)][0].append(np.asarray(probs))
                results[id(r)][1].append(l2_normalize(np.asarray(emb)))
            done += len(batch)
            progress("song", done, total)
    return [
        Timeline(
            r.run.id,
            r.run.arch,
            r.run.genres,
            window_of(r),
            window_starts(song.seconds, window_of(r)),
            np.concatenate(results[id(r)][0]),
            np.concatenate(results[id(r)][1]),
        )
        for r in recommenders
    ]


def song_answers(
    recommenders: list, timelines: list[Timeline], start: float | None = None, end: float | None = None, k: int = TOP_K
) -> list:
    """Each run's answer for the song (or the region [start, end] s): mean probabilities and embedding."""
    return [
        r.answer(t.song_probabilities(start, end), t.song_embedding(start, end), k)
        for r, t in zip(recommenders, timelines)
    ]


def is_longer_than_windows(seconds: float, recommenders: list) -> bool:
    """Whether a file is longer than a run's analysis window by more than SONG_SLACK_SECONDS (then its whole
    length is worth analysing). A GTZAN clip of 30.01 s against a 30-s window is one clip, not a song of two
    nearly identical windows."""
    return any(seconds > r.clip_seconds + SONG_SLACK_SECONDS for r in recommenders)
