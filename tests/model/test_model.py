"""The Keras models: the paper's head, caffe preprocessing, the last-four switch, cutting, weights, loading."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import genrec.model.network as M
from genrec.errors import RunError, WeightsError

SIZE = 32


@pytest.fixture(scope="module", params=["vgg16", "resnet50"])
def arch(request) -> str:
    return request.param


def test_head_layers_and_output(arch):
    m = M.build_model(arch, 10, input_size=SIZE)
    assert m.output.shape == (None, 10)
    assert m.get_layer(M.EMBEDDING_LAYER).output.shape == (None, 256)
    assert m.get_layer("dropout").rate == pytest.approx(0.2)
    probs = m.predict(np.random.default_rng(0).uniform(0, 255, (3, SIZE, SIZE, 3)).astype("float32"), verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_head_order_with_and_without_feature_norm():
    names = [layer.name for layer in M.build_model("vgg16", 10, input_size=SIZE).layers]
    assert names[-5:] == ["pool", M.NORM_LAYER, M.EMBEDDING_LAYER, "dropout", M.OUTPUT_LAYER]
    paper = M.build_model("vgg16", 10, input_size=SIZE, feature_norm=False)
    assert [layer.name for layer in paper.layers][-4:] == ["pool", M.EMBEDDING_LAYER, "dropout", M.OUTPUT_LAYER]
    assert M.NORM_LAYER not in {layer.name for layer in paper.layers}
    frozen, tail = M.split_model(paper)  # the paper's head splits the same way
    assert [tuple(t.shape) for t in frozen.outputs] == [(None, 512)] and tail.outputs[0].shape == (None, 10)


def test_preprocess_layer_matches_keras_preprocess_input(arch):
    x = np.random.default_rng(1).uniform(0, 255, (2, SIZE, SIZE, 3)).astype("float32")
    expected = getattr(keras.applications, arch).preprocess_input(x.copy())
    got = np.asarray(M.CaffePreprocess()(x))
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_last_four_weighted_layers_are_the_documented_ones():
    vgg = M.build_backbone("vgg16", M.WeightsSource("none"), SIZE)
    res = M.build_backbone("resnet50", M.WeightsSource("none"), SIZE)
    assert M.last_four_weighted(vgg) == ["block4_conv3", "block5_conv1", "block5_conv2", "block5_conv3"]
    assert M.last_four_weighted(res) == [
        "conv5_block3_2_conv",
        "conv5_block3_2_bn",
        "conv5_block3_3_conv",
        "conv5_block3_3_bn",
    ]


@pytest.mark.parametrize("last_four", [False, True])
def test_only_head_and_switch_layers_train(arch, last_four):
    m = M.build_model(arch, 10, input_size=SIZE, last_four_trainable=last_four)
    trainable = {layer.name for layer in m.layers if layer.trainable_weights}
    backbone = set(M.trainable_backbone_layers(m))
    assert trainable == backbone | {M.NORM_LAYER, M.EMBEDDING_LAYER, M.OUTPUT_LAYER}
    assert len(backbone) == (4 if last_four else 0)


@pytest.mark.parametrize("last_four", [False, True])
def test_split_model_tail_of_frozen_equals_full_model(arch, last_four):
    m = M.build_model(arch, 10, input_size=SIZE, last_four_trainable=last_four)
    frozen, tail = M.split_model(m)
    x = np.random.default_rng(2).uniform(0, 255, (4, SIZE, SIZE, 3)).astype("float32")
    np.testing.assert_allclose(
        tail.predict(frozen.predict(x, verbose=0), verbose=0), m.predict(x, verbose=0), atol=1e-6
    )
    # Frozen backbone: the cache holds the pooled vector; last four: the input(s) of the first trainable layer.
    shapes = [tuple(t.shape[1:]) for t in M.frozen_boundary(m)]
    if not last_four:
        assert shapes == ([(512,)] if arch == "vgg16" else [(2048,)])
    else:
        assert len(shapes) == (1 if arch == "vgg16" else 2)  # ResNet's residual shortcut is a second input


def test_frozen_batchnorm_stays_in_inference_mode_while_tail_trains():
    m = M.build_model("resnet50", 3, input_size=SIZE, last_four_trainable=True)
    frozen_bn, trained_bn = m.get_layer("conv1_bn"), m.get_layer("conv5_block3_3_bn")
    before_frozen = [w.numpy().copy() for w in frozen_bn.weights]
    before_trained = trained_bn.moving_mean.numpy().copy()
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(3)
    m.fit(rng.uniform(0, 255, (8, SIZE, SIZE, 3)).astype("float32"), rng.integers(0, 3, 8), epochs=1, verbose=0)
    for w, b in zip(frozen_bn.weights, before_frozen):
        np.testing.assert_array_equal(w.numpy(), b)  # gamma/beta and moving statistics untouched
    assert not np.allclose(trained_bn.moving_mean.numpy(), before_trained)


def test_imagenet_download_failure_says_what_to_do(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr("keras.src.applications.vgg16.file_utils.get_file", offline, raising=False)
    with pytest.raises(WeightsError) as err:
        M.build_model("vgg16", 10, weights="imagenet", input_size=SIZE)
    assert "--weights none" in str(err.value) and "ImageNet" in str(err.value)


def test_local_weights_file_is_loaded_and_recorded(tmp_path):
    keras.utils.set_random_seed(5)
    donor = M.build_backbone("vgg16", M.WeightsSource("none"), SIZE)
    path = tmp_path / "vgg16_notop.weights.h5"
    donor.save_weights(path)
    source = M.weights_source(str(path))
    assert source.kind == "file" and len(source.sha256) == 64 and "file" in source.label
    keras.utils.set_random_seed(6)  # a different random init, overwritten by the file
    m = M.build_model("vgg16", 10, weights=source, input_size=SIZE)
    np.testing.assert_array_equal(
        m.get_layer("block1_conv1").kernel.numpy(), donor.get_layer("block1_conv1").kernel.numpy()
    )


def test_bad_weights_files(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        M.weights_source(str(tmp_path / "missing.h5"))
    junk = tmp_path / "junk.weights.h5"
    junk.write_bytes(b"not an hdf5 file")
    with pytest.raises(WeightsError, match=r"junk\.weights\.h5"):
        M.build_model("vgg16", 10, weights=str(junk), input_size=SIZE)


def test_saved_model_reloads_with_safe_mode_and_truncation_is_reported(tmp_path):
    m = M.build_model("vgg16", 10, input_size=SIZE)
    path = tmp_path / "model.keras"
    m.save(path)
    x = np.random.default_rng(4).uniform(0, 255, (2, SIZE, SIZE, 3)).astype("float32")
    np.testing.assert_allclose(M.load_model(path).predict(x, verbose=0), m.predict(x, verbose=0), atol=1e-6)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RunError, match="damaged or incomplete"):
        M.load_model(path)
    with pytest.raises(RunError, match="missing"):
        M.load_model(tmp_path / "nope.keras")
