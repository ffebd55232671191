"""Behaviour of genrec.search.index, checked against scikit-learn's brute-force cosine."""

from __future__ import annotations

import mmap
import shutil
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.neighbors import NearestNeighbors

# Lets plain `pytest` (not only `python -m pytest`) import the uninstalled package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from genrec.search.index import (
    AnnIndex,
    ExactIndex,
    VectorIndex,
    choose_kind,
    cosine_similarities,
    l2_normalize,
    rank_indices,
)
from genrec.search.vectors import TextIds


def _ids(n: int, prefix: str = "t") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def _random(n: int, dim: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


# ----------------------------------------------------------------- l2_normalize


def test_l2_normalize_unit_rows_and_zero_rows_stay_zero():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [-1e-30, 0.0]], dtype=np.float64)
    with np.errstate(divide="raise", invalid="raise"):  # no 0/0 warnings either
        y = l2_normalize(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y[0], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_array_equal(y[1], [0.0, 0.0])
    assert np.isfinite(y).all()


def test_l2_normalize_matches_sklearn():
    from sklearn.preprocessing import normalize

    x = _random(50, 7)
    np.testing.assert_allclose(l2_normalize(x), normalize(x), rtol=1e-5, atol=1e-6)


def test_l2_normalize_1d():
    np.testing.assert_allclose(l2_normalize(np.array([0.0, 2.0])), [0.0, 1.0])


def test_cosine_similarities_match_sklearn():
    a, b = _random(20, 33, 1), _random(40, 33, 2)
    np.testing.assert_allclose(cosine_similarities(a, b), cosine_similarity(a, b), atol=1e-5)


# ----------------------------------------------------------------- rank_indices


@pytest.mark.parametrize("k", [1, 2, 3, 5, 9, 10, 11])
def test_rank_indices_ties_at_the_cut_follow_position(k):
    # Heavy ties, including exactly at the k-th place: partial selection must
    # agree with a full stable sort.
    rng = np.random.default_rng(k)
    for _ in range(50):
        s = rng.integers(0, 4, size=10).astype(np.float32)
        full = np.argsort(-s, kind="stable")
        np.testing.assert_array_equal(rank_indices(s, k), full[:k])


# ----------------------------------------------------------------- ExactIndex vs sklearn


@pytest.mark.parametrize("dim", [2, 16, 128])
@pytest.mark.parametrize("k", [1, 5, 17])
def test_exact_topk_matches_sklearn_bruteforce(dim, k):
    base, queries = _random(300, dim, seed=dim), _random(25, dim, seed=dim + 1)
    index = ExactIndex.build(_ids(300), base)
    nn = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(base)
    dist, nbrs = nn.kneighbors(queries)
    batched = index.query_many(queries, k=k)
    for q, d_row, n_row, got_many in zip(queries, dist, nbrs, batched):
        got = index.query(q, k=k)
        assert got == got_many
        assert [i for i, _ in got] == [f"t{j}" for j in n_row]
        np.testing.assert_allclose([s for _, s in got], 1.0 - d_row, atol=1e-5)


def test_exact_similarity_values_match_sklearn_cosine_similarity():
    base, q = _random(100, 40, 3), _random(1, 40, 4)
    index = ExactIndex.build(_ids(100), base)
    expected = cosine_similarity(q, base)[0]
    got = dict(index.query(q[0], k=100))
    np.testing.assert_allclose([got[f"t{i}"] for i in range(100)], expected, atol=1e-5)


def test_results_sorted_descending_within_bounds_and_identical_is_one():
    base = _random(200, 12, 5) * 1000.0  # large norms must not matter
    index = ExactIndex.build(_ids(200), base)
    hits = index.query(base[7], k=200)
    sims = [s for _, s in hits]
    assert sims == sorted(sims, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in sims)
    assert hits[0][0] == "t7"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-6)
    # The opposite vector is the least similar, at cosine -1.
    assert index.query(-base[7], k=200)[-1] == ("t7", pytest.approx(-1.0, abs=1e-6))


