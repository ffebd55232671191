"""Nearest-neighbour search over track embeddings.

Callers talk to :class:`VectorIndex`; :class:`ExactIndex` answers with one
matrix product (fine up to some hundreds of thousands of tracks) and
:class:`HnswIndex` puts the same interface over hnswlib for libraries too big
to scan per query.  Both measure cosine similarity (-1..1) and order results by
similarity descending, ties by insertion order, so swapping one for the other
changes speed and, for HNSW, a little recall -- never the meaning of a result.

Files are ``.npz`` archives read with ``allow_pickle=False`` (a downloaded
index must not be able to run code) and written through a temporary file plus
:func:`os.replace`, so a crash never leaves a half-written index behind.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = [
    "VectorIndex",
    "ExactIndex",
    "HnswIndex",
    "l2_normalize",
    "cosine_similarities",
    "rank_indices",
]

Hit = tuple[str, float]

_FORMAT_VERSION = 1
# Bounds the (queries x tracks) score block a batched query materialises:
# 2**25 float32 scores = 128 MiB, whatever the batch or library size.
_MAX_BLOCK_SCORES = 1 << 25


@runtime_checkable
class VectorIndex(Protocol):
    """What recommenders need from a nearest-neighbour index."""

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add one row of ``vectors`` per id; ids must be new and unique."""
        ...

    def query(self, vector: np.ndarray, k: int = 5,
              exclude: Iterable[str] = ()) -> list[Hit]:
        """The ``k`` most similar ``(id, cosine)`` pairs, best first."""
        ...

    def query_many(self, vectors: np.ndarray, k: int = 5,
                   exclude: Sequence[Iterable[str]] | None = None) -> list[list[Hit]]:
        """:meth:`query` for each row of ``vectors``; ``exclude`` is per row."""
        ...

    def save(self, path: Path) -> None:
        """Write the index to ``path`` atomically."""
        ...

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        """Read an index written by :meth:`save`."""
        ...

    def __len__(self) -> int:
        ...


# --------------------------------------------------------------------------
# shared maths
# --------------------------------------------------------------------------

def l2_normalize(x: np.ndarray) -> np.ndarray:
    """``x`` as float32 with each row (or a 1-D vector) scaled to unit length.

    Zero rows stay zero rather than becoming NaN, so a silent clip's embedding
    is simply similar to nothing (cosine 0) instead of poisoning a ranking.
    """
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _fast_scores(queries_unit: np.ndarray, base_unit: np.ndarray) -> np.ndarray:
    """float32 BLAS product: fast, but only good for a shortlist (see below)."""
    return queries_unit @ base_unit.T


# BLAS gives the *same* pair slightly different float32 scores depending on
# the batch size and on where the row sits in the matrix (edge kernels
# accumulate in another order): on 2048-d vectors two exact duplicates can
# differ by ~1e-6, which would break the insertion-order rule for ties and let
# query() and query_many() disagree.  So final scores are computed in float64
# (products of float32 numbers are exact there; the sum errs by ~1e-16) and
# rounded to float32, which makes them (but for a ~1e-9 chance per pair of
# straddling a float32 rounding boundary) a function of the two vectors alone.
_PRECISE_BLOCK = 1 << 22  # float64 elements of base converted at a time (32 MiB)


