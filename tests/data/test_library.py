"""genrec.data.library: GTZAN layouts, unreadable files, the split protocol and its persistence."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genrec.config import GENRES
from genrec.data.library import Library, load_gtzan, read_split_files, scan_gtzan, stratified_split
from genrec.errors import LibraryError
from tests.helpers.audio import tone, write_audio
from tests.helpers.shared import GTZAN_SAMPLE, SPLITS

THREE = GENRES[:3]  # blues, classical, country


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh GENREC_HOME per test, so saved splits can be inspected without neighbours' files."""
    path = tmp_path / "home"
    monkeypatch.setenv("GENREC_HOME", str(path))
    return path


def audio_folder(parent: Path, per_genre: int = 6, genres=THREE, ext: str = "wav") -> Path:
    """<parent>/<g>/<g>.000NN.<ext> holding 3-s clips, the shortest the scan (like training) accepts."""
    for gi, g in enumerate(genres):
        for n in range(per_genre):
            write_audio(parent / g / f"{g}.{n:05d}.{ext}", tone(3.0, seed=gi * 100 + n))
    return parent


def image_folder(parent: Path, per_genre: int = 6, genres=THREE) -> Path:
    """Kaggle-style <parent>/<g>/<g>000NN.png spectrogram pictures."""
    from PIL import Image

    for gi, g in enumerate(genres):
        (parent / g).mkdir(parents=True, exist_ok=True)
        for n in range(per_genre):
            pixels = np.full((8, 12, 3), (gi * 40 + n) % 256, np.uint8)
            Image.fromarray(pixels).save(parent / g / f"{g}{n:05d}.png")
    return parent


def split_counts(lib: Library) -> dict[str, Counter]:
    return {g: Counter(rows["split"]) for g, rows in lib.tracks.groupby("genre")}


# ----------------------------------------------------------------- layouts


def test_original_layout_au(tmp_path, home):
    root = audio_folder(tmp_path / "gtzan" / "genres", ext="au")
    lib = load_gtzan(tmp_path / "gtzan")  # the folder above genres/ works too
    assert lib.kind == "audio" and not lib.synthetic and lib.skipped == []
    assert len(lib.tracks) == 18
    assert list(lib.tracks.columns) == ["track_id", "path", "genre", "split", "artist"]
    row = lib.track("classical.00004")
    assert row["genre"] == "classical"
    assert Path(row["path"]) == root / "classical" / "classical.00004.au"
    assert set(lib.tracks["track_id"]) == {f"{g}.{n:05d}" for g in THREE for n in range(6)}


def test_kaggle_audio_layout_found_from_the_kaggle_root(tmp_path, home):
    kaggle = tmp_path / "kaggle"
    audio_folder(kaggle / "Data" / "genres_original")
    (kaggle / "Data" / "features_30_sec.csv").write_text("filename,label\n")  # other Kaggle files are ignored
    lib = load_gtzan(kaggle / "Data" / "..")
    assert lib.kind == "audio" and len(lib.tracks) == 18
    assert all("genres_original" in p for p in lib.tracks["path"])
    assert lib.name == "kaggle"  # named after the folder, not ".."


def test_library_given_as_dot_is_named_after_its_folder(tmp_path, home, monkeypatch):
    audio_folder(tmp_path / "genres", per_genre=1)
    monkeypatch.chdir(tmp_path / "genres")
    lib = load_gtzan(".")
    assert lib.name == "genres" and len(lib.tracks) == 3
    assert next(p.name for p in (home / "libraries").iterdir()).startswith("genres-")


def test_kaggle_image_layout(tmp_path, home):
    kaggle = tmp_path / "kaggle"
    image_folder(kaggle / "Data" / "images_original")
    lib = load_gtzan(kaggle, kind="image")
    assert lib.kind == "image" and len(lib.tracks) == 18
    assert lib.track("country.00002")["path"].endswith("images_original/country/country00002.png")
    assert load_gtzan(kaggle).kind == "image"  # only images present: auto-detection finds them


