"""Golden-audio regression test for the demo-music generator (genrec.data.synth).

The demo library is cached on disk and keyed by ``SYNTH_VERSION``: if the rendering
changed without a version bump, users would keep stale clips and trained demo runs
would no longer match a fresh build.  ``tests/synth_golden.json`` holds, for 45 clips
(every style x every pseudo-artist at 3 s, plus other seeds, lengths, a 30-s clip
and another sample rate), the SHA-256 of the float32 samples and the RMS of eight
equal frames.  The digests were computed from the single-file ``genrec/data/synth.py``
*before* it was split into the ``genrec/synth/`` subpackage, so this test is the
proof that the split left every sample bit-identical, and it stays a guard for any
later refactoring.

Bit-identity holds for one platform and numpy build (FFTs and transcendental
functions may round differently elsewhere), so the exact digests are compared when
numpy's version is the one recorded in the file; on any other build the frame RMS
values are compared instead, to 1e-4 relative.  Any change to the music itself
(another random draw, note, effect or level) changes those by far more than that.

After a deliberate change to the sound: bump ``SYNTH_VERSION`` and rewrite the file
with ``python -m tests.test_synth_golden``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from genrec.config import GENRES, SAMPLE_RATE
from genrec.data.synth import ARTISTS_PER_GENRE, synthesize_clip

GOLDEN = Path(__file__).with_name("synth_golden.json")
FRAMES = 8

#: (genre, index, seed, seconds, sample rate)
CLIPS: list[tuple[str, int, int, float, int]] = [
    (genre, index, 0, 3.0, SAMPLE_RATE) for genre in GENRES for index in range(ARTISTS_PER_GENRE)
] + [
    ("jazz", 3, 7, 4.0, SAMPLE_RATE),
    ("hiphop", 13, 2, 6.0, SAMPLE_RATE),
    ("blues", 6, 3, 5.0, SAMPLE_RATE),
    ("reggae", 2, 0, 1.5, 16000),
    ("metal", 5, 1, 30.0, SAMPLE_RATE),
]


def clip_name(clip: tuple[str, int, int, float, int]) -> str:
    genre, index, seed, seconds, sr = clip
    return f"{genre}.{index}.seed{seed}.{seconds:g}s.{sr}Hz"


def fingerprint(clip: tuple[str, int, int, float, int]) -> dict:
    """SHA-256 of the float32 samples and the RMS of ``FRAMES`` equal frames."""
    genre, index, seed, seconds, sr = clip
    audio = synthesize_clip(genre, index, seed=seed, seconds=seconds, sr=sr)
    frames = np.array_split(audio.astype(np.float64), FRAMES)
    return {
        "sha256": hashlib.sha256(audio.tobytes()).hexdigest(),
        "rms": [float(np.sqrt(np.mean(np.square(frame)))) for frame in frames],
    }


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text())


def test_golden_file_covers_every_clip(golden):
    assert sorted(golden["clips"]) == sorted(clip_name(clip) for clip in CLIPS)


@pytest.mark.parametrize("clip", CLIPS, ids=clip_name)
def test_clip_matches_the_recorded_audio(clip, golden):
    want = golden["clips"][clip_name(clip)]
    got = fingerprint(clip)
    if np.__version__ == golden["numpy"]:
        assert got["sha256"] == want["sha256"]
    else:  # another numpy build: the same music up to rounding
        np.testing.assert_allclose(got["rms"], want["rms"], rtol=1e-4)


def main() -> None:
    """Rewrite the golden file from the current generator (after a deliberate change)."""
    lines = [f"  {json.dumps(clip_name(clip))}: {json.dumps(fingerprint(clip))}" for clip in CLIPS]
    GOLDEN.write_text(f'{{"numpy": {json.dumps(np.__version__)}, "clips": {{\n' + ",\n".join(lines) + "\n}}\n")
    print(f"wrote {len(CLIPS)} clips to {GOLDEN}")


if __name__ == "__main__":
    main()
