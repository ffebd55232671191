"""genrec.serve.answer: the one track / clip / song decision, and an upload decoded once per query."""

from __future__ import annotations

import io
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

import genrec.serve.queries as queries
from genrec.config import SAMPLE_RATE
from genrec.serve import CLIP, SONG, TRACK, answer, decide
from tests.helpers.audio import tone

reply_module = sys.modules["genrec.serve.reply"]
#: Two runs judging 30-s windows and one judging 10-s windows, as decide() sees them.
THIRTY = [SimpleNamespace(clip_seconds=30.0), SimpleNamespace(clip_seconds=30.0)]


def wav(seconds: float, rate: int = SAMPLE_RATE) -> bytes:
    buf = io.BytesIO()
    y = tone(seconds, 330.0) if rate == SAMPLE_RATE else 0.3 * np.sin(np.arange(int(seconds * rate)) / 7.0)
    sf.write(buf, y, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("seconds", "runs", "kind"),
    [
        (4.0, THIRTY, CLIP),
        (30.0, THIRTY, CLIP),
        (31.0, THIRTY, CLIP),  # within SONG_SLACK_SECONDS of the window: one clip, not two like windows
        (31.5, THIRTY, SONG),
        (12.0, [SimpleNamespace(clip_seconds=30.0), SimpleNamespace(clip_seconds=10.0)], SONG),  # any run's
        (11.0, [SimpleNamespace(clip_seconds=10.0)], CLIP),
    ],
)
def test_upload_and_file_are_a_clip_or_a_song_by_their_length(tmp_path, seconds, runs, kind):
    data = wav(seconds)
    uploaded = queries.read_upload(data, "q.wav")
    assert decide(runs, uploaded) == (kind, pytest.approx(seconds, abs=1e-3))
    path = tmp_path / "q.wav"
    path.write_bytes(data)
    assert decide(runs, queries.file_query(path)) == (kind, pytest.approx(seconds, abs=1e-3))  # from the header


def test_a_library_track_is_a_track_and_an_unreadable_file_a_clip(tmp_path):
    assert decide(THIRTY, queries.track_query("blues.00003")) == (TRACK, None)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio" * 100)
    assert decide(THIRTY, queries.file_query(junk)) == (CLIP, None)  # decoding then says what is wrong
    assert decide(THIRTY, queries.file_query(tmp_path / "missing.wav")) == (CLIP, None)


def _count_decodes(monkeypatch) -> list[str]:
    """Count every decode of audio the query path can make (the upload's, the answer's, load_audio's)."""
    import genrec.audio.decode as decode

    calls: list[str] = []
    real = decode.decode_audio

    def counting(source, *, seconds=30.0, name=None):
        calls.append(name)
        return real(source, seconds=seconds, name=name)

    for module in (
        decode,
        queries,
        reply_module,
        sys.modules["genrec.serve.windows"],
        sys.modules["genrec.serve.song"],
    ):
        monkeypatch.setattr(module, "decode_audio", counting)
    return calls


@pytest.mark.slow
@pytest.mark.parametrize(("seconds", "kind"), [(6.0, CLIP), (70.0, SONG)])
def test_an_upload_is_decoded_once_per_query(tiny_runs, monkeypatch, seconds, kind):
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender, compare
    from genrec.serve.song import analyse_song, decode_song, song_answers

    recs = [Recommender(Run.open(tiny_runs[a])) for a in ("vgg16", "resnet50")]
    data = wav(seconds, rate=44100)  # resampled: the windows must still be exactly what training cuts
    calls = _count_decodes(monkeypatch)
    query = queries.read_upload(data, "song.wav")
    reply = answer(recs, query, k=5, region=(0.0, 40.0) if kind == SONG else None)
    assert calls == ["song.wav"] and reply.kind == kind and len(reply.answers) == 2
    monkeypatch.undo()
    # the same answers as decoding each run's window (or the whole song) on its own
    if kind == CLIP:
        expected, _ = compare(recs, source=data, name="song.wav", k=5)
        assert reply.song is None
    else:
        timelines = analyse_song(recs, decode_song(data, name="song.wav"))
        expected = song_answers(recs, timelines, 0.0, 40.0, k=5)
        assert reply.song.region == (0.0, 40.0) and "the whole 70 s are analysed" in reply.song.note
        whole = reply.over(recs, None, None, k=5)
        for got, timeline in zip(whole.answers, timelines):
            np.testing.assert_allclose(got.probabilities, timeline.probabilities.mean(axis=0), atol=1e-6)
    for got, want in zip(reply.answers, expected):
        np.testing.assert_allclose(got.probabilities, want.probabilities, atol=1e-6)
        assert list(got.neighbours["track_id"]) == list(want.neighbours["track_id"])


@pytest.mark.slow
def test_a_file_is_decoded_once_and_a_copy_of_a_library_track_is_named(tiny_runs, monkeypatch):
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender

    run = Run.open(tiny_runs["vgg16"])
    recs = [Recommender(run)]
    track = run.tracks.iloc[3]
    calls = _count_decodes(monkeypatch)
    reply = answer(recs, queries.file_query(track["path"]), k=5)
    assert len(calls) == 1 and reply.kind == CLIP
    assert reply.copies == {"vgg16": track["track_id"]}
    assert track["track_id"] not in set(reply.answers[0].neighbours["track_id"])
    library = answer(recs, queries.track_query(track["track_id"]), k=5)
    assert library.kind == TRACK and len(calls) == 1  # a library track is answered from saved embeddings
    with pytest.raises(ValueError, match="only a song's reply"):
        library.over(recs, 0.0, 10.0)
