"""Embed audio files with a run's predictor: the same audio → images → model path as ``genrec recommend``.

Both engines use these functions: :func:`decode` turns one file into the run's
input images (:func:`genrec.audio.decode.load_audio` with the run's window, then
:func:`genrec.audio.spectrogram.audio_to_images` with its chunks and size), and
:func:`predict` answers a batch of decoded files with one predictor call,
averaging each file's chunks as :func:`genrec.model.predict.predict_clips` does for
an uploaded clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from genrec.audio.decode import load_audio
from genrec.audio.spectrogram import audio_to_images
from genrec.config import SAMPLE_RATE
from genrec.errors import GenrecError
from genrec.model.predict import Predictor, load_predictor, predict_clips
from genrec.runs.reader import Run


@dataclass(frozen=True)
class Analysis:
    """How a run turns audio into model input: window, chunks and image size."""

    clip_seconds: float
    chunk_seconds: float | None
    size: int

    @classmethod
    def of_run(cls, run: Run) -> Analysis:
        """The settings recorded in ``run``'s ``run.json``."""
        spec = run.spectrogram
        return cls(spec.clip_seconds, spec.chunk_seconds, spec.size)

    @property
    def image_shape(self) -> tuple[int, int, int, int]:
        """Shape of one file's images: (chunks, size, size, 3), as :func:`genrec.audio.decode.chunk_audio` cuts."""
        chunks = 1
        if self.chunk_seconds:
            chunks = int(round(self.clip_seconds * SAMPLE_RATE)) // int(round(self.chunk_seconds * SAMPLE_RATE))
        return chunks, self.size, self.size, 3


class Job(NamedTuple):
    """One distinct file content to embed."""

    path: str
    digest: str


class Result(NamedTuple):
    """A job's outcome: probabilities and unit embedding, or the reason it failed."""

    digest: str
    probabilities: np.ndarray | None
    embedding: np.ndarray | None
    error: str = ""


def decode(path: str | Path, analysis: Analysis) -> np.ndarray:
    """A file's model input images as uint8 (they hold whole values 0-255, so nothing is lost)."""
    y = load_audio(Path(path), seconds=analysis.clip_seconds)
    return audio_to_images(y, chunk_seconds=analysis.chunk_seconds, size=analysis.size).astype(np.uint8)


def decode_error(path: str | Path, analysis: Analysis) -> tuple[np.ndarray | None, str]:
    """(images, "") or (None, why the file cannot be used)."""
    try:
        return decode(path, analysis), ""
    except GenrecError as exc:
        return None, str(exc)
    except Exception as exc:  # a file that breaks a decoder in an unforeseen way is skipped, not fatal
        return None, f"{path}: could not be analysed ({type(exc).__name__}: {exc})"


def predict(predictor: Predictor, digests: list[str], images: list[np.ndarray]) -> list[Result]:
    """Results for decoded files, in one predictor call."""
    if not images:
        return []
    probs, embs = predict_clips(predictor, [np.asarray(i, dtype=np.float32) for i in images])
    return [Result(d, p, e) for d, p, e in zip(digests, probs, embs)]


def embed_jobs(predictor: Predictor, jobs: list[Job], analysis: Analysis) -> list[Result]:
    """Decode and embed a batch of files; files that cannot be used come back with their reason."""
    good, images, failed = [], [], []
    for job in jobs:
        imgs, error = decode_error(job.path, analysis)
        if imgs is None:
            failed.append(Result(job.digest, None, None, error))
        else:
            good.append(job.digest)
            images.append(imgs)
    return predict(predictor, good, images) + failed


def run_predictor(run_path: str | Path) -> Predictor:
    """The run's predictor (LiteRT where it can), for a worker process or actor."""

    return load_predictor(Run.open(run_path))
