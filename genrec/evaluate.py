"""Test-set figures of a run: the paper's classification table and retrieval quality."""
from __future__ import annotations

import numpy as np
import pandas as pd

from genrec.config import GENRES
from genrec.metrics import classification_metrics
from genrec.retrieval import retrieval_report

RETRIEVAL_K = 5


def run_metrics(tracks: pd.DataFrame, probs: np.ndarray, embeddings: np.ndarray,
                chunk_accuracy: float | None = None, k: int = RETRIEVAL_K) -> dict:
    """Classification metrics per split and retrieval figures (test queries against the train split).

    ``tracks`` rows align with ``probs`` and ``embeddings`` (clip level).
    """
    labels = tracks["genre"].map({g: i for i, g in enumerate(GENRES)}).to_numpy()
    predicted = probs.argmax(axis=1)
    split = tracks["split"].to_numpy()
    out: dict = {}
    for name in ("test", "valid"):
        mask = split == name
        out[name] = classification_metrics(labels[mask], predicted[mask], GENRES)
    if chunk_accuracy is not None:
        out["test"]["chunk_accuracy"] = chunk_accuracy
    query, base = split == "test", split == "train"
    artists = tracks["artist"].fillna("").astype(str).to_numpy()
    known = bool(np.all(artists != ""))
    if query.any() and base.any():
        out["retrieval"] = retrieval_report(
            embeddings[query], tracks["genre"].to_numpy()[query], artists[query] if known else None,
            embeddings[base], tracks["genre"].to_numpy()[base], artists[base] if known else None, k=k,
        )
    else:
        out["retrieval"] = None
    return out


def summary_line(metrics: dict) -> dict:
    """The headline figures of a run, for tables."""
    r = metrics.get("retrieval") or {}
    return {
        "test_accuracy": metrics["test"]["accuracy"],
        "macro_f1": metrics["test"]["macro avg"]["f1-score"],
        "precision_at_5": r.get("precision_at_k"),
        "map": r.get("map"),
    }
