"""Unit vectors and cosine scores, and the input checks the indexes share.

:func:`l2_normalize`, :func:`cosine_similarities` and :func:`rank_indices` are
public (retrieval figures and training use them); the rest are the building
blocks of :mod:`genrec.search.index`: validation of ids, vectors and ``k``, an
insertion-ordered id table, exact top-k selection and ``.npz`` persistence.
"""

from __future__ import annotations

import bisect
import mmap
import os
import weakref
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from genrec.errors import GenrecError
from genrec.utils.fileio import atomic_write

FORMAT_VERSION = 2
# BLAS gives the *same* pair slightly different float32 scores depending on
# the batch size and on where the row sits in the matrix (edge kernels
# accumulate in another order): on 2048-d vectors two exact duplicates can
# differ by ~1e-6, which would break the insertion-order rule for ties and let
# query() and query_many() disagree.  So final scores are computed in float64
# (products of float32 numbers are exact there; the sum errs by ~1e-16) and
# rounded to float32, which makes them (but for a ~1e-9 chance per pair of
# straddling a float32 rounding boundary) a function of the two vectors alone.
_PRECISE_BLOCK = 1 << 22  # float64 elements of base converted at a time (32 MiB)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """``x`` as float32 with each row (or a 1-D vector) scaled to unit length.

    Zero rows stay zero rather than becoming NaN, so a silent clip's embedding
    is simply similar to nothing (cosine 0) instead of poisoning a ranking.
    """
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def fast_scores(queries_unit: np.ndarray, base_unit: np.ndarray) -> np.ndarray:
    """float32 BLAS product: fast, but only good for a shortlist (see :func:`precise_scores`)."""
    return queries_unit @ base_unit.T


def precise_scores(queries_unit: np.ndarray, base_unit: np.ndarray) -> np.ndarray:
    """Cosines of unit rows summed in float64 and rounded to float32 (position-independent)."""
    q64 = queries_unit.astype(np.float64)
    out = np.empty((q64.shape[0], base_unit.shape[0]), dtype=np.float32)
    rows = max(1, _PRECISE_BLOCK // max(1, base_unit.shape[1]))
    for start in range(0, base_unit.shape[0], rows):
        part = q64 @ base_unit[start : start + rows].astype(np.float64).T
        # Rounding can push a unit-vector product a hair past +-1.
        np.clip(part, -1.0, 1.0, out=part)
        out[:, start : start + rows] = part
    return out


def _shortlist_margin(dim: int) -> float:
    # Standard bound on a float32 dot product of unit vectors in any summation
    # order, ~dim * 2**-24, plus the final float32 rounding, doubled: an item
    # whose fast score is further than this below the k-th fast score cannot
    # be in the precise top k.
    return (dim + 2) * 2.0**-23


def select_top(
    fast: np.ndarray, k: int, drop: np.ndarray, query_unit: np.ndarray, base_unit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
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
    precise = precise_scores(query_unit[None, :], base_unit[shortlist])[0]
    best = rank_indices(precise, k)  # shortlist is in position order, so ties stay so
    return shortlist[best], precise[best]


def cosine_similarities(queries: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``queries`` with every row of ``base``.

    Exactly the scores :class:`genrec.search.index.ExactIndex` ranks by and reports;
    shape ``(len(queries), len(base))``, float32, values in -1..1, 0 for zero rows.
    """
    q = as_matrix(queries, "queries")
    b = as_matrix(base, "base")
    if q.shape[1] != b.shape[1]:
        raise ValueError(f"query vectors have dimension {q.shape[1]} but base vectors have dimension {b.shape[1]}")
    return precise_scores(l2_normalize(q), l2_normalize(b))


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
# validation
# --------------------------------------------------------------------------


def as_matrix(vectors: Any, what: str) -> np.ndarray:
    """``vectors`` as a finite float32 matrix, or ValueError naming ``what``."""
    arr = np.asarray(vectors)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (rows = vectors), got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return arr


