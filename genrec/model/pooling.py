"""From per-image predictions to per-clip ones, shared by training and evaluation.

A clip is one image, or several when it is cut into chunks (``--chunk-seconds``).
Its genre probabilities are the mean of its images' probabilities, and its
embedding is the renormalised mean of its images' unit embeddings.  Training
and ``genrec evaluate`` both call these functions, so a run's saved figures and a
re-evaluation compute the same thing.
"""

from __future__ import annotations

import numpy as np

from genrec.search.index import l2_normalize

#: Images per forward pass of the frozen part. Its outputs do not depend on the batch (inference mode), a CPU
#: is as fast with 8 as with 32, and VGG16 at 224 px peaks 0.8 GB lower (1.06 vs 1.90 GB for 200 images).
EXTRACT_BATCH = 8


def clip_mean(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Average per-image rows into one row per clip (chunk probabilities → clip probabilities)."""
    sums = np.zeros((n, values.shape[1]), dtype=np.float64)
    np.add.at(sums, owner, values)
    counts = np.bincount(owner, minlength=n)[:, None]
    return (sums / np.maximum(counts, 1)).astype(np.float32)


def clip_predictions(
    image_probs: np.ndarray, image_embeddings: np.ndarray, owner: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip probabilities and unit embeddings of ``n`` clips from their images'; ``owner[i]``
    is the clip of image ``i``."""
    probs = clip_mean(image_probs, owner, n)
    embeddings = l2_normalize(clip_mean(l2_normalize(image_embeddings), owner, n))
    return probs, embeddings


def chunk_accuracy(
    image_probs: np.ndarray, owner: np.ndarray, labels: np.ndarray, split: np.ndarray, which: str = "test"
) -> float | None:
    """Accuracy of the single images (chunks) of the clips in split ``which``, or None if it has none.

    ``labels`` and ``split`` are per clip (genre index, split name); ``owner`` maps images to clips.
    """
    mask = (np.asarray(split) == which)[owner]
    if not mask.any():
        return None
    return float((image_probs[mask].argmax(axis=1) == np.asarray(labels)[owner][mask]).mean())
