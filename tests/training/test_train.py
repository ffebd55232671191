"""Training runs: cached training equals naive training, run folders are complete and atomic, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import genrec.model.network as M
from genrec.cli import main
from genrec.data.library import load_gtzan
from genrec.errors import AudioError, RunError
from genrec.evaluate.report import evaluate_run
from genrec.runs.layout import RUN_FILES
from genrec.runs.reader import Run, list_runs
from genrec.training.trainer import (
    TrainConfig,
    class_weights,
    compile_for_training,
    extract,
    fit_tail,
    prepare_images,
    select_tracks,
    set_seed,
    train,
)

SIZE = 32


def quick_config(arch: str, out, **settings) -> TrainConfig:
    """One epoch on SIZE-px images from random weights (offline), written into ``out``."""
    return TrainConfig(arch=arch, epochs=1, input_size=SIZE, weights="none", out=str(out), **settings)


def _naive_vs_cached(arch: str, last_four: bool, lib) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train the same model twice from the same seed: on cached frozen outputs, and with a plain fit on images.

    Returns (cached predictions, naive predictions, predictions of the untrained model).
    """
    prepared = prepare_images(lib, select_tracks(lib, 1), None, SIZE)
    x = prepared.images.astype("float32")
    y = prepared.labels[prepared.owner]
    # With backbone layers training, round-off differences grow each epoch (on an AVX-512 Xeon, ResNet50's
    # differed by 0.03, 0.10 and 0.78 of how far training moved the predictions after 1, 2 and 3 epochs), so
    # that case trains one epoch; the frozen-backbone case trains two.
    epochs = 1 if last_four else 2
    cfg = TrainConfig(
        arch=arch, epochs=epochs, batch_size=8, input_size=SIZE, last_four_trainable=last_four, weights="none"
    )

    set_seed(0)
    cached = M.build_model(arch, 10, input_size=SIZE, last_four_trainable=last_four)
    untrained = cached.predict(x, verbose=0)
    frozen, tail = M.split_model(cached)
    features = extract(frozen, prepared.images, 8)
    fit_tail(tail, features, y, [f[:0] for f in features], y[:0], cfg, shuffle=False)

    set_seed(0)
    naive = M.build_model(arch, 10, input_size=SIZE, last_four_trainable=last_four)
    compile_for_training(naive, cfg.learning_rate)
    naive.fit(
        x, y, epochs=cfg.epochs, batch_size=cfg.batch_size, shuffle=False, verbose=0, class_weight=class_weights(y)
    )
    return cached.predict(x, verbose=0), naive.predict(x, verbose=0), untrained


@pytest.mark.slow
@pytest.mark.parametrize("arch,last_four", [("vgg16", False), ("resnet50", False), ("vgg16", True), ("resnet50", True)])
def test_cached_training_gives_the_same_model_as_naive_fit(tiny_library_dir, arch, last_four):
    a, b, untrained = _naive_vs_cached(arch, last_four, load_gtzan(tiny_library_dir))
    moved = np.abs(a - untrained).max()
    # Training really moved the weights, so the comparison is not between two untouched models.
    assert moved > 1e-2
    # Same weights after training ⇒ same predictions, up to float reassociation. When backbone
    # BatchNorm layers train too (ResNet50's switch), Adam's step m/sqrt(v) on near-zero gradients
    # magnifies round-off differences (on an AVX2 EPYC 1e-4 after one epoch, a few 1e-3 after two), so there the
    # bound is relative to how far training moved the predictions; a wrong path misses it by far.
    bound = 2e-4 if not last_four else max(2e-4, 0.05 * moved)
    assert np.abs(a - b).max() < bound, (np.abs(a - b).max(), moved)


