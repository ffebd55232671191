"""Stage 3, embedding → recommendations: answer a query (an upload, a library track, a whole song) with a
genre and the most similar tracks, and explain where the model looked."""

from genrec.serve.explain import Explanation
from genrec.serve.queries import Query, read_upload
from genrec.serve.recommend import Answer, Recommender, compare
from genrec.serve.reply import CLIP, SONG, TRACK, Reply, SongAnalysis, answer, decide
from genrec.serve.song import Song, analyse_song

__all__ = [
    "CLIP",
    "SONG",
    "TRACK",
    "Answer",
    "Explanation",
    "Query",
    "Recommender",
    "Reply",
    "Song",
    "SongAnalysis",
    "analyse_song",
    "answer",
    "compare",
    "decide",
    "read_upload",
]