def _precise_scores(queries_unit: np.ndarray, base_unit: np.ndarray) -> np.ndarray:
    q64 = queries_unit.astype(np.float64)
    out = np.empty((q64.shape[0], base_unit.shape[0]), dtype=np.float32)
    rows = max(1, _PRECISE_BLOCK // max(1, base_unit.shape[1]))
    for start in range(0, base_unit.shape[0], rows):
        part = q64 @ base_unit[start:start + rows].astype(np.float64).T
        # Rounding can push a unit-vector product a hair past +-1.
        np.clip(part, -1.0, 1.0, out=part)
        out[:, start:start + rows] = part
    return out


def _shortlist_margin(dim: int) -> float:
    # Standard bound on a float32 dot product of unit vectors in any summation
    # order, ~dim * 2**-24, plus the final float32 rounding, doubled: an item
    # whose fast score is further than this below the k-th fast score cannot
    # be in the precise top k.
    return (dim + 2) * 2.0 ** -23


def _select(fast: np.ndarray, k: int, drop: np.ndarray, query_unit: np.ndarray,
            base_unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions and precise scores of the top ``k`` of one query, best first.

    ``fast`` (the row's float32 scores, modified in place) picks a shortlist;
    the shortlist is re-scored precisely and ranked with ties by position.
    """
    if drop.size:
        fast[drop] = -np.inf  # below any real cosine, so never shortlisted
    k = min(k, fast.shape[0] - drop.size)
    if k <= 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
    kth = -np.partition(-fast, k - 1)[k - 1]
    shortlist = np.flatnonzero(fast >= kth - _shortlist_margin(base_unit.shape[1]))
    precise = _precise_scores(query_unit[None, :], base_unit[shortlist])[0]
    best = rank_indices(precise, k)  # shortlist is in position order, so ties stay so
    return shortlist[best], precise[best]


def cosine_similarities(queries: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``queries`` with every row of ``base``.

    Exactly the scores :class:`ExactIndex` ranks by and reports; shape
    ``(len(queries), len(base))``, float32, values in -1..1, 0 for zero rows.
    """
    q = _as_matrix(queries, "queries")
    b = _as_matrix(base, "base")
    if q.shape[1] != b.shape[1]:
        raise ValueError(
            f"query vectors have dimension {q.shape[1]} but base vectors have "
            f"dimension {b.shape[1]}"
        )
    return _precise_scores(l2_normalize(q), l2_normalize(b))


def rank_indices(scores: np.ndarray, k: int | None = None) -> np.ndarray:
    """Column positions of ``scores`` by score descending, ties by position.

    Without ``k`` this is the full ranking (of each row, for 2-D ``scores``).
    With ``k`` (1-D only) just the first ``k`` are returned, found in O(n)
    with :func:`np.partition`; every element tied with the k-th score is kept
    as a candidate before the stable sort, so ties straddling the cut still
    resolve by position exactly as a full stable sort would.
    """
    scores = np.asarray(scores)
    if k is None:
        return np.argsort(-scores, axis=-1, kind="stable")
    if scores.ndim != 1:
        raise ValueError("rank_indices with k needs 1-D scores")
    n = scores.shape[0]
    if k >= n:
        return np.argsort(-scores, kind="stable")
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    neg = -scores
    threshold = np.partition(neg, k - 1)[k - 1]
    candidates = np.flatnonzero(neg <= threshold)  # ascending position order
    order = np.argsort(neg[candidates], kind="stable")
    return candidates[order[:k]]


# --------------------------------------------------------------------------
# validation and file helpers
# --------------------------------------------------------------------------

def _as_matrix(vectors: Any, what: str) -> np.ndarray:
    arr = np.asarray(vectors)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (rows = vectors), got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return arr


def _as_query(vector: Any, dim: int | None) -> np.ndarray:
    arr = np.asarray(vector)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1:
        raise ValueError(f"a query vector must be 1-D, got shape {np.shape(vector)}")
    mat = _as_matrix(arr[None, :], "query vector")
    _check_dim(mat.shape[1], dim, "query vector")
    return mat


def _check_dim(got: int, dim: int | None, what: str) -> None:
    if dim is not None and got != dim:
        raise ValueError(
            f"{what} has dimension {got} but the index holds {dim}-dimensional vectors"
        )


def _check_k(k: int) -> int:
    k = int(k)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return k


def _exclude_sets(exclude: Sequence[Iterable[str]] | None, n: int) -> list[Iterable[str]]:
    if exclude is None:
        return [()] * n
    if isinstance(exclude, str):
        raise TypeError("exclude for query_many must be one iterable of ids per query vector")
    exclude = list(exclude)
    if len(exclude) != n:
        raise ValueError(f"exclude has {len(exclude)} entries for {n} query vectors")
    return exclude


def _id_list(ids: Sequence[str]) -> list[str]:
    if isinstance(ids, str):
        raise TypeError("ids must be a sequence of strings, not a single string")
    out = list(ids)
    for i in out:
        if not isinstance(i, str):
            raise TypeError(f"ids must be strings, got {type(i).__name__} {i!r}")
        # NumPy unicode arrays drop trailing NULs, so such an id would not
        # survive save/load unchanged.
        if i.endswith("\x00"):
            raise ValueError(f"id {i!r} ends with a NUL character")
    return out


class _Ids:
    """Insertion-ordered ids with O(1) id -> position lookup."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def check_new(self, new: list[str]) -> None:
        seen: set[str] = set()
        dupes = []
        for i in new:
            if i in self.pos or i in seen:
                dupes.append(i)
            seen.add(i)
        if dupes:
            shown = ", ".join(repr(d) for d in dupes[:5])
            more = f" and {len(dupes) - 5} more" if len(dupes) > 5 else ""
            raise ValueError(f"duplicate ids: {shown}{more}")

    def extend(self, new: list[str]) -> None:
        start = len(self.ids)
        self.ids.extend(new)
        self.pos.update((i, start + n) for n, i in enumerate(new))

    def positions(self, ids: Iterable[str]) -> np.ndarray:
        if isinstance(ids, str):  # a bare id, not its characters
            ids = (ids,)
        found = {self.pos[i] for i in ids if i in self.pos}
        return np.fromiter(sorted(found), dtype=np.intp, count=len(found))


def _check_lengths(ids: list[str], vectors: np.ndarray) -> None:
    if len(ids) != vectors.shape[0]:
        raise ValueError(f"got {len(ids)} ids for {vectors.shape[0]} vectors")


def _atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so os.replace is a rename on one filesystem, never a copy.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            # A file object, not a name: np.savez would append ".npz" to a name.
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {name: z[name] for name in z.files}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path} is not a readable index file: {e}") from e
    missing = {"format", "vectors", "ids", "dim"} - data.keys()
    if missing:
        raise ValueError(f"{path} is not an index file (missing {sorted(missing)})")
    version = int(data["format"])
    if version > _FORMAT_VERSION:
        raise ValueError(f"{path} uses index format {version}; this genrec reads up to "
                         f"{_FORMAT_VERSION}")
    vectors, ids = data["vectors"], data["ids"]
    if vectors.ndim != 2 or ids.ndim != 1 or len(ids) != len(vectors):
        raise ValueError(f"{path} is corrupt: {len(ids)} ids for vectors of shape "
                         f"{vectors.shape}")
    if ids.dtype.kind != "U":
        raise ValueError(f"{path} is corrupt: ids are stored as {ids.dtype}, not text")
    return data


def _base_arrays(ids: list[str], vectors: np.ndarray, dim: int | None,
                 kind: str) -> dict[str, np.ndarray]:
    return {
        "format": np.array(_FORMAT_VERSION),
        "kind": np.array(kind),
        "dim": np.array(-1 if dim is None else dim),
        "vectors": np.ascontiguousarray(vectors, dtype=np.float32),
        # dtype=str gives a fixed-width unicode array, loadable without pickle.
        "ids": np.array(ids, dtype=str) if ids else np.zeros(0, dtype="<U1"),
    }


def _loaded_dim(data: dict[str, np.ndarray]) -> int | None:
    dim = int(data["dim"])
    return None if dim < 0 else dim


# --------------------------------------------------------------------------
# exact index
# --------------------------------------------------------------------------

class ExactIndex:
    """Brute-force cosine search: one float32 matrix product per query batch.

    Vectors are stored L2-normalised, so similarity is a plain dot product;
    the original norms are not kept (cosine does not need them).  The few
    items near each query's top k are re-scored in float64 so results do not
    depend on batch size or position (see ``_precise_scores``).
    """

    def __init__(self, dim: int | None = None) -> None:
        """An empty index; ``dim`` is fixed by the first :meth:`add` if not given."""
        self.dim: int | None = None if dim is None else int(dim)
        self._ids = _Ids()
        # Appends collect here and are concatenated once, on the next query,
        # so many small adds do not copy the whole matrix each time.
        self._chunks: list[np.ndarray] = []

    @classmethod
    def build(cls, ids: Sequence[str], vectors: np.ndarray) -> "ExactIndex":
        """An index holding ``ids`` with their ``vectors``."""
        index = cls()
        index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"ExactIndex(n={len(self)}, dim={self.dim})"

    @property
    def ids(self) -> list[str]:
        """Ids in insertion order (a copy)."""
        return list(self._ids.ids)

    @property
    def vectors(self) -> np.ndarray:
        """The stored unit-length float32 vectors, one row per id (read-only view)."""
        view = self._matrix().view()
        view.flags.writeable = False
        return view

    def _matrix(self) -> np.ndarray:
        if len(self._chunks) != 1:
            width = 0 if self.dim is None else self.dim
            self._chunks = [np.concatenate(self._chunks) if self._chunks
                            else np.zeros((0, width), dtype=np.float32)]
        return self._chunks[0]

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add one row of ``vectors`` per id.

        Raises ValueError for ids already present or repeated in ``ids``, and
        for vectors whose dimension differs from the index's.
        """
        new = _id_list(ids)
        mat = _as_matrix(vectors, "vectors")
        _check_lengths(new, mat)
        _check_dim(mat.shape[1], self.dim, "vectors")
        self._ids.check_new(new)
        self._append(new, l2_normalize(mat))

    def _append(self, new: list[str], unit: np.ndarray) -> None:
        if new:
            self.dim = unit.shape[1]
            self._chunks.append(unit)
            self._ids.extend(new)

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine similarity of each row of ``vectors`` to every stored vector,
        shape ``(len(vectors), len(self))``, columns in insertion order."""
        mat = _as_matrix(vectors, "query vectors")
        _check_dim(mat.shape[1], self.dim, "query vectors")
        return _precise_scores(l2_normalize(mat), self._matrix())

    def query(self, vector: np.ndarray, k: int = 5,
              exclude: Iterable[str] = ()) -> list[Hit]:
        """The ``k`` most similar ``(id, cosine)`` pairs, best first.

        Ids in ``exclude`` are never returned (a bare string counts as one id);
        fewer than ``k`` pairs come back when the index holds fewer.
        """
        k = _check_k(k)
        if len(self) == 0 or k == 0:
            return []
        unit = l2_normalize(_as_query(vector, self.dim))
        base = self._matrix()
        return self._top(_fast_scores(unit, base)[0], k, exclude, unit[0], base)

    def query_many(self, vectors: np.ndarray, k: int = 5,
                   exclude: Sequence[Iterable[str]] | None = None) -> list[list[Hit]]:
        """:meth:`query` for every row of ``vectors``; ``exclude[i]`` applies to row i."""
        k = _check_k(k)
        mat = _as_matrix(vectors, "query vectors")
        excl = _exclude_sets(exclude, mat.shape[0])
        if len(self) == 0 or k == 0:
            return [[] for _ in range(mat.shape[0])]
        _check_dim(mat.shape[1], self.dim, "query vectors")
        base = self._matrix()
        unit = l2_normalize(mat)
        block = max(1, _MAX_BLOCK_SCORES // max(1, len(self)))
        out: list[list[Hit]] = []
        for start in range(0, unit.shape[0], block):
            chunk = unit[start:start + block]
            fast = _fast_scores(chunk, base)
            for row, q, ex in zip(fast, chunk, excl[start:start + block]):
                out.append(self._top(row, k, ex, q, base))
        return out

    def _top(self, fast: np.ndarray, k: int, exclude: Iterable[str],
             query_unit: np.ndarray, base: np.ndarray) -> list[Hit]:
        pos, sims = _select(fast, k, self._ids.positions(exclude), query_unit, base)
        ids = self._ids.ids
        return [(ids[p], float(s)) for p, s in zip(pos, sims)]

    def save(self, path: Path) -> None:
        """Write ids and unit vectors to an ``.npz`` at ``path``, atomically."""
        _atomic_savez(Path(path), _base_arrays(self._ids.ids, self._matrix(),
                                               self.dim, "exact"))

    @classmethod
    def load(cls, path: Path) -> "ExactIndex":
        """Read a file written by :meth:`ExactIndex.save` or :meth:`HnswIndex.save`."""
        data = _read_npz(Path(path))
        index = cls(_loaded_dim(data))
        ids = _id_list(data["ids"].tolist())
        vectors = _as_matrix(data["vectors"], f"vectors in {path}")
        _check_dim(vectors.shape[1], index.dim, f"vectors in {path}")
        index._ids.check_new(ids)
        # Stored vectors are already unit length; normalising again is not
        # exactly idempotent in float32 and would shift scores by an ulp.
        norms = np.linalg.norm(vectors, axis=1)
        if not np.all((np.abs(norms - 1.0) < 1e-4) | (norms == 0.0)):
            vectors = l2_normalize(vectors)
        index._append(ids, vectors)
        return index


# --------------------------------------------------------------------------
# HNSW index
# --------------------------------------------------------------------------

def _hnswlib() -> Any:
    try:
        import hnswlib
    except ImportError as e:
        raise ImportError(
            "HnswIndex needs the hnswlib package, which is not installed: "
            "pip install hnswlib"
        ) from e
    return hnswlib


class HnswIndex:
    """Approximate cosine search over hnswlib's HNSW graph.

    Same contract as :class:`ExactIndex` except that a result may miss some
    true neighbours (raise ``ef`` to trade speed for recall).  hnswlib labels
    are insertion positions, so ties can be put back in insertion order.
    """

    def __init__(self, dim: int | None = None, *, M: int = 16,
                 ef_construction: int = 200, ef: int = 64,
                 random_seed: int = 100, num_threads: int = -1) -> None:
        """An empty index; ``dim`` is fixed by the first :meth:`add` if not given.

        ``M`` and ``ef_construction`` shape the graph (memory and build time
        vs. recall); ``ef`` is the search breadth per query; ``num_threads=-1``
        uses every core.
        """
        _hnswlib()  # fail at construction, not at the first add
        self.dim: int | None = None if dim is None else int(dim)
        self.M = int(M)
        self.ef_construction = int(ef_construction)
        self.ef = int(ef)
        self.random_seed = int(random_seed)
        self.num_threads = int(num_threads)
        self._ids = _Ids()
        self._graph: Any = None

    @classmethod
    def build(cls, ids: Sequence[str], vectors: np.ndarray, **params: Any) -> "HnswIndex":
        """An index holding ``ids`` with their ``vectors``; ``params`` go to the constructor."""
        index = cls(**params)
        index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return (f"HnswIndex(n={len(self)}, dim={self.dim}, M={self.M}, "
                f"ef_construction={self.ef_construction}, ef={self.ef})")

    @property
    def ids(self) -> list[str]:
        """Ids in insertion order (a copy)."""
        return list(self._ids.ids)

    def _new_graph(self, capacity: int) -> Any:
        graph = _hnswlib().Index(space="cosine", dim=self.dim)
        graph.init_index(max_elements=max(1, capacity), M=self.M,
                         ef_construction=self.ef_construction,
                         random_seed=self.random_seed)
        graph.set_num_threads(self.num_threads if self.num_threads > 0 else os.cpu_count() or 1)
        return graph

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add one row of ``vectors`` per id (ValueError on duplicate ids or wrong dim)."""
        new = _id_list(ids)
        mat = _as_matrix(vectors, "vectors")
        _check_lengths(new, mat)
        _check_dim(mat.shape[1], self.dim, "vectors")
        self._ids.check_new(new)
        if not new:
            return
        self.dim = mat.shape[1]
        start, needed = len(self), len(self) + len(new)
        if self._graph is None:
            self._graph = self._new_graph(needed)
        elif needed > self._graph.get_max_elements():
            # Doubling keeps repeated small adds from resizing every time.
            self._graph.resize_index(max(needed, 2 * self._graph.get_max_elements()))
        self._graph.add_items(l2_normalize(mat), np.arange(start, needed),
                              num_threads=self.num_threads)
        self._ids.extend(new)

    def query(self, vector: np.ndarray, k: int = 5,
              exclude: Iterable[str] = ()) -> list[Hit]:
        """Approximately the ``k`` most similar ``(id, cosine)`` pairs, best first."""
        k = _check_k(k)
        if len(self) == 0 or k == 0:
            return []
        q = _as_query(vector, self.dim)
        return self._search(q, k, [exclude])[0]

    def query_many(self, vectors: np.ndarray, k: int = 5,
                   exclude: Sequence[Iterable[str]] | None = None) -> list[list[Hit]]:
        """:meth:`query` for every row of ``vectors``; ``exclude[i]`` applies to row i."""
        k = _check_k(k)
        mat = _as_matrix(vectors, "query vectors")
        excl = _exclude_sets(exclude, mat.shape[0])
        if len(self) == 0 or k == 0:
            return [[] for _ in range(mat.shape[0])]
        _check_dim(mat.shape[1], self.dim, "query vectors")
        return self._search(mat, k, excl)

    def _search(self, mat: np.ndarray, k: int, excl: list[Iterable[str]]) -> list[list[Hit]]:
        drops = [self._ids.positions(ex) for ex in excl]
        # Ask for enough extra to survive dropping the excluded items; the
        # queries with the same ask go to hnswlib as one batch.
        asks = np.array([min(len(self), k + d.size) for d in drops])
        # A little slack beyond k (nearly free: the search visits ef >= this
        # many nodes anyway) lets the re-ranking below put exact duplicates
        # at the cut back in insertion order.
        asks = np.minimum(len(self), np.maximum(2 * asks, asks + 10))
        unit = l2_normalize(mat)
        out: list[list[Hit]] = [[] for _ in drops]
        for ask in np.unique(asks):
            rows = np.flatnonzero(asks == ask)
            labels, sims = self._knn(unit[rows], int(ask))
            for r, lab, sim in zip(rows, labels, sims):
                out[r] = self._hits(lab, sim, drops[r], k)
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
            picks = [_select(f, ask, none, q, base)
                     for f, q in zip(_fast_scores(unit, base), unit)]
            return (np.array([p for p, _ in picks]),
                    np.array([s for _, s in picks], dtype=np.float64))

    def _hits(self, labels: np.ndarray, sims: np.ndarray, drop: np.ndarray,
              k: int) -> list[Hit]:
        keep = ~np.isin(labels, drop)
        labels, sims = labels[keep], np.clip(sims[keep], -1.0, 1.0)
        # hnswlib scores a pair with one fixed SIMD routine, so exact
        # duplicates get identical distances, but it lists ties in graph
        # order; lexsort (primary key: similarity descending) puts them back
        # in insertion order.
        order = np.lexsort((labels, -sims))[:k]
        ids = self._ids.ids
        return [(ids[labels[i]], float(sims[i])) for i in order]

    def save(self, path: Path) -> None:
        """Write ids, unit vectors and the HNSW graph to an ``.npz``, atomically.

        The graph is stored as raw bytes (hnswlib's own format) so loading a
        large index does not rebuild it.
        """
        path = Path(path)
        arrays = _base_arrays(self._ids.ids, self._vectors(), self.dim, "hnsw")
        arrays["hnsw_params"] = np.array([self.M, self.ef_construction, self.ef,
                                          self.random_seed], dtype=np.int64)
        if self._graph is not None:
            arrays["hnsw_graph"] = self._graph_bytes()
        _atomic_savez(path, arrays)

    def _vectors(self) -> np.ndarray:
        if self._graph is None or len(self) == 0:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return np.asarray(self._graph.get_items(np.arange(len(self))), dtype=np.float32)

    def _graph_bytes(self) -> np.ndarray:
        with tempfile.TemporaryDirectory() as tmp:
            name = os.path.join(tmp, "graph.bin")
            self._graph.save_index(name)
            with open(name, "rb") as fh:
                return np.frombuffer(fh.read(), dtype=np.uint8)

    @classmethod
    def load(cls, path: Path, **params: Any) -> "HnswIndex":
        """Read a file written by :meth:`save`; an :class:`ExactIndex` file
        works too (its graph is built on load)."""
        data = _read_npz(Path(path))
        if "hnsw_params" in data:
            M, efc, ef, seed = (int(v) for v in data["hnsw_params"])
            params = {"M": M, "ef_construction": efc, "ef": ef, "random_seed": seed, **params}
        index = cls(_loaded_dim(data), **params)
        ids = data["ids"].tolist()
        if "hnsw_graph" in data and ids:
            index._ids.check_new(ids)
            graph = _hnswlib().Index(space="cosine", dim=index.dim)
            with tempfile.TemporaryDirectory() as tmp:
                name = os.path.join(tmp, "graph.bin")
                data["hnsw_graph"].tofile(name)
                graph.load_index(name, max_elements=len(ids))
            if graph.get_current_count() != len(ids):
                raise ValueError(f"{path} is corrupt: the graph holds "
                                 f"{graph.get_current_count()} items for {len(ids)} ids")
            graph.set_num_threads(index.num_threads if index.num_threads > 0
                                  else os.cpu_count() or 1)
            index._graph = graph
            index._ids.extend(ids)
        elif ids:
            index.add(ids, data["vectors"])
        return index

