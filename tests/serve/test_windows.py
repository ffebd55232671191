"""The window loop (genrec.serve.windows): one decode per distinct window length."""

from __future__ import annotations

import io

import numpy as np

import genrec.serve.windows as windows


def test_each_window_length_is_decoded_once_from_the_start(monkeypatch):
    calls = []

    def fake_load(source, seconds, name=None):
        calls.append((source.tell(), seconds, name))
        source.read()
        return np.zeros(int(seconds))

    monkeypatch.setattr(windows, "load_audio", fake_load)
    got = windows.decode_windows(io.BytesIO(b"abc"), [30.0, 10.0, 30.0, 10.0], name="q.wav")
    assert calls == [(0, 30.0, "q.wav"), (0, 10.0, "q.wav")]
    assert sorted(got) == [10.0, 30.0]
    assert len(got[30.0]) == 30