def as_query(vector: Any, dim: int | None) -> np.ndarray:
    """One query vector (1-D, or a single row) as a (1, dim) matrix."""
    arr = np.asarray(vector)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1:
        raise ValueError(f"a query vector must be 1-D, got shape {np.shape(vector)}")
    mat = as_matrix(arr[None, :], "query vector")
    check_dim(mat.shape[1], dim, "query vector")
    return mat


def check_dim(got: int, dim: int | None, what: str) -> None:
    """ValueError naming both dimensions when ``got`` is not the index's ``dim``."""
    if dim is not None and got != dim:
        raise ValueError(f"{what} has dimension {got} but the index holds {dim}-dimensional vectors")


def check_k(k: int) -> int:
    """``k`` as an int, refusing negatives."""
    k = int(k)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return k


def exclude_sets(exclude: Sequence[Iterable[str]] | None, n: int) -> list[Iterable[str]]:
    """One iterable of excluded ids per query row."""
    if exclude is None:
        return [()] * n
    if isinstance(exclude, str):
        raise TypeError("exclude for query_many must be one iterable of ids per query vector")
    exclude = list(exclude)
    if len(exclude) != n:
        raise ValueError(f"exclude has {len(exclude)} entries for {n} query vectors")
    return exclude


def id_list(ids: Sequence[str]) -> list[str]:
    """``ids`` as a list of strings that survive a save/load round trip."""
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


def check_lengths(ids: list[str], vectors: np.ndarray) -> None:
    """ValueError unless there is one id per vector."""
    if len(ids) != vectors.shape[0]:
        raise ValueError(f"got {len(ids)} ids for {vectors.shape[0]} vectors")


def _duplicates_error(dupes: list[str]) -> ValueError:
    shown = ", ".join(repr(d) for d in dupes[:5])
    more = f" and {len(dupes) - 5} more" if len(dupes) > 5 else ""
    return ValueError(f"duplicate ids: {shown}{more}")


class TextIds(Sequence[str]):
    """Distinct ids held as one Arrow string array, with their sorted order for lookups (read-only).

    A million 40-character ids take about 50 MB so, where a list of Python strings and a dict of their
    positions (what :class:`IdTable` keeps for a list) take about 170 MB; a lookup is a binary search (~20 µs).
    """

    def __init__(self, ids: pa.Array | pa.ChunkedArray) -> None:
        """ValueError for a missing id, one ending with a NUL character (see :func:`id_list`), or a repeated one."""
        column = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if not text or column.null_count:
            raise ValueError(f"ids must be strings without missing values, got {column.type}")
        if len(column) and pc.any(pc.ends_with(column, "\x00")).as_py():
            raise ValueError("an id ends with a NUL character")
        self.column = column
        self._order = pc.sort_indices(column).to_numpy().astype(np.intp)
        ranked = column.take(self._order)
        repeated = np.flatnonzero(pc.equal(ranked[1:], ranked[:-1]).to_numpy(zero_copy_only=False))
        if repeated.size:
            raise _duplicates_error(ranked.take(repeated).to_pylist())

    def __len__(self) -> int:
        return len(self.column)

    def __getitem__(self, i: int | slice) -> str | list[str]:  # a slice gives a list, as a list's would
        return self.column[i].to_pylist() if isinstance(i, slice) else self.column[int(i)].as_py()

    def __iter__(self) -> Iterator[str]:
        return iter(self.column.to_pylist())

    def position(self, id_: str) -> int | None:
        """Where ``id_`` is, or None. Arrow orders strings by their UTF-8 bytes, which is Python's order."""
        lo = bisect.bisect_left(self._order, id_, key=self._text_at)
        if lo < len(self._order) and self._text_at(self._order[lo]) == id_:
            return int(self._order[lo])
        return None

    def _text_at(self, row: int) -> str:
        return self.column[int(row)].as_py()

    def equals(self, saved: np.ndarray) -> bool:
        """Whether ``saved`` (a NumPy text array, as index files store ids) holds these ids in this order."""
        return len(saved) == len(self) and pa.array(saved, self.column.type).equals(self.column)


