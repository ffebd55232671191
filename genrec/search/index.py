"""Nearest-neighbour search over track embeddings.

:class:`VectorIndex` holds what every index shares: ids in insertion order,
input checks, and the query / query_many front end.  :class:`ExactIndex`
answers with one matrix product (fine up to a few hundred thousand tracks) and
:class:`AnnIndex` puts the same interface over a faiss HNSW graph for
catalogues too big to scan per query.  Both measure cosine similarity (-1..1)
and order results by similarity descending, ties by insertion order; AnnIndex
re-scores its shortlist exactly, so swapping one for the other changes speed
and a little recall -- never a reported score or the meaning of a result.
:func:`choose_kind` picks one for a catalogue of a given size.

An approximate index is saved as a folder: an ``.npz`` header (ids, settings)
read with ``allow_pickle=False`` (a downloaded index must not be able to run
code), faiss's index file and the float32 vectors as ``.npy``, each written
through a temporary file plus :func:`os.replace`; loading memory-maps the graph
and the vectors.  An exact index needs no file: it is rebuilt from the
embeddings it was made of.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genrec.config import TOP_K
from genrec.search.vectors import (
    IdTable,
    RowReader,
    TextIds,
    as_matrix,
    as_query,
    check_dim,
    check_k,
    check_lengths,
    check_npy,
    cosine_similarities,
    exclude_sets,
    fast_scores,
    id_list,
    index_arrays,
    l2_normalize,
    loaded_dim,
    map_npy,
    precise_scores,
    rank_indices,
    read_index_npz,
    select_top,
)
from genrec.utils.fileio import atomic_folder
from genrec.utils.machine import cpu_threads

__all__ = [
    "ANN_DEFAULTS",
    "EXACT_LIMIT",
    "AnnIndex",
    "ExactIndex",
    "VectorIndex",
    "ann_available",
    "choose_kind",
    "cosine_similarities",
    "l2_normalize",
    "rank_indices",
]

Hit = tuple[str, float]

# Bounds the (queries x tracks) score block a batched query materialises:
# 2**25 float32 scores = 128 MiB, whatever the batch or library size.
_MAX_BLOCK_SCORES = 1 << 25
#: Up to this many vectors a catalogue is searched exactly; above it approximately (AnnIndex).
#: Exact search over 100k 512-d vectors (the work of 200k 256-d embeddings) took
#: 4.9 ms a query on 2 quiet cores (RESULTS.md, section 7): interactive, and never
#: approximate.
EXACT_LIMIT = 200_000
INDEX_KINDS = ("auto", "exact", "ann")
#: AnnIndex's settings, chosen from the curve in RESULTS.md (section 12): recall@5 >= 0.95 at 1M 256-d
#: vectors within 2 ms a query on 2 cores, the graph in 8 bits a component.
ANN_DEFAULTS: dict[str, Any] = {"M": 16, "ef_construction": 100, "ef": 256, "rerank": 20}
#: How many of a catalogue's own tracks measure its index's recall when it is built.
RECALL_SAMPLE = 500
_ANN_MISSING = "faiss-cpu is not installed: pip install 'genrec[ann]' (or pip install faiss-cpu)"
# The files of a saved AnnIndex, in its folder.
_HEADER, _GRAPH, _VECTORS = "header.npz", "graph.faiss", "vectors.npy"
#: Below this many vectors in the first add, the 8-bit codes span [-1, 1] in every component (the range of a
#: unit vector) instead of ranges measured on too few vectors to hold the next ones.
_SQ_TRAIN_MIN = 1000


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


class _MatrixIndex(VectorIndex):
    """The unit vectors in one float32 matrix, and exact search over it (what both indexes keep)."""

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


class ExactIndex(_MatrixIndex):
    """Brute-force cosine search: one float32 matrix product per query batch.

    Vectors are stored L2-normalised, so similarity is a plain dot product;
    the original norms are not kept (cosine does not need them).  The few
    items near each query's top k are re-scored in float64 so results do not
    depend on batch size or position (see :func:`genrec.search.vectors.precise_scores`).
    """

    kind = "exact"


def _same_ids(saved: np.ndarray, ids: list[str] | TextIds) -> bool:
    """Whether an index file's ids (``saved``) are ``ids``, in order."""
    if isinstance(ids, TextIds):
        return ids.equals(saved)
    return len(ids) == len(saved) and (not ids or np.array_equal(saved, np.array(ids, dtype=str)))


