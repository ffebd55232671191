"""The artist-filtered GTZAN split shipped with genrec, ``--split`` and what runs record about it."""

from __future__ import annotations

from collections import Counter

import pytest

from genrec.cli import main
from genrec.data.library import FILTERED_SPLIT_DIR, load_gtzan, read_split_files, resolve_split
from genrec.errors import GenrecError, LibraryError
from genrec.runs.reader import split_name
from genrec.training.trainer import select_tracks
from tests.helpers.audio import make_gtzan_folder
from tests.helpers.shared import SPLITS
from tests.helpers.splits import filtered_folder, shipped_lists


def test_the_shipped_lists_are_the_kereliuk_sturm_split():
    listed = shipped_lists()
    assert Counter(listed.values()) == {"train": 443, "valid": 197, "test": 290}  # 930 of GTZAN's 1000
    assert read_split_files(FILTERED_SPLIT_DIR) == listed
    if SPLITS.is_dir():  # the copy beside the project, where present, is the same list
        assert read_split_files(SPLITS) == listed


def test_resolve_split_names_and_errors(tmp_path):
    assert resolve_split("paper") == ("paper", None)
    assert resolve_split("filtered") == ("filtered", FILTERED_SPLIT_DIR)
    assert resolve_split("filtered", split_dir=tmp_path) == ("files", tmp_path)  # the older --split-dir wins
    assert resolve_split(str(tmp_path)) == ("files", tmp_path)
    with pytest.raises(LibraryError, match="not 'paper', 'filtered' or a folder"):
        resolve_split("filterd")


def test_filtered_split_marks_unlisted_tracks_and_runs_leave_them_out(tmp_path):
    root, expected, unlisted = filtered_folder(tmp_path / "genres")
    lib = load_gtzan(root, split="filtered")
    split = dict(zip(lib.tracks["track_id"], lib.tracks["split"]))
    assert split == {**expected, unlisted: "unlisted"}
    assert lib.split_name == "filtered" and lib.split_method.startswith("artist-filtered")
    assert unlisted not in set(select_tracks(lib)["track_id"]) and len(select_tracks(lib)) == len(expected)
    assert load_gtzan(root).split_name == "paper"  # the library API's default is unchanged


def test_filtered_split_refuses_a_collection_it_does_not_describe(tmp_path):
    root = make_gtzan_folder(tmp_path / "other", per_genre=3, seconds=3.5, genres=("blues",))  # 00000–00002
    with pytest.raises(LibraryError, match="--split paper"):
        load_gtzan(root, split="filtered")


def test_library_command_takes_split_and_counts_unlisted(tmp_path, capsys):
    root, _expected, _unlisted = filtered_folder(tmp_path / "genres")
    assert main(["library", "gtzan", str(root), "--split", "filtered"]) == 0
    out = capsys.readouterr().out
    assert "split: artist-filtered GTZAN split" in out
    assert "1 unlisted track(s)" in out and "left out of training" in out


@pytest.mark.parametrize("command", [["train", "--arch", "vgg16", "--weights", "none", "--library"], ["prepare"]])
def test_train_and_prepare_load_the_library_with_the_split_they_are_given(tmp_path, monkeypatch, command):
    """`genrec train --split filtered` once loaded the folder with the random split, so the run trained
    on unlisted clips while its config said "filtered"."""
    import genrec.cli.data
    import genrec.cli.training

    root, listed, unlisted = filtered_folder(tmp_path / "genres", per_split=2)
    seen = {}

    def stop(library, *args, **kwargs):
        seen.update(split=library.split_name, tracks=dict(zip(library.tracks["track_id"], library.tracks["split"])))
        raise GenrecError("stopped by the test")

    # the CLI module's own name for the step: the command calls it through there
    module, target = (genrec.cli.training, "train") if command[0] == "train" else (genrec.cli.data, "select_tracks")
    monkeypatch.setattr(module, target, lambda *a, **kw: stop(kw.get("library", a[-1] if a else None)))
    assert main([*command, str(root), "--split", "filtered"]) == 2
    assert seen["split"] == "filtered"
    assert seen["tracks"].pop(unlisted) == "unlisted"
    assert seen["tracks"] == listed


@pytest.mark.parametrize(
    "library,expected",
    [
        ({"split": "filtered", "split_method": "whatever"}, "filtered"),
        ({"split_method": "stratified 80/10/10 per genre, seed 0"}, "paper"),
        ({"split_method": "split files /x/splits"}, "files"),
        ({"split_method": "artist-filtered GTZAN split (Kereliuk/Sturm lists shipped with genrec)"}, "filtered"),
        ({}, "unknown"),
    ],
)
def test_split_name_of_new_and_older_runs(library, expected):
    assert split_name(library) == expected
