"""genrec.audio.cache (content- and parameter-keyed image cache) and the `library` / `prepare` commands."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest

import genrec.audio.cache as cache
from genrec.audio.cache import cache_home, cached_images, library_images
from genrec.audio.decode import load_audio
from genrec.audio.spectrogram import audio_to_images
from genrec.cli import main
from genrec.config import IMAGE_SIZE
from genrec.errors import LibraryError
from tests.helpers.audio import make_gtzan_folder, tone, write_audio


@pytest.fixture(autouse=True)
def fresh_home(tmp_path, monkeypatch) -> Path:
    """Each test gets an empty cache: the session-wide home would hold other tests' entries."""
    home = tmp_path / "home"
    monkeypatch.setenv("GENREC_HOME", str(home))
    return home


def cache_files() -> list[Path]:
    return sorted(cache_home().rglob("*.npy"))


@pytest.fixture
def clip(tmp_path) -> Path:
    return write_audio(tmp_path / "clip.wav", tone(6.0, freq=330.0))


# ----------------------------------------------------------------- cached_images


def test_second_call_is_a_hit_with_identical_bytes(clip):
    first, hit1 = cached_images(clip)
    assert not hit1
    assert first.dtype == np.uint8 and first.shape == (1, IMAGE_SIZE, IMAGE_SIZE, 3)
    assert len(cache_files()) == 1
    second, hit2 = cached_images(clip)
    assert hit2
    assert second.dtype == np.uint8 and second.tobytes() == first.tobytes()
    assert len(cache_files()) == 1


def test_cached_images_equal_the_app_path_exactly(clip):
    direct = audio_to_images(load_audio(clip))  # what the app computes for an uploaded file
    stored, _ = cached_images(clip)
    np.testing.assert_array_equal(stored, direct.astype(np.uint8))
    np.testing.assert_array_equal(stored.astype(np.float32), direct)  # nothing lost in the uint8 cast
    reloaded, hit = cached_images(clip)
    assert hit
    np.testing.assert_array_equal(reloaded.astype(np.float32), direct)

    chunked_direct = audio_to_images(load_audio(clip), chunk_seconds=10.0, size=64)
    chunked, _ = cached_images(clip, chunk_seconds=10.0, size=64)
    np.testing.assert_array_equal(chunked.astype(np.float32), chunked_direct)


