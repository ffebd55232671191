"""GTZAN-named folders that the artist-filtered split describes."""

from __future__ import annotations

from pathlib import Path

from genrec.data.library import FILTERED_SPLIT_DIR
from tests.helpers.audio import tone, write_audio


def filtered_folder(
    root: Path, genres: tuple[str, ...] = ("reggae", "rock"), per_split: int = 1, seconds: float = 3.5
) -> tuple[Path, dict[str, str], str]:
    """A GTZAN folder of generated clips: ``per_split`` listed tracks per genre and split, and one unlisted track
    (reggae has unlisted ones: the filtered split leaves out 70 of GTZAN's 1000 clips).

    Returns (folder, track id → split of the listed ones, the unlisted id).
    """

    listed = shipped_lists()
    chosen = {}
    for genre in genres:
        for split in ("train", "valid", "test"):
            ids = sorted(t for t, s in listed.items() if s == split and t.startswith(f"{genre}."))
            chosen.update({t: split for t in ids[:per_split]})
    unlisted = next(t for t in (f"{g}.{n:05d}" for g in genres for n in range(100)) if t not in listed)
    for i, track in enumerate([*chosen, unlisted]):
        genre = track.split(".")[0]
        freq = 110.0 * (1 + genres.index(genre)) * (1 + 0.05 * (i % 3))
        write_audio(root / genre / f"{track}.wav", tone(seconds, freq, seed=i), subtype="PCM_16")
    return root, chosen, unlisted


def shipped_lists() -> dict[str, str]:
    """Track id → split, read straight from the shipped text files."""
    out = {}
    for split in ("train", "valid", "test"):
        for line in (FILTERED_SPLIT_DIR / f"{split}_filtered.txt").read_text().split():
            out[Path(line).stem] = split
    return out
