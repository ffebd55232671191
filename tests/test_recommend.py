"""Recommendations: top-k agrees with brute-force cosine, no self-matches, outside audio path, both models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from genrec.cli import main
from genrec.errors import AudioError, LibraryError
from genrec.recommend import Recommender, compare
from genrec.runs import Run


@pytest.fixture(scope="module")
def recommenders(tiny_runs) -> dict[str, Recommender]:
    return {arch: Recommender(Run.open(path)) for arch, path in tiny_runs.items()}


@pytest.mark.parametrize("arch", ["vgg16", "resnet50"])
def test_track_top5_matches_sklearn_and_excludes_itself(recommenders, arch):
    rec = recommenders[arch]
    emb = rec.run.arrays["embeddings"]
    ids = rec.tracks["track_id"].tolist()
    sims = cosine_similarity(emb)
    for i in (0, 17, len(ids) - 1):
        answer = rec.for_track(ids[i], k=5)
        got = answer.neighbours
        assert ids[i] not in set(got["track_id"])
        assert len(got) == 5 and list(got["similarity"]) == sorted(got["similarity"], reverse=True)
        expected = np.delete(sims[i], i)
        np.testing.assert_allclose(got["similarity"], np.sort(expected)[::-1][:5], atol=1e-5)
        for tid, sim in zip(got["track_id"], got["similarity"]):
            assert sim == pytest.approx(sims[i, ids.index(tid)], abs=1e-5)
            assert -1.0 - 1e-6 <= sim <= 1.0 + 1e-6
        assert answer.genre in answer.genres and float(np.sum(answer.probabilities)) == pytest.approx(1.0, abs=1e-5)


def test_uploaded_copy_of_a_library_track_finds_that_track(recommenders):
    rec = recommenders["vgg16"]
    row = rec.tracks.iloc[3]
    data = Path(row["path"]).read_bytes()  # an "upload": bytes with a name, outside the library
    answer = rec.for_audio(data, name="upload.wav", k=5)
    top = answer.neighbours.iloc[0]
    assert top["track_id"] == row["track_id"] and top["similarity"] == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(answer.probabilities, rec.run.arrays["probabilities"][3], atol=1e-5)


def test_compare_both_models_and_shared_count(recommenders):
    recs = [recommenders["vgg16"], recommenders["resnet50"]]
    tid = recs[0].tracks["track_id"][5]
    answers, shared = compare(recs, track_id=tid)
    assert [a.arch for a in answers] == ["vgg16", "resnet50"]
    assert shared == len(set(answers[0].neighbours["track_id"]) & set(answers[1].neighbours["track_id"]))
    # one model against itself shares all five
    assert compare([recs[0], recs[0]], track_id=tid)[1] == 5


def test_bad_queries_are_refused_with_a_message(recommenders, tmp_path):
    with pytest.raises(LibraryError, match="not in the library"):
        recommenders["vgg16"].for_track("blues.99999")
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00garbage")
    with pytest.raises(AudioError, match=r"broken\.wav"):
        recommenders["vgg16"].for_audio(bad)


def test_cli_recommend_track_and_file(tiny_runs, capsys):
    run = str(tiny_runs["resnet50"])
    tracks = Run.open(run).tracks
    assert main(["recommend", run, tracks["track_id"][0], "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "predicted genre" in out and "true genre" in out and out.count("\n  ") >= 4
    assert main(["recommend", run, tracks["path"][1]]) == 0
    out = capsys.readouterr().out
    assert "outside the library" in out and tracks["track_id"][1] in out.split("similar tracks")[1].splitlines()[1]
    assert main(["recommend", run, "blues.9"]) == 2
    assert "neither an audio file nor a track id" in capsys.readouterr().err
