"""Audio → mel-spectrogram → the 224×224×3 image the CNNs see.

:func:`audio_to_images` is the one path used by training, evaluation and the
app, so they cannot disagree about what a clip looks like.
"""

from __future__ import annotations

import numpy as np

from genrec.audio import chunk_audio
from genrec.config import DB_CEIL, DB_FLOOR, HOP_LENGTH, IMAGE_SIZE, N_FFT, N_MELS, SAMPLE_RATE

#: Fixed dB reference and display range: a constant reference (not the clip's
#: own maximum) keeps loud and quiet clips comparable.
REF_POWER = 1.0


def mel_db(y: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Mel power spectrogram in dB re ``REF_POWER``: shape (N_MELS, frames), float32."""
    import librosa

    power = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS, power=2.0)
    return librosa.power_to_db(power, ref=REF_POWER, amin=1e-10, top_db=None).astype(np.float32)


def mel_frequencies() -> np.ndarray:
    """Centre frequency in Hz of each mel band, low to high (for plot axes)."""
    import librosa

    # The filterbank's n_mels triangles sit between n_mels + 2 equally mel-spaced points;
    # band i peaks at point i + 1 (the two end points are edges, not centres).
    return librosa.mel_frequencies(n_mels=N_MELS + 2, fmin=0.0, fmax=SAMPLE_RATE / 2)[1:-1]


def db_to_image(db: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """Render a dB spectrogram as a (size, size, 3) float32 image of whole values 0–255.

    Low frequencies are at the bottom, as in a picture of a spectrogram; the grey
    level is replicated into three channels for the ImageNet backbones. Values are
    rounded to 8-bit levels so a cached uint8 image is exactly what the app computes.
    """
    from PIL import Image

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
    (see :func:`genrec.audio.chunk_audio`), giving (n_chunks, size, size, 3).
    """
    pieces = [y] if not chunk_seconds else list(chunk_audio(y, chunk_seconds, sr))
    return np.stack([db_to_image(mel_db(p, sr), size) for p in pieces])
