"""`genrec runs pack` / `genrec runs pull` (genrec.runs.bundle) against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import genrec.runs.bundle as bundle
from genrec.cli import main
from genrec.model.predict import choose_predictor
from genrec.runs.bundle import MANIFEST, BundleError, pack, pull
from genrec.runs.reader import Run
from genrec.serve.recommend import Recommender
from tests.helpers.http import Server


@pytest.fixture(scope="module")
def packed(tiny_runs, tmp_path_factory) -> Path:
    """Both tiny runs in one bundle, packed once for the module."""
    out = tmp_path_factory.mktemp("bundle") / "runs.tar.gz"
    pack([tiny_runs["vgg16"], tiny_runs["resnet50"]], out)
    return out


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


def write_targz(path: Path, files: dict[str, bytes], extra: list[tarfile.TarInfo] = ()) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
        for info in extra:
            tf.addfile(info, io.BytesIO(b"x" * info.size))
    return path


def with_manifest(files: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` with the manifest's sizes and digests brought in line with them (a self-consistent bundle)."""
    manifest = json.loads(files[MANIFEST])
    for run_id, entry in manifest["runs"].items():
        for name in entry["files"]:
            data = files[f"{run_id}/{name}"]
            entry["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {**files, MANIFEST: json.dumps(manifest).encode()}


def runs_in(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def visible_runs(root: Path) -> list[str]:
    return [n for n in runs_in(root) if not n.startswith(".")]


def test_pack_then_pull_over_http_answers_as_the_originals(
    tiny_runs, server: Server, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("GENREC_PREDICTOR", "auto")  # the originals answer with the predictor the bundle carries
    ids = [tiny_runs["vgg16"].name, tiny_runs["resnet50"].name]
    out = tmp_path / "runs.tar.gz"
    assert main(["runs", "pack", str(tiny_runs["vgg16"]), str(tiny_runs["resnet50"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"sha256:{digest}" in printed and f"({out.stat().st_size} bytes)" in printed
    names = set(members(out))
    for run_id in ids:
        answering = choose_predictor(Run.open(tiny_runs[run_id.split("-")[0]]), setting="auto").path.name
        other = ({"predictor.tflite", "predictor-int8.tflite"} - {answering}).pop()
        assert {f"{run_id}/{answering}", f"{run_id}/head.npz", MANIFEST} <= names and f"{run_id}/{other}" not in names
    assert not any(n.endswith(("model.keras", ".wav", ".flac", ".au")) for n in names)  # never audio, no Keras
    manifest = json.loads(members(out)[MANIFEST])
    assert manifest["format"] == bundle.FORMAT_VERSION and manifest["genrec_version"]
    assert manifest["runs"][ids[0]]["library"]["fingerprint"] == Run.open(tiny_runs["vgg16"]).library.fingerprint

    dest = tmp_path / "models"
    url = server.publish("runs.tar.gz", out.read_bytes())
    assert main(["runs", "pull", url, "--checksum", f"sha256:{digest}", "--dir", str(dest)]) == 0
    assert f"added {', '.join(ids)}" in capsys.readouterr().out
    assert visible_runs(dest) == sorted(ids)
    for original_path in tiny_runs.values():
        original, pulled = Recommender(Run.open(original_path)), Recommender(Run.open(dest / original_path.name))
        assert not (pulled.run.path / "model.keras").exists()
        for track in original.tracks["track_id"].iloc[[0, 7, 31]]:
            a, b = original.for_track(track), pulled.for_track(track)
            np.testing.assert_array_equal(a.probabilities, b.probabilities)
            pd.testing.assert_frame_equal(a.neighbours, b.neighbours)
        upload = Path(original.tracks["path"].iloc[4]).read_bytes()
        a, b = original.for_audio(upload, name="clip.wav"), pulled.for_audio(upload, name="clip.wav")
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
        pd.testing.assert_frame_equal(a.neighbours, b.neighbours)


def test_pull_resumes_after_a_cut_connection(packed: Path, server: Server, tmp_path) -> None:
    url = server.publish("runs.tar.gz", packed.read_bytes())
    server.state.drop_after["/runs.tar.gz"] = packed.stat().st_size // 2
    dest = tmp_path / "models"
    with pytest.raises(BundleError, match=r"runs\.tar\.gz.*The partial file .* is kept; run the same command again"):
        pull(url, root=dest)
    assert visible_runs(dest) == []
    kept = next(bundle.bundle_cache().glob("*.part")).stat().st_size
    assert 0 < kept < packed.stat().st_size
    pull(url, root=dest)
    assert server.state.requests[-1][1] == f"bytes={kept}-"  # the second request asked for the rest only
    assert len(visible_runs(dest)) == 2


def test_cli_pull_draws_a_bar_of_bytes(packed: Path, server: Server, tmp_path, monkeypatch, capsys) -> None:
    """`genrec runs pull URL` shows the download in bytes (kB/MB and B/s), not as steps."""
    import tqdm.auto

    import genrec.utils.progress

    bars: list[tqdm.auto.tqdm] = []

    class RecordingTqdm(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            bars.append(self)

    monkeypatch.setattr(genrec.utils.progress, "tqdm", RecordingTqdm)  # the name TqdmProgress draws with
    url = server.publish("runs.tar.gz", packed.read_bytes())
    assert main(["runs", "pull", url, "--dir", str(tmp_path / "models")]) == 0
    size = packed.stat().st_size
    assert [(bar.unit, bar.unit_scale, bar.n, bar.total) for bar in bars] == [("B", True, size, size)]
    assert "B/s" in capsys.readouterr().err


def test_checksum_mismatch_pulls_nothing(packed: Path, server: Server, tmp_path) -> None:
    url = server.publish("runs.tar.gz", packed.read_bytes())
    dest = tmp_path / "models"
    with pytest.raises(BundleError, match=r"runs\.tar\.gz.*does not match its checksum"):
        pull(url, checksum="sha256:" + "0" * 64, root=dest)
    with pytest.raises(BundleError, match=r"runs\.tar\.gz: checksum mismatch"):
        pull(packed, checksum="0" * 64, root=dest)
    assert runs_in(dest) == []  # not even the pull's lock file


def _hostile(packed: Path, tmp_path: Path, case: str) -> Path:
    files = members(packed)
    run_id = json.loads(files[MANIFEST])["runs"].popitem()[0]
    out = tmp_path / f"{case}.tar.gz"
    if case == "traversal":
        evil = tarfile.TarInfo("../evil.txt")
        evil.size = 4
        return write_targz(out, files, [evil])
    if case == "differs":
        files[f"{run_id}/metrics.json"] = files[f"{run_id}/metrics.json"].replace(b"{", b"{ ", 1)
    elif case == "extra":
        files[f"{run_id}/notes.txt"] = b"not listed"
    elif case == "missing":
        del files[f"{run_id}/embeddings.npz"]
    elif case == "invalid":  # consistent with its manifest, but the run itself is broken
        record = json.loads(files[f"{run_id}/run.json"])
        record["genres"] = record["genres"][:3]
        files = with_manifest({**files, f"{run_id}/run.json": json.dumps(record).encode()})
    elif case == "size":  # consistent records, but the predictor takes other images than run.json says
        record = json.loads(files[f"{run_id}/run.json"])
        record["spectrogram"]["size"] = record["config"]["input_size"] = 64
        files = with_manifest({**files, f"{run_id}/run.json": json.dumps(record).encode()})
    elif case == "newer":
        manifest = json.loads(files[MANIFEST])
        manifest["format"] = bundle.FORMAT_VERSION + 1
        files[MANIFEST] = json.dumps(manifest).encode()
    return write_targz(out, files)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("traversal", r"traversal\.tar\.gz: Refusing archive member '\.\./evil\.txt'"),
        ("differs", r"differs\.tar\.gz: .*/metrics\.json differs from genrec-bundle\.json"),
        ("extra", r"extra\.tar\.gz: .*/notes\.txt is not listed in genrec-bundle\.json"),
        ("missing", r"missing\.tar\.gz: .*/embeddings\.npz is listed in genrec-bundle\.json but missing"),
        ("invalid", r"invalid\.tar\.gz: run (\S+) fails validation: \1/tracks\.csv: row \d+ has a genre outside"),
        ("size", r"size\.tar\.gz: run \S+ fails validation: predictor\S*\.tflite: does not take the 64×64-px images"),
        ("newer", r"newer\.tar\.gz: made by a newer genrec .*Upgrade genrec"),
    ],
)
def test_hostile_bundles_are_refused_and_leave_no_run(
    packed: Path, server: Server, tmp_path, case: str, message: str
) -> None:
    archive = _hostile(packed, tmp_path, case)
    url = server.publish(archive.name, archive.read_bytes())
    dest = tmp_path / "models"
    with pytest.raises(BundleError, match=message):
        pull(url, root=dest)
    assert runs_in(dest) == []  # no run, no staging folder, no record of a pull, no lock file
    assert not (tmp_path / "evil.txt").exists() and not list(bundle.bundle_cache().glob("*"))


def test_pulling_twice_neither_downloads_nor_extracts(packed: Path, server: Server, tmp_path, monkeypatch) -> None:
    url = server.publish("runs.tar.gz", packed.read_bytes())
    dest = tmp_path / "models"
    first = pull(url, root=dest)
    assert len(first[0].added) == 2 and server.count() == 1

    def no_extraction(*args, **kwargs):
        raise AssertionError("extracted again")

    monkeypatch.setattr(bundle, "extract_archive", no_extraction)
    again = pull(url, root=dest)
    assert again[0].cached and sorted(again[0].present) == sorted(first[0].added) and server.count() == 1
    local = pull(packed, root=dest)[0]  # the same runs from a local copy: its manifest says they are here
    assert sorted(local.present) == sorted(first[0].added) and not local.added and not local.cached
    assert pull(packed, root=dest)[0].cached  # and that copy, pulled once, is recognised from the record


def test_pull_from_a_folder_of_bundles_and_a_clash_with_a_different_run(packed: Path, tiny_runs, tmp_path) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    shutil.copy(packed, folder / "a.tar.gz")
    dest = tmp_path / "models"
    assert len(pull(folder, root=dest)[0].added) == 2
    other = tmp_path / "other"
    shutil.copytree(tiny_runs["vgg16"], other / tiny_runs["vgg16"].name)
    metrics = other / tiny_runs["vgg16"].name / "metrics.json"
    metrics.write_text(metrics.read_text() + "\n")
    with pytest.raises(BundleError, match=r"a different run named .* is already in"):
        pull(packed, root=other)
    assert bundle.LOCK_FILE not in runs_in(dest) + runs_in(other)  # after a pull that worked, and one that failed


def test_the_pull_lock_lets_one_pull_in_at_a_time_and_leaves_no_file(tmp_path) -> None:
    """Each holder removes the lock file before letting go; a waiter on the removed file must not get in beside
    the next holder of the new one."""
    root = tmp_path / "models"
    inside, overlaps, entries = [], [], []
    guard = threading.Lock()

    def one_pull(n: int) -> None:
        for _ in range(20):
            with bundle.pull_lock(root):
                with guard:
                    inside.append(n)
                    overlaps.append(len(inside))
                    entries.append((root / bundle.LOCK_FILE).exists())
                time.sleep(0.001)
                with guard:
                    inside.remove(n)

    threads = [threading.Thread(target=one_pull, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(overlaps) == 80 and max(overlaps) == 1
    assert all(entries)  # held, the lock file is there for other processes to wait on
    assert runs_in(root) == []


def test_a_lock_file_left_by_a_killed_pull_is_locked_and_then_removed(packed: Path, tmp_path) -> None:
    """The kernel released a killed process's lock, but its file stayed; the next pull takes it over."""
    dest = tmp_path / "models"
    dest.mkdir()
    (dest / bundle.LOCK_FILE).write_text("")
    assert len(pull(packed, root=dest)[0].added) == 2
    assert bundle.LOCK_FILE not in runs_in(dest)


def test_pack_refuses_a_run_that_does_not_open(tiny_runs, tmp_path) -> None:
    broken = tmp_path / "broken-run"
    shutil.copytree(tiny_runs["vgg16"], broken)
    (broken / "embeddings.npz").write_bytes(b"not a zip")
    out = tmp_path / "runs.tar.gz"
    with pytest.raises(BundleError, match=r"Cannot pack .*broken-run.*embeddings\.npz"):
        pack([tiny_runs["resnet50"], broken], out)
    assert not out.exists() and list(tmp_path.glob(".tmp-*")) == []
    assert main(["runs", "pack", str(broken), "--out", str(out)]) == 2


def test_keras_and_all_predictors_options(tiny_runs, tmp_path) -> None:
    run = tiny_runs["vgg16"]
    plain = set(members(pack([run], tmp_path / "a.tar.gz").path))
    full = set(members(pack([run], tmp_path / "b.tar.gz", keras=True, all_predictors=True).path))
    answering = choose_predictor(Run.open(run), setting="auto").path.name  # the one predictor a plain pack holds
    other = ({"predictor.tflite", "predictor-int8.tflite"} - {answering}).pop()
    assert f"{run.name}/{answering}" in plain
    extra = {"model.keras", other} | ({"predictor-int8.json"} if other == "predictor-int8.tflite" else set())
    assert full - plain == {f"{run.name}/{name}" for name in extra}


# --------------------------------------------------------------------------- audio of pulled runs


@pytest.fixture
def demo_run(tiny_runs, tmp_path, monkeypatch) -> Path:
    """A run recorded as trained on a 1-clip-per-genre synthetic demo library (the tiny run's network and
    arrays, cut to the demo's ten tracks), in a packer's home of its own."""
    from genrec.data.library import load_demo

    monkeypatch.setenv("GENREC_HOME", str(tmp_path / "packer-home"))
    library = load_demo(clips_per_genre=1)
    run = tmp_path / "packer-runs" / "vgg16-demo-x"
    shutil.copytree(tiny_runs["vgg16"], run)
    library.tracks.to_csv(run / "tracks.csv", index=False)
    with np.load(run / "embeddings.npz") as arrays:
        np.savez(
            run / "embeddings.npz",
            track_id=library.tracks["track_id"].to_numpy(dtype=str),
            embeddings=arrays["embeddings"][:10],
            probabilities=arrays["probabilities"][:10],
        )
    record = json.loads((run / "run.json").read_text())
    record["library"].update(
        name="demo",
        label=library.label,
        root=str(library.root),
        synthetic=True,
        fingerprint=library.fingerprint(),
        n_tracks=10,
    )
    (run / "run.json").write_text(json.dumps(record))
    return run


@pytest.mark.parametrize("same_fingerprint", [True, False])
def test_demo_clips_play_after_a_pull(demo_run: Path, tmp_path, monkeypatch, capsys, same_fingerprint) -> None:
    record = json.loads((demo_run / "run.json").read_text())
    made_here = record["library"]["fingerprint"]  # what load_demo(clips_per_genre=1) gives on any host
    if not same_fingerprint:
        record["library"]["fingerprint"] = "0123456789ab"
        (demo_run / "run.json").write_text(json.dumps(record))
    out = tmp_path / "runs.tar.gz"
    pack([demo_run], out)
    shutil.rmtree(tmp_path / "packer-home")  # the packer's audio is not on the pulling host
    monkeypatch.setenv("GENREC_HOME", str(tmp_path / "puller-home"))
    dest = tmp_path / "models"
    assert main(["runs", "pull", str(out), "--dir", str(dest)]) == 0
    printed = capsys.readouterr().out
    assert (f"fingerprint {made_here} matches" in printed) == same_fingerprint
    assert ("differs from the one it was trained on" in printed) != same_fingerprint
    run = Run.open(dest / demo_run.name)
    played = [run.media_path(t) for t in run.tracks["track_id"]]
    assert all(p is not None and p.is_file() and p.is_relative_to(tmp_path / "puller-home") for p in played)


def test_real_library_audio_missing_says_how_to_point_at_a_copy(packed: Path, tmp_path, monkeypatch) -> None:
    dest = tmp_path / "models"
    pull(packed, root=dest)
    run = Run.open(next(p for p in dest.iterdir() if p.name.startswith("vgg16")))
    assert bundle.missing_audio_note(run) == ""  # the tiny library is on this host
    run = Run.open(run.path)
    monkeypatch.setattr(Run, "_media_roots", property(lambda self: []))  # as on a host without the library
    note = bundle.missing_audio_note(run)
    assert "is not on this host" in note and "GENREC_AUDIO_ROOTS" in note