@pytest.mark.parametrize("arch", ["vgg16", "resnet50"])
def test_run_folder_is_complete_and_reloads(tiny_runs, arch):
    run = Run.open(tiny_runs[arch])
    for name in RUN_FILES:
        assert (run.path / name).stat().st_size > 0, name
    rec = run.info
    assert rec.arch == arch and rec.weights.kind == "none" and rec.weights.label == "random init"
    assert rec.config.seed == 0 and rec.config.input_size == SIZE
    assert set(rec.timings) >= {"library", "spectrograms", "build", "features", "fit", "embed"}
    # the fixture loaded the library and handed it to train (as the build does): its load time still counts
    assert rec.timings["library"] > 0
    assert {"keras", "numpy"} <= set(rec.raw["versions"])  # recorded, not read back: only in the saved object
    assert rec.library.fingerprint and rec.library.split_method.startswith("stratified")
    # epoch first and seconds last (genrec adds them); Keras decides the order of the metrics between
    columns = list(run.history.columns)
    assert (columns[0], columns[-1]) == ("epoch", "seconds")
    assert sorted(columns[1:-1]) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(run.history) == rec.epochs_run == 2
    tracks = run.tracks
    assert len(tracks) == 50 and set(tracks["split"]) == {"train", "valid", "test"}
    m = run.metrics_summary.test
    assert m.n == (tracks["split"] == "test").sum()
    assert np.asarray(m.raw["confusion_matrix"]).sum() == m.n
    assert set(m.raw["per_genre"]) == set(rec.genres)
    r = run.metrics_summary.retrieval
    assert r.k == 5 and r.n_queries == m.n and r.n_base == (tracks["split"] == "train").sum()
    emb = run.embeddings
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1)[np.linalg.norm(emb, axis=1) > 0], 1.0, atol=1e-5)
    # The saved model reproduces the saved probabilities through the app's path (image → model).
    model = run.load_model()
    import genrec.audio.cache as cache

    images, _ = cache.cached_images(Path(tracks["path"][0]), "audio", None, SIZE)
    np.testing.assert_allclose(
        model.predict(images.astype("float32"), verbose=0)[0], run.arrays["probabilities"][0], atol=1e-5
    )


def test_evaluate_recomputes_the_saved_figures(tiny_runs, capsys):
    assert main(["evaluate", str(tiny_runs["vgg16"])]) == 0
    out = capsys.readouterr().out
    assert "test accuracy matches the saved value" in out
    assert "precision@5" in out and "mAP" in out and "chance" in out and "macro avg" in out


def test_runs_lists_both(tiny_runs, capsys):
    assert main(["runs", "--dir", str(Path(tiny_runs["vgg16"]).parent)]) == 0
    out = capsys.readouterr().out
    assert "vgg16" in out and "resnet50" in out and "random init" in out


def test_chunks_train_and_predict_per_clip(tiny_library_dir, tmp_path):
    lib = load_gtzan(tiny_library_dir)
    run = Run.open(
        train(
            quick_config("vgg16", tmp_path, chunk_seconds=10.0, max_per_genre=1),
            library=lib,
        )
    )
    # 4-s clips padded to 30 s → 3 chunks each; probabilities are per clip.
    assert run.info.raw["images"]["total"] == 3 * len(run.tracks) == 3 * 30
    assert run.probabilities.shape == (len(run.tracks), 10)
    # The saved chunk accuracy is a share of the 3 chunks of each test clip, and re-evaluating the saved
    # model on the images (not training's cached features) gives the same figure.
    saved = run.metrics_summary.test.chunk_accuracy
    test_chunks = 3 * int((run.tracks["split"] == "test").sum())
    assert saved * test_chunks == pytest.approx(round(saved * test_chunks), abs=1e-9)
    assert evaluate_run(run)["metrics"]["test"]["chunk_accuracy"] == pytest.approx(saved, abs=1e-9)


def test_class_weights_only_when_unbalanced():
    assert class_weights(np.array([0, 0, 1, 1])) is None
    w = class_weights(np.array([0, 0, 0, 1]))
    assert w[1] == pytest.approx(3 * w[0])


def test_same_seed_same_run(tiny_library_dir, tmp_path):
    lib = load_gtzan(tiny_library_dir)
    cfg = dict(arch="vgg16", epochs=2, input_size=SIZE, max_per_genre=2, weights="none")
    a = Run.open(train(TrainConfig(**cfg, out=str(tmp_path / "a")), library=lib))
    b = Run.open(train(TrainConfig(**cfg, out=str(tmp_path / "b")), library=lib))
    np.testing.assert_allclose(a.arrays["probabilities"], b.arrays["probabilities"], atol=1e-6)
    pd.testing.assert_frame_equal(a.history.drop(columns="seconds"), b.history.drop(columns="seconds"))


