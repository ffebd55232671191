"""The query's analysis windows: an upload decoded once per distinct window length of the runs."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from genrec.audio.decode import AudioSource, load_audio


def decode_windows(source: AudioSource, seconds: Iterable[float], name: str | None = None) -> dict[float, np.ndarray]:
    """Samples of ``source``'s first window of each length in ``seconds`` (as each run was trained),
    each length decoded once; a file-like ``source`` is rewound before each decode."""
    windows: dict[float, np.ndarray] = {}
    for length in seconds:
        if length not in windows:
            if hasattr(source, "seek"):
                source.seek(0)
            windows[length] = load_audio(source, seconds=length, name=name)
    return windows
