"""Nearest-neighbour search over track embeddings.

:class:`VectorIndex` holds what every index shares: ids in insertion order,
input checks, and the query / query_many front end.  :class:`ExactIndex`
answers with one matrix product (fine up to a few hundred thousand tracks) and
:class:`HnswIndex` puts the same interface over hnswlib for catalogues too big
to scan per query.  Both measure cosine similarity (-1..1) and order results by
similarity descending, ties by insertion order, so swapping one for the other
changes speed and, for HNSW, a little recall -- never the meaning of a result.
:func:`choose_kind` picks one for a catalogue of a given size.

An HNSW graph is saved as an ``.npz`` read with ``allow_pickle=False`` (a
downloaded index must not be able to run code) and written through a temporary
file plus :func:`os.replace`.  An exact index needs no file: it is rebuilt from
the embeddings it was made of.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genrec.config import TOP_K, cpu_threads
from genrec.vectors import (
    IdTable,
    as_matrix,
    as_query,
    atomic_savez,
    check_dim,
    check_k,
    check_lengths,
    cosine_similarities,
    exclude_sets,
    fast_scores,
    id_list,
    index_arrays,
    l2_normalize,
    loaded_dim,
    rank_indices,
    read_index_npz,
    select_top,
)

__all__ = [
    "EXACT_LIMIT",
    "ExactIndex",
    "HnswIndex",
    "VectorIndex",
    "choose_kind",
    "cosine_similarities",
    "hnsw_available",
    "l2_normalize",
    "rank_indices",
]

Hit = tuple[str, float]

# Bounds the (queries x tracks) score block a batched query materialises:
# 2**25 float32 scores = 128 MiB, whatever the batch or library size.
_MAX_BLOCK_SCORES = 1 << 25
#: Up to this many vectors a catalogue is searched exactly; above it with HNSW.
#: Exact search over 100k 512-d vectors (the work of 200k 256-d embeddings) took
#: 4.9 ms a query on 2 quiet cores (RESULTS.md, section 7): interactive, and never
#: approximate. Above it HNSW answers in under a millisecond (section 8).
EXACT_LIMIT = 200_000
INDEX_KINDS = ("auto", "exact", "hnsw")
_HNSW_MISSING = "hnswlib is not installed: pip install 'genrec[ann]' (or pip install hnswlib)"


class VectorIndex:
    """Cosine top-k over vectors with string ids: the interface recommenders use.

    Subclasses store unit vectors in ``_add_unit`` and answer a batch of unit
    queries in ``_search``; validation and the empty/zero-k cases live here.
    """

    kind = ""

    def __init__(self, dim: int | None = None) -> None:
        """An empty index; ``dim`` is fixed by the first :meth:`add` if not given."""
        self.dim: int | None = None if dim is None else int(dim)
        self._ids = IdTable()

    @classmethod
    def build(cls, ids: Sequence[str], vectors: np.ndarray, **params: Any) -> VectorIndex:
        """An index holding ``ids`` with their ``vectors``; ``params`` go to the constructor."""
        index = cls(**params)
        index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={len(self)}, dim={self.dim})"

    @property
    def ids(self) -> list[str]:
        """Ids in insertion order (a copy)."""
        return list(self._ids.ids)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add one row of ``vectors`` per id.

        Raises ValueError for ids already present or repeated in ``ids``, and
        for vectors whose dimension differs from the index's; a failed add
        changes nothing.
        """
        new = id_list(ids)
        mat = as_matrix(vectors, "vectors")
        check_lengths(new, mat)
        check_dim(mat.shape[1], self.dim, "vectors")
        self._ids.check_new(new)
        if new:
            self.dim = mat.shape[1]
            self._add_unit(new, l2_normalize(mat))
            self._ids.extend(new)

    def query(self, vector: np.ndarray, k: int = TOP_K, exclude: Iterable[str] = ()) -> list[Hit]:
        """The ``k`` most similar ``(id, cosine)`` pairs, best first.

        Ids in ``exclude`` are never returned (a bare string counts as one id);
        fewer than ``k`` pairs come back when the index holds fewer.
        """
        k = check_k(k)
        if len(self) == 0 or k == 0:
            return []
        return self._search(l2_normalize(as_query(vector, self.dim)), k, [exclude])[0]

    def query_many(
        self, vectors: np.ndarray, k: int = TOP_K, exclude: Sequence[Iterable[str]] | None = None
    ) -> list[list[Hit]]:
        """:meth:`query` for every row of ``vectors``; ``exclude[i]`` applies to row i."""
        k = check_k(k)
        mat = as_matrix(vectors, "query vectors")
        excl = exclude_sets(exclude, mat.shape[0])
        if len(self) == 0 or k == 0:
            return [[] for _ in range(mat.shape[0])]
        check_dim(mat.shape[1], self.dim, "query vectors")
        return self._search(l2_normalize(mat), k, excl)

    def _add_unit(self, new: list[str], unit: np.ndarray) -> None:
        raise NotImplementedError

    def _search(self, unit: np.ndarray, k: int, excl: list[Iterable[str]]) -> list[list[Hit]]:
        raise NotImplementedError

    def _hits(self, positions: np.ndarray, sims: np.ndarray) -> list[Hit]:
        ids = self._ids.ids
        return [(ids[p], float(s)) for p, s in zip(positions, sims)]


