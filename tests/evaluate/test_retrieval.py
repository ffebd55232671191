"""genrec.evaluate.retrieval.retrieval_report: hand-checked numbers and scikit-learn cross-checks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score
from sklearn.metrics.pairwise import cosine_similarity

# Lets plain `pytest` (not only `python -m pytest`) import the uninstalled package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from genrec.evaluate.retrieval import retrieval_report
from genrec.search.index import ExactIndex


def _unit(deg: float) -> list[float]:
    r = np.deg2rad(deg)
    return [float(np.cos(r)), float(np.sin(r))]


# Base set: 2-D unit vectors at these angles, so cosine = cos(angle difference).
BASE_ANGLES = [0, 10, 20, 90, 180]
BASE_GENRES = ["A", "B", "A", "B", "A"]
BASE_ARTISTS = ["x", "y", "y", "z", "x"]
QUERY_ANGLES = [0, 110, 200, 60]
QUERY_GENRES = ["A", "B", "A", "A"]
QUERY_ARTISTS = ["x", "w", "x", "y"]


def test_hand_computed_tiny_case():
    # Every number below was worked out by hand from the angles (k = 3):
    #   q0 (0 deg, A, x):   ranking b0 b1 b2 b3 b4, relevant 1 0 1 0 1
    #       P@3 = 2/3, top1 = 1, AP = (1/1 + 2/3 + 3/5)/3 = 34/45
    #       without artist x (b0, b4): b1 b2 b3 -> 0 1 0 -> 1/3
    #   q1 (110 deg, B, w): cosines b3 .94, b4 .34, b2 0, b1 -.17, b0 -.34
    #       relevant 1 0 0 1 0: P@3 = 1/3, top1 = 1, AP = (1/1 + 2/4)/2 = 3/4
    #       artist w is not in the base: nothing removed -> 1/3
    #   q2 (200 deg, A, x): cosines b4 .94, b3 -.34, b0 -.94, b1 -.98, b2 -1
    #       relevant 1 0 1 0 1: P@3 = 2/3, top1 = 1, AP = 34/45
    #       without artist x: b3 b1 b2 -> 0 0 1 -> 1/3
    #   q3 (60 deg, A, y):  cosines b3 .87, b2 .77, b1 .64, b0 .5, b4 -.5
    #       relevant 0 1 0 1 1: P@3 = 1/3, top1 = 0, AP = (1/2 + 2/4 + 3/5)/3 = 8/15
    #       without artist y (b1, b2): b3 b0 b4 -> 0 1 1 -> 2/3
    #   chance: 3 of 5 base items are A, 2 are B -> (3/5 + 2/5 + 3/5 + 3/5)/4 = 11/20
    rep = retrieval_report(
        np.array([_unit(a) for a in QUERY_ANGLES]),
        QUERY_GENRES,
        QUERY_ARTISTS,
        np.array([_unit(a) for a in BASE_ANGLES]),
        BASE_GENRES,
        BASE_ARTISTS,
        k=3,
    )
    assert rep["precision_at_k"] == pytest.approx((2 / 3 + 1 / 3 + 2 / 3 + 1 / 3) / 4)
    assert rep["map"] == pytest.approx((34 / 45 + 3 / 4 + 34 / 45 + 8 / 15) / 4)  # 503/720
    assert rep["top1_agreement"] == pytest.approx(3 / 4)
    assert rep["precision_at_k_other_artists"] == pytest.approx(5 / 12)
    assert rep["chance"] == pytest.approx(11 / 20)
    assert (rep["k"], rep["n_queries"], rep["n_base"]) == (3, 4, 5)


def test_tiny_case_without_artists():
    rep = retrieval_report(
        np.array([_unit(a) for a in QUERY_ANGLES]),
        QUERY_GENRES,
        None,
        np.array([_unit(a) for a in BASE_ANGLES]),
        BASE_GENRES,
        BASE_ARTISTS,
        k=3,
    )
    assert rep["precision_at_k_other_artists"] is None
    assert rep["precision_at_k"] == pytest.approx(0.5)


def _random_split(n_q: int, n_b: int, dim: int, n_genres: int, seed: int, signal: float):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_genres, dim))
    q_gen = rng.integers(0, n_genres, n_q)
    b_gen = np.arange(n_b) % n_genres
    q = signal * centres[q_gen] + rng.standard_normal((n_q, dim))
    b = signal * centres[b_gen] + rng.standard_normal((n_b, dim))
    return q.astype(np.float32), q_gen, b.astype(np.float32), b_gen


@pytest.mark.parametrize("k", [1, 5, 10])
def test_matches_sklearn_per_query(k):
    q, q_gen, b, b_gen = _random_split(60, 300, 24, 6, seed=k, signal=0.5)
    rep = retrieval_report(q, q_gen, None, b, b_gen, None, k=k)
    sims = cosine_similarity(q, b)
    aps, precisions, top1 = [], [], []
    for i in range(len(q)):
        rel = b_gen == q_gen[i]
        aps.append(average_precision_score(rel, sims[i]))
        top = np.argsort(-sims[i])[:k]
        precisions.append(rel[top].mean())
        top1.append(rel[top[0]])
    assert rep["map"] == pytest.approx(np.mean(aps), abs=1e-9)
    assert rep["precision_at_k"] == pytest.approx(np.mean(precisions))
    assert rep["top1_agreement"] == pytest.approx(np.mean(top1))
    assert (rep["k"], rep["n_queries"], rep["n_base"]) == (k, 60, 300)


def test_ranking_is_exact_index_ranking():
    # Duplicated base vectors: the report must break ties as ExactIndex does.
    q, q_gen, b, b_gen = _random_split(30, 200, 16, 4, seed=3, signal=1.0)
    b[100:110] = b[0]
    b_gen = b_gen.copy()
    b_gen[100:110] = np.arange(10) % 4
    index = ExactIndex.build([str(i) for i in range(len(b))], b)
    k = 7
    expected = np.mean([[b_gen[int(i)] == g for i, _ in row] for row, g in zip(index.query_many(q, k=k), q_gen)])
    rep = retrieval_report(q, q_gen, None, b, b_gen, None, k=k)
    assert rep["precision_at_k"] == pytest.approx(expected)


def test_chance_for_ten_balanced_genres():
    # Random embeddings carry no genre signal: precision@k lands near chance.
    q, q_gen, b, b_gen = _random_split(1000, 500, 32, 10, seed=4, signal=0.0)
    rep = retrieval_report(q, q_gen, None, b, b_gen, None, k=5)
    assert rep["chance"] == pytest.approx(0.1)  # 50 of 500 base items per genre
    assert rep["precision_at_k"] == pytest.approx(0.1, abs=0.03)
    assert rep["map"] == pytest.approx(0.1, abs=0.03)
    # A genre signal lifts every figure well above chance.
    q, q_gen, b, b_gen = _random_split(200, 500, 32, 10, seed=5, signal=1.0)
    good = retrieval_report(q, q_gen, None, b, b_gen, None, k=5)
    assert good["precision_at_k"] > 0.5 and good["map"] > 0.3
    assert good["chance"] == pytest.approx(0.1)


def test_artist_exclusion_removes_the_artist_effect():
    # Each artist's tracks cluster tightly (the "album effect"); genres carry
    # only a weak signal of their own.  Same-artist neighbours make plain
    # precision look great; removing them shows the genre signal alone.
    rng = np.random.default_rng(6)
    n_genres, artists_per_genre, tracks = 5, 6, 8
    dim = 32
    genre_c = rng.standard_normal((n_genres, dim))
    vecs, genres, artists = [], [], []
    for g in range(n_genres):
        for a in range(artists_per_genre):
            centre = 0.3 * genre_c[g] + rng.standard_normal(dim)
            for _ in range(tracks):
                vecs.append(centre + 0.2 * rng.standard_normal(dim))
                genres.append(f"g{g}")
                artists.append(f"g{g}a{a}")
    vecs = np.array(vecs, dtype=np.float32)
    genres, artists = np.array(genres), np.array(artists)
    is_query = np.arange(len(vecs)) % tracks == 0  # one track per artist queries
    rep = retrieval_report(
        vecs[is_query], genres[is_query], artists[is_query], vecs[~is_query], genres[~is_query], artists[~is_query], k=5
    )
    assert rep["precision_at_k"] == pytest.approx(1.0)
    assert rep["precision_at_k_other_artists"] < 0.7
    assert rep["precision_at_k_other_artists"] > rep["chance"]

    # With every artist distinct nothing is removed, so the two figures agree.
    unique = [f"u{i}" for i in range(len(vecs))]
    same = retrieval_report(
        vecs[is_query],
        genres[is_query],
        np.array(unique)[is_query],
        vecs[~is_query],
        genres[~is_query],
        np.array(unique)[~is_query],
        k=5,
    )
    assert same["precision_at_k_other_artists"] == pytest.approx(same["precision_at_k"])


def test_unknown_artists_never_match():
    base = np.array([_unit(a) for a in BASE_ANGLES])
    query = np.array([_unit(0)])
    # Unknown ("" / None) query artist: nothing is removed.
    for unknown in ("", None):
        rep = retrieval_report(query, ["A"], [unknown], base, BASE_GENRES, [unknown] * 5, k=1)
        assert rep["precision_at_k_other_artists"] == rep["precision_at_k"] == 1.0
    # A known artist owning the whole base leaves nothing to rank: None.
    rep = retrieval_report(query, ["A"], ["x"], base, BASE_GENRES, ["x"] * 5, k=1)
    assert rep["precision_at_k_other_artists"] is None


def test_query_genre_missing_from_base():
    base = np.array([_unit(a) for a in BASE_ANGLES])
    query = np.array([_unit(0), _unit(0)])
    rep = retrieval_report(query, ["A", "C"], None, base, BASE_GENRES, None, k=1)
    assert rep["precision_at_k"] == pytest.approx(0.5)  # C can never be matched
    assert rep["map"] == pytest.approx(34 / 45)  # as q0 above; C (no AP) is left out
    assert rep["chance"] == pytest.approx((3 / 5 + 0) / 2)


def test_k_larger_than_base():
    base = np.array([_unit(a) for a in BASE_ANGLES])
    rep = retrieval_report(np.array([_unit(0)]), ["A"], None, base, BASE_GENRES, None, k=50)
    assert rep["precision_at_k"] == pytest.approx(3 / 5)
    assert rep["k"] == 50


def test_validation():
    base = np.array([_unit(a) for a in BASE_ANGLES])
    q = np.array([_unit(0)])
    with pytest.raises(ValueError, match="dimension 3 but base vectors have dimension 2"):
        retrieval_report(np.ones((1, 3)), ["A"], None, base, BASE_GENRES, None)
    with pytest.raises(ValueError, match="base_genres has 2 entries for 5"):
        retrieval_report(q, ["A"], None, base, ["A", "B"], None)
    with pytest.raises(ValueError, match="query_artists has 2 entries for 1"):
        retrieval_report(q, ["A"], ["x", "y"], base, BASE_GENRES, BASE_ARTISTS)
    with pytest.raises(ValueError, match="k must be"):
        retrieval_report(q, ["A"], None, base, BASE_GENRES, None, k=0)
    with pytest.raises(ValueError, match="at least one"):
        retrieval_report(np.zeros((0, 2)), [], None, base, BASE_GENRES, None)


def test_blocks_do_not_change_results(monkeypatch):
    import genrec.evaluate.retrieval as mod

    q, q_gen, b, b_gen = _random_split(37, 90, 8, 3, seed=7, signal=0.7)
    artists_q = [f"a{i % 5}" for i in range(37)]
    artists_b = [f"a{i % 7}" for i in range(90)]
    whole = retrieval_report(q, q_gen, artists_q, b, b_gen, artists_b, k=4)
    monkeypatch.setattr(mod, "_BLOCK_ELEMENTS", 200)  # 2 query rows per block
    assert retrieval_report(q, q_gen, artists_q, b, b_gen, artists_b, k=4) == whole