def test_auto_detection_prefers_audio_when_both_exist(tmp_path, home):
    kaggle = tmp_path / "kaggle"
    audio_folder(kaggle / "Data" / "genres_original", per_genre=4)
    image_folder(kaggle / "Data" / "images_original", per_genre=6)
    auto = load_gtzan(kaggle)
    assert auto.kind == "audio" and len(auto.tracks) == 12
    assert all(p.endswith(".wav") for p in auto.tracks["path"])
    images = load_gtzan(kaggle, kind="image")
    assert images.kind == "image" and len(images.tracks) == 18


def test_names_that_are_not_gtzan_tracks_are_ignored(tmp_path, home):
    root = audio_folder(tmp_path / "genres", per_genre=3)
    write_audio(root / "blues" / "blues.00099.flac", tone(0.25))  # not a GTZAN extension
    write_audio(root / "rock" / "blues.00098.wav", tone(0.25))  # genre folder disagrees with the name
    write_audio(root / "polka" / "polka.00001.wav", tone(0.25))  # not a GTZAN genre
    write_audio(root / "blues" / "blues.1.wav", tone(0.25))  # not five digits
    (root / "blues" / "notes.txt").write_text("hello")
    lib = load_gtzan(root)
    assert len(lib.tracks) == 9 and lib.skipped == []