class ExactIndex(VectorIndex):
    """Brute-force cosine search: one float32 matrix product per query batch.

    Vectors are stored L2-normalised, so similarity is a plain dot product;
    the original norms are not kept (cosine does not need them).  The few
    items near each query's top k are re-scored in float64 so results do not
    depend on batch size or position (see :func:`genrec.vectors.precise_scores`).
    """

    kind = "exact"

    def __init__(self, dim: int | None = None) -> None:
        super().__init__(dim)
        # Appends collect here and are concatenated once, on the next query,
        # so many small adds do not copy the whole matrix each time.
        self._chunks: list[np.ndarray] = []

    def _matrix(self) -> np.ndarray:
        if len(self._chunks) != 1:
            width = 0 if self.dim is None else self.dim
            self._chunks = [np.concatenate(self._chunks) if self._chunks else np.zeros((0, width), dtype=np.float32)]
        return self._chunks[0]

    def _add_unit(self, new: list[str], unit: np.ndarray) -> None:
        self._chunks.append(unit)

    def _search(self, unit: np.ndarray, k: int, excl: list[Iterable[str]]) -> list[list[Hit]]:
        base = self._matrix()
        block = max(1, _MAX_BLOCK_SCORES // max(1, len(self)))
        out: list[list[Hit]] = []
        for start in range(0, unit.shape[0], block):
            chunk = unit[start : start + block]
            for row, q, ex in zip(fast_scores(chunk, base), chunk, excl[start : start + block]):
                out.append(self._hits(*select_top(row, k, self._ids.positions(ex), q, base)))
        return out


def hnsw_available() -> bool:
    """Whether hnswlib (the optional ``genrec[ann]`` extra) is installed."""
    return importlib.util.find_spec("hnswlib") is not None


def _hnswlib() -> Any:
    try:
        import hnswlib
    except ImportError as e:
        raise ImportError(
            f"HnswIndex needs the hnswlib package, which is not installed: pip install hnswlib ({_HNSW_MISSING})"
        ) from e
    return hnswlib


def choose_kind(n: int, requested: str = "auto", exact_limit: int = EXACT_LIMIT) -> tuple[str, str]:
    """The index kind for ``n`` vectors and why: ``requested`` unless it is ``"auto"``.

    ``auto`` searches exactly up to ``exact_limit`` vectors and with HNSW above it;
    without hnswlib it stays exact and the reason says so. An explicit ``"hnsw"``
    without hnswlib raises ImportError with the install command.
    """
    if requested not in INDEX_KINDS:
        raise ValueError(f"index kind must be one of {', '.join(INDEX_KINDS)}, got {requested!r}")
    if requested == "exact":
        return "exact", "exact search was asked for"
    if requested == "hnsw":
        _hnswlib()
        return "hnsw", "HNSW was asked for"
    if n <= exact_limit:
        return "exact", f"{n} vectors <= {exact_limit}: exact search is fast enough"
    if not hnsw_available():
        return "exact", (
            f"{n} vectors > {exact_limit} would use HNSW, but {_HNSW_MISSING}; "
            f"searching exactly instead (slower per query, same answers)"
        )
    return "hnsw", f"{n} vectors > {exact_limit}: approximate HNSW search"


class HnswIndex(VectorIndex):
    """Approximate cosine search over hnswlib's HNSW graph.

    Same contract as :class:`ExactIndex` except that a result may miss some
    true neighbours (raise ``ef`` to trade speed for recall).  hnswlib labels
    are insertion positions, so ties can be put back in insertion order.
    """

    kind = "hnsw"

    def __init__(
        self,
        dim: int | None = None,
        *,
        M: int = 16,
        ef_construction: int = 200,
        ef: int = 64,
        random_seed: int = 100,
        num_threads: int = -1,
    ) -> None:
        """An empty index; ``dim`` is fixed by the first :meth:`add` if not given.

        ``M`` and ``ef_construction`` shape the graph (memory and build time
        vs. recall); ``ef`` is the search breadth per query; ``num_threads=-1``
        uses every core.
        """
        _hnswlib()  # fail at construction, not at the first add
        super().__init__(dim)
        self.M = int(M)
        self.ef_construction = int(ef_construction)
        self.ef = int(ef)
        self.random_seed = int(random_seed)
        self.num_threads = int(num_threads)
        self._graph: Any = None

    def __repr__(self) -> str:
        return (
            f"HnswIndex(n={len(self)}, dim={self.dim}, M={self.M}, "
            f"ef_construction={self.ef_construction}, ef={self.ef})"
        )

    def _threads(self) -> int:
        return self.num_threads if self.num_threads > 0 else cpu_threads()

    def _add_unit(self, new: list[str], unit: np.ndarray) -> None:
        start, needed = len(self), len(self) + len(new)
        if self._graph is None:
            self._graph = _hnswlib().Index(space="cosine", dim=self.dim)
            self._graph.init_index(
                max_elements=needed, M=self.M, ef_construction=self.ef_construction, random_seed=self.random_seed
            )
            self._graph.set_num_threads(self._threads())
        elif needed > self._graph.get_max_elements():
            # Doubling keeps repeated small adds from resizing every time.
            self._graph.resize_index(max(needed, 2 * self._graph.get_max_elements()))
        self._graph.add_items(unit, np.arange(start, needed), num_threads=self.num_threads)

    def _search(self, unit: np.ndarray, k: int, excl: list[Iterable[str]]) -> list[list[Hit]]:
        drops = [self._ids.positions(ex) for ex in excl]
        # Ask for enough extra to survive dropping the excluded items; the
        # queries with the same ask go to hnswlib as one batch.
        asks = np.array([min(len(self), k + d.size) for d in drops])
        # A little slack beyond k (nearly free: the search visits ef >= this
        # many nodes anyway) lets the re-ranking below put exact duplicates
        # at the cut back in insertion order.
        asks = np.minimum(len(self), np.maximum(2 * asks, asks + 10))
        out: list[list[Hit]] = [[] for _ in drops]
        for ask in np.unique(asks):
            rows = np.flatnonzero(asks == ask)
            labels, sims = self._knn(unit[rows], int(ask))
            for r, lab, sim in zip(rows, labels, sims):
                keep = ~np.isin(lab, drops[r])
                lab, sim = lab[keep], np.clip(sim[keep], -1.0, 1.0)
                # hnswlib scores a pair with one fixed SIMD routine, so exact
                # duplicates get identical distances, but it lists ties in graph
                # order; lexsort (primary key: similarity descending) puts them
                # back in insertion order.
                order = np.lexsort((lab, -sim))[:k]
                out[r] = self._hits(lab[order], sim[order])
        return out

    def _knn(self, unit: np.ndarray, ask: int) -> tuple[np.ndarray, np.ndarray]:
        self._graph.set_ef(max(self.ef, ask))
        try:
            labels, dists = self._graph.knn_query(unit, k=ask, num_threads=self.num_threads)
            return labels.astype(np.intp), 1.0 - dists.astype(np.float64)
        except RuntimeError:
            # hnswlib refuses when its search reaches fewer than `ask` items,
            # which happens when ask is close to the index size; scanning is
            # cheap exactly then, so answer exactly instead.
            base = np.asarray(self._graph.get_items(np.arange(len(self))), dtype=np.float32)
            none = np.empty(0, dtype=np.intp)
            picks = [select_top(f, ask, none, q, base) for f, q in zip(fast_scores(unit, base), unit)]
            return (np.array([p for p, _ in picks]), np.array([s for _, s in picks], dtype=np.float64))

    def save(self, path: Path) -> None:
        """Write ids, parameters and the HNSW graph (which holds the vectors) to an ``.npz``, atomically.

        The graph is stored as raw bytes (hnswlib's own format) so loading a
        large index does not rebuild it.
        """
        arrays = index_arrays(self._ids.ids, self.dim, self.kind)
        arrays["hnsw_params"] = np.array([self.M, self.ef_construction, self.ef, self.random_seed], dtype=np.int64)
        if self._graph is not None:
            with tempfile.TemporaryDirectory() as tmp:
                name = os.path.join(tmp, "graph.bin")
                self._graph.save_index(name)
                arrays["hnsw_graph"] = np.fromfile(name, dtype=np.uint8)
        atomic_savez(Path(path), arrays)

    @classmethod
    def load(cls, path: Path, **params: Any) -> HnswIndex:
        """Read a file written by :meth:`save`; ``params`` override the saved search settings."""
        data = read_index_npz(Path(path))
        if str(data["kind"]) != cls.kind or "hnsw_params" not in data:
            raise ValueError(f"{path} is not an HNSW index file (kind {str(data['kind'])!r})")
        M, efc, ef, seed = (int(v) for v in data["hnsw_params"])
        index = cls(loaded_dim(data), **{"M": M, "ef_construction": efc, "ef": ef, "random_seed": seed, **params})
        ids = id_list(data["ids"].tolist())
        if not ids:
            return index
        if "hnsw_graph" not in data:
            raise ValueError(f"{path} is corrupt: {len(ids)} ids but no graph")
        index._ids.check_new(ids)
        graph = _hnswlib().Index(space="cosine", dim=index.dim)
        with tempfile.TemporaryDirectory() as tmp:
            name = os.path.join(tmp, "graph.bin")
            data["hnsw_graph"].tofile(name)
            try:
                graph.load_index(name, max_elements=len(ids))
            except RuntimeError as e:
                raise ValueError(f"{path} is corrupt: hnswlib cannot read its graph ({e})") from e
        if graph.get_current_count() != len(ids):
            raise ValueError(f"{path} is corrupt: the graph holds {graph.get_current_count()} items for {len(ids)} ids")
        graph.set_num_threads(index._threads())
        index._graph = graph
        index._ids.extend(ids)
        return index
