"""Seeding and naming of the synthetic clips: every random draw starts here."""

from __future__ import annotations

import hashlib

import numpy as np

from genrec.config import GENRES

#: Bumped whenever the rendering changes; stored in every written file so a
#: library made by another version is regenerated rather than reused.
SYNTH_VERSION = 1
#: Pseudo-artists per style; clip ``i`` belongs to artist ``i % 4``.
ARTISTS_PER_GENRE = 4


def seeded_rng(*parts: object) -> np.random.Generator:
    """A generator seeded from a stable hash of ``parts`` (never Python's salted hash)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def check_clip(genre: str, index: int = 0) -> None:
    """Raise ``ValueError`` for an unknown genre or a negative clip index."""
    if genre not in GENRES:
        raise ValueError(f"unknown genre {genre!r}; expected one of {', '.join(GENRES)}")
    if int(index) < 0:
        raise ValueError(f"clip index must be >= 0, got {index}")


def artist_of(genre: str, index: int) -> str:
    """The pseudo-artist id of clip ``index`` of ``genre``, e.g. ``"metal-a2"`` (index % 4)."""
    check_clip(genre, index)
    return f"{genre}-a{int(index) % ARTISTS_PER_GENRE}"


def track_id(genre: str, index: int) -> str:
    """GTZAN-style track id, e.g. ``"metal.00007"``."""
    check_clip(genre, index)
    return f"{genre}.{int(index):05d}"