@pytest.mark.parametrize(
    "window,match",
    [
        (dict(clip_seconds=2.0), "--clip-seconds 2 is below"),
        (dict(clip_seconds=10.0, chunk_seconds=12.0), "at most the 10-s"),
        (dict(chunk_seconds=0.0), "must be at least 1 and at most the 30-s"),
        (dict(clip_seconds=600.0, chunk_seconds=10.0), "into 60 chunks, more than the 30"),
    ],
)
def test_impossible_windows_are_refused_before_any_work(window, match):
    with pytest.raises(AudioError, match=match):
        TrainConfig(arch="vgg16", **window)


def test_shorter_analysis_window_is_used_for_training_and_queries(tiny_library_dir, tmp_path, capsys):
    # 4-s clips analysed as their middle 3 s: an outside copy of a library file must be cut the
    # same way to get the track's own embedding (padded to 30 s it would be a different picture).
    lib = load_gtzan(tiny_library_dir)
    run = Run.open(
        train(
            quick_config("resnet50", tmp_path, max_per_genre=2, clip_seconds=3.0),
            library=lib,
        )
    )
    assert run.spectrogram.clip_seconds == 3.0 and run.config.clip_seconds == 3.0
    from genrec.serve.recommend import Recommender

    rec = Recommender(run)
    row = rec.tracks.iloc[0]
    answer = rec.for_audio(Path(row["path"]).read_bytes(), name="upload.wav")
    assert answer.same_as == row["track_id"]  # recognised by its bytes, so not recommended
    np.testing.assert_allclose(answer.embedding, run.arrays["embeddings"][0], atol=1e-5)
    np.testing.assert_allclose(answer.probabilities, run.arrays["probabilities"][0], atol=1e-5)
    assert main(["prepare", str(tiny_library_dir), "--clip-seconds", "1"]) == 2
    assert "argument --clip-seconds: 1 is outside 3..600 s" in capsys.readouterr().err


def test_interrupted_training_leaves_no_run(tiny_library_dir, tmp_path, monkeypatch):
    lib = load_gtzan(tiny_library_dir)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("genrec.runs.writer.np.savez", interrupt)
    with pytest.raises(KeyboardInterrupt):
        cfg = quick_config("vgg16", tmp_path, max_per_genre=1)
        train(cfg, library=lib)
    assert list(tmp_path.iterdir()) == []


def test_broken_runs_are_reported_not_loaded(tiny_runs, tmp_path):
    for name in ("model.keras", "history.csv"):
        broken = tmp_path / f"no-{name}"
        shutil.copytree(tiny_runs["vgg16"], broken)
        (broken / name).unlink()
        if name == "model.keras":  # a run may answer with LiteRT alone (a pulled bundle), not with nothing
            for predictor in broken.glob("predictor*.tflite"):
                predictor.unlink()
        with pytest.raises(RunError, match=name):
            Run.open(broken)
    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_runs["vgg16"], damaged)
    (damaged / "run.json").write_text("{ truncated")
    with pytest.raises(RunError, match=r"run\.json"):
        Run.open(damaged)
    truncated = tmp_path / "truncated"
    shutil.copytree(tiny_runs["vgg16"], truncated)
    data = (truncated / "model.keras").read_bytes()
    (truncated / "model.keras").write_bytes(data[:1000])
    with pytest.raises(RunError, match="damaged or incomplete"):
        Run.open(truncated)  # the model's input size and outputs are checked when the run is opened
    runs, bad = list_runs(tmp_path)
    assert runs == []
    assert sorted(p.name for p, _ in bad) == ["damaged", "no-history.csv", "no-model.keras", "truncated"]


def test_cli_reports_missing_run_and_offline_imagenet(capsys, monkeypatch, tiny_library_dir):
    assert main(["evaluate", "no-such-run"]) == 2
    assert "no such run" in capsys.readouterr().err

    def offline(*args, **kwargs):
        raise OSError("no network")

    import keras

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr("keras.src.applications.vgg16.file_utils.get_file", offline, raising=False)
    code = main(
        [
            "train",
            "--arch",
            "vgg16",
            "--library",
            str(tiny_library_dir),
            "--input-size",
            "32",
            "--epochs",
            "1",
            "--weights",
            "imagenet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--weights none" in err and "Traceback" not in err


def test_run_json_is_plain_json(tiny_runs):
    # Every value is JSON (no pickled objects) and the split can be rebuilt from tracks.csv.
    json.loads((Path(tiny_runs["resnet50"]) / "run.json").read_text())
    with np.load(Path(tiny_runs["resnet50"]) / "embeddings.npz", allow_pickle=False) as data:
        assert data["track_id"].dtype.kind == "U"
