"""Grad-CAM in numpy against tf.GradientTape, the LiteRT feature-map output, runs saved before Grad-CAM."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from genrec.errors import RunError
from tests.helpers.audio import tone

slow = pytest.mark.slow


def _reference_gradcam(model, images: np.ndarray, genre: int) -> np.ndarray:
    """Grad-CAM the textbook way: differentiate the pre-softmax logit with respect to the feature map."""
    import keras
    import tensorflow as tf

    from genrec.model.network import EMBEDDING_LAYER, NORM_LAYER, OUTPUT_LAYER, POOL_LAYER

    to_fmap = keras.Model(model.inputs, model.get_layer(POOL_LAYER).input)
    names = {layer.name for layer in model.layers}
    kernel, bias = model.get_layer(OUTPUT_LAYER).get_weights()
    with tf.GradientTape() as tape:
        fmap = to_fmap(tf.constant(images), training=False)
        tape.watch(fmap)
        x = model.get_layer(POOL_LAYER)(fmap)
        if NORM_LAYER in names:
            x = model.get_layer(NORM_LAYER)(x, training=False)
        x = model.get_layer(EMBEDDING_LAYER)(x)
        logit = (tf.matmul(x, kernel) + bias)[:, genre]
    grads = tape.gradient(logit, fmap)
    weights = tf.reduce_mean(grads, axis=(1, 2))
    return tf.nn.relu(tf.einsum("nhwk,nk->nhw", fmap, weights)).numpy()


@slow
@pytest.mark.parametrize("arch", ["vgg16", "resnet50"])
@pytest.mark.parametrize("feature_norm", [True, False], ids=["feature_norm", "paper_head"])
def test_numpy_gradcam_matches_gradient_tape(arch, feature_norm):
    from genrec.model.gradcam import Head, gradcam
    from genrec.model.network import NORM_LAYER, build_model, head_arrays
    from genrec.model.predict import KerasPredictor

    model = build_model(arch, 10, weights="none", input_size=64, feature_norm=feature_norm)
    rng = np.random.default_rng(0)
    if feature_norm:  # trained-looking statistics, so the folded scale and shift are not the identity
        norm = model.get_layer(NORM_LAYER)
        gamma, beta, mean, var = norm.get_weights()
        norm.set_weights(
            [
                rng.uniform(0.5, 2, gamma.shape),
                rng.normal(0, 0.3, beta.shape),
                rng.normal(0, 0.05, mean.shape),
                rng.uniform(0.001, 0.02, var.shape),
            ]
        )
    images = rng.uniform(0, 255, (3, 64, 64, 3)).astype(np.float32)
    head = Head(**{k: np.asarray(v, np.float64) for k, v in head_arrays(model).items()})
    probs, _, fmaps = KerasPredictor(model).explain_outputs(images)
    assert fmaps.shape[:3] == (3, 2, 2)  # a 2x2 map: the test sees where, not only how much
    # the head as arrays reproduces the model's own outputs
    logits = head.logits(fmaps.mean(axis=(1, 2)))
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(softmax / softmax.sum(1, keepdims=True), probs, atol=1e-5)
    nonzero = 0
    for genre in (0, int(np.argmax(probs[0])), 7):
        ours = gradcam(fmaps, head, genre)
        ref = _reference_gradcam(model, images, genre)
        scale = max(np.abs(ref).max(), 1e-12)
        np.testing.assert_allclose(ours, ref, atol=1e-4 * scale)
        nonzero += int(np.count_nonzero(ref > 1e-6 * scale))
    assert nonzero > 6  # the maps compared carry evidence, not only zeros


@slow
def test_litert_feature_maps_and_explanations(tiny_runs):
    from genrec.audio.decode import load_audio
    from genrec.audio.spectrogram import audio_to_images
    from genrec.model.predict import PREDICTOR_FILE, KerasPredictor, LitePredictor
    from genrec.runs.reader import Run
    from genrec.serve.explain import describe, explain
    from genrec.serve.recommend import Recommender

    run = Run.open(tiny_runs["resnet50"])
    images = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    lite = LitePredictor(run.path / PREDICTOR_FILE).explain_outputs(images)
    keras_out = KerasPredictor(run.load_model()).explain_outputs(images)
    assert [o.shape for o in lite] == [o.shape for o in keras_out] and lite[2].ndim == 4
    for a, b in zip(lite, keras_out):
        np.testing.assert_allclose(a, b, atol=1e-4 * max(1.0, np.abs(b).max()))

    rec = Recommender(run)
    y = tone(4.0, 330.0)
    (expl,) = explain([rec], source=_wav(y))
    answer = rec.for_images(audio_to_images(load_audio(_wav(y), seconds=rec.clip_seconds), size=rec.input_size))
    assert expl.predicted == answer.genre and expl.genre == answer.genre
    assert expl.seconds == rec.clip_seconds and expl.db.shape[0] == 128
    (other,) = explain([rec], source=_wav(y), genre="metal")
    assert other.genre == "metal"
    assert "most weight" in describe(expl) or "map is zero" in describe(expl)


def _wav(y):
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, y, 22050, format="WAV")
    return buf.getvalue()


@slow
def test_runs_saved_before_gradcam_say_to_export(tiny_runs, tmp_path):
    import tensorflow as tf

    from genrec.model.network import with_embedding
    from genrec.runs.reader import Run
    from genrec.serve.explain import explain
    from genrec.serve.recommend import Recommender

    src = tiny_runs["vgg16"]
    old = tmp_path / src.name
    shutil.copytree(src, old)
    (old / "head.npz").unlink()
    run = Run.open(old)
    rec = Recommender(run)
    with pytest.raises(RunError, match=r"genrec export .*" + src.name):
        explain([rec], source=_wav(tone(4.0)))
    # a predictor.tflite from before (two outputs): answering works, explaining says what to do
    converter = tf.lite.TFLiteConverter.from_keras_model(with_embedding(run.load_model()))
    (old / "predictor.tflite").write_bytes(converter.convert())
    shutil.copy2(src / "head.npz", old / "head.npz")
    rec = Recommender(Run.open(old))
    assert rec.for_audio(_wav(tone(4.0))).genre in run.genres
    with pytest.raises(RunError, match=r"no feature-map output.*genrec export"):
        explain([rec], source=_wav(tone(4.0)))


@slow
def test_gradcam_comes_from_the_8_bit_file_when_uploads_are_answered_in_8_bit(tiny_runs, monkeypatch):
    """8-bit files made from the float one keep its feature-map output: Grad-CAM uses them, close to float's."""
    from genrec.model.predict import QUANTIZED_FILE
    from genrec.runs.reader import Run
    from genrec.serve.explain import explain
    from genrec.serve.recommend import Recommender

    monkeypatch.setenv("GENREC_PREDICTOR", "int8")
    rec = Recommender(Run.open(tiny_runs["resnet50"]))
    assert rec.predictor.path.name == QUANTIZED_FILE
    (expl,) = explain([rec], source=_wav(tone(4.0)))
    assert rec.explainer is rec.predictor  # the answering interpreter itself: its weights are held once
    assert expl.cells.shape[0] > 0 and np.isfinite(expl.cells).all()
    float_rec = Recommender(Run.open(tiny_runs["resnet50"]))
    monkeypatch.setenv("GENREC_PREDICTOR", "float")
    (reference,) = explain([float_rec], source=_wav(tone(4.0)))
    assert expl.cells.shape == reference.cells.shape
    # int8 weights move the map a little: every cell within a tenth of the float map's largest weight
    scale = float(np.abs(reference.cells).max())
    np.testing.assert_allclose(expl.cells, reference.cells, rtol=0, atol=0.1 * scale + 1e-6)
