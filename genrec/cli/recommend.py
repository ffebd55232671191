"""``genrec recommend``: a clip's genre and the most similar tracks."""

from __future__ import annotations

from pathlib import Path

from genrec.audio.decode import SUPPORTED_FORMATS
from genrec.catalogue import open_catalogue
from genrec.cli._shared import song_seconds_number, top_k_int
from genrec.config import MAX_SONG_SECONDS, TOP_K
from genrec.errors import GenrecError
from genrec.model.predict import choose_predictor
from genrec.runs.reader import Run
from genrec.serve.recommend import Recommender
from genrec.serve.song import analyse_song, decode_song, file_seconds, is_longer_than_windows, song_answers
from genrec.utils.progress import TqdmProgress


def cmd_recommend(a) -> None:

    run = Run.open(a.run)
    catalogue = None
    if a.catalogue:
        catalogue = open_catalogue(run.path, a.catalogue)
        if catalogue.index_fallback:
            print(f"note: {catalogue.index_fallback}")
    rec = Recommender(run, catalogue=catalogue)
    query = a.query
    ids = set(rec.tracks["track_id"])
    if not Path(query).exists() and query not in ids and Path(query).suffix.lower() not in SUPPORTED_FORMATS:
        raise GenrecError(
            f"'{query}' is neither an audio file nor a track id of this run's library (ids look like {sorted(ids)[0]})."
        )
    song_seconds = _song_seconds(rec, query) if query not in ids else None
    if a.region:
        _check_region(a.region, query, song_seconds, rec.clip_seconds)
    what = "predicted genre"
    pool = f"catalogue {a.catalogue}" if a.catalogue else "library"
    if query not in ids:
        answered = f"answered by the {choose_predictor(rec.run)}"
        if song_seconds is None:
            answer = rec.for_audio(Path(query), k=a.k)
            where = f"an exact copy of {pool} track {answer.same_as}" if answer.same_as else "outside the library"
            print(f"query: {query} ({where}; {answered})")
        else:
            print(f"query: {query} (outside the library; {answered})")
            answer, what = _song_answer(rec, Path(query), a.region, a.k)
    else:
        answer = rec.for_track(query, k=a.k)
        print(f"query: library track {query} (true genre: {rec.tracks.set_index('track_id').loc[query, 'genre']})")
        if answer.same_as:
            print(f"  its file is also {pool} track {answer.same_as}, left out of the recommendations")
    print(f"run: {rec.run.id}  ({answer.arch}, weights: {answer.weights})")
    print(f"{what}: {answer.genre} ({answer.confidence:.1%})")
    probs = answer.probability_table().sort_values("probability", ascending=False)
    print("  " + "  ".join(f"{g} {p:.2f}" for g, p in zip(probs["genre"], probs["probability"])))
    source = f"catalogue {a.catalogue}" if a.catalogue else "the run's library"
    print(f"top {a.k} similar tracks from {source} (cosine similarity, -1..1):")
    for i, row in enumerate(answer.neighbours.itertuples(), 1):
        title = f"  {row.title}" if a.catalogue and row.title != Path(row.track_id).stem else ""
        print(f"  {i}. {row.track_id:<18} {row.genre:<10} {row.similarity:+.3f}{title}")


def _song_seconds(rec, query: str) -> float | None:
    """The file's length when it is longer than the run's window (then the whole song is analysed), else None."""

    path = Path(query)
    seconds = file_seconds(path) if path.is_file() else None
    return seconds if seconds is not None and is_longer_than_windows(seconds, [rec]) else None


def _check_region(region: list[float], query: str, song_seconds: float | None, window: float) -> None:
    """Refuse a --region that cannot narrow this query, before any audio is decoded."""

    start, end = region
    if song_seconds is None:
        raise GenrecError(
            f"--region narrows a whole song, but '{query}' is not a file longer than the run's {window:g}-s "
            f"window, so it is answered as one clip. Drop --region."
        )
    if not start < end:
        raise GenrecError(f"--region {start:g} {end:g}: the start must come before the end (in seconds).")
    analysed = min(song_seconds, MAX_SONG_SECONDS)
    if start >= analysed:
        raise GenrecError(
            f"--region {start:g} {end:g} starts after the analysed song, which is {analysed:.0f} s long. "
            f"Choose a start below {analysed:.0f}."
        )


def _song_answer(rec, path: Path, region: list[float] | None, k: int):
    """A whole song, window by window (as the app's Compare page does): the timeline is printed, and the
    answer is the mean over the song or over ``region``; returns (answer, what the prediction is)."""

    start, end = region or (None, None)
    song = decode_song(path)
    (timeline,) = analyse_song([rec], song, TqdmProgress())
    print(song.note())
    print(f"{len(timeline.starts)} windows of {timeline.window:g} s, each judged on its own:")
    for begin, probs in zip(timeline.starts, timeline.probabilities):
        best = int(probs.argmax())
        print(f"  {_clock(begin)}–{_clock(begin + timeline.window)}  {timeline.genres[best]:<10} {probs[best]:.2f}")
    used = int(timeline.in_region(start, end).sum())
    (answer,) = song_answers([rec], [timeline], start, end, k)
    where = f"windows in {start:g}–{end:g} s" if region else "windows"
    return answer, f"song-level genre (mean of {used} {where})"


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def register(sub) -> None:
    """Add this group's subcommands to the ``genrec`` parser."""
    s = sub.add_parser("recommend", help="predict the genre of a clip and list the most similar tracks")
    s.add_argument("run", help="run folder or run id")
    s.add_argument("query", help="an audio file, or a library track id such as blues.00003")
    s.add_argument("-k", type=top_k_int, default=TOP_K, help=f"how many similar tracks to list (default {TOP_K})")
    s.add_argument(
        "--catalogue",
        help="recommend from this catalogue of the run (`genrec catalogue list`) instead of the run's library",
    )
    s.add_argument(
        "--region",
        nargs=2,
        type=song_seconds_number,
        metavar=("START", "END"),
        help="for a file longer than the run's window (a song, analysed window by window): base the prediction "
        "and recommendations on the windows whose middle lies between START and END seconds",
    )
    s.set_defaults(func=cmd_recommend)
