"""Shared fixtures: an isolated genrec home, generated audio, tiny libraries and trained runs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genrec.config import GENRES, SAMPLE_RATE

SHARED = Path(__file__).resolve().parents[2] / "shared"
GTZAN_SAMPLE = SHARED / "data" / "gtzan-sample"
SPLITS = SHARED / "data" / "splits"


def tone(
    seconds: float = 5.0, freq: float = 440.0, sr: int = SAMPLE_RATE, seed: int = 0, noise: float = 0.05
) -> np.ndarray:
    """A decaying-note pattern with a little noise: music-like enough for every stage."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    beat = np.exp(-6 * (t % 0.5))
    y = 0.4 * np.sin(2 * np.pi * freq * t) * beat + noise * rng.standard_normal(len(t))
    return y.astype(np.float32)


def write_audio(path: Path, y: np.ndarray, sr: int = SAMPLE_RATE, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sr, **kw)
    return path


@pytest.fixture(autouse=True)
def genrec_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test writes caches and runs into a temporary home, never into the project."""
    home = tmp_path_factory.getbasetemp() / "genrec-home"
    monkeypatch.setenv("GENREC_HOME", str(home / "data"))
    monkeypatch.setenv("GENREC_RUNS", str(home / "models"))
    return home


@pytest.fixture(autouse=True)
def float_predictor(monkeypatch) -> None:
    """Uploads are answered by the float predictor, whose outputs equal Keras' (tests of exact answers rely on
    it); tests/test_quantize.py sets GENREC_PREDICTOR itself to test the 8-bit predictor and the auto choice."""
    monkeypatch.setenv("GENREC_PREDICTOR", "float")


@pytest.fixture
def without_faiss(monkeypatch) -> None:
    """`import faiss` fails, as where the `ann` extra (approximate catalogue search) is not installed."""
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "faiss" or name.startswith("faiss."):
            raise ImportError("No module named 'faiss'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def make_gtzan_folder(
    root: Path, per_genre: int = 5, seconds: float = 4.0, ext: str = "wav", genres: tuple[str, ...] = GENRES
) -> Path:
    """A GTZAN-like folder <root>/<genre>/<genre>.000NN.<ext> whose genres differ audibly (pitch, noise)."""
    for gi, genre in enumerate(genres):
        for n in range(per_genre):
            y = tone(seconds, freq=110.0 * (1 + gi), seed=gi * 100 + n, noise=0.02 + 0.03 * (gi % 3))
            write_audio(root / genre / f"{genre}.{n:05d}.{ext}", y, subtype="PCM_16" if ext != "au" else None)
    return root


@pytest.fixture(scope="session")
def tiny_library_dir(tmp_path_factory) -> Path:
    """A 10-genre, 5-clips-per-genre GTZAN-layout folder of generated 4-s clips."""
    return make_gtzan_folder(tmp_path_factory.mktemp("tiny-gtzan") / "genres")


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory, tiny_library_dir) -> dict[str, Path]:
    """One tiny trained run per architecture (32-px images, 2 epochs), shared by the tests that only read runs."""
    from genrec.library import load_gtzan
    from genrec.train import TrainConfig, train

    home = tmp_path_factory.mktemp("tiny-runs-home")
    old = {k: os.environ.get(k) for k in ("GENREC_HOME", "GENREC_RUNS")}
    os.environ["GENREC_HOME"] = str(home / "data")
    try:
        lib = load_gtzan(tiny_library_dir)
        out = home / "models"
        runs = {
            arch: train(
                TrainConfig(
                    arch=arch,
                    library=str(tiny_library_dir),
                    epochs=2,
                    input_size=32,
                    batch_size=16,
                    weights="none",
                    out=str(out),
                ),
                library=lib,
            )
            for arch in ("vgg16", "resnet50")
        }
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return runs


@pytest.fixture
def gtzan_sample() -> Path:
    """The 60 real GTZAN clips in ../shared; skipped with a reason where ../shared is absent."""
    if not GTZAN_SAMPLE.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{GTZAN_SAMPLE} is missing in CI, where ../shared must be present")
        pytest.skip(f"{GTZAN_SAMPLE} not present (it is provided beside the project in CI, not in a user's clone)")
    return GTZAN_SAMPLE
