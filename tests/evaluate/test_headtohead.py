"""Head-to-head statistics on constructed pairs of runs whose answer is known, hubness, and `genrec compare`."""

from __future__ import annotations

import subprocess
import sys
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genrec.config import GENRES
from genrec.errors import RunError
from genrec.evaluate.headtohead import compare_predictions
from genrec.evaluate.hubness import hubness_report, k_occurrence

ROOT = Path(__file__).resolve().parents[2]


def _pair(n: int, only_a: int, only_b: int, both_wrong: int = 0):
    """Test clips and two runs' predictions with the given discordant counts; everything else both get right."""
    genres = list(GENRES)
    truth = np.arange(n) % len(genres)
    clips = pd.DataFrame(
        {
            "track_id": [f"c{i:03d}" for i in range(n)],
            "genre": [genres[t] for t in truth],
            "path": [f"/music/c{i:03d}.wav" for i in range(n)],
        }
    )
    wrong = (truth + 1) % len(genres)
    a, b = truth.copy(), truth.copy()
    b[:only_a] = wrong[:only_a]  # A right, B wrong
    a[only_a : only_a + only_b] = wrong[only_a : only_a + only_b]  # B right, A wrong
    end = only_a + only_b + both_wrong
    a[only_a + only_b : end] = wrong[only_a + only_b : end]
    b[only_a + only_b : end] = (truth[only_a + only_b : end] + 2) % len(genres)  # both wrong, differently
    return clips, a, b, genres


def _exact_mcnemar(x: int, y: int) -> float:
    """Two-sided exact McNemar p-value from the binomial distribution, written out."""
    n = x + y
    tail = sum(comb(n, i) for i in range(min(x, y) + 1)) / 2**n
    return min(1.0, 2 * tail)


def test_a_clearly_better_run_is_told_apart():
    clips, a, b, genres = _pair(40, only_a=12, only_b=0)
    h = compare_predictions(clips, a, b, genres, "VGG16", "ResNet50")
    assert (h.accuracy_a, h.accuracy_b) == (1.0, 0.7)
    assert (h.only_a, h.only_b) == (12, 0)
    assert h.p_value == pytest.approx(_exact_mcnemar(12, 0)) and h.p_value == pytest.approx(2 / 2**12)
    lo, hi = h.interval
    # the mean of 12 ones in 40 resampled: the normal approximation 0.3 ± 1.96·√(0.3·0.7/40) = [0.158, 0.442]
    assert lo == pytest.approx(0.158, abs=0.04) and hi == pytest.approx(0.442, abs=0.04)
    assert h.distinguishable and "VGG16 is more accurate" in h.verdict()
    assert len(h.disagreements) == 12 and set(h.disagreements["predicted_a"]) <= set(genres)
    assert int(h.confusion_difference.to_numpy().trace()) == 12  # A has 12 more clips on the diagonal
    assert h.confusion_difference.to_numpy().sum() == 0


def test_too_few_clips_is_said_in_words():
    # the case: 41 test clips, 0.66 vs 0.73; 4 clips only A gets right, 7 only B
    clips, a, b, genres = _pair(41, only_a=4, only_b=7, both_wrong=7)
    h = compare_predictions(clips, a, b, genres, "VGG16", "ResNet50")
    assert h.accuracy_a == pytest.approx(27 / 41) and h.accuracy_b == pytest.approx(30 / 41)
    assert h.p_value == pytest.approx(_exact_mcnemar(4, 7)) and h.p_value == pytest.approx(2 * 562 / 2048)
    lo, hi = h.interval
    assert lo < h.difference < hi and lo < 0 < hi
    assert not h.distinguishable
    text = h.verdict()
    assert "test set is too small to tell the runs apart" in text and "roughly" in text
    assert len(h.disagreements) == 4 + 7 + 7  # both-wrong clips with different predictions count too
    # per-genre F1 difference: genres where only B is right favour B
    assert (h.f1_difference < 0).sum() >= 1