def ann_available() -> bool:
    """Whether faiss (the optional ``genrec[ann]`` extra, faiss-cpu) can be imported."""
    try:
        _faiss()
    except ImportError:
        return False
    return True


def _faiss() -> Any:
    try:
        import faiss  # noqa: PLC0415 - optional extra (genrec[ann]), imported only for an ANN index
    except ImportError as e:
        raise ImportError(f"AnnIndex needs the faiss package, which is not installed: {_ANN_MISSING}") from e
    return faiss


def choose_kind(n: int, requested: str = "auto", exact_limit: int = EXACT_LIMIT) -> tuple[str, str]:
    """The index kind for ``n`` vectors and why: ``requested`` unless it is ``"auto"``.

    ``auto`` searches exactly up to ``exact_limit`` vectors and approximately (:class:`AnnIndex`) above it;
    without faiss it stays exact and the reason says so. An explicit ``"ann"`` without faiss raises
    ImportError with the install command.
    """
    if requested not in INDEX_KINDS:
        raise ValueError(f"index kind must be one of {', '.join(INDEX_KINDS)}, got {requested!r}")
    if requested == "exact":
        return "exact", "exact search was asked for"
    if requested == "ann":
        _faiss()
        return "ann", "approximate search was asked for"
    if n <= exact_limit:
        return "exact", f"{n} vectors <= {exact_limit}: exact search is fast enough"
    if not ann_available():
        return "exact", (
            f"{n} vectors > {exact_limit} would use approximate search, but {_ANN_MISSING}; "
            f"searching exactly instead (slower per query, same answers)"
        )
    return "ann", f"{n} vectors > {exact_limit}: approximate search (an HNSW graph, shortlists re-scored exactly)"


