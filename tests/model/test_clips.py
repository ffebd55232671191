"""Per-image predictions to per-clip ones (genrec.model.pooling), as training and evaluation both use them."""

from __future__ import annotations

import numpy as np
import pytest

from genrec.model.pooling import chunk_accuracy, clip_mean, clip_predictions
from genrec.model.predict import predict_clips
from genrec.model.quantize import predict_library


def test_clip_mean_averages_each_clips_chunks():
    values = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(clip_mean(values, np.array([0, 0, 1]), 2), [[0.5, 0.5], [1.0, 1.0]])


def test_clip_mean_gives_zeros_to_a_clip_without_images():
    values = np.array([[2.0, 4.0]])
    np.testing.assert_allclose(clip_mean(values, np.array([1]), 2), [[0.0, 0.0], [2.0, 4.0]])


def test_clip_embedding_is_the_renormalised_mean_of_unit_chunk_embeddings():
    probs = np.array([[0.8, 0.2], [0.4, 0.6], [0.1, 0.9]], dtype=np.float32)
    # the long first chunk must not outweigh the second: chunks are normalised before averaging
    embeddings = np.array([[30.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float32)
    owner = np.array([0, 0, 1])
    clip_probs, clip_embeddings = clip_predictions(probs, embeddings, owner, 2)
    np.testing.assert_allclose(clip_probs, [[0.6, 0.4], [0.1, 0.9]], atol=1e-6)
    np.testing.assert_allclose(clip_embeddings, [[2**-0.5, 2**-0.5], [0.6, 0.8]], atol=1e-6)


def test_chunk_accuracy_counts_the_chunks_of_one_split():
    # clips: 0 (test, genre 0, 3 chunks), 1 (train, genre 1, 1 chunk), 2 (test, genre 1, 2 chunks)
    owner = np.array([0, 0, 0, 1, 2, 2])
    labels = np.array([0, 1, 1])
    split = np.array(["test", "train", "test"])
    probs = np.array(
        [
            [0.9, 0.1],
            [0.2, 0.8],
            [0.7, 0.3],  # clip 0: 2 of 3 right
            [0.9, 0.1],  # clip 1 (train): wrong, not counted
            [0.4, 0.6],
            [0.6, 0.4],
        ]
    )  # clip 2: 1 of 2 right
    assert chunk_accuracy(probs, owner, labels, split) == pytest.approx(3 / 5)
    assert chunk_accuracy(probs, owner, labels, split, which="train") == 0.0
    assert chunk_accuracy(probs, owner, labels, split, which="valid") is None


def test_serving_and_agreement_check_pool_like_training():
    """predict_clips (serving) and predict_library (8-bit check) give training's clip_predictions."""
    rng = np.random.default_rng(0)
    images = rng.random((7, 2, 2, 3)).astype(np.float32)
    owner = np.array([0, 0, 0, 1, 2, 2, 2])

    def predictor(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = x.reshape(len(x), -1)
        return flat[:, :4] / flat[:, :4].sum(1, keepdims=True), flat[:, 4:9]

    want_p, want_e = clip_predictions(*predictor(images), owner, 3)
    clips = [images[owner == i] for i in range(3)]
    for got_p, got_e in (predict_clips(predictor, clips), predict_library(predictor, images, owner, 3)):
        np.testing.assert_array_equal(got_p, want_p)
        np.testing.assert_array_equal(got_e, want_e)
