"""The window loop (genrec.serve.windows): one decode per query, each distinct window cut from it once."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

import genrec.serve.windows as windows
from genrec.audio.decode import load_audio


def _wav(seconds: float, rate: int = 44100) -> bytes:
    y = 0.3 * np.sin(2 * np.pi * 330.0 * np.arange(int(seconds * rate)) / rate)
    y = (y * (1 + np.linspace(0, 1, len(y)))).astype("float32")  # no two windows alike
    buf = io.BytesIO()
    sf.write(buf, y, rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def test_the_query_is_decoded_once_and_each_window_is_what_load_audio_gives(monkeypatch):
    data = _wav(47.3)
    calls = []
    real = windows.decode_audio

    def counting(source, seconds, name=None):
        calls.append((seconds, name))
        return real(source, seconds=seconds, name=name)

    monkeypatch.setattr(windows, "decode_audio", counting)
    got = windows.decode_windows(io.BytesIO(data), [30.0, 10.0, 30.0, 10.0], name="q.wav")
    assert calls == [(30.0, "q.wav")]  # as long as the longest window, once
    assert sorted(got) == [10.0, 30.0]
    for length, samples in got.items():
        np.testing.assert_array_equal(samples, load_audio(data, seconds=length, name="q.wav"))
