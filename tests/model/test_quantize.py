"""8-bit LiteRT predictors: written with every run, agreement recorded, chosen only above the bar, no TensorFlow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import genrec.model.quantize as quantize
from genrec.cli import main
from genrec.errors import GenrecError, RunError
from genrec.model.gradcam import Head
from genrec.model.predict import (
    AGREEMENT_FILE,
    INT8_ARITHMETIC_RECIPES,
    MIN_TOP1_AGREEMENT,
    MIN_TOP5_OVERLAP,
    PREDICTOR_ENV,
    PREDICTOR_FILE,
    QUANTIZED_FILE,
    LitePredictor,
    choose_predictor,
    load_predictor,
    quantized_agreement,
)
from genrec.model.quantize import RECIPES, agreement, quantize_run
from genrec.runs.reader import Run
from genrec.serve.recommend import Recommender
from genrec.utils.machine import cpu_features

ROOT = Path(__file__).resolve().parents[2]


def copy_run(src: Path, dest: Path) -> Run:
    return Run.open(shutil.copytree(src, dest))


def set_agreement(run: Run, top1: float, **changes) -> None:
    """Rewrite the run's agreement record with another top-1 figure (the way a worse quantization would), as made
    by the first recipe (8-bit arithmetic) unless ``changes`` names another."""
    path = run.path / AGREEMENT_FILE
    rec = {**json.loads(path.read_text()), "top1_agreement": top1, "top5_overlap": 1.0, "recipe": next(iter(RECIPES))}
    rec.update(changes)
    path.write_text(json.dumps(rec))


@pytest.mark.parametrize("arch", ["vgg16", "resnet50"])
def test_every_run_writes_an_8bit_predictor_with_its_agreement(tiny_runs, arch, monkeypatch):
    run = Run.open(tiny_runs[arch])
    quantized, float_file = run.path / QUANTIZED_FILE, run.path / PREDICTOR_FILE
    # int8 weights: well under half the float file (the head's float parts keep it above a quarter)
    assert 0 < quantized.stat().st_size < 0.5 * float_file.stat().st_size
    rec = json.loads((run.path / AGREEMENT_FILE).read_text())
    assert rec["recipe"] in RECIPES and rec["size_bytes"] == quantized.stat().st_size
    assert rec["tracks"] == rec["library_tracks"] == len(run.tracks) == 50
    # the recipes were tried fastest first, up to the kept one, which is the last tried
    tried = [t["recipe"] for t in rec["tried"]]
    assert tried == list(RECIPES)[: len(tried)] and tried[-1] == rec["recipe"] and rec["tried"][-1]["kept"]
    assert rec["cpu"] == cpu_features() and "ai-edge-quantizer" in rec["versions"]
    assert "int8" not in (run.path / "run.json").read_text()  # the run record stays as training wrote it

    # The recorded figures are what the 8-bit predictor really answers through the serving path.
    monkeypatch.setenv(PREDICTOR_ENV, "int8")
    rec8 = Recommender(run)
    probs = []
    for path in run.tracks["path"]:
        answer = rec8.for_audio(path)
        probs.append(answer.probabilities)
    assert rec8._predictor.path == quantized
    probs, saved = np.array(probs), run.arrays["probabilities"]
    assert rec["top1_agreement"] == pytest.approx(float((probs.argmax(1) == saved.argmax(1)).mean()))
    assert rec["max_prob_diff"] == pytest.approx(float(np.abs(probs - saved).max()), abs=1e-5)
    assert 0 <= rec["top5_overlap"] <= 1
    assert quantized_agreement(run.path).top1_agreement == rec["top1_agreement"]


def test_agreement_of_the_float_answers_with_themselves_is_perfect_and_shuffles_are_not(tiny_runs):
    run = Run.open(tiny_runs["resnet50"])
    rows = np.arange(len(run.tracks))
    probs, embs = run.arrays["probabilities"], run.arrays["embeddings"]
    same = agreement(run, probs, embs, rows)
    assert (same.top1_agreement, same.top5_overlap, same.max_prob_diff) == (1.0, 1.0, 0.0)
    shuffled = np.random.default_rng(0).permutation(len(rows))
    other = agreement(run, probs[shuffled], embs[shuffled], rows)
    assert other.top5_overlap < 0.5 and other.max_prob_diff > 0


def test_auto_uses_the_8bit_predictor_only_at_or_above_the_bar(tiny_runs, tmp_path, monkeypatch):
    monkeypatch.delenv(PREDICTOR_ENV, raising=False)
    run = copy_run(tiny_runs["vgg16"], tmp_path / "run")
    set_agreement(run, MIN_TOP1_AGREEMENT)
    choice = choose_predictor(run)
    assert choice.kind == "int8" and choice.path.name == QUANTIZED_FILE
    assert load_predictor(run).path == run.path / QUANTIZED_FILE

    set_agreement(run, 0.98)
    choice = choose_predictor(run)
    assert choice.kind == "float" and "0.980 is below 0.99" in choice.reason
    assert load_predictor(run).path == run.path / PREDICTOR_FILE
    # every genre kept, but the recommendations changed
    set_agreement(run, 1.0, top5_overlap=MIN_TOP5_OVERLAP - 0.1)
    assert choose_predictor(run).kind == "float" and "top-5 overlap" in choose_predictor(run).reason
    set_agreement(run, 1.0, top5_overlap=MIN_TOP5_OVERLAP)
    assert choose_predictor(run).kind == "int8"

    # a record that is not about this file (another size), or not a number, vouches for nothing
    set_agreement(run, 1.0, size_bytes=123)
    assert choose_predictor(run).kind == "float" and "unreadable" in choose_predictor(run).reason
    set_agreement(run, "1.0", size_bytes=(run.path / QUANTIZED_FILE).stat().st_size)
    assert choose_predictor(run).kind == "float"
    (run.path / AGREEMENT_FILE).write_text("{not json")
    assert choose_predictor(run).kind == "float"


def test_the_setting_chooses_float_or_8bit_whatever_the_agreement(tiny_runs, tmp_path, monkeypatch):
    run = copy_run(tiny_runs["resnet50"], tmp_path / "run")
    set_agreement(run, 0.5)
    monkeypatch.setenv(PREDICTOR_ENV, "int8")
    assert choose_predictor(run).kind == "int8" and isinstance(load_predictor(run), LitePredictor)
    set_agreement(run, 1.0)
    monkeypatch.setenv(PREDICTOR_ENV, "float")
    assert choose_predictor(run).kind == "float"
    monkeypatch.setenv(PREDICTOR_ENV, "fastest")
    with pytest.raises(GenrecError, match=f"{PREDICTOR_ENV}='fastest'.*auto, float, int8"):
        choose_predictor(run)
    # no 8-bit file: even "int8" answers in float, and says how to get one
    (run.path / QUANTIZED_FILE).unlink()
    monkeypatch.setenv(PREDICTOR_ENV, "int8")
    choice = choose_predictor(run)
    assert choice.kind == "float" and "--quantize" in choice.reason


@pytest.mark.slow
def test_export_quantize_adds_it_to_an_existing_run(tiny_runs, tmp_path, capsys):
    run = copy_run(tiny_runs["vgg16"], tmp_path / "old-run")
    for name in (QUANTIZED_FILE, AGREEMENT_FILE):
        (run.path / name).unlink()
    record = json.loads((run.path / "run.json").read_text())
    assert main(["export", str(run.path), "--quantize"]) == 0
    out = capsys.readouterr().out
    assert QUANTIZED_FILE in out and "top-1 agreement" in out
    assert quantized_agreement(run.path) is not None
    # the record keeps everything it had; only the float predictor's name and its export time are rewritten
    after = json.loads((run.path / "run.json").read_text())
    assert after["predictor"] == "predictor.tflite" and after["timings_seconds"]["export"] > 0
    for key in ("predictor", "timings_seconds"):
        after.pop(key), record.pop(key)
    assert after == record
    assert not list(run.path.glob(".tmp-*"))


def test_export_quantize_says_when_the_library_audio_is_gone(tiny_runs, tmp_path, capsys):
    run = copy_run(tiny_runs["resnet50"], tmp_path / "moved-run")
    tracks = run.tracks.copy()
    tracks["path"] = [str(tmp_path / "gone" / Path(p).name) for p in tracks["path"]]
    tracks.to_csv(run.path / "tracks.csv", index=False)
    (run.path / QUANTIZED_FILE).unlink()
    before = (run.path / PREDICTOR_FILE).stat().st_mtime_ns
    assert main(["export", str(run.path), "--quantize"]) == 2
    err = capsys.readouterr().err
    assert "50 of its library files are not on this machine" in err and "gone" in err
    assert not (run.path / QUANTIZED_FILE).exists()
    # said before the float conversion: nothing was rewritten
    assert (run.path / PREDICTOR_FILE).stat().st_mtime_ns == before


@pytest.mark.slow
def test_app_answers_with_the_8bit_predictor_without_tensorflow_and_says_so(tiny_runs, tmp_path):
    runs = tmp_path / "models"
    for src in tiny_runs.values():
        shutil.copytree(src, runs / src.name)
    clip = Run.open(tiny_runs["vgg16"]).tracks["path"].iloc[1]
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from streamlit.testing.v1 import AppTest\n"
        "import genrec.serve.recommend as REC\n"
        "used, explained = [], []\n"
        "original = REC.load_predictor\n"
        "def counting(run, explain=False):\n"
        "    predictor = original(run, explain=explain)\n"
        "    (explained if explain else used).append(predictor.path.name)\n"
        "    return predictor\n"
        "REC.load_predictor = counting\n"
        f"at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=120).run()\n"
        "at.segmented_control(key='query_source').set_value('upload').run()\n"
        f"at.file_uploader(key='upload').set_value(('song.wav', Path({clip!r}).read_bytes(), 'audio/wav')).run()\n"
        "assert not at.exception and not at.error, [e.value for e in at.exception]\n"
        "print(json.dumps({'tf': 'tensorflow' in sys.modules, 'used': sorted(used), 'explained': sorted(explained),\n"
        "    'genres': [m.value for m in at.metric if m.label == 'Predicted genre'],\n"
        "    'captions': [c.value for c in at.sidebar.caption if 'Uploads:' in c.value]}))\n"
    )
    env = {**os.environ, "GENREC_RUNS": str(runs), PREDICTOR_ENV: "int8"}
    out = subprocess.run(
        [sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["tf"] is False and result["used"] == [QUANTIZED_FILE] * 2 and len(result["genres"]) == 2
    # Grad-CAM (on by default for uploads) asks the answering 8-bit interpreters themselves, which keep the float
    # file's feature-map output: no second interpreter is loaded for it
    assert result["explained"] == []
    assert len(result["captions"]) == 2
    for caption in result["captions"]:
        assert "**8-bit LiteRT** predictor" in caption and "top-1 agreement" in caption


def _fresh_run(tiny_runs, tmp_path, arch: str = "resnet50") -> Run:
    run = copy_run(tiny_runs[arch], tmp_path / "run")
    for name in (QUANTIZED_FILE, AGREEMENT_FILE):
        (run.path / name).unlink()
    return run


def test_the_first_recipe_that_agrees_is_kept(tiny_runs, tmp_path, monkeypatch):
    run = _fresh_run(tiny_runs, tmp_path)
    monkeypatch.setattr(quantize, "MIN_TOP1_AGREEMENT", 0.0)  # any answers agree: the fastest recipe is kept
    monkeypatch.setattr(quantize, "MIN_TOP5_OVERLAP", 0.0)
    quantize_run(run)
    rec = json.loads((run.path / AGREEMENT_FILE).read_text())
    assert rec["recipe"] == next(iter(RECIPES)) and [t["recipe"] for t in rec["tried"]] == [rec["recipe"]]
    assert rec["passes_bar"] is True and rec["why"] == "the fastest recipe whose answers agree with float"


def test_when_no_recipe_agrees_the_last_is_kept_with_its_figures_and_auto_answers_in_float(
    tiny_runs, tmp_path, monkeypatch
):
    run = _fresh_run(tiny_runs, tmp_path)
    monkeypatch.setattr(quantize, "MIN_TOP1_AGREEMENT", 1.01)  # no predictor keeps more genres than all of them
    monkeypatch.delenv(PREDICTOR_ENV, raising=False)
    quantize_run(run)
    rec = json.loads((run.path / AGREEMENT_FILE).read_text())
    first, last = rec["tried"][0], rec["tried"][-1]
    assert [t["recipe"] for t in rec["tried"]] == list(RECIPES) and rec["recipe"] == last["recipe"]
    # with no genre change allowed, the first recipe is dropped at its first changed genre, or it changed none
    # and is dropped on the whole library's figure; the last one always answers the whole library
    assert "dropped after" in first["why"] or "top-1 agreement 1.000 is below 1.01" in first["why"]
    assert last["top1_agreement"] == rec["top1_agreement"] and rec["passes_bar"] is False
    assert "no recipe agrees with float" in rec["why"]
    # the record is honest, so the policy (with the real bar) decides on the recorded figures
    # (the last recipe computes in float, so even when it agrees the float file answers)
    assert rec["recipe"] not in INT8_ARITHMETIC_RECIPES and choose_predictor(run).kind == "float"


def test_a_recipe_that_cannot_be_made_for_the_run_is_skipped_with_the_reason(tiny_runs, tmp_path, monkeypatch):
    run = _fresh_run(tiny_runs, tmp_path)

    def no_feature_map(*args):
        raise RunError(f"{run.path}: its predictor.tflite has no feature-map output")

    monkeypatch.setattr(quantize, "correct_pooled_shift", no_feature_map)
    monkeypatch.setattr(quantize, "MIN_TOP1_AGREEMENT", 0.0)  # the next recipe agrees
    monkeypatch.setattr(quantize, "MIN_TOP5_OVERLAP", 0.0)
    quantize_run(run)
    rec = json.loads((run.path / AGREEMENT_FILE).read_text())
    first, kept = rec["tried"]
    assert first["recipe"] == "dynamic-corrected" and not first["kept"]
    assert first["why"] == f"cannot be made for this run: {run.path}: its predictor.tflite has no feature-map output"
    assert kept["recipe"] == rec["recipe"] == "weights-only" and rec["passes_bar"] is True


def test_a_recipe_is_dropped_after_the_least_certain_tracks_when_they_change_genre(tiny_runs, tmp_path, monkeypatch):
    run = _fresh_run(tiny_runs, tmp_path)
    rows = np.arange(len(run.tracks))
    images, owner = quantize.run_library_images(run, rows)
    answered: list[int] = []
    real = quantize.predict_library

    def wrong(predictor, imgs, own, n_clips, progress=None):
        probs, embs = real(predictor, imgs, own, n_clips)
        answered.append(n_clips)
        return np.roll(probs, 1, axis=1), embs  # every genre changes

    monkeypatch.setattr(quantize, "predict_library", wrong)
    data = (run.path / PREDICTOR_FILE).read_bytes()
    agree, why = quantize.check_recipe(run, data, images, owner, rows)
    # 50 tracks allow floor(0.01 * 50) = 0 changes: the first batch of 8 settles it
    assert agree is None and why == "dropped after 8 of 50 tracks: 8 genres changed, at most 0 may"
    assert answered == [8]
    # the float file itself agrees with the saved answers
    monkeypatch.setattr(quantize, "predict_library", real)
    agree, why = quantize.check_recipe(run, data, images, owner, rows)
    assert why is None and agree.top1_agreement == 1.0 and agree.top5_overlap == 1.0


@pytest.mark.parametrize(
    ("cpu", "says"),
    [
        ({"int8_dot": True}, "int8 dot products (VNNI/AMX), several times float's speed"),
        ({"int8_dot": False}, "a little faster than float on this CPU (no VNNI), a quarter of the weights in memory"),
        (None, "8-bit arithmetic"),
    ],
)
def test_an_agreeing_8bit_arithmetic_recipe_answers_on_every_cpu_and_says_what_this_one_makes_of_it(
    tiny_runs, tmp_path, monkeypatch, cpu, says
):
    monkeypatch.delenv(PREDICTOR_ENV, raising=False)
    run = copy_run(tiny_runs["vgg16"], tmp_path / "run")
    set_agreement(run, 1.0, recipe="dynamic-corrected")
    monkeypatch.setattr("genrec.model.predict.cpu_features", lambda: cpu)
    choice = choose_predictor(run)
    # without VNNI, 8-bit arithmetic is still no slower than float and holds a quarter of the weights
    assert choice.kind == "int8" and choice.reason.startswith("its dynamic-corrected recipe agrees with float: ")
    assert choice.reason.endswith(says)
    # the figures are the agreement's own (the sidebar prints them once, beside the reason)
    assert "0.99" not in choice.reason and str(choice.agreement).startswith("top-1 agreement 1.000")


def test_an_agreeing_weights_only_file_answers_only_where_it_is_the_runs_only_predictor(
    tiny_runs, tmp_path, monkeypatch
):
    monkeypatch.delenv(PREDICTOR_ENV, raising=False)
    monkeypatch.setattr("genrec.model.predict.cpu_features", lambda: {"int8_dot": True})
    run = copy_run(tiny_runs["vgg16"], tmp_path / "run")
    for recipe in ("weights-only", "weights-only-float-head"):
        set_agreement(run, 1.0, recipe=recipe)
        choice = choose_predictor(run)
        # float arithmetic either way: the float file answers as fast, without widening weights first
        assert choice.kind == "float" and choice.reason == (
            f"the 8-bit file ({recipe} recipe) computes in float32, so float answers as fast"
        )
    # a pulled run that carries only the 8-bit file: it answers
    (run.path / PREDICTOR_FILE).unlink()
    (run.path / "model.keras").unlink(missing_ok=True)
    choice = choose_predictor(run)
    assert choice.kind == "int8" and choice.reason == "the only predictor this run carries"


def test_the_pooled_shift_is_folded_into_the_first_dense_bias_and_nothing_else(tiny_runs):
    run = Run.open(tiny_runs["vgg16"])
    float_model = run.path / PREDICTOR_FILE
    images, _ = quantize.run_library_images(run, np.arange(12))
    calibration, held_out = images[:8], images[8:]
    plain = quantize.quantize_predictor(float_model, "dynamic-float-head")
    corrected = quantize.correct_pooled_shift(float_model, plain, calibration)
    assert len(corrected) == len(plain) and corrected != plain
    # the shift, computed here from the two models' own pooled features on the calibration images
    shift = (quantize.pooled_features(float_model, calibration) - quantize.pooled_features(plain, calibration)).mean(0)
    assert np.abs(shift).max() > 0
    a = LitePredictor(float_model.with_name("a.tflite"), content=plain).explain_outputs(held_out.astype(np.float32))
    b = LitePredictor(float_model.with_name("b.tflite"), content=corrected).explain_outputs(held_out.astype(np.float32))
    np.testing.assert_array_equal(a[2], b[2])  # the backbone is untouched
    # the corrected model's head answers as the float head would on the shifted pooled features
    head = Head.load(run.path)
    logits = head.logits(b[2].mean(axis=(1, 2), dtype=np.float64) + shift)
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(b[0], expected / expected.sum(1, keepdims=True), atol=2e-5)
    # the correction needs a float dense layer after the pooling: with an int8 head it says so
    with pytest.raises(ValueError, match="not float32"):
        quantize.correct_pooled_shift(float_model, quantize.quantize_predictor(float_model, "dynamic"), calibration)
    with pytest.raises(ValueError, match="needs calibration images"):
        quantize.quantize_predictor(float_model, "dynamic-corrected")


def _int8_weighted_ops(model: bytes) -> dict[str, int]:
    """{op name: how many such ops read int8 weights} in a LiteRT flatbuffer: a weights-only model stores each
    quantized weight as int8 and widens it with a DEQUANTIZE op feeding the layer."""
    from ai_edge_litert.interpreter import Interpreter

    ops = Interpreter(model_content=model)._get_ops_details()  # LiteRT's one listing of ops with their tensors
    widened = {t for op in ops if op["op_name"] == "DEQUANTIZE" for t in op["outputs"]}
    counts: dict[str, int] = {}
    for op in ops:
        if op["op_name"] != "DEQUANTIZE":
            counts[op["op_name"]] = counts.get(op["op_name"], 0) + any(t in widened for t in op["inputs"])
    return counts


def test_the_float_head_recipe_keeps_the_dense_layers_float_and_the_convolutions_int8(tiny_runs):
    float_model = tiny_runs["vgg16"] / PREDICTOR_FILE
    plain = _int8_weighted_ops(quantize.quantize_predictor(float_model, "weights-only"))
    head = _int8_weighted_ops(quantize.quantize_predictor(float_model, "weights-only-float-head"))
    assert plain["FULLY_CONNECTED"] > 0 and plain["CONV_2D"] > 0
    assert head["FULLY_CONNECTED"] == 0 and head["CONV_2D"] == plain["CONV_2D"]


def test_the_build_hands_the_frozen_pass_features_to_the_correction_for_the_same_images_only(
    tiny_library_dir, tmp_path, monkeypatch
):
    """The float side of the pooled-shift correction comes from training's frozen pass when (and only when) it was
    computed on exactly the calibration images; it matches what the float predictor computes for them."""
    from genrec.data.library import load_gtzan
    from genrec.model.network import build_model, ends_at_pooling, split_model
    from genrec.runs.writer import export_run
    from genrec.training.trainer import TrainConfig, train_run

    monkeypatch.setenv("GENREC_HOME", str(tmp_path / "data"))
    cfg = TrainConfig(
        arch="vgg16", library=str(tiny_library_dir), epochs=1, input_size=32, batch_size=16, weights="none"
    )
    trained = train_run(replace(cfg, out=str(tmp_path / "models")), library=load_gtzan(tiny_library_dir), export=False)
    run = Run.open(trained.path)
    export_run(run.path)
    float_model = run.path / PREDICTOR_FILE
    images, owner = quantize.run_library_images(run, np.arange(len(run.tracks)))
    calibration = quantize.calibration_sample(images, run.tracks["split"].to_numpy()[owner] == "train")
    assert trained.float_pooled.digest == quantize.images_digest(calibration)
    lite = quantize.pooled_features(float_model, calibration).mean(axis=0)
    np.testing.assert_allclose(trained.float_pooled.mean, lite, rtol=1e-4, atol=1e-5 * np.abs(lite).max())

    calls = []
    real = quantize.pooled_features
    monkeypatch.setattr(quantize, "pooled_features", lambda model, imgs: calls.append(model) or real(model, imgs))
    plain = quantize.quantize_predictor(float_model, "dynamic-float-head")
    reused = quantize.correct_pooled_shift(float_model, plain, calibration, trained.float_pooled)
    assert calls == [plain]  # only the 8-bit side was computed
    recomputed = quantize.correct_pooled_shift(float_model, plain, calibration)
    _, reused_bias = quantize._pooled_dense_layer(bytearray(reused))
    _, recomputed_bias = quantize._pooled_dense_layer(bytearray(recomputed))
    np.testing.assert_allclose(reused_bias, recomputed_bias, rtol=1e-4, atol=1e-6)
    calls.clear()
    other = replace(trained.float_pooled, digest="0" * 64)  # features of other images: not used
    quantize.correct_pooled_shift(float_model, plain, calibration, other)
    assert calls == [float_model, plain]
    # with the last four layers trainable the frozen pass stops before the pooling: nothing to hand over
    frozen, _ = split_model(build_model("vgg16", 10, input_size=32, last_four_trainable=True))
    assert not ends_at_pooling(frozen)
