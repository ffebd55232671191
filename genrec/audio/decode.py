"""Decode a music file into the fixed mono window every later stage expects.

Decoding goes through libsndfile (via ``soundfile``), whose bundled build reads
WAV, FLAC, OGG/Vorbis, MP3 and Sun ``.au`` (GTZAN's original format) without
ffmpeg. Anything that cannot be used raises :class:`~genrec.errors.AudioError`
naming the file and the fix.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import soxr

from genrec.config import CLIP_SECONDS, MIN_SECONDS, SAMPLE_RATE
from genrec.errors import AudioError
from genrec.utils.fileio import stderr_to_log

log = logging.getLogger(__name__)

AudioSource = str | Path | bytes | BinaryIO

#: Extensions the package accepts, with what they are, for messages and upload widgets.
SUPPORTED_FORMATS: dict[str, str] = {
    ".wav": "WAV",
    ".flac": "FLAC",
    ".ogg": "Ogg Vorbis",
    ".mp3": "MP3",
    ".au": "Sun/NeXT AU",
}
#: Bytes enough to recognise each supported container from its start.
HEADER_BYTES = 12
#: Below this RMS level (about -60 dBFS) a clip carries no music worth classifying.
SILENCE_RMS = 1e-3


def _describe(source: AudioSource, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "name", None) or "the uploaded audio"


def check_extension(name: str) -> None:
    """Refuse a file name whose extension genrec cannot decode."""
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED_FORMATS:
        raise AudioError(
            f"{name}: unsupported file type '{ext or '(none)'}'. "
            f"Use one of {', '.join(SUPPORTED_FORMATS)} (convert with e.g. `ffmpeg -i in.m4a out.wav`)."
        )


def _is_mpeg_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a defined layer, bitrate and sample rate."""
    return (
        len(head) >= 3
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and head[1] & 0x06 != 0
        and head[2] & 0xF0 != 0xF0
        and head[2] & 0x0C != 0x0C
    )


def sniff_format(head: bytes) -> str | None:
    """The supported container a file's first bytes announce (an extension of SUPPORTED_FORMATS), or None.

    libsndfile falls back to reading unknown bytes as header-less raw audio, so random bytes named
    ``.au`` would "decode"; a known header is required before it is trusted.
    """
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        return ".wav"
    if head[:4] == b"fLaC":
        return ".flac"
    if head[:4] == b"OggS":
        return ".ogg"
    if head[:4] in (b".snd", b"dns."):
        return ".au"
    if head[:3] == b"ID3" or _is_mpeg_frame(head):
        return ".mp3"
    return None


def _head(source: AudioSource) -> bytes | None:
    """The first bytes of a source (None for a stream that cannot be rewound)."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as f:
            return f.read(HEADER_BYTES)
    if isinstance(source, (bytes, bytearray)):
        return bytes(source[:HEADER_BYTES])
    if not (hasattr(source, "seekable") and source.seekable()):
        return None
    start = source.tell()
    head = source.read(HEADER_BYTES)
    source.seek(start)
    return head


def check_header(source: AudioSource, label: str) -> str:
    """Refuse audio whose first bytes are not a supported container's header; return the format found."""
    head = _head(source)
    if head is None:
        return ""
    found = sniff_format(head)
    if found is None:
        what = SUPPORTED_FORMATS.get(Path(label).suffix.lower())
        named = f"not {'an' if what[0] in 'AEFIMO' else 'a'} {what} file" if what else "not audio in a supported format"
        raise AudioError(
            f"{label}: {named}: it does not start with a {' / '.join(SUPPORTED_FORMATS.values())} "
            f"header. The file is damaged or is something else renamed; re-export it as WAV or FLAC."
        )
    return found


