"""``genrec build``: GTZAN and ImageNet weights end to end against a local HTTP server; the time estimate."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

import genrec.training.plan as plan
import genrec.utils.isolated as isolated
from genrec.cli import main
from genrec.config import PAPER_ACCURACY
from genrec.data.gtzan import MIRROR_ENV
from genrec.model.network import IMAGENET_NOTOP_FILES
from genrec.runs.reader import Run
from tests.helpers.http import Server, sha256
from tests.helpers.splits import filtered_folder


def gtzan_archive(tmp_path: Path) -> tuple[bytes, dict[str, str], str]:
    """A tar.gz in GTZAN's own layout (genres/<g>/<g>.000NN.wav) of generated clips."""
    folder, listed, unlisted = filtered_folder(tmp_path / "src" / "genres", per_split=2)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname="genres")
    return buf.getvalue(), listed, unlisted


def notop_weights_file(arch: str, path: Path, size: int) -> Path:
    """A 'notop' weights file in the legacy HDF5 layout keras.applications loads, with seeded random weights."""
    import h5py
    import keras
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    keras.utils.set_random_seed(7)
    cls = {"vgg16": keras.applications.VGG16, "resnet50": keras.applications.ResNet50}[arch]
    backbone = cls(include_top=False, weights=None, input_shape=(size, size, 3))
    with h5py.File(path, "w") as f:
        save_weights_to_hdf5_group(f, backbone)
    return path


@pytest.mark.slow
def test_build_gtzan_end_to_end_with_imagenet_weights(
    server: Server, tmp_path: Path, genrec_home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Download GTZAN, reach the ImageNet weights through keras.applications, train, evaluate, record.

    What is replaced, and why: keras.applications.VGG16/ResNet50(weights="imagenet") call
    ``keras.src.utils.file_utils.get_file(fname, origin, cache_subdir="models", file_hash=MD5)`` with
    Google's URL and the MD5 of Google's file. The wrapper below lets that call happen as Keras makes
    it (and checks that it names Keras' own URL and hash), then hands the real ``get_file`` two
    things instead: the local server's URL of the same file name, and the SHA-256 of the file this
    test built. Keras' real code then downloads it over HTTP (urllib), checks that hash (its own
    ``validate_file``), caches it in the Keras home and loads it with ``load_weights``. The hash must
    change because no file but Google's has Google's MD5; giving get_file none would skip the check.
    The Keras home is a temporary folder, so no test file ever lands in the user's ~/.keras.
    """
    import keras.src.backend.config as keras_config
    from keras.src.applications import resnet, vgg16
    from keras.src.utils import file_utils

    data, listed, unlisted = gtzan_archive(tmp_path)
    monkeypatch.setenv(MIRROR_ENV, f"{server.publish('mirror/genres.tar.gz', data)} sha256:{sha256(data)}")

    weights, digests = {}, {}
    for arch, fname in IMAGENET_NOTOP_FILES.items():
        path = notop_weights_file(arch, tmp_path / fname, 32)
        server.publish(f"keras-applications/{fname}", path.read_bytes())
        weights[fname], digests[fname] = path, sha256(path.read_bytes())
    keras_origin = {
        IMAGENET_NOTOP_FILES["vgg16"]: (vgg16.WEIGHTS_PATH_NO_TOP, "6d6bbae143d832006294945121d1f1fc"),
        IMAGENET_NOTOP_FILES["resnet50"]: (
            resnet.BASE_WEIGHTS_PATH + IMAGENET_NOTOP_FILES["resnet50"],
            resnet.WEIGHTS_HASHES["resnet50"][1],
        ),
    }
    real_get_file, asked = file_utils.get_file, []

    def get_file_from_local_server(fname=None, origin=None, file_hash=None, **kw):
        asked.append((fname, origin, file_hash))
        return real_get_file(fname, origin=server.url(f"keras-applications/{fname}"), file_hash=digests[fname], **kw)

    monkeypatch.setattr(file_utils, "get_file", get_file_from_local_server)
    # The build's steps run here, not in fresh processes, which would not see the patch above;
    # tests/utils/test_isolated.py builds through real child processes.
    monkeypatch.setattr(isolated, "IN_PROCESS", True)
    (tmp_path / "keras-home").mkdir()  # get_file falls back to /tmp/.keras when the home is not writable
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path / "keras-home"))

    assert main(["build", "--library", "gtzan", "--input-size", "32", "--epochs", "2"]) == 0
    out = capsys.readouterr().out

    # Keras asked for its own files, by its own URL and MD5; each was fetched once from the server
    assert sorted(asked) == sorted((f, *keras_origin[f]) for f in IMAGENET_NOTOP_FILES.values())
    fetched = [p for p, _ in server.state.requests]
    assert fetched.count("/mirror/genres.tar.gz") == 1
    assert sorted(p for p in fetched if p.startswith("/keras-")) == sorted(
        f"/keras-applications/{f}" for f in IMAGENET_NOTOP_FILES.values()
    )
    assert (genrec_home / "data" / "gtzan" / "genres").is_dir()
    assert "using mirror:" in out and "(sha256 checksum verified)" in out

    runs = [Run.open(line.split()[-1]) for line in out.splitlines() if line.startswith("saved run ")]
    assert [r.arch for r in runs] == ["vgg16", "resnet50"]
    for run in runs:
        fname = IMAGENET_NOTOP_FILES[run.arch]
        record = json.loads((run.path / "run.json").read_text())
        assert record["weights"]["kind"] == "imagenet" and record["weights"]["label"] == "ImageNet"
        assert record["weights"]["sha256"] == digests[fname]
        assert Path(record["weights"]["file"]) == tmp_path / "keras-home" / "models" / fname
        assert record["library"]["split"] == "filtered" and record["config"]["split"] == "filtered"
        assert record["library"]["unlisted_excluded"] == 1
        assert dict(zip(run.tracks["track_id"], run.tracks["split"])) == listed  # unlisted track left out
        assert unlisted not in set(run.tracks["track_id"])
        # the weights in the file are the ones the backbone started from (a frozen layer keeps them)
        import h5py

        layer = "block1_conv1" if run.arch == "vgg16" else "conv1_conv"
        with h5py.File(weights[fname], "r") as f:
            kernel = np.asarray(f[layer][f[layer].attrs["weight_names"][0]])
        np.testing.assert_array_equal(run.load_model().get_layer(layer).get_weights()[0], kernel)
    table = out[out.index("both runs next to the paper") :]
    for arch, acc in PAPER_ACCURACY.items():
        assert any(
            arch in line and f"{acc:.3f}" in line and "ImageNet" in line and "filtered" in line
            for line in table.splitlines()
        )


def test_estimate_grows_with_clips_and_chunks() -> None:
    whole, chunks = plan.estimate_seconds(1000), plan.estimate_seconds(1000, 3.0)
    assert plan.estimate_seconds(2000) > whole > plan.estimate_seconds(100)
    assert chunks > 5 * whole  # ten images per clip through the frozen pass
    # the real-library defaults keep GTZAN (1000 clips) near the 15-minute target on 2 cores
    assert whole <= 16 * 60