def test_self_exclusion():
    base = _random(50, 8, 6)
    index = ExactIndex.build(_ids(50), base)
    hits = index.query(base[3], k=5, exclude=["t3"])
    assert "t3" not in [i for i, _ in hits] and len(hits) == 5
    # A bare string is one id, not a set of characters.
    assert "t3" not in [i for i, _ in index.query(base[3], k=5, exclude="t3")]
    # Unknown ids in exclude are ignored.
    assert index.query(base[3], k=1, exclude=["nope"])[0][0] == "t3"
    many = index.query_many(base[:4], k=3, exclude=[[f"t{i}"] for i in range(4)])
    for i, row in enumerate(many):
        assert f"t{i}" not in [j for j, _ in row] and len(row) == 3
    with pytest.raises(ValueError, match="2 entries for 4"):
        index.query_many(base[:4], exclude=[["t0"], ["t1"]])


def test_exact_duplicates_come_back_in_insertion_order():
    rng = np.random.default_rng(7)
    v = rng.standard_normal(16).astype(np.float32)
    others = rng.standard_normal((20, 16)).astype(np.float32)
    # Five identical copies of v scattered among unrelated vectors, with ids
    # whose sort order differs from insertion order.
    order = ["z", "a", "m", "b", "y"]
    index = ExactIndex()
    index.add(["o0", "o1"], others[:2])
    for n, name in enumerate(order):
        index.add([name], v[None, :] * (n + 1))  # scale changes nothing for cosine
        index.add([f"p{n}"], others[2 + n : 3 + n])
    for k in (2, 3, 5):
        assert [i for i, _ in index.query(v, k=k)] == order[:k]
    assert [i for i, _ in index.query(v, k=4, exclude=["a"])] == ["z", "m", "b", "y"]
    assert [i for i, _ in index.query_many(v[None, :], k=5)[0]] == order


@pytest.mark.parametrize("dim", [513, 2048])
def test_duplicates_keep_insertion_order_despite_blas_rounding(dim):
    # With float32 BLAS alone, identical rows at different positions get
    # scores a few ulps apart on these sizes (edge kernels sum in another
    # order), which used to scramble duplicates.  Copies sit at the start,
    # middle and the ragged end of the matrix.
    rng = np.random.default_rng(dim)
    n = 1001
    base = rng.standard_normal((n, dim)).astype(np.float32)
    copies = [0, 3, 500, 997, 1000]
    v = base[copies[0]].copy()
    base[copies] = v
    index = ExactIndex.build(_ids(n), base)
    expected = [f"t{c}" for c in copies]
    queries = np.vstack([v + 0.3 * rng.standard_normal((24, dim)).astype(np.float32), v])
    for batch in (1, 2, 8, 25):
        for row in index.query_many(queries[:batch], k=5):
            assert [i for i, _ in row] == expected
            assert len({s for _, s in row}) == 1  # bit-identical scores
    for q in queries[:3]:
        assert [i for i, _ in index.query(q, k=5)] == expected
    # The full similarity matrix ranks them the same way.
    sims = cosine_similarities(queries, base)
    assert np.all(sims[:, copies] == sims[:, copies[:1]])


def test_reported_scores_equal_similarities_matrix():
    base, queries = _random(257, 300, 21), _random(13, 300, 22)
    index = ExactIndex.build(_ids(257), base)
    sims = cosine_similarities(queries, base)
    for q, row in enumerate(index.query_many(queries, k=257)):
        assert [s for _, s in row] == [float(sims[q, int(i[1:])]) for i, _ in row]
        assert [int(i[1:]) for i, _ in row] == rank_indices(sims[q]).tolist()


