"""One synthetic clip, start to finish: a ``Song``, its style's arrangement, the mix."""

from __future__ import annotations

import numpy as np

from genrec.config import SAMPLE_RATE
from genrec.data.synth.mix import mix_song
from genrec.data.synth.seeds import check_clip
from genrec.data.synth.song import Song
from genrec.data.synth.styles import STYLES


def synthesize_clip(genre: str, index: int, seed: int = 0, seconds: float = 30.0, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Render synthetic clip ``index`` of style ``genre``: mono float32, ``round(seconds * sr)``
    samples, peak-normalised to -1 dBFS.  Deterministic in ``(genre, index, seed, seconds, sr)``.

    Raises ``ValueError`` for an unknown genre, a negative index or a non-positive length.
    """
    check_clip(genre, index)
    if not seconds > 0 or sr <= 0:
        raise ValueError(f"seconds and sr must be positive, got {seconds} and {sr}")
    song = Song(genre, int(index), int(seed), float(seconds), int(sr))
    STYLES[genre](song)
    return mix_song(song)
