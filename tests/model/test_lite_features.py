"""Training's frozen pass in LiteRT gives Keras' features, is used only where it pays, and falls back to Keras."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import genrec.model.lite_features as LF
import genrec.model.network as M
from genrec.training.trainer import TrainConfig, extract, frozen_features

SIZE = 32


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (20, SIZE, SIZE, 3), dtype=np.uint8)


@pytest.mark.slow
@pytest.mark.parametrize("arch,last_four", [("vgg16", False), ("resnet50", True)])
def test_litert_frozen_pass_gives_the_keras_features(arch, last_four, images):
    model = M.build_model(arch, 10, input_size=SIZE, last_four_trainable=last_four)
    frozen, _ = M.split_model(model)
    keras_features = extract(frozen, images, 8)
    seen = []
    lite_features = LF.lite_extract(LF.convert_frozen(frozen), images, lambda *report: seen.append(report))
    # ResNet50 with its last four layers trainable is cut at two tensors (the residual shortcut): same order
    assert [f.shape for f in lite_features] == [f.shape for f in keras_features]
    assert len(keras_features) == (2 if last_four else 1)
    for k, lite in zip(keras_features, lite_features):
        assert np.abs(k).max() > 0
        np.testing.assert_allclose(lite, k, atol=1e-4 * float(np.abs(k).max()), rtol=1e-4)
    assert seen[0] == ("features", 0, len(images)) and seen[-1] == ("features", len(images), len(images))


def test_conversion_only_where_the_library_repays_it():
    assert not LF.worth_converting("vgg16", 200, 224)  # the demo library: Keras
    assert LF.worth_converting("vgg16", LF.MIN_IMAGES["vgg16"], 224)
    assert LF.worth_converting("resnet50", 10_000, 224)  # full GTZAN in 3-s chunks
    assert not LF.worth_converting("resnet50", 10_000, 32)  # tiny images: little to save per image
    assert not LF.worth_converting("unknown-arch", 10**9, 224)


def test_training_falls_back_to_keras_when_conversion_fails(images, monkeypatch, caplog):
    model = M.build_model("vgg16", 10, input_size=SIZE)
    frozen, _ = M.split_model(model)
    monkeypatch.setitem(LF.MIN_IMAGES, "vgg16", 0)  # any library size converts

    def broken(_frozen):
        raise RuntimeError("converter exploded")

    monkeypatch.setattr(LF, "convert_frozen", broken)
    cfg = TrainConfig(arch="vgg16", input_size=SIZE, weights="none")
    with caplog.at_level(logging.WARNING, logger="genrec.model.lite_features"):
        got = frozen_features(cfg, frozen, images)
    assert "converter exploded" in caplog.text
    np.testing.assert_array_equal(got[0], extract(frozen, images, 8)[0])
