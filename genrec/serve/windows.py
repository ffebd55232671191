"""The query's analysis windows: the audio decoded once, each run's window (as it was trained) cut from it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from genrec.audio.decode import AudioSource, DecodedAudio, decode_audio


def windows_of(audio: DecodedAudio, seconds: Iterable[float]) -> dict[float, np.ndarray]:
    """Samples of each window length in ``seconds`` (the middle of a longer file, as each run was trained),
    each length cut once from the one decode."""
    windows: dict[float, np.ndarray] = {}
    for length in seconds:
        if length not in windows:
            windows[length] = audio.window(length)
    return windows


def decode_windows(source: AudioSource, seconds: Iterable[float], name: str | None = None) -> dict[float, np.ndarray]:
    """Decode ``source`` once, as long as its longest window, and cut each window length in ``seconds``."""
    lengths = list(dict.fromkeys(seconds))
    return windows_of(decode_audio(source, seconds=max(lengths), name=name), lengths)