def test_k_larger_than_available_and_k_zero():
    index = ExactIndex.build(_ids(3), _random(3, 4))
    assert len(index.query(np.ones(4), k=10)) == 3
    assert len(index.query(np.ones(4), k=10, exclude=["t0"])) == 2
    assert index.query(np.ones(4), k=0) == []
    assert ExactIndex().query(np.ones(4)) == []
    assert ExactIndex().query_many(np.ones((2, 4))) == [[], []]
    with pytest.raises(ValueError):
        index.query(np.ones(4), k=-1)


def test_zero_vectors_give_zero_similarity_no_nan():
    base = np.vstack([np.zeros(6, np.float32), _random(4, 6, 8)])
    index = ExactIndex.build(_ids(5), base)
    hits = dict(index.query(base[1], k=5))
    assert hits["t0"] == 0.0
    zero_q = index.query(np.zeros(6), k=5)
    assert [s for _, s in zero_q] == [0.0] * 5
    # All tied at 0, so insertion order decides.
    assert [i for i, _ in zero_q] == _ids(5)


def test_duplicate_ids_rejected():
    index = ExactIndex.build(["a", "b"], _random(2, 3))
    with pytest.raises(ValueError, match="duplicate ids: 'a'"):
        index.add(["c", "a"], _random(2, 3))
    with pytest.raises(ValueError, match="duplicate ids: 'd'"):
        index.add(["d", "d"], _random(2, 3))
    assert len(index) == 2  # a failed add changes nothing
    with pytest.raises(ValueError, match="duplicate"):
        ExactIndex.build(["x", "x"], _random(2, 3))


def test_wrong_dimension_names_both_dims():
    index = ExactIndex.build(_ids(3), _random(3, 8))
    with pytest.raises(ValueError, match=r"dimension 5.*8-dimensional"):
        index.add(["new"], _random(1, 5))
    with pytest.raises(ValueError, match=r"dimension 7.*8-dimensional"):
        index.query(np.ones(7))
    with pytest.raises(ValueError, match=r"dimension 9.*8-dimensional"):
        index.query_many(np.ones((2, 9)))
    with pytest.raises(ValueError, match=r"dimension 4.*6-dimensional"):
        ExactIndex(dim=6).add(["a"], _random(1, 4))


def test_bad_inputs_rejected():
    index = ExactIndex()
    with pytest.raises(ValueError, match="2 ids for 3 vectors"):
        index.add(["a", "b"], _random(3, 4))
    with pytest.raises(ValueError, match="NaN"):
        index.add(["a"], np.array([[np.nan, 1.0]]))
    with pytest.raises(TypeError):
        index.add([1, 2], _random(2, 4))  # type: ignore[list-item]
    with pytest.raises(TypeError):
        index.add("ab", _random(2, 4))


def test_incremental_adds_equal_one_build():
    base, queries = _random(60, 10, 9), _random(5, 10, 10)
    one = ExactIndex.build(_ids(60), base)
    inc = ExactIndex()
    for start in range(0, 60, 7):
        inc.add(_ids(60)[start : start + 7], base[start : start + 7])
        inc.query(queries[0])  # interleaved queries must see everything added so far
    assert inc.query_many(queries, k=8) == one.query_many(queries, k=8)
    assert inc.ids == one.ids


def test_query_many_blocks_agree_with_single_queries(monkeypatch):
    import genrec.search.index as mod

    monkeypatch.setattr(mod, "_MAX_BLOCK_SCORES", 50)  # forces several score blocks
    base, queries = _random(40, 6, 11), _random(9, 6, 12)
    index = ExactIndex.build(_ids(40), base)
    assert index.query_many(queries, k=4) == [index.query(q, k=4) for q in queries]


def test_protocol_conformance():
    assert isinstance(ExactIndex(), VectorIndex)
    assert isinstance(AnnIndex(), VectorIndex)


def _recall(got: list, truth: list) -> float:
    return float(np.mean([len({i for i, _ in g} & {i for i, _ in t}) / max(1, len(t)) for g, t in zip(got, truth)]))


# ----------------------------------------------------------------- choice of index