class IdTable:
    """Insertion-ordered ids with O(1) id -> position lookup (a binary search for :class:`TextIds`)."""

    def __init__(self) -> None:
        self.ids: list[str] | TextIds = []
        self.pos: dict[str, int] | None = {}  # None while the ids are a TextIds

    def __len__(self) -> int:
        return len(self.ids)

    def _position(self, i: str) -> int | None:
        return self.pos.get(i) if self.pos is not None else self.ids.position(i)

    def check_new(self, new: list[str] | TextIds) -> None:
        """ValueError listing ids already present or repeated in ``new``."""
        if isinstance(new, TextIds) and not self.ids:
            return  # a TextIds refused repeats when it was made
        seen: set[str] = set()
        dupes = []
        for i in new:
            if self._position(i) is not None or i in seen:
                dupes.append(i)
            seen.add(i)
        if dupes:
            raise _duplicates_error(dupes)

    def extend(self, new: list[str] | TextIds) -> None:
        if isinstance(new, TextIds) and not self.ids:
            self.ids, self.pos = new, None
            return
        if self.pos is None:  # growing compact ids: the list and dict again (only a changed index grows)
            self.ids = list(self.ids)
            self.pos = {i: n for n, i in enumerate(self.ids)}
        start = len(self.ids)
        self.ids.extend(new)
        self.pos.update((i, start + n) for n, i in enumerate(new))

    def positions(self, ids: Iterable[str]) -> np.ndarray:
        """Sorted positions of the known ids among ``ids`` (a bare string is one id)."""
        if isinstance(ids, str):
            ids = (ids,)
        found = {p for p in map(self._position, ids) if p is not None}
        return np.fromiter(sorted(found), dtype=np.intp, count=len(found))


# --------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------


def atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to ``path`` atomically (:func:`genrec.utils.fileio.atomic_write`)."""
    # A file object, not a name: np.savez would append ".npz" to a name.
    atomic_write(Path(path), lambda out: np.savez(out, **arrays))


def _npy_header(f: BinaryIO, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of the ``.npy`` file open as ``f``, left at the first value. ValueError for a file that
    is not a plain numeric ``.npy`` or was not completely written."""
    version = np.lib.format.read_magic(f)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"{path}: .npy format {version} is not one genrec writes")
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(f)
    if dtype.hasobject or fortran:
        raise ValueError(f"{path}: not a plain C-ordered numeric array")
    if f.tell() + int(np.prod(shape)) * dtype.itemsize != os.fstat(f.fileno()).st_size:
        raise ValueError(f"{path} was not completely written: its size does not match its header")
    return shape, dtype


