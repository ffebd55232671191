"""The library map: embeddings projected to two dimensions (PCA, or t-SNE where scikit-learn has it)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE


def projection_methods() -> list[str]:
    """2-D projection methods available here: PCA and t-SNE always, UMAP when ``umap-learn`` is installed."""
    methods = ["PCA", "t-SNE"]
    if importlib.util.find_spec("umap") is not None:
        methods.append("UMAP")
    return methods


def project(embeddings: np.ndarray, method: str = "PCA", seed: int = 0) -> np.ndarray:
    """Project embeddings (n, d) to (n, 2) with PCA, t-SNE or UMAP (deterministic for a seed)."""
    x = np.asarray(embeddings, dtype=np.float64)
    n = len(x)
    if n == 0:
        return np.zeros((0, 2))
    if n < 3 or x.shape[1] < 2:
        out = np.zeros((n, 2))
        out[:, : min(2, x.shape[1])] = x[:, :2]
        return out
    if method == "PCA":
        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "t-SNE":
        perplexity = float(min(30.0, max(2.0, (n - 1) / 3)))
        return TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=seed, metric="cosine"
        ).fit_transform(x)
    if method == "UMAP":
        try:
            import umap  # noqa: PLC0415 - optional dependency, probed where it is used
        except ImportError as exc:
            raise ValueError("UMAP needs the umap-learn package (pip install umap-learn)") from exc
        return umap.UMAP(n_components=2, random_state=seed, metric="cosine", n_neighbors=min(15, n - 1)).fit_transform(
            x
        )
    raise ValueError(f"unknown projection method {method!r}; choose one of {', '.join(projection_methods())}")


def projection_table(tracks: pd.DataFrame, embeddings: np.ndarray, method: str = "PCA") -> pd.DataFrame:
    """Library tracks with their 2-D coordinates (columns x, y, track_id, genre, split, artist)."""
    xy = project(embeddings, method)
    table = tracks[["track_id", "genre", "split"]].copy().reset_index(drop=True)
    table["artist"] = tracks["artist"].fillna("").astype(str).to_numpy() if "artist" in tracks else ""
    table["x"], table["y"] = xy[:, 0], xy[:, 1]
    return table
