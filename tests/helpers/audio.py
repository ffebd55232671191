"""Generated audio and GTZAN-shaped folders for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from genrec.config import GENRES, SAMPLE_RATE


def tone(
    seconds: float = 5.0, freq: float = 440.0, sr: int = SAMPLE_RATE, seed: int = 0, noise: float = 0.05
) -> np.ndarray:
    """A decaying-note pattern with a little noise: music-like enough for every stage."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    beat = np.exp(-6 * (t % 0.5))
    y = 0.4 * np.sin(2 * np.pi * freq * t) * beat + noise * rng.standard_normal(len(t))
    return y.astype(np.float32)


def write_audio(path: Path, y: np.ndarray, sr: int = SAMPLE_RATE, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sr, **kw)
    return path


def make_gtzan_folder(
    root: Path, per_genre: int = 5, seconds: float = 4.0, ext: str = "wav", genres: tuple[str, ...] = GENRES
) -> Path:
    """A GTZAN-like folder <root>/<genre>/<genre>.000NN.<ext> whose genres differ audibly (pitch, noise)."""
    for gi, genre in enumerate(genres):
        for n in range(per_genre):
            y = tone(seconds, freq=110.0 * (1 + gi), seed=gi * 100 + n, noise=0.02 + 0.03 * (gi % 3))
            write_audio(root / genre / f"{genre}.{n:05d}.{ext}", y, subtype="PCM_16" if ext != "au" else None)
    return root
