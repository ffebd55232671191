"""The clip a page asks about: an upload or recording checked and decoded, or a library clip.

Uploads are hostile input: their size is checked in MiB before any decoding, formats genrec cannot
decode get a message with the command that converts them, and only vetted library files are read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genrec.audio.decode import SUPPORTED_FORMATS, DecodedAudio, check_extension, decode_audio
from genrec.config import CLIP_SECONDS, MAX_SONG_SECONDS
from genrec.errors import AudioError
from genrec.utils.fileio import file_digest

#: Largest upload the app accepts, in MiB (2**20 bytes): about 2.5 min of CD-quality WAV; a 4-minute song fits
#: as MP3, not as WAV.
MAX_UPLOAD_MIB = 25
#: Formats people often have that genrec cannot decode: the upload widget takes them, so that genrec's own
#: message (with the ffmpeg command that converts them) answers, rather than the widget's bare refusal.
CONVERTIBLE_EXTENSIONS = (".m4a", ".aac", ".wma", ".opus", ".webm", ".mp4")


def is_audio_file(path: str | Path) -> bool:
    """Whether a library path is audio genrec can decode (not a pre-rendered spectrogram image)."""
    return Path(path).suffix.lower() in SUPPORTED_FORMATS


#: Formats browsers play natively; others (Sun .au) are decoded and sent as WAV.
BROWSER_FORMATS = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".flac": "audio/flac"}


@dataclass(frozen=True, eq=False)
class Query:
    """A clip to analyse: a library track, a file, or an upload or recording checked and decoded once."""

    kind: str  # "library", "file", "upload" or "recording"
    label: str  # what to call it on the page
    samples: np.ndarray | None  # mono 30-s window at SAMPLE_RATE, to show and play (None when not decoded)
    digest: str = ""  # identifies the audio, to cache answers on (an upload's: the SHA-256 of its bytes)
    data: bytes | None = None  # the uploaded or recorded file (each run cuts its own window from it)
    track_id: str | None = None
    true_genre: str | None = None
    split: str | None = None
    path: str | None = None
    #: The audio decoded once, up to MAX_SONG_SECONDS for uploads (every run's window and a whole song are
    #: cut from it); None for a query not decoded yet (genrec.serve.answer decodes it once).
    audio: DecodedAudio | None = None


def upload_widget_limit_mb(max_mib: float = MAX_UPLOAD_MIB) -> int:
    """The upload widget's ``max_upload_size`` that lets every file within ``max_mib`` MiB through.

    Streamlit's browser side counts the widget's megabytes as 10**6 bytes (1024**2 on Windows), so the
    widget gets the MiB limit rounded up in decimal MB and the app's own check (:func:`read_upload`)
    applies the exact limit, with its own message.
    """
    return math.ceil(max_mib * 2**20 / 10**6)


def upload_types() -> list[str]:
    """Extensions the upload widget accepts: the decodable ones plus :data:`CONVERTIBLE_EXTENSIONS`."""
    return [e.lstrip(".") for e in (*SUPPORTED_FORMATS, *CONVERTIBLE_EXTENSIONS)]


def read_upload(data: bytes, name: str, kind: str = "upload", max_mib: float = MAX_UPLOAD_MIB) -> Query:
    """Check and decode uploaded (or recorded) audio bytes; AudioError with the fix when unusable."""
    if len(data) == 0:
        raise AudioError(f"{name}: the file is empty (0 bytes). Choose another file.")
    if len(data) > max_mib * 2**20:
        raise AudioError(
            f"{name}: {len(data) / 2**20:.1f} MiB is over the {max_mib:g} MiB limit. "
            f"Upload a shorter excerpt, or the song as MP3, OGG or FLAC."
        )
    check_extension(name)
    audio = decode_audio(data, seconds=MAX_SONG_SECONDS, name=name)  # the one decode: a long upload is a song
    return Query(kind=kind, label=name, samples=audio.window(), digest=file_digest(data), data=data, audio=audio)


def file_query(path: str | Path) -> Query:
    """An audio file as a query, not decoded yet (:func:`genrec.serve.answer` decodes it once)."""
    return Query(kind="file", label=str(path), samples=None, digest=f"file:{path}", path=str(path))


def track_query(track_id: str) -> Query:
    """A library track as a query, answered from the run's saved embeddings."""
    return Query(kind="library", label=track_id, samples=None, digest=f"track:{track_id}", track_id=track_id)


def library_query(track: pd.Series, media: Path | None, window: float = CLIP_SECONDS) -> Query:
    """A library clip as a query; ``media`` is its file as :meth:`genrec.runs.reader.Run.media_path` vetted it.

    Its audio is decoded once (as long as ``window``, the longest analysis window of the runs asked), for
    display and Grad-CAM, only when that file is audio; with ``media`` None the clip is answered from the
    saved embeddings and shown as "audio not available".
    """
    path = str(media) if media is not None else None
    audio = None
    if media is not None and is_audio_file(media):
        audio = decode_audio(media, seconds=max(window, CLIP_SECONDS))
    return Query(
        kind="library",
        label=str(track["track_id"]),
        samples=audio.window() if audio is not None else None,
        digest=f"track:{track['track_id']}:{path}",
        track_id=str(track["track_id"]),
        true_genre=str(track["genre"]),
        split=str(track["split"]),
        path=path,
        audio=audio,
    )