def test_choose_kind_exact_up_to_the_limit_then_ann():
    assert choose_kind(1000, "auto", exact_limit=1000)[0] == "exact"
    assert choose_kind(1001, "exact", exact_limit=1000)[0] == "exact"  # an override wins
    kind, why = choose_kind(1001, "auto", exact_limit=1000)
    assert kind == "ann" and "approximate" in why
    assert choose_kind(10, "ann", exact_limit=1000)[0] == "ann"
    with pytest.raises(ValueError, match="auto, exact, ann"):
        choose_kind(10, "fast")
    with pytest.raises(ValueError, match="auto, exact, ann"):
        choose_kind(10, "hnsw")  # hnswlib is gone; old catalogues are read, not built


def test_without_the_extra_auto_searches_exactly_and_says_how_to_install(without_faiss):
    kind, why = choose_kind(1001, "auto", exact_limit=1000)
    assert kind == "exact" and "pip install 'genrec[ann]'" in why and "exactly" in why
    with pytest.raises(ImportError, match=r"pip install 'genrec\[ann\]'"):
        choose_kind(1001, "ann", exact_limit=1000)
    with pytest.raises(ImportError, match="faiss"):
        AnnIndex()


# ----------------------------------------------------------------- AnnIndex


def test_ann_top5_recall_and_scores_are_exact_searchs():
    base, queries = _random(5000, 64, 16), _random(200, 64, 17)
    ids = _ids(5000)
    exact = ExactIndex.build(ids, base)
    ann = AnnIndex.build(ids, base)
    truth = exact.query_many(queries, k=5)
    got = ann.query_many(queries, k=5)
    assert _recall(got, truth) >= 0.95
    # Re-scored exactly: a hit's similarity is bit for bit what exact search reports for that pair.
    exact_sims = cosine_similarities(queries, base)
    for q, row in enumerate(got):
        assert [s for _, s in row] == [float(exact_sims[q, int(i[1:])]) for i, _ in row]
        assert [s for _, s in row] == sorted((s for _, s in row), reverse=True)
    assert got[0] == ann.query(queries[0], k=5)
    # A graph searched too narrowly, with no shortlist beyond the answers, misses true neighbours.
    narrow = AnnIndex.build(ids, base, M=4, ef_construction=8, ef=5, rerank=0)
    assert _recall(narrow.query_many(queries, k=5), truth) < 0.9


def test_measured_recall_is_recall_against_exact_search_with_the_query_held_out():
    base = _random(3000, 48, 30)
    ids = _ids(3000)
    ann = AnnIndex.build(ids, base, M=4, ef_construction=10, ef=5, rerank=0)  # poor, so recall < 1
    recall = ann.measured_recall(k=5, sample=200, seed=3)
    picks = np.sort(np.random.default_rng(3).choice(3000, 200, replace=False))
    excl = [[ids[p]] for p in picks]
    truth = ExactIndex.build(ids, base).query_many(base[picks], k=5, exclude=excl)
    got = ann.query_many(base[picks], k=5, exclude=excl)
    assert recall == pytest.approx(_recall(got, truth)) and 0.2 < recall < 0.95
    assert AnnIndex.build(ids, base).measured_recall(k=5, sample=200) >= 0.95


def test_ann_exclusion_ties_bounds_and_small_k():
    rng = np.random.default_rng(18)
    v = rng.standard_normal(8).astype(np.float32)
    others = rng.standard_normal((30, 8)).astype(np.float32)
    index = AnnIndex(M=8, ef_construction=50)
    index.add(_ids(30, "o"), others)
    index.add(["z", "a", "m"], np.vstack([v, 2 * v, 3 * v]))
    assert [i for i, _ in index.query(v, k=3)] == ["z", "a", "m"]
    assert [i for i, _ in index.query(v, k=2, exclude=["z"])] == ["a", "m"]
    hits = index.query(v, k=100, exclude=["a"])
    assert len(hits) == 32 and "a" not in dict(hits)  # k beyond size: what there is
    assert all(-1.0 <= s <= 1.0 for _, s in hits)
    assert hits[0][1] == pytest.approx(1.0, abs=1e-6)
    assert index.query_many(np.vstack([v, v]), k=1, exclude=[["z"], []]) == [
        [("a", pytest.approx(1.0, abs=1e-6))],
        [("z", pytest.approx(1.0, abs=1e-6))],
    ]


