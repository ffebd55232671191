"""Audio → mel-spectrogram → the 224×224×3 image the CNNs see.

:func:`audio_to_images` is the one path used by training, evaluation and the
app, so they cannot disagree about what a clip looks like.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.fft
from PIL import Image
from threadpoolctl import ThreadpoolController

from genrec.audio.decode import chunk_audio
from genrec.config import DB_CEIL, DB_FLOOR, HOP_LENGTH, IMAGE_SIZE, N_FFT, N_MELS, SAMPLE_RATE
from genrec.utils.machine import cpu_threads

#: Fixed dB reference and display range: a constant reference (not the clip's
#: own maximum) keeps loud and quiet clips comparable.
REF_POWER = 1.0


#: Frames transformed per block: a block's windowed frames and spectrum (128 × 2048 float32, about 2 MB in
#: all) stay in the cache between the window, the FFT, the power and the mel projection.
_BLOCK_FRAMES = 128
#: librosa's ``amin``: the power floor before the logarithm (-100 dB re ``REF_POWER``).
AMIN = 1e-10
_DB_PER_LN = 10.0 / np.log(10.0)
_DB_OF_REF = 10.0 * np.log10(REF_POWER)


def mel_db(y: np.ndarray, sr: int = SAMPLE_RATE, *, threads: int = 1) -> np.ndarray:
    """Mel power spectrogram in dB re ``REF_POWER``: shape (N_MELS, frames), float32.

    librosa's ``power_to_db(melspectrogram(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS),
    ref=REF_POWER, amin=AMIN, top_db=None)``: centred frames zero-padded at both ends, periodic Hann window,
    Slaney mel filterbank. Computed in float32 (librosa windows and transforms in float64) in blocks of
    frames, and projected only onto the FFT bins each band covers (faster: RESULTS.md section 5). Wherever the
    image can show it, within half a grey level of librosa, and 0.013 dB on real music
    (tests/audio/test_spectrogram.py bounds it and shows that the predictions stay those of librosa's
    images; benchmarks/RESULTS.md section 5). Not librosa itself: importing ``librosa.feature`` takes
    about 2.8 s, twice the cold-start budget of a first answer (benchmarks/RESULTS.md section 11).
    ``threads`` share the frames' blocks; the values do not depend on how many.
    """
    padded = np.pad(np.asarray(y, dtype=np.float32), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH]  # (frames, N_FFT), a view
    db = np.empty((N_MELS, len(frames)), dtype=np.float32)
    # The threads take blocks from one counter: a thread that another job keeps off its core leaves its
    # share to the others instead of holding up the result. Every frame is in the same block either way.
    blocks = range(0, len(frames), _BLOCK_FRAMES)
    counter = itertools.count()
    with _one_blas_thread():
        helpers = [
            _helper_pool().submit(_mel_db_blocks, frames, db, blocks, counter, sr)
            for _ in range(min(threads, len(blocks)) - 1)
        ]
        _mel_db_blocks(frames, db, blocks, counter, sr)
        for helper in helpers:
            helper.result()
    return db


def _mel_db_blocks(frames: np.ndarray, db: np.ndarray, blocks: range, counter: Iterator[int], sr: int) -> None:
    """Fill ``db[:, start:start + _BLOCK_FRAMES]`` with the mel spectrogram in dB of those frames, for each
    block start ``blocks[i]`` whose ``i`` this thread draws from ``counter``."""
    window, bands = _hann_window32(N_FFT), _mel_band_groups(sr)
    windowed = np.empty((_BLOCK_FRAMES, N_FFT), dtype=np.float32)
    power = np.empty((_BLOCK_FRAMES, N_FFT // 2 + 1), dtype=np.float32)
    for i in counter:  # next() on a count is atomic: the GIL is held while it runs
        if i >= len(blocks):
            return
        block = frames[blocks[i] : blocks[i] + _BLOCK_FRAMES]
        spectrum = scipy.fft.rfft(np.multiply(block, window, out=windowed[: len(block)]), axis=-1)
        bins = power[: len(block)]
        np.square(spectrum.real, out=bins)
        bins += np.square(spectrum.imag)
        out = db[:, blocks[i] : blocks[i] + len(block)]
        for first_band, end_band, first_bin, end_bin, weights in bands:  # BLAS on one thread (see mel_db)
            np.matmul(weights, bins[:, first_bin:end_bin].T, out=out[first_band:end_band])
        np.maximum(out, AMIN, out=out)
        np.log(out, out=out)  # numpy vectorises float32 log on AVX2, not log10
        out *= _DB_PER_LN
        out -= _DB_OF_REF


@functools.lru_cache(maxsize=1)
def _helper_pool() -> ThreadPoolExecutor:
    """Threads that help :func:`mel_db`, kept between calls (starting a thread costs more than a block)."""
    return ThreadPoolExecutor(max_workers=max(1, cpu_threads() - 1), thread_name_prefix="genrec-mel")


_BLAS_LOCK = threading.Lock()
#: How many threads are inside :func:`_one_blas_thread`, and the limit they share while any is.
_blas_users = 0
_blas_limiter = None


@functools.lru_cache(maxsize=1)
def _blas_controller():

    return ThreadpoolController()


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run the BLAS calls (the mel projection) of the enclosed work on one thread.

    OpenBLAS splits a large product over every core, and where it splits changes the last bits of the
    result: the same clip gave a different spectrogram on 1 and 2 threads. One thread makes the images
    the same whatever the core count. It is also faster: OpenBLAS's helper threads spin after each call
    on the cores that the other blocks and images (:func:`images_of`) and LiteRT need. The thread count is
    process-wide (OpenBLAS with pthreads, as numpy's and scipy's wheels bundle it), so the first thread in
    sets it and the last one out restores it. It is held for a whole spectrogram, not per block: setting
    it costs about as much as a block's projection (a 30-s clip took 8.5 ms instead of 6.3 on 2 cores).
    """
    global _blas_users, _blas_limiter
    with _BLAS_LOCK:
        if _blas_users == 0:
            _blas_limiter = _blas_controller().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def mel_frequencies() -> np.ndarray:
    """Centre frequency in Hz of each mel band, low to high (for plot axes)."""
    # The filterbank's n_mels triangles sit between n_mels + 2 equally mel-spaced points;
    # band i peaks at point i + 1 (the two end points are edges, not centres).
    return _mel_points(N_MELS + 2, SAMPLE_RATE / 2)[1:-1]


# Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above.
_MEL_LINEAR_HZ = 200.0 / 3
_MEL_LOG_HZ = 1000.0
_MEL_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: float) -> float:
    mel = hz / _MEL_LINEAR_HZ
    if hz >= _MEL_LOG_HZ:
        mel = _MEL_LOG_HZ / _MEL_LINEAR_HZ + np.log(hz / _MEL_LOG_HZ) / _MEL_LOG_STEP
    return mel


def _mel_points(n: int, fmax: float) -> np.ndarray:
    """``n`` frequencies (Hz) equally spaced on the mel scale from 0 Hz to ``fmax``."""
    mels = np.linspace(_hz_to_mel(0.0), _hz_to_mel(fmax), n)
    hz = _MEL_LINEAR_HZ * mels
    log_part = mels >= _MEL_LOG_HZ / _MEL_LINEAR_HZ
    hz[log_part] = _MEL_LOG_HZ * np.exp(_MEL_LOG_STEP * (mels[log_part] - _MEL_LOG_HZ / _MEL_LINEAR_HZ))
    return hz


@functools.lru_cache(maxsize=4)
def _mel_filterbank(sr: int) -> np.ndarray:
    """(N_MELS, 1 + N_FFT // 2) triangular filters with Slaney's area normalisation, float32."""
    fft_hz = np.fft.rfftfreq(n=N_FFT, d=1.0 / sr)
    edges = _mel_points(N_MELS + 2, sr / 2)
    widths = np.diff(edges)
    ramps = np.subtract.outer(edges, fft_hz)
    weights = np.zeros((N_MELS, len(fft_hz)), dtype=np.float32)
    for band in range(N_MELS):
        rising, falling = -ramps[band] / widths[band], ramps[band + 2] / widths[band + 1]
        weights[band] = np.maximum(0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, np.newaxis]
    return weights


