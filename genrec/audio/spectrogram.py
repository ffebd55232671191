"""Audio → mel-spectrogram → the 224×224×3 image the CNNs see.

:func:`audio_to_images` is the one path used by training, evaluation and the
app, so they cannot disagree about what a clip looks like.
"""

from __future__ import annotations

import contextlib
import functools
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


def mel_db(y: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Mel power spectrogram in dB re ``REF_POWER``: shape (N_MELS, frames), float32.

    The same numbers as ``librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_fft=N_FFT,
    hop_length=HOP_LENGTH, n_mels=N_MELS), ref=REF_POWER, amin=1e-10, top_db=None)`` with BLAS on one
    thread, bit for bit (tests/audio/test_spectrogram.py checks it against librosa), computed the way librosa
    computes them, and the same on any machine (see :func:`_one_blas_thread`). Not
    librosa itself: importing ``librosa.feature`` takes about 2.8 s (scipy.signal, scipy.stats, numba),
    twice the whole cold-start budget of a first answer (benchmarks/RESULTS.md section 11).
    """

    # centred frames, zero-padded at both ends (librosa's center=True, pad_mode="constant")
    padded = np.pad(y, N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH].T
    # window (float64) times frames, then rfft: librosa's order of operations and FFT library
    spectrum = scipy.fft.rfft(_hann_window(N_FFT)[:, None] * frames, axis=-2).astype(np.complex64)
    power = np.abs(spectrum) ** 2.0
    with _one_blas_thread():
        mel = np.einsum("...ft,mf->...mt", power, _mel_filterbank(sr), optimize=True)
    return (10.0 * np.log10(np.maximum(1e-10, mel)) - 10.0 * np.log10(REF_POWER)).astype(np.float32)


_BLAS_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _blas_controller():

    return ThreadpoolController()


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run the enclosed BLAS call (the mel projection) on one thread.

    OpenBLAS splits this small product over every core, and where it splits changes the last bits of
    the result: the same clip gave a different spectrogram on 1 and 2 threads. One thread makes the
    images the same on any machine. It is also faster: OpenBLAS's helper threads spin after each call on
    the cores that the other images (:func:`images_of`) and LiteRT need. The thread count is
    process-wide, so the limit is taken under a lock.
    """
    with _BLAS_LOCK, _blas_controller().limit(limits=1, user_api="blas"):
        yield


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
    two thirds of the time on 2 cores; benchmarks/RESULTS.md section 5).
    """

    def image(piece: np.ndarray) -> np.ndarray:
        return db_to_image(mel_db(piece, sr), size)

    threads = min(cpu_threads(), len(pieces))
    if threads <= 1:
        return np.stack([image(p) for p in pieces])
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="genrec-images") as pool:
        return np.stack(list(pool.map(image, pieces)))