@pytest.mark.parametrize("rerank", [20, 2000])  # a shortlist from the graph; one as big as the index: a scan
def test_ann_duplicates_in_insertion_order_at_2048_dims(rerank):
    rng = np.random.default_rng(23)
    n, dim = 1001, 2048
    base = rng.standard_normal((n, dim)).astype(np.float32)
    copies = [0, 3, 500, 997, 1000]
    v = base[0].copy()
    base[copies] = v
    index = AnnIndex.build(_ids(n), base, rerank=rerank)
    expected = [f"t{c}" for c in copies]
    queries = np.vstack([v + 0.3 * rng.standard_normal((9, dim)).astype(np.float32), v])
    for row in index.query_many(queries, k=5):
        assert [i for i, _ in row] == expected
        assert len({s for _, s in row}) == 1  # bit-identical scores
    assert [i for i, _ in index.query(queries[0], k=3)] == expected[:3]


def test_ann_validation_and_growth():
    index = AnnIndex()
    for n in range(0, 300, 50):  # several adds: the graph has to grow
        index.add(_ids(300)[n : n + 50], _random(50, 12, n))
    assert len(index) == 300
    with pytest.raises(ValueError, match="duplicate"):
        index.add(["t0"], _random(1, 12))
    with pytest.raises(ValueError, match=r"dimension 3.*12-dimensional"):
        index.query(np.ones(3))
    with pytest.raises(ValueError, match=r"dimension 3.*12-dimensional"):
        index.add(["new"], _random(1, 3))
    assert AnnIndex().query(np.ones(3)) == []
    assert index.query_many(_random(4, 12, 99), k=5) == ExactIndex.build(
        _ids(300), np.vstack([_random(50, 12, n) for n in range(0, 300, 50)])
    ).query_many(_random(4, 12, 99), k=5)


# ----------------------------------------------------------------- save / load (AnnIndex)