class AnnIndex(_MatrixIndex):
    """Approximate cosine search: a faiss HNSW graph over 8-bit vectors finds a shortlist, which is re-scored exactly.

    The graph stores each vector in one byte a component (faiss's 8-bit scalar quantiser, its range fitted per
    component), a quarter of float32, and finds the ``rerank`` most promising items per query; those are
    scored with the float32 vectors exactly as :class:`ExactIndex` scores them, so every reported
    similarity is the exact cosine and ties come back in insertion order. Only recall differs from exact
    search: a true neighbour the graph does not reach is missed (raise ``ef``, the graph's search breadth,
    for more recall at more time per query).

    A saved index is a folder (:meth:`save`); :meth:`load` memory-maps the graph's codes and reads each
    shortlist's float32 rows from the vectors file as queries ask for them
    (:class:`genrec.search.vectors.RowReader`), so a million-track index neither reads nor keeps its
    gigabyte of vectors.
    """

    kind = "ann"
    #: How the graph stores vectors (faiss's name): 8 bits a component.
    storage = "SQ8"

    def __init__(
        self,
        dim: int | None = None,
        *,
        M: int = ANN_DEFAULTS["M"],
        ef_construction: int = ANN_DEFAULTS["ef_construction"],
        ef: int = ANN_DEFAULTS["ef"],
        rerank: int = ANN_DEFAULTS["rerank"],
        num_threads: int = -1,
    ) -> None:
        """An empty index; ``dim`` is fixed by the first :meth:`add` if not given.

        ``M`` (links per node) and ``ef_construction`` shape the graph (size and build time vs. recall);
        ``ef`` is the search breadth and ``rerank`` the shortlist re-scored exactly per query;
        ``num_threads=-1`` builds and answers batches with every core.
        """
        self._faiss = _faiss()  # fails at construction, not at the first add
        super().__init__(dim)
        self.M = int(M)
        self.ef_construction = int(ef_construction)
        self.ef = int(ef)
        self.rerank = int(rerank)
        self.num_threads = int(num_threads)
        self._graph: Any = None
        self._mapped_from: Path | None = None  # the folder of a memory-mapped (read-only) graph
        self._rows: RowReader | None = None  # a loaded index's vectors file, read a shortlist at a time

    def __repr__(self) -> str:
        return f"AnnIndex(n={len(self)}, dim={self.dim}, {', '.join(f'{k}={v}' for k, v in self.settings().items())})"

    def settings(self) -> dict[str, Any]:
        """The build and search settings, as a catalogue's manifest records them."""
        return {
            "M": self.M,
            "ef_construction": self.ef_construction,
            "ef": self.ef,
            "rerank": self.rerank,
            "storage": self.storage,
        }

    @staticmethod
    def library() -> str:
        """The library doing the approximate search, with its version (e.g. ``faiss-cpu 1.15.1``)."""
        return f"faiss-cpu {_faiss().__version__}"

    def _threads(self) -> int:
        return self.num_threads if self.num_threads > 0 else cpu_threads()

    def _add_unit(self, new: list[str], unit: np.ndarray) -> None:
        faiss = self._faiss
        if self._graph is None:
            self._graph = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.M, faiss.METRIC_INNER_PRODUCT)
            self._graph.hnsw.efConstruction = self.ef_construction
            # The codes' range per component comes from the first vectors added; later ones outside it are
            # clipped, which the exact re-scoring makes up for.
            train = unit if len(unit) >= _SQ_TRAIN_MIN else np.vstack([unit, np.eye(self.dim), -np.eye(self.dim)])
            self._graph.train(np.ascontiguousarray(train, dtype=np.float32))
        elif self._mapped_from is not None:
            # A memory-mapped graph is read-only: read it into memory to grow it.
            self._graph = faiss.read_index(str(self._mapped_from / _GRAPH))
            self._mapped_from = None
        faiss.omp_set_num_threads(self._threads())
        self._graph.add(np.ascontiguousarray(unit, dtype=np.float32))
        self._rows = None  # the saved file does not hold the new vectors
        super()._add_unit(new, unit)

    def _knn(self, unit: np.ndarray, size: int) -> list[np.ndarray]:
        """The graph's ``size`` best positions for each row of ``unit`` (fewer where it reaches fewer)."""
        faiss = self._faiss
        faiss.omp_set_num_threads(self._threads())  # one query runs on one thread whatever this says
        params = faiss.SearchParametersHNSW(efSearch=max(self.ef, size))
        _, labels = self._graph.search(np.ascontiguousarray(unit, dtype=np.float32), size, params=params)
        return [row[row >= 0].astype(np.intp) for row in labels]

    def _search(self, unit: np.ndarray, k: int, excl: list[Iterable[str]]) -> list[list[Hit]]:
        n = len(self)
        drops = [self._ids.positions(ex) for ex in excl]
        asks = np.array([min(n, k + d.size) for d in drops])
        # The shortlist: `rerank` items, and at least enough slack beyond k that excluded items and exact
        # duplicates straddling the cut are re-scored too (so ties still come back in insertion order).
        sizes = np.maximum(np.maximum(2 * asks, asks + 10), self.rerank)
        out: list[list[Hit]] = [[] for _ in drops]
        scan = np.flatnonzero(sizes >= n)
        if scan.size:  # the shortlist would be (nearly) everything: scanning is exact and no slower
            for r, hits in zip(scan, super()._search(unit[scan], k, [excl[r] for r in scan])):
                out[r] = hits
        base = self._matrix()
        for size in np.unique(sizes[sizes < n]):
            rows = np.flatnonzero(sizes == size)
            for r, found in zip(rows, self._knn(unit[rows], int(size))):
                # Sorted positions, so rank_indices' ties-by-position are ties by insertion order.
                cand = np.sort(found[~np.isin(found, drops[r])])
                shortlist = self._rows.rows(cand) if self._rows is not None else np.asarray(base[cand])
                sims = precise_scores(unit[r][None, :], shortlist)[0]
                best = rank_indices(sims, k)
                out[r] = self._hits(cand[best], sims[best])
        return out

    def measured_recall(self, k: int = TOP_K, sample: int = RECALL_SAMPLE, seed: int = 0) -> float:
        """Recall@k against exact search, queried with up to ``sample`` of the index's own vectors.

        Each sampled vector is held out of its own answers (as a catalogue track is when it is the query),
        and its approximate top ``k`` is compared with the exact top ``k`` over the same vectors.
        """
        n = len(self)
        if n == 0:
            return 1.0
        picks = np.sort(np.random.default_rng(seed).choice(n, min(sample, n), replace=False))
        queries = np.asarray(self._matrix()[picks])
        excl = [[self._ids.ids[p]] for p in picks]
        got = self._search(queries, k, excl)
        truth = super()._search(queries, k, excl)
        return float(np.mean([len({i for i, _ in g} & {i for i, _ in t}) / max(1, len(t)) for g, t in zip(got, truth)]))

    def describe(self, sample: int = RECALL_SAMPLE) -> dict[str, Any]:
        """What a catalogue's manifest records about this index: library, settings and measured recall@5."""
        return {
            "library": self.library(),
            "settings": self.settings(),
            "recall_at_5": round(self.measured_recall(k=5, sample=sample), 4),
            "recall_sample": min(sample, len(self)),
        }

    def save(self, folder: Path) -> None:
        """Write the index as the folder ``folder``: the graph, the float32 unit vectors and a header (ids, settings).

        The folder is written beside and renamed into place (:func:`genrec.utils.fileio.atomic_folder`); the header
        records the other files' sizes, so a folder copied only in part is found out on :meth:`load`.
        """

        def fill(tmp: Path) -> None:
            np.save(tmp / _VECTORS, np.ascontiguousarray(self._matrix()), allow_pickle=False)
            if self._graph is not None:
                self._faiss.write_index(self._graph, str(tmp / _GRAPH))
            else:
                (tmp / _GRAPH).write_bytes(b"")
            arrays = index_arrays(self._ids.ids, self.dim, self.kind)
            arrays["ann_settings"] = np.array(json.dumps(self.settings()))
            arrays["ann_sizes"] = np.array([(tmp / name).stat().st_size for name in (_GRAPH, _VECTORS)])
            np.savez(tmp / _HEADER, **arrays)

        atomic_folder(Path(folder), fill)

    @classmethod
    def _read_header(cls, folder: Path) -> tuple[dict[str, np.ndarray], dict[str, Any], list[int]]:
        """A saved index's header arrays, settings and file sizes; ValueError for a folder that is not one."""
        data = read_index_npz(folder / _HEADER)
        try:
            settings = json.loads(str(data["ann_settings"]))
            sizes = [int(s) for s in data["ann_sizes"]]
        except (KeyError, ValueError, TypeError) as e:
            raise ValueError(f"{folder} is not an approximate-search index (kind {str(data['kind'])!r})") from e
        if str(data["kind"]) != cls.kind:
            raise ValueError(f"{folder} is not an approximate-search index (kind {str(data['kind'])!r})")
        return data, settings, sizes

    @staticmethod
    def _check_files(folder: Path, sizes: list[int], n: int, dim: int | None, finite: bool = True) -> None:
        """ValueError unless the graph and vectors are as big as saved and the vectors ``n`` x ``dim`` float32,
        every value finite (read a slice at a time) when ``finite``."""
        for name, size in zip((_GRAPH, _VECTORS), sizes):
            if not (folder / name).is_file() or (folder / name).stat().st_size != size:
                raise ValueError(f"{folder / name} is missing or was not completely written; save the index again")
        # the rerank reads these vectors: a NaN would reorder answers silently, so it is refused on open
        check_npy(folder / _VECTORS, shape=(n, dim), dtype=np.float32, finite=finite)

    @classmethod
    def check_folder(cls, folder: Path, n: int, dim: int) -> None:
        """ValueError unless ``folder`` is a complete saved index of ``n`` ``dim``-wide vectors, all finite
        (FileNotFoundError when it has no header).

        What :meth:`load` checks of the files, without faiss and without keeping anything: the float32
        vectors (a gigabyte at a million tracks) are read a slice at a time.
        """
        folder = Path(folder)
        data, _, sizes = cls._read_header(folder)
        if len(data["ids"]) != n or loaded_dim(data) != dim:
            raise ValueError(
                f"{folder / _HEADER} is corrupt: it lists {len(data['ids'])} {loaded_dim(data)}-d vectors, "
                f"not {n} {dim}-d ones"
            )
        cls._check_files(folder, sizes, n, dim)

    @classmethod
    def load(
        cls,
        folder: Path,
        mmap: bool = True,
        ids: list[str] | TextIds | None = None,
        values_checked: bool = False,
        **params: Any,
    ) -> AnnIndex:
        """Read an index written by :meth:`save`, its graph and vectors memory-mapped unless ``mmap`` is False.

        ``ids``, when given, must be the saved ids in order (a catalogue passes its tracks', as :class:`TextIds`);
        the index then keeps them instead of a second copy of a million strings. ``values_checked`` says the caller ran
        :meth:`check_folder` on this folder already, so the vectors' values are not read a second time (their
        size and shape still are). ``params`` override the saved search settings (``ef``, ``rerank``).
        ValueError says what is wrong with a folder that is not such an index, is damaged, or holds other ids.
        """
        folder = Path(folder)
        data, settings, sizes = cls._read_header(folder)
        index = cls(loaded_dim(data), **{**{k: settings[k] for k in ANN_DEFAULTS if k in settings}, **params})
        if ids is None:
            ids = id_list(data["ids"].tolist())
        elif not _same_ids(data["ids"], ids):
            raise ValueError(f"{folder} holds {len(data['ids'])} ids that are not the {len(ids)} given, in order")
        if not ids:
            return index
        index._ids.check_new(ids)
        cls._check_files(folder, sizes, len(ids), index.dim, finite=not values_checked)
        try:
            vectors = map_npy(folder / _VECTORS) if mmap else np.load(folder / _VECTORS, allow_pickle=False)
            # shortlists are read from the file, not the map, which stays for whole-matrix work (save, growth)
            index._rows = RowReader.open(folder / _VECTORS) if mmap else None
            # Memory-maps what faiss can (the 8-bit codes at least); a faiss without the flag reads the file.
            flags = getattr(index._faiss, "IO_FLAG_MMAP_IFC", 0) if mmap else 0
            graph = index._faiss.read_index(str(folder / _GRAPH), flags)
        except (OSError, ValueError, RuntimeError) as e:
            raise ValueError(f"{folder} is corrupt: {e}") from e
        faiss = index._faiss
        if not isinstance(graph, faiss.IndexHNSWSQ) or graph.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise ValueError(f"{folder} is corrupt: its graph is a {type(graph).__name__}, not genrec's kind")
        if graph.ntotal != len(ids) or graph.d != index.dim:
            got = f"a {type(graph).__name__} of {graph.ntotal} {graph.d}-d items"
            raise ValueError(f"{folder} is corrupt: {got} for {len(ids)} ids")
        index._graph = graph
        index._mapped_from = folder if mmap else None
        index._chunks = [vectors]
        index._ids.extend(ids)
        return index
