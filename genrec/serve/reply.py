"""Answer a query: the one place genrec decides whether it is a library track, one clip or a whole song.

A library track is answered from the runs' saved embeddings. Outside audio (a file, an upload, a
recording) is decoded once: a file longer than a run's analysis window by more than SONG_SLACK_SECONDS
is a song, judged window by window over its whole length (:mod:`genrec.serve.song`); anything else is
one clip, each run judging its own window cut from that one decode. ``genrec recommend`` and the app's
Compare page both call :func:`answer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from genrec.audio.decode import AudioSource, decode_audio
from genrec.config import MAX_SONG_SECONDS, TOP_K
from genrec.serve.queries import Query
from genrec.serve.recommend import Answer, Recommender, clip_answers, content_of
from genrec.serve.song import Timeline, analyse_song, file_seconds, is_longer_than_windows, song_answers, song_of
from genrec.serve.windows import windows_of
from genrec.utils.progress import ProgressFn, silent

#: The kinds of query :func:`decide` tells apart.
TRACK, CLIP, SONG = "track", "clip", "song"


@dataclass(frozen=True)
class SongAnalysis:
    """A song's window-by-window analysis: what was analysed, each run's timeline, the region answered."""

    seconds: float  # the length analysed (at most MAX_SONG_SECONDS)
    note: str  # what was analysed, in words (the cap said plainly)
    timelines: tuple[Timeline, ...]  # one per run, in the order of the runs asked
    region: tuple[float | None, float | None] = (None, None)  # (start, end) s; None: the song's edge


@dataclass(frozen=True)
class Reply:
    """The answer to one query: its kind, each run's answer (in the order asked) and, for a song, its analysis."""

    kind: str  # TRACK, CLIP or SONG
    answers: tuple[Answer, ...]
    song: SongAnalysis | None = None

    @property
    def copies(self) -> dict[str, str]:
        """By architecture, the pool track each run found the query to be an exact copy of (left out of its
        recommendations); empty when it is none."""
        return {a.arch: a.same_as for a in self.answers if a.same_as}

    def over(
        self, recommenders: Sequence[Recommender], start: float | None, end: float | None, k: int = TOP_K
    ) -> Reply:
        """A song's reply narrowed to the windows whose middle lies in [start, end] s (no audio work)."""
        if self.song is None:
            raise ValueError(f"only a song's reply can be narrowed to a region, not a {self.kind}'s")
        answers = song_answers(list(recommenders), list(self.song.timelines), start, end, k)
        return replace(self, answers=tuple(answers), song=replace(self.song, region=(start, end)))


def _source(query: Query) -> AudioSource:
    """The bytes or the file a non-library query's audio comes from."""
    if query.data is not None:
        return query.data
    if query.path is None:
        raise ValueError(f"query '{query.label}' has neither audio bytes nor a path")
    return Path(query.path)


def decide(recommenders: Sequence[Recommender], query: Query) -> tuple[str, float | None]:
    """(TRACK, CLIP or SONG; the file's length in s when known), read from the header when not decoded yet.

    A library track is a track; outside audio longer than a run's window by more than SONG_SLACK_SECONDS is
    a song; anything else (a clip, or a file whose header cannot be read: decoding then says why) is a clip.
    """
    if query.kind == "library":
        return TRACK, None
    seconds = query.audio.seconds if query.audio is not None else file_seconds(_source(query))
    if seconds is not None and is_longer_than_windows(seconds, list(recommenders)):
        return SONG, seconds
    return CLIP, seconds


def answer(
    recommenders: Sequence[Recommender],
    query: Query,
    *,
    k: int = TOP_K,
    region: tuple[float, float] | None = None,
    progress: ProgressFn = silent,
) -> Reply:
    """Each run's answer to ``query``, its audio decoded once (or not at all when the query holds it).

    ``region`` (start, end s) narrows a song's answer; ``progress`` follows a song's windows.

    Raises:
        AudioError: the query's audio cannot be used (with the fix).
        LibraryError: a library track not in a run's library.
    """
    recs = list(recommenders)
    kind, _ = decide(recs, query)
    if kind == TRACK:
        return Reply(TRACK, tuple(r.for_track(query.track_id, k) for r in recs))
    source = _source(query)
    span = MAX_SONG_SECONDS if kind == SONG else max(r.clip_seconds for r in recs)
    audio = query.audio if query.audio is not None else decode_audio(source, seconds=span, name=query.label)
    if kind == CLIP:
        windows = windows_of(audio, [r.clip_seconds for r in recs])
        return Reply(CLIP, tuple(clip_answers(recs, windows, content_of(source), k)))
    song = song_of(audio, query.label)
    timelines = analyse_song(recs, song, progress)
    start, end = region or (None, None)
    answers = song_answers(recs, timelines, start, end, k)
    return Reply(SONG, tuple(answers), SongAnalysis(song.seconds, song.note(), tuple(timelines), (start, end)))
