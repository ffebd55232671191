"""Answering outside clips: the LiteRT predictor agrees with Keras, needs no TensorFlow, and fails clearly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genrec.cli import main
from genrec.errors import RunError
from genrec.model.predict import PREDICTOR_FILE, KerasPredictor, LitePredictor, load_predictor
from genrec.runs.reader import Run
from genrec.serve.recommend import Recommender

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def images(tiny_runs) -> np.ndarray:
    size = Run.open(tiny_runs["vgg16"]).config.input_size
    return np.random.default_rng(0).uniform(0, 255, (3, size, size, 3)).astype(np.float32)


@pytest.mark.parametrize("arch", ["vgg16", "resnet50"])
def test_lite_predictor_agrees_with_keras(tiny_runs, arch, images):
    run = Run.open(tiny_runs[arch])
    assert run.info.predictor == PREDICTOR_FILE and (run.path / PREDICTOR_FILE).stat().st_size > 0
    lite = load_predictor(run)
    assert isinstance(lite, LitePredictor)
    p_lite, e_lite = lite(images)
    p_keras, e_keras = KerasPredictor(run.load_model())(images)
    assert p_lite.shape == p_keras.shape == (3, len(run.genres)) and e_lite.shape == e_keras.shape
    np.testing.assert_allclose(p_lite, p_keras, atol=1e-5)
    np.testing.assert_allclose(e_lite, e_keras, atol=1e-4 * max(1.0, float(np.abs(e_keras).max())))
    # a batch of one after a batch of three: the interpreter resizes its input
    np.testing.assert_allclose(lite(images[:1])[0], p_keras[:1], atol=1e-5)


def test_lite_predictor_shared_between_threads(tiny_runs, images):
    # The app shares one predictor per run between sessions (st.cache_resource), i.e. threads.
    from concurrent.futures import ThreadPoolExecutor

    lite = load_predictor(Run.open(tiny_runs["resnet50"]))
    batches = [images[i % 3 : i % 3 + 1 + i % 2] for i in range(24)]  # batches of 1 and 2: resizes in between
    expected = [lite(b)[0] for b in batches]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda b: lite(b)[0], batches))
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)


def test_run_without_lite_file_answers_with_keras_the_same(tiny_runs, tmp_path):
    copy = Path(shutil.copytree(tiny_runs["resnet50"], tmp_path / "old-run"))
    (copy / PREDICTOR_FILE).unlink()
    old = Recommender(Run.open(copy))
    new = Recommender(Run.open(tiny_runs["resnet50"]))
    clip = new.tracks["path"].iloc[2]
    a, b = old.for_audio(clip), new.for_audio(clip)
    assert isinstance(old._predictor, KerasPredictor) and isinstance(new._predictor, LitePredictor)
    assert a.neighbours["track_id"].tolist() == b.neighbours["track_id"].tolist()
    np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)


def test_a_failed_conversion_still_saves_a_run_that_answers_with_keras(tiny_library_dir, tmp_path, monkeypatch):
    """The TFLite converter fails in many ways; training must still save a complete run (without
    predictor.tflite, recorded as such) that answers with model.keras and can be explained."""
    import genrec.runs.writer
    from genrec.model.gradcam import HEAD_FILE
    from genrec.training.trainer import TrainConfig, train

    def broken(folder):
        raise RuntimeError("converter exploded")

    monkeypatch.setattr(genrec.runs.writer, "convert_saved_model", broken)
    monkeypatch.setenv("GENREC_HOME", str(tmp_path / "home"))
    cfg = TrainConfig(
        arch="vgg16", library=str(tiny_library_dir), epochs=1, input_size=32, weights="none", out=str(tmp_path / "m")
    )
    run = Run.open(train(cfg))
    assert not (run.path / PREDICTOR_FILE).exists() and (run.path / HEAD_FILE).is_file()
    assert run.info.predictor is None and "export" in run.info.timings
    assert isinstance(load_predictor(run), KerasPredictor)
    assert len(Recommender(run).for_audio(run.tracks["path"].iloc[0]).neighbours) == 5


def test_damaged_lite_file_says_what_to_do_and_export_repairs_it(tiny_runs, tmp_path, capsys):
    copy = Path(shutil.copytree(tiny_runs["vgg16"], tmp_path / "run"))
    data = (copy / PREDICTOR_FILE).read_bytes()
    (copy / PREDICTOR_FILE).write_bytes(data[: len(data) // 3])
    with pytest.raises(RunError, match="genrec export"):
        load_predictor(Run.open(copy))
    assert main(["export", str(copy)]) == 0
    assert "predictor.tflite" in capsys.readouterr().out
    assert not list(copy.glob(".tmp-*"))  # written to a temp name, then renamed
    assert isinstance(load_predictor(Run.open(copy)), LitePredictor)


@pytest.mark.slow
def test_outside_clip_is_answered_without_importing_tensorflow(tiny_runs, tmp_path):
    # The memory budget of the app depends on this: TensorFlow alone is ~0.7 GB resident.
    clip = Run.open(tiny_runs["vgg16"]).tracks["path"].iloc[0]
    script = (
        "import json, sys\n"
        "from genrec.serve.recommend import Recommender, compare\n"
        "from genrec.runs.reader import Run\n"
        f"recs = [Recommender(Run.open(p)) for p in {[str(tiny_runs[a]) for a in ('vgg16', 'resnet50')]!r}]\n"
        f"answers, shared = compare(recs, source={clip!r})\n"
        "print(json.dumps({'tf': 'tensorflow' in sys.modules, 'keras': 'keras' in sys.modules,\n"
        "                  'same_as': [a.same_as for a in answers]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"tf": False, "keras": False, "same_as": [Path(clip).stem] * 2}  # a library file, recognised


@pytest.mark.slow
def test_cli_answer_has_no_litert_notes_in_it(tiny_runs):
    # LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on descriptor 2 at its first call
    # in a process; it landed between the CLI's "query:" line and its answer. A fresh process shows it.
    clip = Run.open(tiny_runs["resnet50"]).tracks["path"].iloc[0]
    out = subprocess.run(
        [sys.executable, "-m", "genrec", "recommend", str(tiny_runs["resnet50"]), str(clip)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "predicted genre:" in out.stdout
    assert "XNNPACK" not in out.stdout + out.stderr
    assert out.stderr == ""
