"""Grad-CAM in numpy: where on the spectrogram image a model found the evidence for a genre.

Grad-CAM weighs each channel k of the last convolutional feature map A by
α_k = mean over positions of ∂(genre logit)/∂A_k, and maps ReLU(Σ_k α_k A_k).
In genrec's head the logit depends on A only through global average pooling,
so ∂logit/∂A_ijk = g_k / (H·W) with g = ∂logit/∂pooled, and g follows from the
head's own weights: ``feature_norm`` at inference (an affine map, scale
γ/√(var+ε)), the dense ReLU ``embedding`` layer (its gradient passes only
through the units active for this input) and the ``genre`` layer's pre-softmax
logit. No TensorFlow is needed: the predictor supplies A, and the head's
weights are saved with the run as ``head.npz`` (by training and by
``genrec export``). A test checks the result against ``tf.GradientTape``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genrec.errors import RunError
from genrec.runs.layout import HEAD_FILE
from genrec.utils.fileio import atomic_write

_KEYS = ("norm_scale", "norm_shift", "embedding_kernel", "embedding_bias", "genre_kernel", "genre_bias")


def needs_export(run_path: Path, what: str) -> RunError:
    """The error of a run saved before Grad-CAM existed: it says to run ``genrec export``."""
    return RunError(
        f"{run_path}: {what}. This run was saved before Grad-CAM was added; run "
        f"`genrec export {run_path}` once to add it (everything else keeps working without it)."
    )


@dataclass(frozen=True)
class Head:
    """The head after pooling, as arrays: affine standardisation → dense ReLU → genre logits.

    Without ``feature_norm`` (``--paper-head``) the standardisation is the identity.
    """

    norm_scale: np.ndarray  # (K,)
    norm_shift: np.ndarray  # (K,)
    embedding_kernel: np.ndarray  # (K, units)
    embedding_bias: np.ndarray  # (units,)
    genre_kernel: np.ndarray  # (units, classes)
    genre_bias: np.ndarray  # (classes,)

    @classmethod
    def load(cls, run_path: Path) -> Head:
        """Read ``head.npz`` of a run (no pickle); RunError naming the fix when absent or damaged."""
        path = Path(run_path) / HEAD_FILE
        if not path.is_file():
            raise needs_export(Path(run_path), f"no {HEAD_FILE} (the head weights Grad-CAM needs)")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: np.asarray(data[k], dtype=np.float64) for k in _KEYS}
        except Exception as exc:  # zip, key and format errors all mean the file is unusable
            raise RunError(
                f"{path}: unreadable ({type(exc).__name__}); rewrite it with `genrec export {run_path}`."
            ) from exc
        head = cls(**arrays)
        k, units = head.embedding_kernel.shape
        if (
            head.norm_scale.shape != (k,)
            or head.norm_shift.shape != (k,)
            or head.embedding_bias.shape != (units,)
            or head.genre_kernel.shape[0] != units
            or head.genre_bias.shape != head.genre_kernel.shape[1:]
        ):
            raise RunError(
                f"{path}: the head weights have inconsistent shapes; rewrite them with `genrec export {run_path}`."
            )
        return head

    def _pre_activation(self, pooled: np.ndarray) -> np.ndarray:
        return (pooled * self.norm_scale + self.norm_shift) @ self.embedding_kernel + self.embedding_bias

    def logits(self, pooled: np.ndarray) -> np.ndarray:
        """Pre-softmax genre logits (n, classes) of pooled features (n, K)."""
        return np.maximum(self._pre_activation(pooled), 0.0) @ self.genre_kernel + self.genre_bias

    def logit_gradient(self, pooled: np.ndarray, genre: int) -> np.ndarray:
        """∂ logit[genre] / ∂ pooled, shape (n, K)."""
        active = self._pre_activation(pooled) > 0.0
        through_relu = active * self.genre_kernel[:, genre]  # (n, units)
        return (through_relu @ self.embedding_kernel.T) * self.norm_scale


def gradcam(feature_maps: np.ndarray, head: Head, genre: int) -> np.ndarray:
    """Grad-CAM maps (n, H, W) of feature maps (n, H, W, K) for one genre index (not normalised)."""
    fmap = np.asarray(feature_maps, dtype=np.float64)
    height, width = fmap.shape[1:3]
    weights = head.logit_gradient(fmap.mean(axis=(1, 2)), genre) / (height * width)
    return np.maximum(np.einsum("nhwk,nk->nhw", fmap, weights), 0.0)


def write_head(arrays: dict[str, np.ndarray], target: Path) -> Path:
    """Save head arrays (see :func:`genrec.model.network.head_arrays`) to ``target`` atomically."""
    return atomic_write(
        target, lambda out: np.savez(out, **{k: np.asarray(arrays[k], dtype=np.float32) for k in _KEYS})
    )