def test_identical_runs_and_seeded_intervals():
    clips, a, _, genres = _pair(30, only_a=0, only_b=0, both_wrong=5)
    same = compare_predictions(clips, a, a, genres)
    assert same.interval == (0.0, 0.0) and same.p_value == 1.0 and same.disagreements.empty
    clips, a, b, genres = _pair(30, only_a=6, only_b=2)
    first = compare_predictions(clips, a, b, genres, seed=3)
    again = compare_predictions(clips, a, b, genres, seed=3)
    assert first.interval == again.interval
    # a paired bootstrap written out: resample clips, each keeping both runs' results
    d = (a == clips["genre"].map(genres.index).to_numpy()).astype(float) - (
        b == clips["genre"].map(genres.index).to_numpy()
    ).astype(float)
    means = d[np.random.default_rng(9).integers(0, len(d), (20000, len(d)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    assert first.interval[0] == pytest.approx(lo, abs=1.01 / len(d))
    assert first.interval[1] == pytest.approx(hi, abs=1.01 / len(d))


def test_hubness_of_a_known_hub():
    basis = np.eye(10)
    hub = np.ones((1, 10)) / np.sqrt(10)
    vectors = np.vstack([basis, hub])
    counts = k_occurrence(vectors, k=1)
    # every basis vector's nearest other vector is the hub; the hub's is the first basis vector (ties by position)
    assert counts.tolist() == [1] + [0] * 9 + [10]
    report = hubness_report(vectors, k=1)
    assert report["never_recommended"] == pytest.approx(9 / 11) and report["max_k_occurrence"] == 10
    assert report["skewness"] > 2


def test_k_occurrence_agrees_with_the_index():
    from genrec.search.index import ExactIndex

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8))
    ids = [f"t{i}" for i in range(60)]
    index = ExactIndex.build(ids, vectors)
    expected = np.zeros(60, dtype=int)
    for i, t in enumerate(ids):
        for hit, _ in index.query(vectors[i], k=5, exclude=(t,)):
            expected[ids.index(hit)] += 1
    np.testing.assert_array_equal(k_occurrence(vectors, k=5), expected)


@pytest.mark.slow
def test_compare_two_runs_cli(tiny_runs, tmp_path):
    from genrec.evaluate.headtohead import head_to_head
    from genrec.runs.reader import Run

    vgg, res = Run.open(tiny_runs["vgg16"]), Run.open(tiny_runs["resnet50"])
    h = head_to_head(vgg, res)
    assert h.n == vgg.metrics_summary.test.n
    assert h.accuracy_a == pytest.approx(vgg.metrics_summary.test.accuracy)
    assert h.accuracy_b == pytest.approx(res.metrics_summary.test.accuracy)
    out = subprocess.run(
        [sys.executable, "-m", "genrec", "compare", str(vgg.path), str(res.path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert f"accuracy A {h.accuracy_a:.3f}, B {h.accuracy_b:.3f}" in out.stdout
    assert f"McNemar exact test: p = {h.p_value:.4g}" in out.stdout
    assert f"[{h.interval[0]:+.3f}, {h.interval[1]:+.3f}]" in out.stdout
    assert f"{len(h.disagreements)} test clip(s) where A and B predict different genres" in out.stdout
    # runs tested on different clips are refused with a message naming both
    import shutil

    other = tmp_path / "other"
    shutil.copytree(res.path, other)
    tracks = pd.read_csv(other / "tracks.csv", dtype=str, keep_default_na=False)
    tracks.loc[tracks["split"] == "test", "split"] = "valid"
    tracks.to_csv(other / "tracks.csv", index=False)
    with pytest.raises(RunError, match="tested on different clips"):
        head_to_head(vgg, Run.open(other))
    bad = subprocess.run(
        [sys.executable, "-m", "genrec", "compare", str(vgg.path), str(other)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert bad.returncode == 2 and "tested on different clips" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_evaluate_prints_hubness(tiny_runs, capsys):
    from genrec.cli import main
    from genrec.runs.reader import Run

    run = Run.open(tiny_runs["resnet50"])
    assert main(["evaluate", "--saved", str(run.path)]) == 0
    out = capsys.readouterr().out
    hub = hubness_report(run.embeddings, 5)
    assert f"skewness of k-occurrence: {hub['skewness']:.2f}" in out
    assert f"never recommended: {hub['never_recommended']:.1%} of the library" in out
    assert "excluding same-artist neighbours: n/a (artists not known)" in out  # the tiny library has no artists
    assert run.metrics_summary.hubness.to_json() == pytest.approx(hub)  # saved with the run at training time
