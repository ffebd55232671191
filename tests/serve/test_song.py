"""Whole-song analysis: windows, the length cap, and timelines that match answering each window on its own."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from genrec.config import SAMPLE_RATE
from genrec.errors import AudioError
from genrec.serve.song import decode_song, window_starts
from tests.helpers.audio import tone


def wav(y: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def test_windows_cover_the_whole_song():
    np.testing.assert_allclose(window_starts(120.0, 30.0), [0, 30, 60, 90])
    # a remainder shorter than a window gets a last window ending at the song's end
    np.testing.assert_allclose(window_starts(100.0, 30.0), [0, 30, 60, 70])
    np.testing.assert_allclose(window_starts(20.0, 30.0), [0])
    np.testing.assert_allclose(window_starts(9.0, 3.0), [0, 3, 6])
    # ... but a rest under SONG_SLACK_SECONDS is not worth a window repeating the one before
    np.testing.assert_allclose(window_starts(4 * 30.0113, 30.0), [0, 30, 60, 90])  # four GTZAN clips in a row
    np.testing.assert_allclose(window_starts(121.5, 30.0), [0, 30, 60, 90, 91.5])


def test_a_clip_barely_longer_than_the_window_is_one_clip_not_a_song():
    from types import SimpleNamespace

    from genrec.serve.song import is_longer_than_windows

    runs = [SimpleNamespace(clip_seconds=30.0), SimpleNamespace(clip_seconds=30.0)]
    assert not is_longer_than_windows(30.37, runs)  # the longest clip of ../shared's GTZAN sample
    assert not is_longer_than_windows(31.0, runs)
    assert is_longer_than_windows(31.5, runs)
    assert is_longer_than_windows(8.0, [SimpleNamespace(clip_seconds=3.0)])  # a run with a 3-s window


def test_long_files_are_capped_with_a_message(monkeypatch):
    import genrec.serve.song

    monkeypatch.setattr(genrec.serve.song, "MAX_SONG_SECONDS", 8.0)
    song = decode_song(wav(tone(20.0)), name="long.wav")
    assert song.capped and song.file_seconds == pytest.approx(20.0)
    assert song.seconds == pytest.approx(8.0)
    assert "long.wav is 0.3 minutes long; only its middle" in song.note()
    short = decode_song(wav(tone(6.0)), name="short.wav")
    assert not short.capped and short.seconds == pytest.approx(6.0) and "whole 6 s" in short.note()
    with pytest.raises(AudioError, match=r"bad\.wav: not a WAV file"):
        decode_song(b"RIFF not audio" * 40, name="bad.wav")


@pytest.mark.slow
def test_timeline_matches_each_window_answered_alone(tiny_runs):
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender
    from genrec.serve.song import analyse_song, song_answers

    recs = [Recommender(Run.open(tiny_runs[a])) for a in ("vgg16", "resnet50")]
    y = np.concatenate([tone(50.0, 220.0), tone(50.0, 880.0, seed=1)])  # 100 s: windows 0, 30, 60, 70
    song = decode_song(wav(y), name="song.wav")
    seen = []
    timelines = analyse_song(recs, song, progress=lambda stage, done, total: seen.append((done, total)))
    assert seen[-1] == (4, 4)  # both runs share their windows: each image is built once
    for rec, timeline in zip(recs, timelines):
        np.testing.assert_allclose(timeline.starts, [0, 30, 60, 70])
        for i, start in enumerate(timeline.starts):
            alone = rec.for_audio(wav(song.samples[int(start * SAMPLE_RATE) : int((start + 30) * SAMPLE_RATE)]))
            np.testing.assert_allclose(timeline.probabilities[i], alone.probabilities, atol=1e-5)
            np.testing.assert_allclose(timeline.embeddings[i], alone.embedding, atol=1e-5)
        frame = timeline.frame()
        assert len(frame) == 4 * len(rec.run.genres) and set(frame["middle"]) == {15, 45, 75, 85}
    answers = song_answers(recs, timelines, k=5)
    for answer, timeline in zip(answers, timelines):
        np.testing.assert_allclose(answer.probabilities, timeline.probabilities.mean(axis=0))
        assert len(answer.neighbours) == 5
    # a region keeps the windows whose middle lies in it
    late = song_answers(recs, timelines, start=60.0, end=100.0, k=5)
    for answer, timeline in zip(late, timelines):
        np.testing.assert_allclose(answer.probabilities, timeline.probabilities[2:].mean(axis=0))


def test_cli_recommend_analyses_a_whole_song_and_narrows_it(tiny_runs, tmp_path, capsys):
    """`genrec recommend` on a file longer than the window prints the timeline and answers with the mean
    of the windows (or of a region's), as the Compare page does; a --region it cannot use is refused."""
    from genrec.cli import main
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender
    from genrec.serve.song import analyse_song, song_answers

    run = str(tiny_runs["resnet50"])
    song_file = tmp_path / "song.wav"
    song_file.write_bytes(wav(np.concatenate([tone(50.0, 220.0), tone(50.0, 880.0, seed=1)])))  # 100 s
    rec = Recommender(Run.open(run))
    (timeline,) = analyse_song([rec], decode_song(song_file))
    whole, late = song_answers([rec], [timeline], k=5)[0], song_answers([rec], [timeline], 60.0, 100.0, k=5)[0]

    assert main(["recommend", run, str(song_file)]) == 0
    out = capsys.readouterr().out
    assert "whole 100 s are analysed" in out and "4 windows of 30 s" in out
    assert [line.split()[0] for line in out.splitlines() if line.startswith("  ") and "–" in line] == [
        "0:00–0:30",
        "0:30–1:00",
        "1:00–1:30",
        "1:10–1:40",
    ]
    assert f"song-level genre (mean of 4 windows): {whole.genre} ({whole.confidence:.1%})" in out
    assert out.split("similar tracks")[1].splitlines()[1].split()[1] == whole.neighbours["track_id"].iloc[0]

    assert main(["recommend", run, str(song_file), "--region", "60", "100"]) == 0
    out = capsys.readouterr().out
    assert f"(mean of 2 windows in 60–100 s): {late.genre} ({late.confidence:.1%})" in out

    clip = Run.open(run).tracks["path"][0]
    for args, message in [
        ([str(song_file), "--region", "80", "20"], "the start must come before the end"),
        ([str(song_file), "--region", "150", "160"], "starts after the analysed song, which is 100 s long"),
        ([clip, "--region", "0", "10"], "is answered as one clip. Drop --region"),
    ]:
        assert main(["recommend", run, *args]) == 2
        assert message in capsys.readouterr().err
    assert main(["recommend", run, str(song_file), "--region", "-1", "10"]) == 2
    assert "argument --region: -1 is outside 0..600 s" in capsys.readouterr().err
