"""Whole-song analysis: windows, the length cap, and timelines that match answering each window on its own."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from genrec.config import SAMPLE_RATE
from genrec.errors import AudioError
from genrec.song import decode_song, window_starts
from tests.conftest import tone


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


def test_a_clip_barely_longer_than_the_window_is_one_clip_not_a_song():
    from types import SimpleNamespace

    from genrec.song import is_longer_than_windows

    runs = [SimpleNamespace(clip_seconds=30.0), SimpleNamespace(clip_seconds=30.0)]
    assert not is_longer_than_windows(30.37, runs)  # the longest clip of ../shared's GTZAN sample
    assert not is_longer_than_windows(31.0, runs)
    assert is_longer_than_windows(31.5, runs)
    assert is_longer_than_windows(8.0, [SimpleNamespace(clip_seconds=3.0)])  # a run with a 3-s window


def test_long_files_are_capped_with_a_message(monkeypatch):
    import genrec.song

    monkeypatch.setattr(genrec.song, "MAX_SONG_SECONDS", 8.0)
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
    from genrec.recommend import Recommender
    from genrec.runs import Run
    from genrec.song import analyse_song, song_answers

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
