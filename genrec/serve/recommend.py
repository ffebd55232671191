"""Predict a clip's genre and find the most similar library clips, for one run or two side by side.

A library track is answered from the embeddings saved with the run; any other
audio goes through exactly the path training used (decode → spectrogram image
→ model), so an uploaded copy of a library track gets that track's embedding.
No query recommends itself: a library pick is left out of its own answer, and so
is the track an upload (or a library pick answered from a catalogue) is an exact
copy of, recognised by the SHA-256 of its bytes and named in the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

import genrec.audio.cache as cache
import genrec.utils.fileio as fileio
from genrec.audio.decode import AudioSource
from genrec.audio.spectrogram import audio_to_images
from genrec.config import TOP_K
from genrec.errors import LibraryError
from genrec.model.predict import PREDICTOR_FILE, LitePredictor, Predictor, load_predictor, predict_clips
from genrec.runs.reader import Run
from genrec.search.index import ExactIndex, VectorIndex
from genrec.serve.windows import decode_windows

DEFAULT_K = TOP_K


@dataclass
class Answer:
    """One run's answer for one query clip."""

    run_id: str
    arch: str
    weights: str
    genres: list[str]
    probabilities: np.ndarray
    embedding: np.ndarray
    neighbours: pd.DataFrame  # track_id, genre, similarity, artist, path, audio_available
    #: The track of the answering pool (library, or catalogue) the query is an exact copy of, left out of
    #: ``neighbours``; None when it is none of them (or, for a library pick, when it is only itself).
    same_as: str | None = None

    @property
    def genre(self) -> str:
        return self.genres[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    def probability_table(self) -> pd.DataFrame:
        return pd.DataFrame({"genre": self.genres, "probability": self.probabilities.astype(float)})


class Recommender:
    """Genre prediction and top-k similar tracks from one saved run."""

    def __init__(self, run: Run, index: VectorIndex | None = None, catalogue=None) -> None:
        """Queries are library tracks or outside audio; answers come from the run's library or,
        given a :class:`genrec.catalogue.Catalogue` built for this run, from that catalogue."""
        self.run = run
        self.tracks = run.tracks.reset_index(drop=True)
        self._row = {t: i for i, t in enumerate(self.tracks["track_id"])}
        self.embeddings = run.embeddings
        self.probabilities = run.probabilities
        self.catalogue = catalogue
        if catalogue is not None:
            self.index = catalogue.index
        else:
            self.index = (
                index if index is not None else ExactIndex.build(self.tracks["track_id"].tolist(), self.embeddings)
            )
        spec = run.spectrogram
        self.chunk_seconds = spec.chunk_seconds
        self.clip_seconds = spec.clip_seconds
        self.input_size = spec.size

    @cached_property
    def _predictor(self) -> Predictor:
        """Image → (probabilities, embedding), LiteRT or Keras; loaded on first use of an outside clip."""
        return load_predictor(self.run)

    @cached_property
    def explainer(self) -> Predictor:
        """A predictor with ``explain_outputs`` (Grad-CAM): the answering one, unless that is an 8-bit file made
        without the feature-map output. A second interpreter of the same file held its weights and activations
        twice (0.13 GB for the two 224-px demo runs)."""
        predictor = self._predictor
        if (
            isinstance(predictor, LitePredictor)
            and predictor.path != self.run.path / PREDICTOR_FILE
            and not predictor.has_feature_map()
        ):
            return load_predictor(self.run, explain=True)
        return predictor

    @property
    def predictor(self) -> Predictor:
        """The run's predictor (loaded on first use)."""
        return self._predictor

    def answer(self, probs: np.ndarray, embedding: np.ndarray, k: int = DEFAULT_K) -> Answer:
        """The answer for given clip-level probabilities and L2-normalised embedding (e.g. a song's mean)."""
        return self._answer(probs, embedding, k)

    def warm_up(self) -> None:
        """Load the model and trace its forward pass once, so the first real query is fast."""
        self._predictor(np.zeros((1, self.input_size, self.input_size, 3), np.float32))

    def _answer(
        self,
        probs: np.ndarray,
        embedding: np.ndarray,
        k: int,
        exclude: tuple[str, ...] = (),
        same_as: str | None = None,
    ) -> Answer:
        exclude = (*exclude, same_as) if same_as is not None else exclude
        hits = self.index.query(embedding, k=k, exclude=exclude)
        rows = self._pool_rows([h[0] for h in hits])
        rows.insert(2, "similarity", [h[1] for h in hits])
        rows["audio_available"] = [bool(p) for p in rows["path"]]
        cols = ["track_id", "genre", "similarity", "artist", "split", "path", "audio_available"]
        cols += ["title"] if "title" in rows else []
        return Answer(
            self.run.id, self.run.arch, self.run.weights_label, self.run.genres, probs, embedding, rows[cols], same_as
        )

    def _pool_rows(self, track_ids: list[str]) -> pd.DataFrame:
        """The answering pool's (library's or catalogue's) rows of these tracks, in order, ``path`` empty
        where the file may not be played: only files passing the media rule reach the page."""
        if self.catalogue is not None:
            return self.catalogue.named(track_ids)  # each file checked now, not the catalogue's every one
        rows = self.tracks.set_index("track_id").loc[track_ids].reset_index()
        vetted = self.run.media_paths(rows["path"])
        rows["path"] = [str(p) if p is not None else "" for p in vetted]
        return rows

    def same_content(self, digest: str, size: int) -> str | None:
        """The track of the answering pool whose file is exactly this content (SHA-256 ``digest`` of ``size``
        bytes), else None. Equal bytes only: a model's similarity of ≈ 1 is never taken for a copy."""
        if self.catalogue is not None:
            return self.catalogue.track_with_digest(digest)
        return self.run.track_with_content(digest, size)

    def for_track(self, track_id: str, k: int = DEFAULT_K) -> Answer:
        """Answer for a library track; it never recommends itself, nor a catalogue's copy of its file."""
        if track_id not in self._row:
            raise LibraryError(f"track '{track_id}' is not in the library of run {self.run.id}.")
        i = self._row[track_id]
        same_as = None
        if self.catalogue is not None:
            digest = self.run.track_digest(track_id)
            same_as = self.catalogue.track_with_digest(digest) if digest else None
        return self._answer(self.probabilities[i], self.embeddings[i], k, exclude=(track_id,), same_as=same_as)

    def for_images(self, images: np.ndarray, k: int = DEFAULT_K, same_as: str | None = None) -> Answer:
        """Answer for precomputed model input images of one clip (chunks averaged); ``same_as`` is the pool
        track the clip is an exact copy of (:meth:`same_content`), left out of the answer."""
        probs, embedding = predict_clips(self._predictor, [images])
        return self._answer(probs[0], embedding[0], k, same_as=same_as)

    def for_audio(self, source: AudioSource, k: int = DEFAULT_K, name: str | None = None) -> Answer:
        """Answer for an audio file, bytes or file-like object; an exact copy of a pool track is named in
        the answer (``same_as``) and left out of its recommendations."""
        answers, _ = compare([self], source=source, name=name, k=k)
        return answers[0]


def shared_count(a: Answer, b: Answer) -> int:
    """How many recommended tracks two answers have in common."""
    return len(set(a.neighbours["track_id"]) & set(b.neighbours["track_id"]))


def compare(
    recommenders: list[Recommender],
    *,
    track_id: str | None = None,
    source: AudioSource | None = None,
    name: str | None = None,
    k: int = DEFAULT_K,
) -> tuple[list[Answer], int]:
    """Answers of several runs for one query, and how many top-k tracks the first two share.

    ``source`` is decoded once, each run's analysis window (as it was trained) cut from it, and turned
    into images once per distinct input configuration. When its bytes are exactly a file of a run's
    answering pool, that run's answer names the track (``same_as``) and leaves it out.
    """
    if (track_id is None) == (source is None):
        raise ValueError("give exactly one of track_id or source")
    if track_id is not None:
        answers = [r.for_track(track_id, k) for r in recommenders]
    else:
        windows = decode_windows(source, [r.clip_seconds for r in recommenders], name)
        answers = clip_answers(recommenders, windows, content_of(source), k)
    shared = shared_count(answers[0], answers[1]) if len(answers) >= 2 else len(answers[0].neighbours)
    return answers, shared


def clip_answers(
    recommenders: list[Recommender], windows: dict[float, np.ndarray], content: tuple[str, int] | None, k: int
) -> list[Answer]:
    """Each run's answer for one clip, from its analysis window in ``windows`` (by length); ``content`` is the
    clip's (SHA-256, size) that names an exact copy of a pool track (None: unknown)."""
    images: dict[tuple, np.ndarray] = {}
    answers = []
    for r in recommenders:
        key = (r.clip_seconds, r.chunk_seconds, r.input_size)
        if key not in images:
            images[key] = audio_to_images(windows[r.clip_seconds], chunk_seconds=r.chunk_seconds, size=r.input_size)
        same_as = r.same_content(*content) if content is not None else None
        answers.append(r.for_images(images[key], k, same_as=same_as))
    return answers


def content_of(source: AudioSource) -> tuple[str, int] | None:
    """SHA-256 and size of a query's bytes, as runs and catalogues record their files'; None when unreadable
    (decoding then says what is wrong with it)."""
    try:
        if isinstance(source, (str, Path)):
            path = Path(source)
            return (cache.file_digest(path), path.stat().st_size) if path.is_file() else None
        if isinstance(source, bytes):
            data = source
        elif not source.seekable():  # reading it here would leave nothing to decode
            return None
        else:
            source.seek(0)
            data = source.read()
            source.seek(0)
        return fileio.file_digest(data), len(data)
    except (OSError, ValueError):  # a file that cannot be read, or a closed file-like object
        return None