#: Mel bands projected together: 8 neighbouring triangles span a few dozen FFT bins, so 16 small products
#: do 1/14 of the full (N_MELS × bins) product's work, which is nearly all zeros.
_BANDS_PER_GROUP = 8


@functools.lru_cache(maxsize=4)
def _mel_band_groups(sr: int) -> tuple[tuple[int, int, int, int, np.ndarray], ...]:
    """The filterbank cut into groups of bands: (first band, end band, first bin, end bin, weights (bands, bins))."""
    filterbank = _mel_filterbank(sr)
    groups = []
    for first in range(0, N_MELS, _BANDS_PER_GROUP):
        end = min(first + _BANDS_PER_GROUP, N_MELS)
        covered = np.flatnonzero(filterbank[first:end].any(axis=0))
        lo, hi = (int(covered[0]), int(covered[-1]) + 1) if len(covered) else (0, 1)
        groups.append((first, end, lo, hi, np.ascontiguousarray(filterbank[first:end, lo:hi])))
    return tuple(groups)


@functools.lru_cache(maxsize=1)
def _hann_window32(n: int) -> np.ndarray:
    return _hann_window(n).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _hann_window(n: int) -> np.ndarray:
    """The periodic Hann window as scipy.signal.get_window("hann", n) computes it (float64)."""
    angles = np.linspace(-np.pi, np.pi, n + 1)
    return (0.5 * np.cos(0 * angles) + 0.5 * np.cos(angles))[:-1]


def db_to_image(db: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """Render a dB spectrogram as a (size, size, 3) float32 image of whole values 0–255.

    Low frequencies are at the bottom, as in a picture of a spectrogram; the grey
    level is replicated into three channels for the ImageNet backbones. Values are
    rounded to 8-bit levels so a cached uint8 image is exactly what the app computes.
    """

    scaled = (np.clip(db, DB_FLOOR, DB_CEIL) - DB_FLOOR) * (255.0 / (DB_CEIL - DB_FLOOR))
    picture = Image.fromarray(np.ascontiguousarray(scaled[::-1], dtype=np.float32), mode="F")
    # PIL's bilinear filter widens its support when shrinking, i.e. it averages frames.
    resized = np.asarray(picture.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)
    return np.repeat(np.rint(np.clip(resized, 0.0, 255.0))[:, :, None], 3, axis=2)


def audio_to_images(
    y: np.ndarray,
    *,
    chunk_seconds: float | None = None,
    size: int = IMAGE_SIZE,
    sr: int = SAMPLE_RATE,
) -> np.ndarray:
    """Images for one clip: (1, size, size, 3) for the whole window, or one per chunk.

    With ``chunk_seconds`` the clip is cut into consecutive chunks first
    (see :func:`genrec.audio.decode.chunk_audio`), giving (n_chunks, size, size, 3).
    """
    pieces = [y] if not chunk_seconds else list(chunk_audio(y, chunk_seconds, sr))
    return images_of(pieces, size=size, sr=sr)


def images_of(pieces: Sequence[np.ndarray], *, size: int = IMAGE_SIZE, sr: int = SAMPLE_RATE) -> np.ndarray:
    """One image per piece of audio (a clip's chunks, a song's windows): (len(pieces), size, size, 3).

    Pieces are independent, and numpy, scipy.fft and PIL release the GIL while they work, so several
    pieces are built at once on :func:`genrec.utils.machine.cpu_threads` threads (a song's 8 windows in about
    two thirds of the time on 2 cores; benchmarks/RESULTS.md section 5); a single piece's frames are.
    """

    def image(piece: np.ndarray, threads: int = 1) -> np.ndarray:
        return db_to_image(mel_db(piece, sr, threads=threads), size)

    threads = min(cpu_threads(), len(pieces))
    if threads <= 1:  # one piece: its frames are split over the cores instead
        return np.stack([image(p, cpu_threads()) for p in pieces])
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="genrec-images") as pool:
        return np.stack(list(pool.map(image, pieces)))
