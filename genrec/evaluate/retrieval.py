"""How good are "more like this" recommendations?

Test-split tracks are used as queries against the train split (the library a
user would be recommended from), and a neighbour counts as relevant when it
shares the query's genre.  Rankings come from the same cosine similarity and
tie order as :class:`genrec.search.index.ExactIndex`, so the figures describe exactly
what the recommender would return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from genrec.config import TOP_K
from genrec.search.index import cosine_similarities, rank_indices

__all__ = ["retrieval_report"]

# Query rows ranked per block, so the (queries x base) working arrays stay
# around 2**22 elements (tens of MiB) whatever the split sizes.
_BLOCK_ELEMENTS = 1 << 22


def _codes(values: Sequence[Any] | np.ndarray, n: int, what: str, table: dict[Any, int]) -> np.ndarray:
    """Labels as small ints (shared ``table`` across splits) so rankings can be
    compared with vectorised integer equality."""
    if isinstance(values, str):
        raise TypeError(f"{what} must be a sequence of labels, not one string")
    items = list(values.tolist() if isinstance(values, np.ndarray) else values)
    if len(items) != n:
        raise ValueError(f"{what} has {len(items)} entries for {n} vectors")
    return np.array([table.setdefault(v, len(table)) for v in items], dtype=np.int64)


def _artist_codes(
    values: Sequence[Any] | np.ndarray | None, n: int, what: str, table: dict[Any, int]
) -> np.ndarray | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise TypeError(f"{what} must be a sequence of artists, not one string")
    items = list(values.tolist() if isinstance(values, np.ndarray) else values)
    if len(items) != n:
        raise ValueError(f"{what} has {len(items)} entries for {n} vectors")
    # Unknown artists (None, "", NaN) get -1 and never match, or every
    # unknown-artist neighbour would be dropped for an unknown-artist query.
    return np.array(
        [table.setdefault(a, len(table)) if a is not None and a == a and a != "" else -1 for a in items], dtype=np.int64
    )


def retrieval_report(
    query_vecs: np.ndarray,
    query_genres: Sequence[Any] | np.ndarray,
    query_artists: Sequence[Any] | np.ndarray | None,
    base_vecs: np.ndarray,
    base_genres: Sequence[Any] | np.ndarray,
    base_artists: Sequence[Any] | np.ndarray | None,
    k: int = TOP_K,
) -> dict[str, Any]:
    """Genre-retrieval quality of cosine nearest neighbours.

    Returns a dict with

    - ``precision_at_k``: mean fraction of a query's k nearest base items that
      share its genre (denominator ``min(k, n_base)``);
    - ``map``: mean average precision over the full ranking of the base set,
      relevant = same genre; queries whose genre is absent from the base set
      have no defined AP and are left out of this mean;
    - ``top1_agreement``: fraction whose nearest neighbour shares the genre;
    - ``precision_at_k_other_artists``: precision@k after removing base items
      by the query's own artist (so an artist's other songs cannot flatter the
      figure); ``None`` when either artist list is ``None``.  Unknown artists
      (``None``/``""``) never match.  The denominator is the number of
      neighbours left (at most k); queries left with none are skipped;
    - ``chance``: expected precision@k of a random ranking, the mean over
      queries of (#base items of the query's genre / #base items);
    - ``k``, ``n_queries``, ``n_base``.

    Ties in similarity are ranked by base order, as ExactIndex ranks them;
    AP follows that ranking, so it equals scikit-learn's
    ``average_precision_score`` (which pools tied scores) whenever a query's
    scores have no ties.
    """
    k, q, b = _checked_vectors(query_vecs, base_vecs, k)
    n_q, n_b = q.shape[0], b.shape[0]
    genres: dict[Any, int] = {}
    q_gen = _codes(query_genres, n_q, "query_genres", genres)
    b_gen = _codes(base_genres, n_b, "base_genres", genres)
    artists: dict[Any, int] = {}
    q_art = _artist_codes(query_artists, n_q, "query_artists", artists)
    b_art = _artist_codes(base_artists, n_b, "base_artists", artists)
    use_artists = q_art is not None and b_art is not None
    n_relevant = np.bincount(b_gen, minlength=len(genres))[q_gen].astype(np.float64)
    q_art = q_art if use_artists else None
    precision, top1, ap, other = _score_queries(q, b, q_gen, b_gen, q_art, b_art, n_relevant, k)

    valid_ap = ap[~np.isnan(ap)]
    valid_other = other[~np.isnan(other)]
    return {
        "precision_at_k": float(precision.mean()),
        "map": float(valid_ap.mean()) if valid_ap.size else None,
        "top1_agreement": float(top1.mean()),
        "precision_at_k_other_artists": (float(valid_other.mean()) if use_artists and valid_other.size else None),
        "chance": float((n_relevant / n_b).mean()),
        "k": k,
        "n_queries": int(n_q),
        "n_base": int(n_b),
    }


def _checked_vectors(query_vecs: np.ndarray, base_vecs: np.ndarray, k: int) -> tuple[int, np.ndarray, np.ndarray]:
    """``k`` as an int and both vector sets as 2-D arrays of one dimension, or a ValueError naming the problem."""
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    q = np.asarray(query_vecs)
    b = np.asarray(base_vecs)
    if q.ndim != 2 or b.ndim != 2:
        raise ValueError(f"query_vecs and base_vecs must be 2-D, got shapes {q.shape} and {b.shape}")
    n_q, n_b = q.shape[0], b.shape[0]
    if n_q == 0 or n_b == 0:
        raise ValueError(f"need at least one query and one base vector, got {n_q} and {n_b}")
    if q.shape[1] != b.shape[1]:
        raise ValueError(f"query vectors have dimension {q.shape[1]} but base vectors have dimension {b.shape[1]}")
    return k, q, b


def _score_queries(
    q: np.ndarray,
    b: np.ndarray,
    q_gen: np.ndarray,
    b_gen: np.ndarray,
    q_art: np.ndarray | None,
    b_art: np.ndarray | None,
    n_relevant: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-query precision@k, top-1 agreement, AP and other-artist precision (NaN where undefined).

    ``q_art`` is None when artists are not compared; the other-artist figures are then all NaN.
    """
    n_q, n_b = q.shape[0], b.shape[0]
    k_eff = min(k, n_b)
    ranks = np.arange(1, n_b + 1, dtype=np.float64)
    precision = np.empty(n_q)
    top1 = np.empty(n_q)
    ap = np.full(n_q, np.nan)
    other = np.full(n_q, np.nan)

    block = max(1, _BLOCK_ELEMENTS // n_b)
    for start in range(0, n_q, block):
        rows = slice(start, min(n_q, start + block))
        order = rank_indices(cosine_similarities(q[rows], b))  # full ranking per row
        rel = b_gen[order] == q_gen[rows, None]
        precision[rows] = rel[:, :k_eff].mean(axis=1)
        top1[rows] = rel[:, 0]
        # AP = mean, over the relevant positions, of precision at that rank.
        prec_at = np.cumsum(rel, axis=1) / ranks
        n_rel = n_relevant[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            ap[rows] = np.where(n_rel > 0, (prec_at * rel).sum(axis=1) / n_rel, np.nan)
        if q_art is not None and b_art is not None:
            q_a = q_art[rows, None]
            allowed = (b_art[order] != q_a) | (q_a == -1)
            chosen = allowed & (np.cumsum(allowed, axis=1) <= k)
            n_chosen = chosen.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                other[rows] = np.where(n_chosen > 0, (rel & chosen).sum(axis=1) / n_chosen, np.nan)
    return precision, top1, ap, other