def _check_path(path: Path, label: str) -> None:
    """Refuse a path that is missing, a folder or empty, before looking at its extension."""
    if not path.exists():
        raise AudioError(f"{label}: file not found. Check the path.")
    if path.is_dir():
        raise AudioError(f"{label}: is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioError(f"{label}: the file is empty (0 bytes). Re-export or re-download it.")


#: Frames read on each side of a decoded span beyond its window, so that every shorter window of the same
#: file cuts exactly the frames a decode of that window alone reads (its start and length round apart).
SPAN_MARGIN_FRAMES = 2


def _span(frames: int, rate: int, seconds: float | None) -> tuple[int, int | None]:
    """(first frame, frame count or None for all) of a file's analysis window of ``seconds``.

    A whole song is represented by its middle, where the music is, not its intro.
    """
    duration = frames / rate if rate else 0.0
    start = int((duration - seconds) / 2 * rate) if seconds is not None and duration > seconds else 0
    return start, None if seconds is None else int(round(seconds * rate))


def _read_span(source: AudioSource, seconds: float | None, label: str) -> tuple[np.ndarray, int, int, int]:
    """Read the analysis window of ``seconds`` (with SPAN_MARGIN_FRAMES either side); return
    (samples x channels, rate, first frame read, the file's frames)."""

    found = check_header(source, label)
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    quiet = stderr_to_log(log, "decoder") if found == ".mp3" else contextlib.nullcontext()  # libmpg123's resync notes
    try:
        # A path is opened here: libsndfile's own open calls any unreadable MP3 "not a regular file (a pipe?)".
        opened = open(source, "rb") if isinstance(source, (str, Path)) else contextlib.nullcontext(source)  # noqa: SIM115 (entered on the next line)
        with quiet, opened as stream, sf.SoundFile(stream) as f:
            rate, total = f.samplerate, f.frames
            start, count = _span(total, rate, seconds)
            first = max(0, start - SPAN_MARGIN_FRAMES)
            if first:
                f.seek(first)
            frames = -1 if count is None else count + (start - first) + SPAN_MARGIN_FRAMES
            data = f.read(frames=frames, dtype="float32", always_2d=True)
    except AudioError:
        raise
    except Exception as exc:  # libsndfile reports corrupt and unknown data in several exception types
        # soundfile's own text names the object (e.g. "<_io.BytesIO object at 0x...>"), not the upload
        reason = getattr(exc, "error_string", None) or str(exc)
        raise AudioError(
            f"{label}: could not decode the audio ({reason}). The file is corrupt or not in a supported "
            f"format ({', '.join(SUPPORTED_FORMATS)}); re-export it as WAV or FLAC."
        ) from exc
    return data, rate, first, total


def _to_mono(data: np.ndarray) -> np.ndarray:
    """The channels' mean, as ``data.mean(axis=1)`` gives it for float32, without its strided reduction.

    Summing whole columns is about 10x faster on a 4-minute stereo song (0.2 s of the whole-song answer).
    """
    y = data[:, 0].copy()
    for channel in range(1, data.shape[1]):
        y += data[:, channel]
    if data.shape[1] > 1:
        y /= np.float32(data.shape[1])
    return y


@dataclass(frozen=True, eq=False)
class DecodedAudio:
    """A file decoded once: its middle (or all of it) as mono samples at the file's own rate.

    Every window cut from it (:meth:`window`) is exactly what :func:`load_audio` returns for that window
    of the file, so one decode serves each run's analysis window, a whole song and the page's player.
    """

    label: str  # what messages call the file
    samples: np.ndarray  # mono float32 at ``rate``: the file's frames [offset, offset + len)
    rate: int
    offset: int  # the file's frame at samples[0]
    frames: int  # the file's own length in frames
    span: float | None  # the longest window this decode holds (None: the whole file)

    @property
    def seconds(self) -> float:
        """The file's own length (s), from its header."""
        return self.frames / self.rate if self.rate else 0.0

    def raw_window(self, seconds: float | None = CLIP_SECONDS, min_seconds: float = MIN_SECONDS) -> np.ndarray:
        """The window at the file's own rate, refused (AudioError) when no later stage can use it."""
        if self.span is not None and self.seconds > self.span and (seconds is None or seconds > self.span):
            raise ValueError(f"{self.label}: decoded for windows up to {self.span:g} s, not {seconds} s")
        start, count = _span(self.frames, self.rate, seconds)
        y = self.samples[start - self.offset :]
        y = y if count is None else y[:count]
        _check_samples(y, self.rate, min_seconds, self.label)
        return y

    def window(
        self, seconds: float | None = CLIP_SECONDS, *, sr: int = SAMPLE_RATE, min_seconds: float = MIN_SECONDS
    ) -> np.ndarray:
        """The mono float32 window of exactly ``seconds`` at ``sr``, as :func:`load_audio` describes it."""
        y = self.raw_window(seconds, min_seconds)
        if self.rate != sr:
            y = resample(y, self.rate, sr)
        if seconds is not None:
            target = int(round(seconds * sr))
            y = np.pad(y, (0, max(0, target - len(y))))[:target]
        return np.ascontiguousarray(y, dtype=np.float32)


def _check_samples(y: np.ndarray, rate: int, min_seconds: float, label: str) -> None:
    """Refuse a window no later stage can use: empty, not finite, too short or silent."""
    if y.size == 0 or rate <= 0:
        raise AudioError(f"{label}: contains no audio samples. Re-export or re-download it.")
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{label}: decoded samples are not finite numbers; the file is corrupt.")
    length = len(y) / rate
    if length < min_seconds:
        raise AudioError(
            f"{label}: only {length:.1f} s of audio; at least {min_seconds:g} s is needed. "
            f"Use a longer excerpt (30 s is ideal)."
        )
    if float(np.sqrt(np.dot(y, y) / len(y))) < SILENCE_RMS:
        raise AudioError(f"{label}: the audio is silent (below -60 dBFS). Check the recording level.")


def decode_audio(source: AudioSource, *, seconds: float | None = CLIP_SECONDS, name: str | None = None) -> DecodedAudio:
    """Decode ``source`` once: its middle ``seconds`` (None: all of it), for windows up to that long.

    Raises:
        AudioError: the file is missing, empty, unsupported or corrupt (a window's own checks come when
        it is cut).
    """
    label = _describe(source, name)
    if isinstance(source, (str, Path)):
        _check_path(Path(source), label)
    if isinstance(source, (str, Path)) or name:
        check_extension(label)
    data, rate, first, total = _read_span(source, seconds, label)
    samples = _to_mono(data)
    return DecodedAudio(label, samples, rate, first, total, seconds)


def check_clip(path: Path | str, seconds: float | None = CLIP_SECONDS, min_seconds: float = MIN_SECONDS) -> None:
    """Refuse (AudioError) a file that :func:`load_audio` would refuse, without resampling it.

    The library scan uses it, so that clips training cannot use are found before training starts.
    """
    decode_audio(path, seconds=seconds).raw_window(seconds, min_seconds)


def load_audio(
    source: AudioSource,
    *,
    seconds: float | None = CLIP_SECONDS,
    sr: int = SAMPLE_RATE,
    min_seconds: float = MIN_SECONDS,
    name: str | None = None,
) -> np.ndarray:
    """Decode ``source`` into a mono float32 window of exactly ``seconds`` at ``sr``.

    Longer audio is cut to its middle ``seconds``; shorter audio is zero-padded,
    but audio shorter than ``min_seconds`` or silent is refused. ``seconds=None``
    keeps the whole file. ``name`` labels file-like sources in messages.

    Raises:
        AudioError: the file is missing, empty, corrupt, unsupported, too short or silent.
    """
    return decode_audio(source, seconds=seconds, name=name).window(seconds, sr=sr, min_seconds=min_seconds)


def resample(y: np.ndarray, rate: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """``y`` from ``rate`` to ``sr`` Hz with soxr's high-quality sinc filter, ``ceil(len * sr / rate)`` samples long.

    What ``librosa.resample(y, orig_sr=rate, target_sr=sr, res_type="soxr_hq")`` returns, without
    importing librosa (a second of a cold start); tests/audio/test_audio.py checks that they are equal.
    """

    n = int(np.ceil(len(y) * float(sr) / rate))
    out = soxr.resample(y, rate, sr, quality="soxr_hq")
    return np.asarray(np.pad(out, (0, max(0, n - len(out))))[:n], dtype=y.dtype)


def chunk_audio(y: np.ndarray, chunk_seconds: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Cut ``y`` into consecutive non-overlapping chunks of ``chunk_seconds``.

    Returns an array of shape (n_chunks, samples_per_chunk); a trailing
    remainder shorter than a chunk is dropped.
    """
    size = int(round(chunk_seconds * sr))
    if size <= 0:
        raise ValueError(f"chunk_seconds must be positive, got {chunk_seconds}")
    n = len(y) // size
    if n == 0:
        raise AudioError(f"audio of {len(y) / sr:.1f} s is shorter than one {chunk_seconds:g}-s chunk")
    return y[: n * size].reshape(n, size)
