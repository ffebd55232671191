"""On-disk cache of spectrogram images, keyed by file content and parameters.

``genrec prepare`` fills it; a second run over the same library does no audio
work at all. Images are stored as uint8 ``.npy`` files (no pickle).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

import genrec.audio.spectrogram as spectrogram
import genrec.utils.fileio as fileio
from genrec.audio.decode import load_audio
from genrec.config import CLIP_SECONDS, HOP_LENGTH, IMAGE_SIZE, N_FFT, N_MELS, SAMPLE_RATE
from genrec.errors import LibraryError
from genrec.utils.paths import data_home

#: 2: the mel projection runs on one BLAS thread, so an image no longer depends on the machine's cores.
#: 3: the spectrogram is computed in float32 (issue 21): a few pixels in 100,000 move by one grey level.
CACHE_VERSION = 3
Progress = Callable[[int, int], None]
_content_hashes: dict[tuple[str, int, int], str] = {}


def cache_home() -> Path:
    return data_home() / "spectrograms"


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (:func:`genrec.utils.fileio.file_digest`), memoised per (path, size, mtime)."""
    st = path.stat()
    memo = (str(path), st.st_size, st.st_mtime_ns)
    if memo not in _content_hashes:
        _content_hashes[memo] = fileio.file_digest(path)
    return _content_hashes[memo]


def params_key(kind: str, chunk_seconds: float | None, size: int, clip_seconds: float = CLIP_SECONDS) -> dict:
    """Every parameter that changes the image; part of the cache key and of each run's record."""
    return {
        "version": CACHE_VERSION,
        "kind": kind,
        "sr": SAMPLE_RATE,
        "clip_seconds": float(clip_seconds),
        "chunk_seconds": chunk_seconds,
        "size": size,
        "n_mels": N_MELS,
        "n_fft": N_FFT,
        "hop": HOP_LENGTH,
        "db_range": [spectrogram.DB_FLOOR, spectrogram.DB_CEIL],
    }


def _key(path: Path, params: dict) -> str:
    blob = file_digest(path) + json.dumps(params, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()


def image_file_to_array(path: Path, size: int) -> np.ndarray:
    """A pre-rendered spectrogram picture (e.g. Kaggle's PNGs) as a (1, size, size, 3) 0–255 array."""

    with Image.open(path) as img:
        rgb = img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.float32)[None]


def compute_images(
    path: Path, kind: str, chunk_seconds: float | None, size: int, clip_seconds: float = CLIP_SECONDS
) -> np.ndarray:
    """Images for one library file, computed from scratch (no cache)."""
    if kind == "image":
        if chunk_seconds:
            raise LibraryError(f"{path}: a spectrogram-image library cannot be cut into chunks; drop --chunk-seconds.")
        return image_file_to_array(path, size)
    return spectrogram.audio_to_images(load_audio(path, seconds=clip_seconds), chunk_seconds=chunk_seconds, size=size)


def cached_images(
    path: Path,
    kind: str = "audio",
    chunk_seconds: float | None = None,
    size: int = IMAGE_SIZE,
    clip_seconds: float = CLIP_SECONDS,
) -> tuple[np.ndarray, bool]:
    """Images for one file from the cache, computing and storing them on a miss.

    Returns (uint8 array (n, size, size, 3), whether it was a cache hit).
    """
    key = _key(path, params_key(kind, chunk_seconds, size, clip_seconds))
    target = cache_home() / key[:2] / f"{key}.npy"
    if target.exists():
        try:
            return np.load(target, allow_pickle=False), True
        except (ValueError, OSError, EOFError):  # EOFError: a 0-byte entry
            target.unlink(missing_ok=True)  # a damaged cache entry is recomputed, not trusted
    images = compute_images(path, kind, chunk_seconds, size, clip_seconds).astype(np.uint8)
    fileio.atomic_write(target, lambda out: np.save(out, images, allow_pickle=False))
    return images, False


def warm_library_images(
    paths: Sequence[str | Path],
    kind: str = "audio",
    chunk_seconds: float | None = None,
    size: int = IMAGE_SIZE,
    clip_seconds: float = CLIP_SECONDS,
    stop: threading.Event | None = None,
) -> None:
    """Compute and store the images of ``paths`` that the cache lacks, keeping none of them in memory; ``stop``
    ends it after the current file.

    Last file first: ``genrec build`` runs this in a thread while its training child starts, and a child that
    reaches its own (first-to-last) pass before this one ends computes from the other end, not the same files.
    """
    for p in reversed(paths):
        if stop is not None and stop.is_set():
            return
        cached_images(Path(p), kind, chunk_seconds, size, clip_seconds)


def library_images(
    paths: Sequence[str | Path],
    kind: str = "audio",
    chunk_seconds: float | None = None,
    size: int = IMAGE_SIZE,
    progress: Progress | None = None,
    clip_seconds: float = CLIP_SECONDS,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Images of many files stacked, with the index of the file each image came from.

    Returns (images uint8 (N, size, size, 3), owner int array (N,), number of cache hits).
    """
    arrays, owners, hits = [], [], 0
    if progress:
        progress(0, len(paths))
    for i, p in enumerate(paths):
        images, hit = cached_images(Path(p), kind, chunk_seconds, size, clip_seconds)
        arrays.append(images)
        owners.append(np.full(len(images), i))
        hits += hit
        if progress:
            progress(i + 1, len(paths))
    if not arrays:
        return np.zeros((0, size, size, 3), np.uint8), np.zeros(0, int), 0
    return np.concatenate(arrays), np.concatenate(owners), hits