def test_undecodable_file_is_skipped_with_a_warning(tmp_path, home, caplog):
    root = audio_folder(tmp_path / "genres", per_genre=6, genres=("jazz", "rock"))
    bad = root / "jazz" / "jazz.00054.wav"
    bad.write_bytes(np.random.default_rng(54).bytes(4096))
    with caplog.at_level(logging.WARNING, logger="genrec.data.library"):
        lib = load_gtzan(root)
    assert "jazz.00054" not in set(lib.tracks["track_id"])
    assert len(lib.tracks) == 12
    assert len(lib.skipped) == 1
    path, reason = lib.skipped[0]
    assert Path(path) == bad and "not a WAV file" in reason
    assert any("jazz.00054.wav" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_zero_length_audio_and_broken_png_are_skipped(tmp_path, home):
    root = audio_folder(tmp_path / "genres", per_genre=3)
    write_audio(root / "blues" / "blues.00007.wav", np.zeros(0, np.float32))
    lib = load_gtzan(root)
    assert dict(lib.skipped)[str(root / "blues" / "blues.00007.wav")].startswith("contains no audio samples")

    pics = image_folder(tmp_path / "images", per_genre=3)
    (pics / "blues" / "blues00009.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    lib = load_gtzan(pics, kind="image")
    assert len(lib.tracks) == 9 and "blues00009.png" in lib.skipped[0][0]


def test_a_track_present_twice_is_kept_once(tmp_path, home):
    audio_folder(tmp_path / "both" / "a", per_genre=2, genres=("pop",))
    audio_folder(tmp_path / "both" / "b", per_genre=3, genres=("pop",))
    lib = load_gtzan(tmp_path / "both")
    assert sorted(lib.tracks["track_id"]) == ["pop.00000", "pop.00001", "pop.00002"]
    assert sorted(reason for _, reason in lib.skipped) == [
        "duplicate of track pop.00000",
        "duplicate of track pop.00001",
    ]


# ----------------------------------------------------------------- refusals


def test_missing_folder(tmp_path):
    with pytest.raises(LibraryError, match=r"nope: folder not found"):
        load_gtzan(tmp_path / "nope")


def test_file_instead_of_folder(tmp_path):
    f = tmp_path / "gtzan.tar.gz"
    f.write_bytes(b"x")
    with pytest.raises(LibraryError, match=r"gtzan\.tar\.gz: is a file, not a folder"):
        load_gtzan(f)


def test_folder_without_tracks(tmp_path):
    (tmp_path / "empty" / "blues").mkdir(parents=True)
    (tmp_path / "empty" / "blues" / "song.mp3").write_bytes(b"x")
    with pytest.raises(LibraryError) as info:
        load_gtzan(tmp_path / "empty")
    msg = str(info.value)
    assert str(tmp_path / "empty") in msg and "no GTZAN tracks found" in msg
    assert "<genre>/<genre>.00000.au|wav" in msg  # says what it looked for


def test_folder_whose_tracks_are_all_unreadable(tmp_path, home):
    root = tmp_path / "broken"
    for n in range(3):
        path = root / "jazz" / f"jazz.{n:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF" + bytes(40))
    with pytest.raises(LibraryError) as info:
        load_gtzan(root)
    msg = str(info.value)
    assert str(root) in msg and "none of the 3" in msg and "jazz.00000.wav" in msg


def test_scan_refuses_an_image_kind_folder_with_only_audio(tmp_path):
    root = audio_folder(tmp_path / "genres", per_genre=1)
    with pytest.raises(LibraryError, match="no GTZAN tracks found"):
        scan_gtzan(root, kind="image")


# ----------------------------------------------------------------- stratified_split


def _genres(per_genre: int, genres=GENRES) -> pd.Series:
    return pd.Series([g for g in genres for _ in range(per_genre)])


@pytest.mark.parametrize(
    "per_genre,expected",
    [
        (100, (80, 10, 10)),
        (6, (4, 1, 1)),
        (10, (8, 1, 1)),
        (3, (1, 1, 1)),
        (2, (2, 0, 0)),
        (1, (1, 0, 0)),
    ],
)
def test_stratified_split_sizes_per_genre(per_genre, expected):
    genres = _genres(per_genre)
    splits = stratified_split(genres, seed=0)
    assert len(splits) == len(genres)
    assert set(splits) <= {"train", "valid", "test"}  # every track assigned
    for g in GENRES:
        c = Counter(splits[(genres == g).to_numpy()])
        assert (c["train"], c["valid"], c["test"]) == expected, g


def test_stratified_split_with_unequal_genres():
    genres = (
        pd.Series(["rock"] * 50 + ["jazz"] * 20 + ["pop"] * 5).sample(frac=1, random_state=3).reset_index(drop=True)
    )
    splits = stratified_split(genres, seed=0)
    c = {g: Counter(splits[(genres == g).to_numpy()]) for g in ("rock", "jazz", "pop")}
    assert (c["rock"]["train"], c["rock"]["valid"], c["rock"]["test"]) == (40, 5, 5)
    assert (c["jazz"]["train"], c["jazz"]["valid"], c["jazz"]["test"]) == (16, 2, 2)
    assert (c["pop"]["train"], c["pop"]["valid"], c["pop"]["test"]) == (3, 1, 1)


def test_stratified_split_is_seeded():
    genres = _genres(20)
    a, b = stratified_split(genres, seed=7), stratified_split(genres, seed=7)
    np.testing.assert_array_equal(a, b)
    c = stratified_split(genres, seed=8)
    assert (a != c).any()
    # A different seed picks different members, not different sizes.
    for g in GENRES:
        mask = (genres == g).to_numpy()
        assert Counter(a[mask]) == Counter(c[mask])


def test_stratified_split_has_no_overlap_and_shuffles_within_genre():
    genres = _genres(100)
    splits = stratified_split(genres, seed=0)
    ids = np.arange(len(genres))
    parts = {s: set(ids[splits == s]) for s in ("train", "valid", "test")}
    assert (
        not (parts["train"] & parts["valid"])
        and not (parts["train"] & parts["test"])
        and not (parts["valid"] & parts["test"])
    )
    assert set().union(*parts.values()) == set(ids)
    # Not simply the last clips of each genre: the test set of blues (rows 0..99) is spread out.
    blues_test = sorted(i for i in parts["test"] if i < 100)
    assert blues_test != list(range(90, 100))


# ----------------------------------------------------------------- saved split


def test_split_is_saved_under_genrec_home_and_reused(tmp_path, home, monkeypatch):
    root = audio_folder(tmp_path / "genres")
    first = load_gtzan(root)
    assert {g: (c["train"], c["valid"], c["test"]) for g, c in split_counts(first).items()} == {
        g: (4, 1, 1) for g in THREE
    }

    saved = list((home / "libraries").glob("*/split.csv"))
    assert len(saved) == 1 and saved[0].parent.name.startswith("genres-")
    table = pd.read_csv(saved[0], dtype=str)
    assert dict(zip(table["track_id"], table["split"])) == dict(zip(first.tracks["track_id"], first.tracks["split"]))
    meta = json.loads((saved[0].parent / "split.json").read_text())
    assert meta["method"] == first.split_method == "stratified 80/10/10 per genre, seed 0"

    # The second load reads the saved split: it never recomputes one...
    def no_recompute(*a, **k):
        raise AssertionError("split recomputed although a saved one matches")

    monkeypatch.setattr("genrec.data.library.stratified_split", no_recompute)
    second = load_gtzan(root)
    pd.testing.assert_frame_equal(first.tracks, second.tracks)
    assert second.fingerprint() == first.fingerprint()

    # ...so an edited saved split is what the library gets.
    table.loc[table["track_id"] == "blues.00000", "split"] = "test"
    table.to_csv(saved[0], index=False)
    assert load_gtzan(root).track("blues.00000")["split"] == "test"


def test_saved_split_is_recomputed_for_another_seed_or_another_track_list(tmp_path, home):
    root = audio_folder(tmp_path / "genres")
    seed0 = load_gtzan(root, seed=0)
    seed1 = load_gtzan(root, seed=1)
    assert seed1.split_method.endswith("seed 1")
    assert (seed0.tracks["split"] != seed1.tracks["split"]).any()
    assert seed0.fingerprint() != seed1.fingerprint()

    write_audio(root / "blues" / "blues.00006.wav", tone(3.0))  # a seventh blues clip
    grown = load_gtzan(root, seed=1)
    assert len(grown.tracks) == 19 and grown.track("blues.00006")["split"] in {"train", "valid", "test"}
    saved = pd.read_csv(next((home / "libraries").glob("*/split.csv")), dtype=str)
    assert len(saved) == 19


# ----------------------------------------------------------------- split files


def write_split_files(folder: Path, train, valid, test, suffix: str = "_filtered") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, items in (("train", train), ("valid", valid), ("test", test)):
        (folder / f"{name}{suffix}.txt").write_text("".join(f"{i}\n" for i in items))
    return folder


def test_read_split_files(tmp_path):
    folder = write_split_files(
        tmp_path / "splits",
        ["blues/blues.00000.wav", "blues/blues.00001.au"],
        ["classical/classical.00003.wav"],
        ["country00004.png", "country/country.00005.wav"],
    )
    assert read_split_files(folder) == {
        "blues.00000": "train",
        "blues.00001": "train",
        "classical.00003": "valid",
        "country.00004": "test",
        "country.00005": "test",
    }


def test_load_gtzan_with_split_dir_marks_unlisted_tracks(tmp_path, home):
    root = audio_folder(tmp_path / "genres")
    folder = write_split_files(
        tmp_path / "splits",
        [f"blues/blues.{n:05d}.wav" for n in range(4)] + ["rock/rock.00001.wav"],
        ["blues/blues.00004.wav", "classical/classical.00000.wav"],
        ["country/country.00005.wav"],
    )
    lib = load_gtzan(root, split_dir=folder)
    split = dict(zip(lib.tracks["track_id"], lib.tracks["split"]))
    assert [split[f"blues.{n:05d}"] for n in range(6)] == ["train"] * 4 + ["valid", "unlisted"]
    assert split["classical.00000"] == "valid" and split["country.00005"] == "test"
    assert Counter(split.values()) == {"train": 4, "valid": 2, "test": 1, "unlisted": 11}
    assert "rock.00001" not in split  # listed but absent from the folder: simply not there
    assert lib.split_method == f"split files {folder.resolve()}"
    assert list(lib.summary().columns) == ["train", "valid", "test", "unlisted", "total"]
    assert len(lib.split("valid")) == 2


def test_split_dir_and_stratified_have_different_fingerprints(tmp_path, home):
    root = audio_folder(tmp_path / "genres")
    folder = write_split_files(
        tmp_path / "s", ["blues/blues.00000.wav"], ["blues/blues.00001.wav"], ["blues/blues.00002.wav"]
    )
    assert load_gtzan(root, split_dir=folder).fingerprint() != load_gtzan(root).fingerprint()
    assert load_gtzan(root, split_dir=folder).fingerprint() == load_gtzan(root, split_dir=folder).fingerprint()


def test_malformed_split_line(tmp_path):
    folder = write_split_files(tmp_path / "splits", ["blues/blues.00000.wav", "blues/track-one.wav"], [], [])
    with pytest.raises(LibraryError) as info:
        read_split_files(folder)
    msg = str(info.value)
    assert "train_filtered.txt" in msg and "blues/track-one.wav" in msg


def test_missing_split_folder_or_file(tmp_path):
    with pytest.raises(LibraryError, match="split folder not found"):
        read_split_files(tmp_path / "absent")
    folder = tmp_path / "partial"
    folder.mkdir()
    (folder / "train.txt").write_text("blues/blues.00000.wav\n")
    (folder / "valid.txt").write_text("blues/blues.00001.wav\n")
    with pytest.raises(LibraryError, match=r"no test\*\.txt split file"):
        read_split_files(folder)


# ----------------------------------------------------------------- Library helpers


def test_summary_counts(tmp_path, home):
    root = audio_folder(tmp_path / "genres", per_genre=6)
    audio_folder(root, per_genre=10, genres=("rock",))
    s = load_gtzan(root).summary()
    assert list(s.columns) == ["train", "valid", "test", "total"]
    assert list(s.index) == ["blues", "classical", "country", "rock", "total"]
    assert s.loc["blues"].tolist() == [4, 1, 1, 6]
    assert s.loc["rock"].tolist() == [8, 1, 1, 10]
    assert s.loc["total"].tolist() == [20, 4, 4, 28]


def test_fingerprint_is_stable_and_sensitive(tmp_path, home):
    root = audio_folder(tmp_path / "genres")
    lib = load_gtzan(root)
    assert lib.fingerprint() == load_gtzan(root).fingerprint()
    assert len(lib.fingerprint()) == 12
    changed = lib.tracks.copy()
    i = changed.index[changed["split"] == "train"][0]
    changed.loc[i, "split"] = "test"
    assert Library(lib.name, lib.root, lib.kind, changed).fingerprint() != lib.fingerprint()
    relabelled = lib.tracks.copy()
    relabelled.loc[0, "genre"] = "rock"
    assert Library(lib.name, lib.root, lib.kind, relabelled).fingerprint() != lib.fingerprint()
    # Paths do not matter: the same clips elsewhere are the same data.
    moved = lib.tracks.assign(path="/elsewhere/" + lib.tracks["track_id"])
    assert Library("other", Path("/elsewhere"), lib.kind, moved).fingerprint() == lib.fingerprint()


def test_track_lookup_error_suggests_ids(tmp_path, home):
    lib = load_gtzan(audio_folder(tmp_path / "genres"))
    with pytest.raises(LibraryError) as info:
        lib.track("blues.00042")
    msg = str(info.value)
    assert "blues.00042" in msg and "genres" in msg and "blues.00000" in msg
    with pytest.raises(LibraryError) as info:
        lib.track("nothing")
    assert "Known ids" not in str(info.value)


# ----------------------------------------------------------------- the real GTZAN sample


def test_real_sample_is_found_whole(gtzan_sample, home):
    lib = load_gtzan(gtzan_sample)
    assert lib.kind == "audio" and lib.skipped == []
    assert len(lib.tracks) == 60
    assert lib.tracks["genre"].value_counts().to_dict() == {g: 6 for g in GENRES}
    assert lib.summary().loc["total"].tolist() == [40, 10, 10, 60]  # 4/1/1 of each 6


def test_real_sample_with_the_artist_filtered_split(gtzan_sample, home):
    # Independent count: which split file lists each sample clip, read straight from the text files.
    listed = {}
    for split in ("train", "valid", "test"):
        for line in (SPLITS / f"{split}_filtered.txt").read_text().splitlines():
            if line.strip():
                listed[Path(line.strip()).stem] = split
    clips = sorted(p.stem for p in GTZAN_SAMPLE.rglob("*.wav"))
    assert len(clips) == 60
    expected = Counter(listed.get(c, "unlisted") for c in clips)

    lib = load_gtzan(gtzan_sample, split_dir=SPLITS)
    assert Counter(lib.tracks["split"]) == expected
    assert sum(expected.values()) == 60
    per_genre = lib.summary()
    assert per_genre.loc["total", "total"] == 60
    for g in GENRES:
        assert per_genre.loc[g, "total"] == 6