def check_npy(
    path: Path,
    shape: tuple[int, ...] | None = None,
    dtype: np.dtype | type | None = None,
    finite: bool = True,
    chunk_bytes: int = 1 << 24,
) -> None:
    """ValueError unless the ``.npy`` file at ``path`` is complete, of ``shape`` and ``dtype`` (when given) and,
    with ``finite``, holds finite numbers only.

    The values are read in slices through plain file reads, not a memory map: checking a gigabyte of index
    vectors must not leave a gigabyte of mapped pages counted against the process.
    """
    with open(path, "rb") as f:
        got_shape, got_dtype = _npy_header(f, path)
        if (shape is not None and got_shape != tuple(shape)) or (dtype is not None and got_dtype != np.dtype(dtype)):
            want = f"{'' if dtype is None else np.dtype(dtype)} {'' if shape is None else tuple(shape)}".strip()
            raise ValueError(f"{path} is corrupt: it holds {got_dtype} values of shape {got_shape}, not {want}")
        left = int(np.prod(got_shape)) if finite else 0
        step = max(1, chunk_bytes // got_dtype.itemsize)
        while left:
            chunk = np.fromfile(f, dtype=got_dtype, count=min(step, left))
            if got_dtype.kind not in "biuf" or not np.isfinite(chunk).all():
                raise ValueError(f"{path} holds NaN, infinite or non-numeric values")
            left -= len(chunk)


def map_npy(path: Path) -> np.ndarray:
    """A read-only view of an ``.npy`` file's array, memory-mapped, the kernel told to expect random access.

    An index reads scattered rows (each query's shortlist); the readahead a sequential reader would want
    brings in pages nobody asked for, and they count against the process's memory. ValueError for a file
    that is not a plain numeric ``.npy`` or was not completely written.
    """
    with open(path, "rb") as f:
        shape, dtype = _npy_header(f, path)
        count, offset = int(np.prod(shape)), f.tell()
        if count == 0:
            return np.zeros(shape, dtype=dtype)
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mmap, "MADV_RANDOM"):  # not on Windows
        mapped.madvise(mmap.MADV_RANDOM)
    return np.ndarray(shape, dtype=dtype, buffer=mapped, offset=offset)


class RowReader:
    """Rows of a 2-D ``.npy`` file read with ``pread`` as they are asked for: the shortlists an index re-scores.

    Reading them through a memory map would count far more than the rows in the process's RSS: on each page
    fault the kernel also maps the neighbouring pages the page cache already holds (fault-around, 64 kB,
    which MADV_RANDOM does not turn off), and a loaded index's file is all in the page cache after its values
    were checked. Rows read here are copies; the file's pages stay the page cache's, which the kernel can drop.
    """

    def __init__(self, path: Path) -> None:
        """Open ``path``; ValueError for a file that is not a complete 2-D numeric ``.npy``."""
        with open(path, "rb") as f:
            shape, self.dtype = _npy_header(f, path)
            self._offset = f.tell()
        if len(shape) != 2:
            raise ValueError(f"{path}: not a 2-D array")
        self.shape = shape
        self._row_bytes = shape[1] * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    @classmethod
    def open(cls, path: Path) -> RowReader | None:
        """A reader for ``path``, or None where the system has no ``pread`` (Windows: a memory map does)."""
        return cls(path) if hasattr(os, "pread") else None

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """The rows at ``positions`` (in that order), as a new array."""
        out = np.empty((len(positions), self.shape[1]), dtype=self.dtype)
        for i, p in enumerate(positions):
            data = os.pread(self._fd, self._row_bytes, self._offset + int(p) * self._row_bytes)
            if len(data) != self._row_bytes:  # the file was cut short after it was opened
                raise ValueError(f"row {int(p)} of {self.shape[0]} could not be read")
            out[i] = np.frombuffer(data, dtype=self.dtype)
        return out


def read_index_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an index file, read without pickle and checked for shape."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {name: z[name] for name in z.files}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path} is not a readable index file: {e}") from e
    missing = {"format", "kind", "ids", "dim"} - data.keys()
    if missing:
        raise ValueError(f"{path} is not an index file (missing {sorted(missing)})")
    version = int(data["format"])
    if version > FORMAT_VERSION:
        raise ValueError(f"{path} uses index format {version}; this genrec reads up to {FORMAT_VERSION}")
    ids = data["ids"]
    if ids.ndim != 1 or ids.dtype.kind != "U":
        raise ValueError(f"{path} is corrupt: ids are stored as {ids.dtype} {ids.shape}, not text")
    return data


def index_arrays(ids: list[str], dim: int | None, kind: str) -> dict[str, np.ndarray]:
    """The header every index file starts with: format, kind, dimension and ids."""
    return {
        "format": np.array(FORMAT_VERSION),
        "kind": np.array(kind),
        "dim": np.array(-1 if dim is None else dim),
        # dtype=str gives a fixed-width unicode array, loadable without pickle.
        "ids": np.array(ids, dtype=str) if ids else np.zeros(0, dtype="<U1"),
    }


