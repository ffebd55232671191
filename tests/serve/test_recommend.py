"""Recommendations: top-k agrees with brute-force cosine, no self-matches, outside audio path, both models."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.metrics.pairwise import cosine_similarity

from genrec.cli import main
from genrec.errors import AudioError, LibraryError, RunError
from genrec.runs.reader import Run
from genrec.serve.recommend import Recommender, compare
from tests.helpers.audio import tone, write_audio


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


def test_uploaded_copy_of_a_library_track_is_named_and_left_out(recommenders):
    rec = recommenders["vgg16"]
    row = rec.tracks.iloc[3]
    data = Path(row["path"]).read_bytes()  # an "upload": bytes with a name, outside the library
    answer = rec.for_audio(data, name="upload.wav", k=5)
    assert answer.same_as == row["track_id"]
    assert row["track_id"] not in set(answer.neighbours["track_id"]) and len(answer.neighbours) == 5
    # answered exactly as the saved track: the same path as training (decode -> image -> model)
    np.testing.assert_allclose(answer.embedding, rec.run.arrays["embeddings"][3], atol=1e-5)
    np.testing.assert_allclose(answer.probabilities, rec.run.arrays["probabilities"][3], atol=1e-5)
    # the neighbours are the library pick's own (which leaves the track out too)
    assert answer.neighbours["track_id"].tolist() == rec.for_track(row["track_id"], k=5).neighbours["track_id"].tolist()


def test_same_sound_in_other_bytes_is_not_taken_for_the_track(recommenders):
    """Only identical bytes name a track: the same samples re-encoded as FLAC sound alike (≈ 1), yet stay a
    recommendation, never a guess by similarity."""
    rec = recommenders["vgg16"]
    row = rec.tracks.iloc[3]
    y, sr = sf.read(row["path"], dtype="float32")
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="FLAC")
    answer = rec.for_audio(buf.getvalue(), name="upload.flac", k=5)
    assert answer.same_as is None
    top = answer.neighbours.iloc[0]
    assert top["track_id"] == row["track_id"] and top["similarity"] == pytest.approx(1.0, abs=1e-3)


def test_runs_record_each_library_file_digest(tiny_runs):
    for path in tiny_runs.values():
        tracks = Run.open(path).tracks
        assert tracks["digest"].tolist() == [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in tracks["path"]]


def own_run(src: Path, dest: Path, change_tracks=None) -> Path:
    """A private copy of a run (model linked), its tracks.csv rewritten by ``change_tracks`` when given."""
    dest.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file():
            (os.symlink if f.name == "model.keras" else shutil.copy2)(f, dest / f.name)
    if change_tracks is not None:
        tracks = pd.read_csv(dest / "tracks.csv", dtype=str, keep_default_na=False)
        change_tracks(tracks).to_csv(dest / "tracks.csv", index=False)
    return dest


def test_older_run_without_digests_hashes_its_library_files(tiny_runs, tmp_path):
    older = Run.open(own_run(tiny_runs["vgg16"], tmp_path / "older", lambda t: t.drop(columns="digest")))
    assert "digest" not in older.tracks.columns
    rec = Recommender(older)
    row = rec.tracks.iloc[7]
    answer = rec.for_audio(Path(row["path"]).read_bytes(), name="upload.wav", k=5)
    assert answer.same_as == row["track_id"] and row["track_id"] not in set(answer.neighbours["track_id"])


def test_older_run_without_its_library_files_says_nothing(tiny_runs, tmp_path):
    """Without digests and without the files, a copy cannot be recognised: answered as before, never guessed."""
    gone = tmp_path / "moved-away"
    older = own_run(
        tiny_runs["vgg16"],
        tmp_path / "older",
        lambda t: t.drop(columns="digest").assign(path=[str(gone / Path(p).name) for p in t["path"]]),
    )
    rec = Recommender(Run.open(older))
    original = Run.open(tiny_runs["vgg16"]).tracks.iloc[7]
    answer = rec.for_audio(Path(original["path"]).read_bytes(), name="upload.wav", k=5)
    top = answer.neighbours.iloc[0]
    assert answer.same_as is None
    assert top["track_id"] == original["track_id"] and top["similarity"] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("digest", ["../../etc/passwd", "ABC", "0" * 63, "g" * 64])
def test_a_digest_that_is_not_a_sha256_is_refused(tiny_runs, tmp_path, digest):
    def tamper(tracks):
        tracks.loc[2, "digest"] = digest
        return tracks

    path = own_run(tiny_runs["vgg16"], tmp_path / "hostile", tamper)
    tid = Run.open(tiny_runs["vgg16"]).tracks["track_id"][2]
    expected = rf'tracks\.csv: row 4 has a digest that is not a SHA-256 hex digest \("{re.escape(tid)}"\)'
    with pytest.raises(RunError, match=expected):
        Run.open(path)


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


def test_cli_recommend_track_and_file(tiny_runs, capsys, tmp_path):
    run = str(tiny_runs["resnet50"])
    tracks = Run.open(run).tracks
    assert main(["recommend", run, tracks["track_id"][0], "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "predicted genre" in out and "true genre" in out and out.count("\n  ") >= 4
    assert main(["recommend", run, tracks["path"][1]]) == 0
    out = capsys.readouterr().out
    assert f"(an exact copy of library track {tracks['track_id'][1]}; answered by the" in out
    listed = out.split("similar tracks")[1].splitlines()[1:]
    assert len(listed) == 5 and tracks["track_id"][1] not in {line.split()[1] for line in listed}
    outside = tmp_path / "outside.wav"
    write_audio(outside, tone(4.0, freq=300.0, seed=99), subtype="PCM_16")
    assert main(["recommend", run, str(outside)]) == 0
    assert "(outside the library; answered by the" in capsys.readouterr().out
    assert main(["recommend", run, "blues.9"]) == 2
    assert "neither an audio file nor a track id" in capsys.readouterr().err
