"""Hubness of a recommender's library: do a few clips get recommended for everything?

Each library clip is used as a query against all the others (as the app's
"more like this" does; a clip never recommends itself) and every clip's
k-occurrence N_k — how many other clips have it in their top k — is counted.
In high-dimensional spaces N_k tends to be right-skewed: a few "hubs" appear
in many lists and many clips appear in none. Reported: the skewness of N_k
(0 for a symmetric spread; above ~1 hubs dominate), the share of the library
never recommended, and the largest N_k. Rankings follow
:class:`genrec.search.index.ExactIndex` (cosine similarity, ties by position).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import skew

from genrec.config import TOP_K
from genrec.search.index import cosine_similarities, rank_indices

# Query rows ranked per block, so the (block x library) arrays stay around 2**22 elements.
_BLOCK_ELEMENTS = 1 << 22


def k_occurrence(embeddings: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """N_k of every row of ``embeddings`` (n, d): in how many other rows' top-k lists it appears."""
    vectors = np.asarray(embeddings)
    n = len(vectors)
    k = min(int(k), n - 1)
    counts = np.zeros(n, dtype=np.int64)
    if k < 1:
        return counts
    block = max(1, _BLOCK_ELEMENTS // n)
    for start in range(0, n, block):
        rows = np.arange(start, min(n, start + block))
        scores = cosine_similarities(vectors[rows], vectors)
        scores[np.arange(len(rows)), rows] = -np.inf  # a clip never recommends itself
        top = rank_indices(scores)[:, :k]
        counts += np.bincount(top.ravel(), minlength=n)
    return counts


def hubness_report(embeddings: np.ndarray, k: int = TOP_K) -> dict:
    """Skewness of N_k, share of the library never recommended, largest N_k, k and library size."""

    counts = k_occurrence(embeddings, k)
    n = len(counts)
    spread = counts.std() > 0
    return {
        "k": int(min(k, max(n - 1, 0))),
        "n": int(n),
        "skewness": float(skew(counts)) if spread else 0.0,
        "never_recommended": float((counts == 0).mean()) if n else float("nan"),
        "max_k_occurrence": int(counts.max(initial=0)),
    }
