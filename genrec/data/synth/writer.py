"""Writing the demo library to disk: one 16-bit FLAC per clip, atomically, skipping
files that this generator version already made with the same seed and length."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import soundfile as sf

from genrec.config import GENRES, SAMPLE_RATE
from genrec.data.synth.clip import synthesize_clip
from genrec.data.synth.seeds import SYNTH_VERSION, artist_of, track_id


def _stamp(genre: str, index: int, seed: int, seconds: float) -> str:
    """The comment written into each file: what made it, to recognise it later."""
    return f"genrec synthetic v{SYNTH_VERSION} genre={genre} index={index} seed={seed} seconds={seconds:g}"


def _is_current(path: Path, frames: int, stamp: str, sr: int) -> bool:
    try:
        with sf.SoundFile(str(path)) as fh:
            return fh.frames == frames and fh.samplerate == sr and fh.channels == 1 and fh.comment == stamp
    except Exception:  # unreadable or truncated: regenerate
        return False


def _build_one(root: str, genre: str, index: int, seed: int, seconds: float) -> dict:
    """Render and write one clip (atomically) unless an identical one is already there."""
    tid = track_id(genre, index)
    folder = Path(root) / genre
    path = folder / f"{tid}.flac"
    stamp = _stamp(genre, index, seed, seconds)
    frames = max(1, int(round(seconds * SAMPLE_RATE)))
    row = {"track_id": tid, "path": str(path), "genre": genre, "artist": artist_of(genre, index)}
    if path.exists() and _is_current(path, frames, stamp, SAMPLE_RATE):
        return row
    folder.mkdir(parents=True, exist_ok=True)
    audio = synthesize_clip(genre, index, seed, seconds, SAMPLE_RATE)
    tmp = folder / f".{tid}.{os.getpid()}.tmp"
    try:
        with sf.SoundFile(str(tmp), "w", samplerate=SAMPLE_RATE, channels=1, format="FLAC", subtype="PCM_16") as fh:
            fh.comment = stamp
            fh.artist = row["artist"]
            fh.genre = f"{genre} (synthetic)"
            fh.title = f"{tid} (synthetic)"
            fh.write(audio)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return row


def write_library(
    root: Path,
    clips_per_genre: int = 20,
    seed: int = 0,
    seconds: float = 30.0,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Write <root>/<genre>/<genre>.000NN.flac (16-bit FLAC via soundfile, atomic: write to a temp name
    then os.replace) and return rows {"track_id": "<genre>.000NN", "path": str, "genre": ..., "artist": ...}
    in genre/index order.  progress(done, total) is called after each clip.  Files already present with
    the right length (and made by this generator with the same seed/version) are not regenerated."""
    if clips_per_genre < 0:
        raise ValueError(f"clips_per_genre must be >= 0, got {clips_per_genre}")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    jobs = [(g, i) for g in GENRES for i in range(clips_per_genre)]
    total = len(jobs)
    rows: dict[tuple[str, int], dict] = {}
    workers = max(1, min(int(workers), total or 1))

    def finished(job: tuple[str, int], row: dict) -> None:
        rows[job] = row
        if progress:
            progress(len(rows), total)

    if workers > 1:
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futs = {pool.submit(_build_one, str(root), g, i, seed, seconds): (g, i) for g, i in jobs}
                for fut in as_completed(futs):
                    finished(futs[fut], fut.result())
        except (OSError, BrokenProcessPool):
            pass  # no usable process pool here (sandbox, no /dev/shm): finish serially
    for g, i in jobs:
        if (g, i) not in rows:
            finished((g, i), _build_one(str(root), g, i, seed, seconds))
    return [rows[j] for j in jobs]