def test_ann_save_load_round_trip_memory_mapped_without_pickle(tmp_path):
    ids = ["track-ü", "a/b c", "", *_ids(2000)]  # non-ASCII, punctuation, empty id
    base = _random(2003, 9, 13)
    index = AnnIndex.build(ids, base, M=12, ef=80)
    folder = tmp_path / "lib.index"
    index.save(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib.index"]  # no temp folder left
    assert sorted(p.name for p in folder.iterdir()) == ["graph.faiss", "header.npz", "vectors.npy"]
    with np.load(folder / "header.npz", allow_pickle=False) as z:  # would raise if pickled objects were stored
        assert z["ids"].dtype.kind == "U" and z["ids"].tolist() == ids
    np.load(folder / "vectors.npy", allow_pickle=False)
    loaded = AnnIndex.load(folder)
    assert loaded.ids == ids and loaded.dim == 9 and (loaded.M, loaded.ef) == (12, 80)
    assert isinstance(loaded._matrix().base, mmap.mmap)  # opened memory-mapped, not read
    assert AnnIndex.load(folder, ef=90).ef == 90  # a saved setting can be overridden
    given = [str(i) for i in ids]  # new str objects, equal to the saved ids
    assert AnnIndex.load(folder, ids=given)._ids.ids[5] is given[5]  # the given strings are kept, not copies
    with pytest.raises(ValueError, match="not the 2003 given, in order"):
        AnnIndex.load(folder, ids=given[::-1])
    with pytest.raises(ValueError, match="2003 ids that are not the 2 given"):
        AnnIndex.load(folder, ids=given[:2])
    queries = _random(6, 9, 14)
    assert loaded.query_many(queries, k=5) == index.query_many(queries, k=5)
    loaded.add(["more"], base[:1])  # a loaded (read-only, mapped) index keeps working
    assert len(loaded) == 2004 and {i for i, _ in loaded.query(base[0], k=2)} == {"track-ü", "more"}
    loaded.save(folder)  # over the folder it was mapped from
    assert AnnIndex.load(folder).ids == [*ids, "more"]


def test_ann_load_keeps_text_ids_compact_and_finds_them(tmp_path):
    """A catalogue hands its ids as one Arrow array (TextIds): kept as given, looked up by binary search, and
    answering exactly as the index with a list of ids."""
    ids = ["track-ü", "a/b c", "", "Zz", "é", *_ids(2000)]  # non-ASCII sorts after ASCII in both orders
    base = _random(2005, 9, 13)
    index = AnnIndex.build(ids, base, M=12, ef=80)
    index.save(tmp_path / "ann")
    compact = TextIds(pa.array(ids, pa.large_string()))  # what pandas' Arrow-backed strings hold
    loaded = AnnIndex.load(tmp_path / "ann", ids=compact)
    assert loaded._ids.ids is compact and loaded.ids == ids
    assert [compact.position(i) for i in ids] == list(range(len(ids)))
    assert compact.position("t20000") is None and compact.position("zzz") is None and compact.position("") == 2
    queries = _random(6, 9, 14)
    excl = [[ids[i], ids[-i], "not-an-id"] for i in range(6)]
    assert loaded.query_many(queries, k=5, exclude=excl) == index.query_many(queries, k=5, exclude=excl)
    assert loaded.query(base[0], k=1)[0][0] == "track-ü" and loaded.query(base[0], k=1, exclude="track-ü") == (
        index.query(base[0], k=1, exclude="track-ü")
    )
    with pytest.raises(ValueError, match="not the 2005 given, in order"):
        AnnIndex.load(tmp_path / "ann", ids=TextIds(pa.array(ids[::-1])))
    with pytest.raises(ValueError, match="duplicate ids: 't7'"):
        TextIds(pa.array(["t7", "a", "t7"]))
    with pytest.raises(ValueError, match="NUL"):
        TextIds(pa.array(["a\x00"]))
    with pytest.raises(ValueError, match="duplicate ids: 'a/b c'"):
        loaded.add(["a/b c"], base[:1])
    loaded.add(["more"], base[:1])  # grown, its ids are a list again, looked up as before
    runner_up = index.query(base[0], k=1, exclude="track-ü")[0][0]
    assert len(loaded) == 2006 and [i for i, _ in loaded.query(base[0], k=2, exclude="track-ü")] == ["more", runner_up]


def test_ann_save_replaces_the_folder_whole_or_not_at_all(tmp_path, monkeypatch):
    folder = tmp_path / "ann"
    AnnIndex.build(["a"], _random(1, 3)).save(folder)
    AnnIndex.build(["b", "c"], _random(2, 3)).save(folder)
    assert AnnIndex.load(folder).ids == ["b", "c"]

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)  # the header, written last
    with pytest.raises(OSError, match="disk full"):
        AnnIndex.build(["d", "e"], _random(2, 3, 1)).save(folder)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["ann"]  # no temp debris
    assert AnnIndex.load(folder).ids == ["b", "c"]  # old index untouched, graph and vectors included
    assert AnnIndex.load(folder).query(_random(2, 3)[1], k=1) == [("c", pytest.approx(1.0, abs=1e-6))]


def test_ann_empty_index_round_trip(tmp_path):
    AnnIndex(dim=5).save(tmp_path / "e")
    loaded = AnnIndex.load(tmp_path / "e")
    assert len(loaded) == 0 and loaded.dim == 5
    assert loaded.query(np.ones(5)) == []