def loaded_dim(data: dict[str, np.ndarray]) -> int | None:
    """The dimension recorded by :func:`index_arrays` (None for an index never added to)."""
    dim = int(data["dim"])
    return None if dim < 0 else dim


#: Rows read at a time by :func:`check_track_arrays`: a few MB, whatever the catalogue's size.
CHECK_ROWS = 16384


def _npy_rows(zf: zipfile.ZipFile, key: str, rows: int = CHECK_ROWS) -> Iterator[np.ndarray]:
    """The array ``key`` of an open ``.npz``, ``rows`` rows at a time (C order, no pickle)."""
    with zf.open(f"{key}.npy") as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read_header(f)
        if fortran_order or dtype.hasobject or not shape:
            raise ValueError(f"'{key}' is not a plain C-ordered array of numbers or text")
        row_bytes = dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64))
        left = shape[0]
        while left:
            take = min(rows, left)
            data = f.read(take * row_bytes)
            if len(data) != take * row_bytes:
                raise ValueError(f"'{key}' is shorter than its header says")
            yield np.frombuffer(data, dtype=dtype).reshape((take, *shape[1:]))
            left -= take


def check_track_arrays(path: Path, tracks: pd.DataFrame, error: type[GenrecError], fix: str) -> None:
    """The checks of :func:`load_track_arrays`, made a slice at a time and keeping nothing, so that opening a
    catalogue of a million tracks checks every value without holding its vectors (a gigabyte) in memory."""
    folder = path.parent
    ids = tracks["track_id"]  # compared a slice at a time too: a million Python strings are 100 MB
    try:
        with zipfile.ZipFile(path) as zf:
            start = 0
            for chunk in _npy_rows(zf, "track_id"):
                if chunk.tolist() != ids.iloc[start : start + len(chunk)].tolist():
                    raise error(f"{folder}: {path.name} and tracks.csv disagree. {fix}")
                start += len(chunk)
            if start != len(ids):
                raise error(f"{folder}: {path.name} and tracks.csv disagree. {fix}")
            for key in ("embeddings", "probabilities"):
                for chunk in _npy_rows(zf, key):
                    if chunk.dtype.kind not in "biuf" or not np.isfinite(chunk).all():
                        raise error(f"{path}: '{key}' holds NaN, infinite or non-numeric values. {fix}")
    except GenrecError:
        raise
    except Exception as exc:  # zip, npy-header and missing-member errors all mean the file is unusable
        raise error(f"{path}: unreadable ({exc}). {fix}") from exc


def load_track_arrays(path: Path, tracks: pd.DataFrame, error: type[GenrecError], fix: str) -> dict[str, np.ndarray]:
    """``track_id``, ``embeddings`` and ``probabilities`` of a run's or catalogue's embeddings file ``path``.

    ``error`` (with ``fix``, what to do, at the end of its message) when the file is unreadable, its ids
    are not ``tracks``' ``track_id`` column in order, or a vector holds anything but finite numbers (which
    every search would refuse). No pickle is read.
    """
    folder = path.parent
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in ("track_id", "embeddings", "probabilities")}
    except Exception as exc:  # zip, npy-header and missing-key errors all mean the file is unusable
        raise error(f"{path}: unreadable ({exc}). {fix}") from exc
    if arrays["track_id"].tolist() != tracks["track_id"].tolist():
        raise error(f"{folder}: {path.name} and tracks.csv disagree. {fix}")
    for key in ("embeddings", "probabilities"):
        if arrays[key].dtype.kind not in "biuf" or not np.isfinite(arrays[key]).all():
            raise error(f"{path}: '{key}' holds NaN, infinite or non-numeric values. {fix}")
    return arrays