def test_key_follows_content_not_name(clip, tmp_path):
    before, _ = cached_images(clip)
    write_audio(clip, tone(6.0, freq=1760.0, seed=9))  # same name and size, different music
    after, hit = cached_images(clip)
    assert not hit
    assert not np.array_equal(after, before)
    # The tone moved up (330 Hz -> 1760 Hz): its bright rows move towards the top of the picture.
    music = slice(0, IMAGE_SIZE // 6)  # the first 5 s of the 30-s window; the rest is padding
    assert np.argmax(after[0, :, music, 0].mean(axis=1)) < np.argmax(before[0, :, music, 0].mean(axis=1)) - 20
    np.testing.assert_array_equal(after.astype(np.float32), audio_to_images(load_audio(clip)))

    # An identical copy under another name shares the entry.
    copy = tmp_path / "elsewhere" / "copy.wav"
    copy.parent.mkdir()
    copy.write_bytes(clip.read_bytes())
    again, hit = cached_images(copy)
    assert hit and again.tobytes() == after.tobytes()
    assert len(cache_files()) == 2


def test_key_follows_parameters(clip):
    cached_images(clip)
    small, hit = cached_images(clip, size=32)
    assert not hit and small.shape == (1, 32, 32, 3)
    chunks, hit = cached_images(clip, chunk_seconds=10.0)
    assert not hit and chunks.shape == (3, IMAGE_SIZE, IMAGE_SIZE, 3)  # the 30-s window in 10-s chunks
    other_chunks, hit = cached_images(clip, chunk_seconds=15.0)
    assert not hit and other_chunks.shape == (2, IMAGE_SIZE, IMAGE_SIZE, 3)
    window, hit = cached_images(clip, clip_seconds=12.0, chunk_seconds=3.0)
    assert not hit and window.shape == (4, IMAGE_SIZE, IMAGE_SIZE, 3)  # a 12-s window in 3-s chunks
    assert len(cache_files()) == 5
    for kw in (
        {},
        {"size": 32},
        {"chunk_seconds": 10.0},
        {"chunk_seconds": 15.0},
        {"clip_seconds": 12.0, "chunk_seconds": 3.0},
    ):
        assert cached_images(clip, **kw)[1], kw


def test_images_of_an_older_spectrogram_version_are_not_reused(clip, monkeypatch):
    """Each change of the spectrogram's arithmetic bumps CACHE_VERSION, so images made the old way are never
    mixed with new ones: the same file and parameters under another version are a miss."""
    with monkeypatch.context() as older_genrec:
        older_genrec.setattr(cache, "CACHE_VERSION", cache.CACHE_VERSION - 1)
        assert not cached_images(clip)[1]
    current, hit = cached_images(clip)
    assert not hit and len(cache_files()) == 2
    np.testing.assert_array_equal(current, audio_to_images(load_audio(clip)).astype(np.uint8))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_damaged_cache_file_is_recomputed(clip, damage):
    good, _ = cached_images(clip)
    [entry] = cache_files()
    data = entry.read_bytes()
    entry.write_bytes({"garbage": b"not a numpy file" * 50, "truncated": data[: len(data) // 2], "empty": b""}[damage])
    again, hit = cached_images(clip)
    assert not hit
    assert again.tobytes() == good.tobytes()
    assert entry.read_bytes() == data  # the entry is whole again
    assert cached_images(clip)[1]


def test_cache_lives_under_genrec_home(clip, fresh_home):
    cached_images(clip)
    [entry] = cache_files()
    assert entry.is_relative_to(fresh_home / "spectrograms")
    assert entry.parent.name == entry.stem[:2]
    assert not list(entry.parent.glob("*.tmp")) and len(list(entry.parent.iterdir())) == 1  # no leftovers


def test_image_library_files(tmp_path):
    from PIL import Image

    png = tmp_path / "blues00000.png"
    Image.fromarray(np.tile(np.arange(40, dtype=np.uint8)[:, None, None] * 6, (1, 50, 3))).save(png)
    images, hit = cached_images(png, kind="image", size=20)
    assert not hit and images.shape == (1, 20, 20, 3) and images.dtype == np.uint8
    assert images[0, 0, 0, 0] < images[0, -1, 0, 0]  # the vertical ramp survives the resize
    assert cached_images(png, kind="image", size=20)[1]
    with pytest.raises(LibraryError, match="cannot be cut into chunks"):
        cached_images(png, kind="image", chunk_seconds=3.0)


# ----------------------------------------------------------------- library_images


def test_library_images_owners_hits_and_progress(tmp_path):
    paths = [write_audio(tmp_path / f"c{i}.wav", tone(4.0, freq=200.0 * (i + 1), seed=i)) for i in range(3)]
    calls = []
    images, owners, hits = library_images(
        paths, chunk_seconds=10.0, size=32, progress=lambda d, t: calls.append((d, t))
    )
    assert images.shape == (9, 32, 32, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(owners, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert hits == 0
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]  # the bar shows before the first, slow, clip
    # Image i belongs to the file its owner names.
    for i in (0, 4, 8):
        own, _ = cached_images(paths[owners[i]], chunk_seconds=10.0, size=32)
        np.testing.assert_array_equal(images[i], own[i % 3])

    again, owners2, hits2 = library_images([str(p) for p in paths[::-1]], chunk_seconds=10.0, size=32)
    assert hits2 == 3
    np.testing.assert_array_equal(owners2, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(again[:3], images[6:])  # reversed order, same pictures


def test_warming_stores_what_library_images_then_reads_last_file_first_and_stops_when_told(tmp_path, monkeypatch):
    """`genrec build` makes the spectrograms in a thread while its training child starts: the child then finds
    every one cached, identical to computing them itself; the thread goes last to first and stops on request."""
    paths = [write_audio(tmp_path / f"c{i}.wav", tone(4.0, freq=150.0 * (i + 1), seed=i)) for i in range(3)]
    stop = threading.Event()
    stop.set()
    cache.warm_library_images(paths, chunk_seconds=10.0, size=32, stop=stop)
    assert library_images(paths[:1], chunk_seconds=10.0, size=32)[2] == 0  # told to stop: nothing was made

    order = []
    real = cache.cached_images
    with monkeypatch.context() as patch:  # monkeypatch.undo() would also undo the autouse fixture's own home
        patch.setattr(cache, "cached_images", lambda p, *a: order.append(Path(p).name) or real(p, *a))
        cache.warm_library_images(paths, chunk_seconds=10.0, size=32)
    assert order == ["c2.wav", "c1.wav", "c0.wav"]
    warmed, _, hits = library_images(paths, chunk_seconds=10.0, size=32)
    assert hits == 3
    fresh = np.concatenate([audio_to_images(load_audio(p), chunk_seconds=10.0, size=32) for p in paths])
    np.testing.assert_array_equal(warmed, fresh.astype(np.uint8))


def test_library_images_of_nothing():
    images, owners, hits = library_images([], size=16)
    assert images.shape == (0, 16, 16, 3) and images.dtype == np.uint8
    assert owners.shape == (0,) and hits == 0


# ----------------------------------------------------------------- CLI: prepare


@pytest.fixture
def small_gtzan(tmp_path) -> Path:
    return make_gtzan_folder(tmp_path / "genres", per_genre=2, seconds=4.0, genres=("blues", "jazz", "rock"))


def test_prepare_twice_second_run_is_all_cached_and_decodes_nothing(small_gtzan, capsys, monkeypatch):
    assert main(["prepare", str(small_gtzan), "--input-size", "32"]) == 0
    out = capsys.readouterr().out
    assert "6 images for 6 clips; 0 of 6 clips were already cached" in out
    assert len(cache_files()) == 6

    def no_audio_work(*a, **k):
        raise AssertionError("compute_images called on a fully cached library")

    monkeypatch.setattr(cache, "compute_images", no_audio_work)
    monkeypatch.setattr("genrec.audio.decode.load_audio", no_audio_work)
    monkeypatch.setattr(cache, "load_audio", no_audio_work)  # cache's own reference to it
    assert main(["prepare", str(small_gtzan), "--input-size", "32"]) == 0
    assert "6 images for 6 clips; 6 of 6 clips were already cached" in capsys.readouterr().out

    # Another image size is a different cache entry: the guard above would now fire.
    with pytest.raises(AssertionError, match="compute_images called"):
        main(["prepare", str(small_gtzan), "--input-size", "48"])


def test_prepare_with_chunks(tmp_path, capsys):
    root = make_gtzan_folder(tmp_path / "genres", per_genre=1, seconds=4.0, genres=("blues", "jazz"))
    assert main(["prepare", str(root), "--input-size", "32", "--chunk-seconds", "10"]) == 0
    assert "6 images for 2 clips; 0 of 2 clips were already cached" in capsys.readouterr().out


def test_prepare_missing_folder(tmp_path, capsys):
    assert main(["prepare", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(tmp_path / "missing") in err


# ----------------------------------------------------------------- CLI: library


def test_library_command_prints_table_and_skipped_files(tmp_path, capsys):
    root = make_gtzan_folder(tmp_path / "genres", per_genre=6, seconds=3.5, genres=("blues", "jazz"))
    bad = root / "jazz" / "jazz.00054.wav"
    bad.write_bytes(np.random.default_rng(54).bytes(2048))

    assert main(["library", "gtzan", str(root)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("library: genres") and "12 clips" in lines[0]
    assert "split: stratified 80/10/10 per genre, seed 0" in out
    header = next(line for line in lines if "train" in line and "valid" in line)
    assert header.split() == ["split", "train", "valid", "test", "total"]
    rows = {
        line.split()[0]: [int(x) for x in line.split()[1:]]
        for line in lines
        if re.match(r"^(blues|jazz|total)\s+\d", line)
    }
    assert rows == {"blues": [4, 1, 1, 6], "jazz": [4, 1, 1, 6], "total": [8, 2, 2, 12]}
    assert "skipped 1 file(s) that cannot be used" in out
    assert any(str(bad) in line and "damaged or is something else renamed" in line for line in lines)


def test_library_command_with_split_dir(tmp_path, capsys):
    root = make_gtzan_folder(tmp_path / "genres", per_genre=3, seconds=3.5, genres=("pop",))
    splits = tmp_path / "splits"
    splits.mkdir()
    (splits / "train.txt").write_text("pop/pop.00000.wav\n")
    (splits / "valid.txt").write_text("pop/pop.00001.wav\n")
    (splits / "test.txt").write_text("")
    assert main(["library", "gtzan", str(root), "--split-dir", str(splits)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^pop\s+1\s+1\s+1\s+3$", out, re.M)  # train, valid, unlisted, total
    assert f"split files {splits.resolve()}" in out


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["library", "gtzan", "/missing/gtzan"], "/missing/gtzan: folder not found"),
        (["library", "gtzan"], "needs the GTZAN folder"),
    ],
)
def test_library_command_errors_exit_2_without_traceback(argv, needle, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and needle in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_library_command_rejects_unknown_source(capsys):
    assert main(["library", "fma", "/x"]) == 2
    assert "invalid choice" in capsys.readouterr().err