def test_ann_load_rejects_foreign_and_damaged_folders(tmp_path):
    (tmp_path / "other").mkdir()
    np.savez(tmp_path / "other" / "header.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="not an index file"):
        AnnIndex.load(tmp_path / "other")
    with pytest.raises(FileNotFoundError):
        AnnIndex.load(tmp_path / "missing")
    good = tmp_path / "good"
    AnnIndex.build(_ids(50), _random(50, 4)).save(good)

    def damaged(name: str, change) -> Path:
        copy = tmp_path / name
        shutil.copytree(good, copy)
        change(copy)
        return copy

    truncated = damaged("truncated", lambda f: (f / "graph.faiss").write_bytes((f / "graph.faiss").read_bytes()[:100]))
    with pytest.raises(ValueError, match="not completely written"):
        AnnIndex.load(truncated)
    size = (good / "graph.faiss").stat().st_size
    garbage = damaged("garbage", lambda f: (f / "graph.faiss").write_bytes(b"\x07" * size))
    with pytest.raises(ValueError, match="corrupt"):
        AnnIndex.load(garbage)
    with np.load(good / "header.npz", allow_pickle=False) as z:
        arrays = {name: z[name] for name in z.files}
    more_ids = damaged("more-ids", lambda f: np.savez(f / "header.npz", **{**arrays, "ids": np.array(_ids(60))}))
    with pytest.raises(ValueError, match="corrupt"):
        AnnIndex.load(more_ids)
    exact = damaged("exact", lambda f: np.savez(f / "header.npz", **{**arrays, "kind": np.array("exact")}))
    with pytest.raises(ValueError, match="not an approximate-search index"):
        AnnIndex.load(exact)


def test_ann_load_refuses_vectors_that_are_not_finite(tmp_path):
    """The rerank reads vectors.npy: a NaN written into it (same size, header intact) is refused on open."""
    good = tmp_path / "good"
    AnnIndex.build(_ids(50), _random(50, 4)).save(good)
    for bad in (np.nan, np.inf):
        vectors = np.load(good / "vectors.npy")
        vectors[17, 2] = bad
        copy = tmp_path / f"bad-{bad}"
        shutil.copytree(good, copy)
        np.save(copy / "vectors.npy", vectors)
        assert (copy / "vectors.npy").stat().st_size == (good / "vectors.npy").stat().st_size
        with pytest.raises(ValueError, match="NaN, infinite"):
            AnnIndex.load(copy)
    assert len(AnnIndex.load(good)) == 50


def test_ann_check_folder_checks_the_files_without_faiss(tmp_path, request):
    """What a catalogue runs on open: header, sizes, the vectors' shape and values, no faiss and nothing kept."""
    good = tmp_path / "good"
    AnnIndex.build(_ids(50), _random(50, 4)).save(good)
    request.getfixturevalue("without_faiss")
    AnnIndex.check_folder(good, 50, 4)
    for n, dim in ((49, 4), (50, 5)):
        with pytest.raises(ValueError, match=f"header.npz is corrupt: it lists 50 4-d vectors, not {n} {dim}-d"):
            AnnIndex.check_folder(good, n, dim)
    vectors = np.load(good / "vectors.npy")
    copy = tmp_path / "bad"
    shutil.copytree(good, copy)
    np.save(copy / "vectors.npy", np.ascontiguousarray(vectors.T))  # the same bytes, the wrong shape
    with pytest.raises(ValueError, match=r"vectors.npy is corrupt: it holds float32 values of shape \(4, 50\), not"):
        AnnIndex.check_folder(copy, 50, 4)
    vectors[49, 3] = np.inf
    np.save(copy / "vectors.npy", vectors)
    with pytest.raises(ValueError, match=r"vectors\.npy holds NaN, infinite"):
        AnnIndex.check_folder(copy, 50, 4)
    np.savez(copy / "header.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="not an index file"):
        AnnIndex.check_folder(copy, 50, 4)
    with pytest.raises(FileNotFoundError):
        AnnIndex.check_folder(tmp_path / "missing", 50, 4)


def test_ann_load_after_check_folder_still_checks_the_vectors_shape(tmp_path):
    good = tmp_path / "good"
    AnnIndex.build(_ids(50), _random(50, 4)).save(good)
    assert len(AnnIndex.load(good, values_checked=True)) == 50
    np.save(good / "vectors.npy", np.ascontiguousarray(np.load(good / "vectors.npy").T))
    with pytest.raises(ValueError, match=r"shape \(4, 50\), not float32 \(50, 4\)"):
        AnnIndex.load(good, values_checked=True)


def test_check_npy_reads_values_a_slice_at_a_time(tmp_path):
    from genrec.search.vectors import check_npy

    x = _random(1000, 8)
    x[999, 7] = np.nan  # in the last slice only
    np.save(tmp_path / "x.npy", x)
    check_npy(tmp_path / "x.npy", shape=(1000, 8), dtype=np.float32, finite=False)
    with pytest.raises(ValueError, match="NaN"):
        check_npy(tmp_path / "x.npy", chunk_bytes=4096)
    with pytest.raises(ValueError, match=r"float32 values of shape \(1000, 8\), not float64"):
        check_npy(tmp_path / "x.npy", dtype=np.float64)


def _mapped_kb(path: Path) -> int:
    """kB of ``path``'s memory maps resident in this process (Linux's /proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if "-" in line.split(" ", 1)[0]:  # a mapping's first line: its address range, ..., its file
            inside = line.endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


def test_a_loaded_ann_index_reads_shortlists_from_its_file_not_its_map(tmp_path):
    """Re-scoring reads the shortlisted rows with pread: a page fault on the map would also map the neighbouring
    pages the page cache holds (all of them, once the values were checked), counting them in the process's RSS."""
    vectors = _random(4000, 64, 9)
    AnnIndex.build(_ids(4000), vectors).save(tmp_path / "a")
    loaded = AnnIndex.load(tmp_path / "a")
    mapped = tmp_path / "a" / "vectors.npy"
    assert _mapped_kb(mapped) == 0  # mapped, nothing read through the map yet
    answers = loaded.query_many(vectors[:300], k=5)
    assert [a[0][0] for a in answers] == _ids(300)
    assert answers == AnnIndex.load(tmp_path / "a", mmap=False).query_many(vectors[:300], k=5)
    assert _mapped_kb(mapped) == 0


def test_row_reader_reads_the_rows_asked_for(tmp_path):
    from genrec.search.vectors import RowReader

    x = _random(100, 6, 2)
    np.save(tmp_path / "x.npy", x)
    reader = RowReader.open(tmp_path / "x.npy")
    np.testing.assert_array_equal(reader.rows(np.array([99, 0, 42, 42])), x[[99, 0, 42, 42]])
    assert reader.rows(np.array([], dtype=np.intp)).shape == (0, 6)
    np.save(tmp_path / "flat.npy", x.ravel())
    with pytest.raises(ValueError, match="not a 2-D array"):
        RowReader(tmp_path / "flat.npy")


def test_map_npy_maps_read_only_and_refuses_what_it_cannot_map(tmp_path):
    from genrec.search.vectors import map_npy

    x = _random(300, 7, 40)
    np.save(tmp_path / "x.npy", x)
    mapped = map_npy(tmp_path / "x.npy")
    assert isinstance(mapped.base, mmap.mmap) and not mapped.flags.writeable
    np.testing.assert_array_equal(mapped, x)
    np.save(tmp_path / "empty.npy", np.zeros((0, 7), np.float32))
    assert map_npy(tmp_path / "empty.npy").shape == (0, 7)
    (tmp_path / "cut.npy").write_bytes((tmp_path / "x.npy").read_bytes()[:-4])
    with pytest.raises(ValueError, match="not completely written"):
        map_npy(tmp_path / "cut.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not a plain"):
        map_npy(tmp_path / "objects.npy")
