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
from genrec.serve.queries import Query, file_query, track_query
from genrec.serve.recommend import Recommender
from genrec.serve.reply import CLIP, SONG, TRACK, Reply, SongAnalysis, answer, decide
from genrec.utils.progress import TqdmProgress


def cmd_recommend(a) -> None:

    run = Run.open(a.run)
    catalogue = None
    if a.catalogue:
        catalogue = open_catalogue(run.path, a.catalogue)
        if catalogue.index_fallback:
            print(f"note: {catalogue.index_fallback}")
    rec = Recommender(run, catalogue=catalogue)
    query = _query(a.query, set(rec.tracks["track_id"]))
    kind, seconds = decide([rec], query)
    if a.region:
        _check_region(a.region, query.label, seconds if kind == SONG else None, rec.clip_seconds)
    pool = f"catalogue {a.catalogue}" if a.catalogue else "library"
    if kind == TRACK:
        (answer,) = reply_to(rec, query, a).answers
        true_genre = rec.tracks.set_index("track_id").loc[query.track_id, "genre"]
        print(f"query: library track {query.track_id} (true genre: {true_genre})")
        if answer.same_as:
            print(f"  its file is also {pool} track {answer.same_as}, left out of the recommendations")
        what = "predicted genre"
    else:
        answered = f"answered by the {choose_predictor(rec.run)}"
        if kind == SONG:
            print(f"query: {query.label} (outside the library; {answered})")
        reply = reply_to(rec, query, a)
        (answer,) = reply.answers
        if kind == CLIP:
            where = f"an exact copy of {pool} track {answer.same_as}" if answer.same_as else "outside the library"
            print(f"query: {query.label} ({where}; {answered})")
            what = "predicted genre"
        else:
            what = _print_song(reply.song, a.region)
    print(f"run: {rec.run.id}  ({answer.arch}, weights: {answer.weights})")
    print(f"{what}: {answer.genre} ({answer.confidence:.1%})")
    probs = answer.probability_table().sort_values("probability", ascending=False)
    print("  " + "  ".join(f"{g} {p:.2f}" for g, p in zip(probs["genre"], probs["probability"])))
    source = f"catalogue {a.catalogue}" if a.catalogue else "the run's library"
    print(f"top {a.k} similar tracks from {source} (cosine similarity, -1..1):")
    for i, row in enumerate(answer.neighbours.itertuples(), 1):
        title = f"  {row.title}" if a.catalogue and row.title != Path(row.track_id).stem else ""
        print(f"  {i}. {row.track_id:<18} {row.genre:<10} {row.similarity:+.3f}{title}")


def _query(text: str, ids: set[str]) -> Query:
    """The command line's query: a track id of the run's library, else an audio file."""
    if text in ids:
        return track_query(text)
    if not Path(text).exists() and Path(text).suffix.lower() not in SUPPORTED_FORMATS:
        raise GenrecError(
            f"'{text}' is neither an audio file nor a track id of this run's library (ids look like {sorted(ids)[0]})."
        )
    return file_query(text)


def reply_to(rec: Recommender, query: Query, a) -> Reply:
    """The run's reply to the query (the one path the app's Compare page takes too)."""
    return answer([rec], query, k=a.k, region=tuple(a.region) if a.region else None, progress=TqdmProgress())


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


def _print_song(song: SongAnalysis, region: list[float] | None) -> str:
    """Print a song's note and timeline (as the app's Compare page draws it); returns what the prediction is."""
    (timeline,) = song.timelines
    start, end = song.region
    print(song.note)
    print(f"{len(timeline.starts)} windows of {timeline.window:g} s, each judged on its own:")
    for begin, probs in zip(timeline.starts, timeline.probabilities):
        best = int(probs.argmax())
        print(f"  {_clock(begin)}–{_clock(begin + timeline.window)}  {timeline.genres[best]:<10} {probs[best]:.2f}")
    used = int(timeline.in_region(start, end).sum())
    where = f"windows in {start:g}–{end:g} s" if region else "windows"
    return f"song-level genre (mean of {used} {where})"


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
