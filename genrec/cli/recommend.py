"""``genrec recommend``: a clip's genre and the most similar tracks."""

from __future__ import annotations

from pathlib import Path

from genrec.cli._shared import positive_int
from genrec.config import TOP_K
from genrec.errors import GenrecError


def cmd_recommend(a) -> None:
    from genrec.audio import SUPPORTED_FORMATS
    from genrec.recommend import Recommender
    from genrec.runs import Run

    run = Run.open(a.run)
    catalogue = None
    if a.catalogue:
        from genrec.catalogue import open_catalogue

        catalogue = open_catalogue(run.path, a.catalogue)
        if catalogue.index_kind == "hnsw" and catalogue.index_note:
            print(f"note: {catalogue.index_note}")
    rec = Recommender(run, catalogue=catalogue)
    query = a.query
    ids = set(rec.tracks["track_id"])
    if not Path(query).exists() and query not in ids and Path(query).suffix.lower() not in SUPPORTED_FORMATS:
        raise GenrecError(
            f"'{query}' is neither an audio file nor a track id of this run's library (ids look like {sorted(ids)[0]})."
        )
    if query not in ids:
        from genrec.serving import choose_predictor

        answer = rec.for_audio(Path(query), k=a.k)
        print(f"query: {query} (outside the library; answered by the {choose_predictor(rec.run)})")
    else:
        answer = rec.for_track(query, k=a.k)
        print(f"query: library track {query} (true genre: {rec.tracks.set_index('track_id').loc[query, 'genre']})")
    print(f"run: {rec.run.id}  ({answer.arch}, weights: {answer.weights})")
    print(f"predicted genre: {answer.genre} ({answer.confidence:.1%})")
    probs = answer.probability_table().sort_values("probability", ascending=False)
    print("  " + "  ".join(f"{g} {p:.2f}" for g, p in zip(probs["genre"], probs["probability"])))
    source = f"catalogue {a.catalogue}" if a.catalogue else "the run's library"
    print(f"top {a.k} similar tracks from {source} (cosine similarity, -1..1):")
    for i, row in enumerate(answer.neighbours.itertuples(), 1):
        title = f"  {row.title}" if a.catalogue and row.title != Path(row.track_id).stem else ""
        print(f"  {i}. {row.track_id:<18} {row.genre:<10} {row.similarity:+.3f}{title}")


def register(sub) -> None:
    """Add this group's subcommands to the ``genrec`` parser."""
    s = sub.add_parser("recommend", help="predict the genre of a clip and list the most similar tracks")
    s.add_argument("run", help="run folder or run id")
    s.add_argument("query", help="an audio file, or a library track id such as blues.00003")
    s.add_argument(
        "-k", type=positive_int, default=TOP_K, help=f"how many similar tracks to list (≥ 1, default {TOP_K})"
    )
    s.add_argument(
        "--catalogue",
        help="recommend from this catalogue of the run (`genrec catalogue list`) instead of the run's library",
    )
    s.set_defaults(func=cmd_recommend)
