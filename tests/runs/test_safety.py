"""Hostile run folders, archives, files and arguments (issue 10): each is refused with a clear message.

The run-folder cases copy the tiny trained runs and damage the copy the way a
folder copied from elsewhere could be; every test asserts what the user is told.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import genrec.serve.queries as queries
from genrec.audio.decode import load_audio
from genrec.cli import main
from genrec.config import GENRES, SAMPLE_RATE
from genrec.data.library import load_gtzan
from genrec.errors import AudioError, DownloadError, GenrecError, LibraryError, RunError
from genrec.runs.media import ROOTS_ENV, vetted_path
from genrec.runs.reader import Run, list_runs
from genrec.utils.leftovers import STALE_WORK_SECONDS
from tests.helpers.audio import tone, write_audio
from tests.helpers.runs import copy_run, craft_hostile_tracks, edit_json, set_field

ROOT = Path(__file__).resolve().parents[2]
slow = pytest.mark.slow


def _drop(data: dict, key: str) -> dict:
    data.pop(key)
    return data


def _truncate(path: Path) -> None:
    data = Path(os.path.realpath(path)).read_bytes()
    path.unlink()
    path.write_bytes(data[: len(data) // 2])


#: Ten ways a copied run folder can be broken: (name, damage(run folder), file and words the reason must name).
BROKEN_RUNS = [
    (
        "created-number",
        lambda r: edit_json(r / "run.json", lambda d: set_field(d, "created", 1700000000)),
        ("run.json", "'created'", "timestamp"),
    ),
    ("runjson-list", lambda r: edit_json(r / "run.json", []), ("run.json", "JSON object")),
    ("metrics-empty", lambda r: edit_json(r / "metrics.json", {}), ("metrics.json", "'test'", "missing")),
    ("runjson-empty", lambda r: edit_json(r / "run.json", {}), ("run.json", "'arch'", "missing")),
    ("no-arch", lambda r: edit_json(r / "run.json", lambda d: _drop(d, "arch")), ("run.json", "'arch'")),
    (
        "wrong-type",
        lambda r: edit_json(r / "run.json", lambda d: set_field(d, "config.last_four_trainable", "yes")),
        ("run.json", "'config.last_four_trainable'", "true or false"),
    ),
    (
        "genres-short",
        lambda r: edit_json(r / "run.json", lambda d: set_field(d, "genres", list(GENRES[:9]))),
        ("tracks.csv", "genre outside the run's genres"),
    ),
    (
        "tracks-no-path",
        lambda r: pd.read_csv(r / "tracks.csv").drop(columns="path").to_csv(r / "tracks.csv", index=False),
        ("tracks.csv", "missing column", "path"),
    ),
    (
        "size-64",
        lambda r: edit_json(
            r / "run.json", lambda d: set_field(set_field(d, "spectrogram.size", 64), "config.input_size", 64)
        ),
        ("model.keras", "32×32-px", "spectrogram.size", "64"),
    ),
    ("model-truncated", lambda r: _truncate(r / "model.keras"), ("model.keras", "damaged")),
]


@pytest.fixture(scope="module")
def mixed_runs(tiny_runs, tmp_path_factory) -> Path:
    """The good VGG16 run beside ten differently broken copies of it."""
    root = tmp_path_factory.mktemp("mixed") / "models"
    copy_run(tiny_runs["vgg16"], root, tiny_runs["vgg16"].name)
    for name, damage, _ in BROKEN_RUNS:
        damage(copy_run(tiny_runs["vgg16"], root, f"broken-{name}"))
    return root


# --------------------------------------------------------------------------- 2: one validated run record
@slow
def test_ten_broken_runs_are_listed_with_reasons_and_the_good_one_works(mixed_runs, tiny_runs, capsys):
    good, broken = list_runs(mixed_runs)
    assert [r.id for r in good] == [tiny_runs["vgg16"].name]
    reasons = {Path(p).name.removeprefix("broken-"): why for p, why in broken}
    assert len(reasons) == 10
    for name, _, words in BROKEN_RUNS:
        for word in words:
            assert word in reasons[name], (name, word, reasons[name])
        assert "Traceback" not in reasons[name] and ("Retrain" in reasons[name] or "copy" in reasons[name])

    assert main(["runs", "--dir", str(mixed_runs)]) == 0
    out, err = capsys.readouterr()
    assert tiny_runs["vgg16"].name in out
    assert err.count("warning:") == 10 and all(f"broken-{name}" in err for name, _, _ in BROKEN_RUNS)


@slow
def test_every_page_works_with_the_good_run_beside_broken_ones(mixed_runs, tiny_runs, monkeypatch):
    from tests.helpers.app import metric_values, no_traceback, open_page, recommendations, start

    monkeypatch.setenv("GENREC_RUNS", str(mixed_runs))
    at = start()
    no_traceback(at)
    assert any("10 run folder(s) could not be opened" in w.value for w in at.sidebar.warning)
    at.selectbox(key="pick_track").set_value("rock.00001").run()
    no_traceback(at)
    assert not at.error and len(metric_values(at, "Predicted genre")) == 1 and len(recommendations(at)) == 5

    open_page(at, "training_runs")
    no_traceback(at)
    assert not at.error and sum("Left out" in w.value for w in at.warning) == 10
    assert metric_values(at, "Test accuracy")

    open_page(at, "library_map")
    at.selectbox(key="map_track").set_value("rock.00002").run()
    no_traceback(at)
    assert not at.error and len(recommendations(at)) == 5


@slow
def test_typed_attributes_of_a_good_run(tiny_runs):
    run = Run.open(tiny_runs["resnet50"])
    raw = json.loads((run.path / "run.json").read_text())
    assert run.arch == "resnet50" and run.genres == list(GENRES)
    assert run.config.input_size == run.spectrogram.size == raw["spectrogram"]["size"] == 32
    assert run.weights.kind == "none" and run.weights_label == "random init"
    assert run.library.root == raw["library"]["root"] and run.library.kind == "audio"
    assert run.created == raw["created"] and run.created_at.tzinfo is not None
    assert run.split_method.startswith("stratified")
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert run.metrics_summary.test.accuracy == pytest.approx(metrics["test"]["accuracy"])
    assert run.metrics_summary.retrieval.k == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.config.input_size = 64  # frozen


# --------------------------------------------------------------------------- 1: media only from the library
def test_media_gate(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    good = write_audio(lib / "blues" / "blues.00000.wav", tone(3.0))
    outside = write_audio(tmp_path / "elsewhere" / "secret.wav", tone(3.0))
    (lib / "blues" / "passwd.wav").symlink_to("/etc/passwd")
    (lib / "blues" / "environ.wav").symlink_to("/proc/self/environ")
    (lib / "blues" / "out.wav").symlink_to(outside)
    (lib / "blues" / "inside.wav").symlink_to(good)
    (lib / "blues" / "pic.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>')
    (lib / "blues" / "fake.wav").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (lib / "blues" / "folder.wav").mkdir()
    roots = [lib.resolve()]
    assert vetted_path(good, roots) == good.resolve()
    assert vetted_path(lib / "blues" / "inside.wav", roots) == good.resolve()
    for name in ("passwd.wav", "environ.wav", "out.wav", "pic.svg", "fake.wav", "folder.wav", "missing.wav"):
        assert vetted_path(lib / "blues" / name, roots) is None, name
    assert vetted_path(outside, roots) is None and vetted_path(f"{lib}/blues/../../elsewhere/secret.wav", roots) is None
    assert vetted_path("/etc/passwd", roots) is None and vetted_path("", roots) is None

    # pictures only for picture libraries, and only real ones
    from PIL import Image

    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(lib / "blues" / "blues00000.png")
    assert vetted_path(lib / "blues" / "blues00000.png", roots, kind="image") is not None
    assert vetted_path(lib / "blues" / "blues00000.png", roots, kind="audio") is None
    assert vetted_path(lib / "blues" / "pic.svg", roots, kind="image") is None

    # a root the user configures
    from genrec.runs.media import configured_roots, library_roots

    monkeypatch.setenv(ROOTS_ENV, str(outside.parent))
    assert vetted_path(outside, configured_roots()) == outside.resolve()
    assert Path("/") not in library_roots("/")  # a run claiming the whole disk as its library gets nothing


@pytest.mark.parametrize("spelling", ["//", "//tmp/..", "//./"])
def test_other_spellings_of_the_filesystem_root_are_no_media_root(spelling, tmp_path):
    """A run's or catalogue's root of "//" resolves to "/" as well: it must not open the whole disk either."""
    from genrec.runs.media import library_roots

    anywhere = write_audio(tmp_path / "anywhere.wav", tone(3.0))
    assert library_roots(spelling) == []
    assert vetted_path(anywhere, library_roots(spelling)) is None


@slow
def test_crafted_tracks_are_never_handed_to_the_page(tiny_runs, tmp_path, monkeypatch):
    """tracks.csv paths outside the library: the recommender and the pages see "not available"."""
    from genrec.serve.recommend import Recommender
    from tests.helpers.app import no_traceback, start

    runs = tmp_path / "models"
    run_dir = copy_run(tiny_runs["vgg16"], runs, "vgg16-crafted")
    crafted = craft_hostile_tracks(run_dir, tmp_path)
    run = Run.open(run_dir)
    for track_id in crafted:
        assert run.media_path(track_id) is None
    answer = Recommender(run).for_track(next(iter(crafted)), k=len(run.tracks) - 1)
    shown = answer.neighbours.set_index("track_id")
    assert all(shown.loc[t, "path"] == "" and not shown.loc[t, "audio_available"] for t in crafted if t in shown.index)
    assert shown["audio_available"].sum() == len(shown) - len(set(crafted) & set(shown.index))

    monkeypatch.setenv("GENREC_RUNS", str(runs))
    recommender = Recommender(run)
    at = start()
    for track_id in crafted:
        at.selectbox(key="pick_track").set_value(track_id).run()
        no_traceback(at)
        assert not at.error
        assert any("not available" in w.value for w in at.warning)  # the query's own audio
        playable = int(recommender.for_track(track_id, 5).neighbours["audio_available"].sum())
        assert len(at.get("audio")) == playable  # players only for the vetted neighbours, none for the query
        unavailable = sum("audio not available" in c.value for c in at.caption)
        assert unavailable == 5 - playable


# --------------------------------------------------------------------------- 3: archive symlink chains
def test_symlink_chain_through_a_parent_link_is_refused_without_the_data_filter(tmp_path, monkeypatch):
    """``d/s -> ..`` then ``e -> d/s/..`` normalises to ``d`` but points above the target on disk."""
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("d",):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for name, target in (("d/s", ".."), ("e", "d/s/..")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
        payload = b"overwritten"
        info = tarfile.TarInfo("e/victim.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    archive = tmp_path / "work" / "chain.tar"
    archive.parent.mkdir()
    archive.write_bytes(buf.getvalue())
    from genrec.data.download import extract_archive

    with pytest.raises(DownloadError, match=r"'e'.*symlink pointing outside the archive \(d/s/\.\.\)"):
        extract_archive(archive, tmp_path / "work" / "out", progress=False)
    assert victim.read_text() == "original" and not (tmp_path / "work" / "out").exists()


# --------------------------------------------------------------------------- 4: a header before libsndfile
def test_random_bytes_named_au_are_not_audio(tmp_path):
    junk = tmp_path / "random.au"
    junk.write_bytes(np.random.default_rng(4).bytes(40_000))
    with pytest.raises(AudioError, match=r"random\.au: not a Sun/NeXT AU file"):
        load_audio(junk)
    root = tmp_path / "genres"
    for n in range(3):
        write_audio(root / "metal" / f"metal.{n:05d}.au", tone(3.0, seed=n))
    shutil.copy(junk, root / "metal" / "metal.00009.au")
    lib = load_gtzan(root)
    assert "metal.00009" not in set(lib.tracks["track_id"])
    assert "not a Sun/NeXT AU file" in dict(lib.skipped)[str(root / "metal" / "metal.00009.au")]


# --------------------------------------------------------------------------- 5: scan as training reads
def _bad_clips(root: Path) -> dict[str, str]:
    """Four clips training cannot use, with the words their skip reason must contain."""
    write_audio(root / "jazz" / "jazz.00010.wav", np.zeros(SAMPLE_RATE * 5, np.float32))
    write_audio(root / "jazz" / "jazz.00011.wav", tone(1.0))
    write_audio(root / "jazz" / "jazz.00012.wav", tone(5.0) * np.float32(10 ** (-90 / 20) / 0.3))
    nan = tone(5.0)
    nan[100] = np.nan
    write_audio(root / "jazz" / "jazz.00013.wav", nan, subtype="FLOAT")
    return {
        "jazz.00010.wav": "silent",
        "jazz.00011.wav": "only 1.0 s",
        "jazz.00012.wav": "silent",
        "jazz.00013.wav": "not finite",
    }


def test_library_scan_skips_what_training_would_refuse(tmp_path, capsys):
    root = tmp_path / "genres"
    for n in range(3):
        write_audio(root / "jazz" / f"jazz.{n:05d}.wav", tone(3.0, seed=n))
    expected = _bad_clips(root)
    lib = load_gtzan(root)
    skipped = {Path(p).name: why for p, why in lib.skipped}
    assert set(skipped) == set(expected) and len(lib.tracks) == 3
    for name, words in expected.items():
        assert words in skipped[name]
    from genrec.audio.cache import compute_images

    for path in lib.tracks["path"]:  # what the scan kept, training can read
        assert compute_images(Path(path), "audio", None, 32).shape == (1, 32, 32, 3)

    assert main(["library", "gtzan", str(root)]) == 0
    out = capsys.readouterr().out
    assert "skipped 4 file(s)" in out and all(name in out for name in expected)
    assert main(["library", "gtzan", str(root), "--strict"]) == 2
    err = capsys.readouterr().err
    assert "4 file(s) cannot be used" in err and "jazz.00011.wav" in err and "--strict" in err
    with pytest.raises(LibraryError, match="cannot be used"):
        load_gtzan(root, strict=True)


# --------------------------------------------------------------------------- 6: argument types
@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--arch", "vgg16", "--max-per-genre", "-1"], "argument --max-per-genre: -1 is outside 1..10000"),
        (["train", "--arch", "vgg16", "--max-per-genre", "0"], "argument --max-per-genre: 0 is outside 1..10000"),
        (["train", "--arch", "vgg16", "--batch-size", "0"], "argument --batch-size: 0 is outside 1..1024"),
        (["train", "--arch", "vgg16", "--learning-rate", "nan"], "argument --learning-rate: nan is outside 1e-06..1"),
        (["train", "--arch", "vgg16", "--learning-rate", "-1"], "argument --learning-rate: -1 is outside 1e-06..1"),
        (["train", "--arch", "vgg16", "--epochs", "0"], "argument --epochs: 0 is outside 1..1000"),
        (["train", "--arch", "vgg16", "--input-size", "8"], "argument --input-size: 8 is outside 32..512"),
        (["train", "--arch", "vgg16", "--chunk-seconds", "inf"], "argument --chunk-seconds: inf is outside 1..600"),
        (["train", "--arch", "vgg16", "--seed", "-3"], "argument --seed: -3 is outside 0..4294967295"),
        (["recommend", "run", "q", "-k", "-1"], "argument -k: -1 is outside 1..100"),
        (["recommend", "run", "q", "-k", "two"], "argument -k: 'two' is not a whole number in 1..100"),
        (["prepare", "demo", "--input-size", "16"], "argument --input-size: 16 is outside 32..512"),
    ],
)
def test_cli_arguments_are_checked_with_clear_messages(argv, words):
    proc = subprocess.run(
        [sys.executable, "-m", "genrec", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("epochs", 0, "--epochs 0"),
        ("batch_size", 0, "--batch-size 0"),
        ("input_size", 8, "--input-size 8"),
        ("max_per_genre", 0, "--max-per-genre 0"),
        ("learning_rate", float("nan"), "--learning-rate nan"),
    ],
)
def test_train_config_refuses_the_same_settings(field, value, words):
    from genrec.training.trainer import TrainConfig

    with pytest.raises(GenrecError, match=words):
        TrainConfig(arch="vgg16", **{field: value})


# --------------------------------------------------------------------------- 7: stale leftovers
def _age(folder: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (stamp, stamp), follow_symlinks=False)


def test_stale_work_folders_are_removed_and_reported(tmp_path, capsys):
    runs = tmp_path / "models"
    old, fresh = runs / ".tmp-vgg16-demo-20240101-000000-abcd", runs / ".tmp-resnet50-demo-now-efgh"
    for folder in (old, fresh):
        folder.mkdir(parents=True)
        (folder / "model.keras").write_bytes(b"x" * 1000)
    _age(old, STALE_WORK_SECONDS + 60)
    _age(fresh, STALE_WORK_SECONDS - 600)  # could still be a build in progress: kept
    assert main(["runs", "--dir", str(runs)]) == 0
    out = capsys.readouterr().out
    assert not old.exists() and fresh.exists()
    assert f"removed {old}" in out and "interrupted" in out

    from genrec.data.download import extract_archive

    work = tmp_path / "dl"
    left = work / ".genres.extracting-k1ll3d"
    (left / "blues").mkdir(parents=True)
    _age(left, STALE_WORK_SECONDS + 60)
    archive = work / "g.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("blues/a.txt")
        tar.addfile(info, io.BytesIO(b""))
    extract_archive(archive, work / "genres", progress=False)
    assert not left.exists() and (work / "genres" / "blues" / "a.txt").exists()


# --------------------------------------------------------------------------- 8: messages that name things
def test_upload_decode_error_names_the_upload_not_a_python_object():
    data = bytearray(D_wav(tone(4.0)))
    data[40:] = np.random.default_rng(1).bytes(len(data) - 40)  # a WAV header, then garbage
    data[20:22] = b"\x34\x12"  # a sample format libsndfile does not know
    with pytest.raises(AudioError) as err:
        queries.read_upload(bytes(data), "take-7.wav")
    assert str(err.value).startswith("take-7.wav: ") and "BytesIO" not in str(err.value)


def D_wav(y: np.ndarray) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, y, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def test_random_mp3_says_not_an_mp3_and_prints_nothing(tmp_path, capfd):
    junk = tmp_path / "random.mp3"
    junk.write_bytes(np.random.default_rng(3).bytes(20_000))
    with pytest.raises(AudioError, match=r"random\.mp3: not an MP3 file") as err:
        load_audio(junk)
    assert "pipe" not in str(err.value)
    tagged = tmp_path / "tagged.mp3"  # an ID3 tag, then garbage: reaches libmpg123, which complains on fd 2
    tagged.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + np.random.default_rng(5).bytes(20_000))
    with pytest.raises(AudioError, match=r"tagged\.mp3: could not decode") as err:
        load_audio(tagged)
    assert "pipe" not in str(err.value)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


@slow
def test_truncated_model_is_damaged_not_missing(tiny_runs, tmp_path):
    run_dir = copy_run(tiny_runs["vgg16"], tmp_path, "cut")
    _truncate(run_dir / "model.keras")
    with pytest.raises(RunError, match=r"model\.keras: the model file is damaged or incomplete") as err:
        Run.open(run_dir)
    assert "not found" not in str(err.value).lower()


def test_scan_names_empty_files_folders_and_links(tmp_path):
    root = tmp_path / "genres"
    for n in range(3):
        write_audio(root / "pop" / f"pop.{n:05d}.wav", tone(3.0, seed=n))
    (root / "pop" / "pop.00010.wav").write_bytes(b"")
    (root / "pop" / "pop.00011.wav").mkdir()
    outside = write_audio(tmp_path / "elsewhere" / "x.wav", tone(3.0))
    (root / "pop" / "pop.00012.wav").symlink_to(outside)
    (root / "pop" / "pop.00013.wav").symlink_to(tmp_path / "gone.wav")
    (root / "pop" / "pop.00014.wav").symlink_to(root / "pop" / "pop.00000.wav")  # inside: fine
    skipped = {Path(p).name: why for p, why in load_gtzan(root).skipped}
    assert skipped == {
        "pop.00010.wav": "is empty (0 bytes)",
        "pop.00011.wav": "is a folder, not a file",
        "pop.00012.wav": f"is a symlink to {outside.resolve()}, outside the library folder; copy the file "
        f"into the library",
        "pop.00013.wav": f"is a broken symlink (to {tmp_path / 'gone.wav'})",
    }


# --------------------------------------------------------------------------- 9: upload limits
def test_upload_limit_is_one_mib_constant_for_widget_and_app():
    limit = queries.MAX_UPLOAD_MIB * 2**20
    assert queries.upload_widget_limit_mb() * 10**6 >= limit  # the widget (decimal MB) lets every allowed file in
    just_under = D_wav(np.tile(tone(10.0), int((limit - 2**20) / (SAMPLE_RATE * 2 * 10)) + 1))
    assert limit - 2**20 < len(just_under) < limit
    assert queries.read_upload(just_under, "long.wav").samples.shape == (30 * SAMPLE_RATE,)
    with pytest.raises(AudioError, match=rf"over the {queries.MAX_UPLOAD_MIB} MiB limit"):
        queries.read_upload(b"RIFF" + b"\0" * limit, "huge.wav")
    assert "m4a" in queries.upload_types() and "wav" in queries.upload_types()


@slow
def test_m4a_upload_gets_the_apps_ffmpeg_hint(tiny_runs, tmp_path, monkeypatch):
    from tests.helpers.app import no_traceback, start

    runs = tmp_path / "models"
    copy_run(tiny_runs["vgg16"], runs, tiny_runs["vgg16"].name)
    monkeypatch.setenv("GENREC_RUNS", str(runs))
    at = start()
    at.segmented_control(key="query_source").set_value("upload").run()
    at.file_uploader(key="upload").set_value(("song.m4a", b"\0\0\0\x20ftypM4A " + b"\0" * 100, "audio/mp4")).run()
    no_traceback(at)
    assert len(at.error) == 1 and "song.m4a" in at.error[0].value and "ffmpeg -i" in at.error[0].value
    assert at.title and "Compare" in at.title[0].value  # the page is still there


# --------------------------------------------------------------------------- 10: escaped track ids
@slow
def test_track_ids_and_csv_text_are_escaped_in_html(tiny_runs, tmp_path, monkeypatch):
    from tests.helpers.app import no_traceback, open_page, start

    runs = tmp_path / "models"
    run_dir = copy_run(tiny_runs["vgg16"], runs, tiny_runs["vgg16"].name)
    hostile = '<img src=x onerror="alert(1)">'
    tracks = pd.read_csv(run_dir / "tracks.csv", dtype=str, keep_default_na=False)
    tracks.loc[0, "track_id"] = hostile
    tracks["artist"] = "<b>bold</b>"
    tracks.to_csv(run_dir / "tracks.csv", index=False)
    with np.load(run_dir / "embeddings.npz") as data:
        arrays = dict(data)
    arrays["track_id"] = tracks["track_id"].to_numpy(dtype=str)
    np.savez(run_dir / "embeddings.npz", **arrays)
    monkeypatch.setenv("GENREC_RUNS", str(runs))
    at = start()
    at.selectbox(key="pick_track").set_value(hostile).run()
    no_traceback(at)
    open_page(at, "library_map")
    at.selectbox(key="map_track").set_value(hostile).run()
    no_traceback(at)
    html_blocks = [m.value for m in at.markdown if m.proto.allow_html]
    assert html_blocks and any("&lt;img" in m for m in html_blocks)
    assert not any("<img" in m or "<b>" in m for m in html_blocks)


# --------------------------------------------------------------------------- 11: readable run folders
@slow
def test_run_folders_are_readable_by_other_users(tiny_runs):
    mask = os.umask(0o022)
    os.umask(mask)
    for run_dir in tiny_runs.values():
        assert run_dir.stat().st_mode & 0o777 == 0o755 & ~mask
