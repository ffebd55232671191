"""Approximate search at catalogue scale: exact search, hnswlib and maintained libraries, on the same vectors.

    python -m benchmarks.ann                                        # 100k and 1M vectors, the whole sweep
    python -m benchmarks.ann --vectors 100000 --json /tmp/ann.json  # a few minutes
    python -m benchmarks.ann --vectors 100000 --candidates genrec exact

Vectors are 256-d and embedding-like (rank 32 plus noise, as ``benchmarks.retrieval_bench`` makes them),
L2-normalised; the queries are held out (drawn from the same distribution, not in the index). Every
candidate is measured on the same vectors and queries against exact search's top 5 (genrec's
``ExactIndex``): recall@5, p50 and p99 latency of one query, batch throughput (all queries in one call),
build time, the index's size on disk, and the RSS of a fresh process after loading the saved index (where
the library can, memory-mapped) and after all the queries. Build and search run in child processes, so one
candidate's memory never counts against another's.

Each candidate sweeps its search knob (``ef`` of HNSW, ``nprobe`` of IVF) and, where it stores compressed
vectors, ``rerank``: the size of the shortlist re-scored with the float32 vectors (memory-mapped from disk;
0: no re-scoring). Build knobs beyond the first setting (``M``, IVF-PQ's code size) are measured only up to
``--extra-max`` vectors, to keep a 1M run affordable on two cores. ``genrec`` is genrec's own
:class:`genrec.search.index.AnnIndex` (the ``ann`` extra) with its default build; its default search setting is
marked ``*`` and its figures go into ``--json`` under ``default``.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import report, workspace
from benchmarks.measure import rss_mb, rss_split
from benchmarks.retrieval_bench import LATENT_DIM, make_vectors

DIM = 256  # the `embedding` layer's width
K = 5

#: candidate -> (module it needs, build settings, search sweep, measured at every size). A candidate measured
#: at every size gets its first build setting there and the others only up to --extra-max vectors; the rest
#: (usearch, a third maintained library, int8 storage) only up to --extra-max.
CANDIDATES: dict[str, tuple[str | None, list[dict], dict[str, list], bool]] = {
    "exact": (None, [{}], {}, True),
    "genrec": ("faiss", [{}], {"ef": [32, 64, 128, 192, 256, 384], "rerank": [20]}, True),
    "hnswlib": ("hnswlib", [{"M": 16, "ef_construction": 200}], {"ef": [64, 128, 256, 512]}, True),
    "voyager-e4m3": ("voyager", [{"M": 16, "ef_construction": 100}], {"ef": [64, 128, 256], "rerank": [0, 20]}, True),
    "faiss-ivf-sq8": ("faiss", [{"code": "SQ8"}], {"nprobe": [16, 64, 256], "rerank": [0, 20]}, True),
    "faiss-ivf-pq": (
        "faiss",
        [{"code": "PQ32"}, {"code": "PQ64"}],
        {"nprobe": [16, 64, 256], "rerank": [0, 50]},
        True,
    ),
    # M 16 with ef_construction 100 is genrec's own build (its row); M 32 is the bigger, slower-built graph.
    "faiss-hnsw-sq8": (
        "faiss",
        [{"M": 32, "ef_construction": 100}, {"M": 16, "ef_construction": 100}],
        {"ef": [64, 128, 256], "rerank": [0, 20]},
        True,
    ),
    "usearch-i8": (
        "usearch",
        [{"M": 16, "expansion_add": 128}, {"M": 32, "expansion_add": 128}],
        {"ef": [64, 128, 256], "rerank": [0, 20]},
        False,
    ),
}
DISTRIBUTIONS = {"faiss": "faiss-cpu", "hnswlib": "hnswlib", "voyager": "voyager", "usearch": "usearch"}


def version(module: str | None) -> str:
    """The installed version of the distribution behind ``module`` ("" for none)."""
    import importlib.metadata as md

    if module is None:
        return ""
    try:
        return md.version(DISTRIBUTIONS[module])
    except md.PackageNotFoundError:
        return "?"


# ----------------------------------------------------------------------------- the vectors


def make_data(n: int, queries: int, seed: int, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Unit base vectors and held-out unit queries, saved as ``base.npy`` / ``queries.npy`` in ``folder``."""
    from genrec.search.index import l2_normalize

    rng = np.random.default_rng([seed, n])
    basis = rng.standard_normal((LATENT_DIM, DIM), dtype=np.float32)
    base = l2_normalize(make_vectors(rng, n, DIM, "embedding", basis))
    qs = l2_normalize(make_vectors(rng, queries, DIM, "embedding", basis))
    np.save(folder / "base.npy", base)
    np.save(folder / "queries.npy", qs)
    return base, qs


def exact_truth(base: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Positions of each query's exact top 5, as genrec's ExactIndex answers (ties by position)."""
    from genrec.search.index import ExactIndex

    exact = ExactIndex.build([str(i) for i in range(len(base))], base)
    return np.array([[int(i) for i, _ in row] for row in exact.query_many(qs, k=K)])


# ----------------------------------------------------------------------------- the candidates


def _faiss_threads() -> None:
    import faiss

    from genrec.utils.machine import cpu_threads

    faiss.omp_set_num_threads(cpu_threads())


def _rescore(vectors: np.ndarray, q: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` of ``labels`` (a shortlist) with the highest float32 cosine, ties by position."""
    labels = np.sort(labels[labels >= 0])
    sims = np.asarray(vectors[labels]) @ q
    return labels[np.argsort(-sims, kind="stable")[:k]]


class Candidate:
    """One library behind one interface: build and save, load, set a search point, query."""

    def __init__(self, name: str, build: dict, folder: Path) -> None:
        self.name, self.settings, self.folder = name, build, folder
        self.vectors: np.ndarray | None = None  # the float32 vectors for re-scoring, memory-mapped
        self.rerank = 0

    def build_and_save(self, base: np.ndarray) -> None:
        raise NotImplementedError

    def load(self) -> None:
        raise NotImplementedError

    def set_search(self, point: dict) -> None:
        self.rerank = int(point.get("rerank", 0))

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        """Positions of the top ``k`` for one unit query."""
        if self.rerank:
            return _rescore(self.vectors, q, self._knn(q, max(k, self.rerank)), k)
        return self._knn(q, k)

    def search_many(self, qs: np.ndarray, k: int) -> None:
        """Answer every query in one call (for throughput; answers are not kept)."""
        if self.rerank:
            for q, labels in zip(qs, self._knn_many(qs, max(k, self.rerank))):
                _rescore(self.vectors, q, labels, k)
        else:
            self._knn_many(qs, k)

    def _knn(self, q: np.ndarray, k: int) -> np.ndarray:
        return self._knn_many(q[None, :], k)[0]

    def _knn_many(self, qs: np.ndarray, k: int) -> np.ndarray:
        raise NotImplementedError

    def map_vectors(self) -> None:
        from genrec.search.vectors import map_npy

        self.vectors = map_npy(self.folder.parent / "base.npy")  # as genrec maps them: no readahead


class Exact(Candidate):
    """genrec's ExactIndex over the float32 vectors, as catalogues up to the exact-search limit use it."""

    def build_and_save(self, base: np.ndarray) -> None:
        from genrec.search.index import ExactIndex

        ExactIndex.build([str(i) for i in range(len(base))], base)  # normalising and checking is its build
        np.save(self.folder / "vectors.npy", base)

    def load(self) -> None:
        from genrec.search.index import ExactIndex

        base = np.load(self.folder / "vectors.npy")
        self.index = ExactIndex.build([str(i) for i in range(len(base))], base)

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        return np.array([int(i) for i, _ in self.index.query(q, k=k)])

    def search_many(self, qs: np.ndarray, k: int) -> None:
        self.index.query_many(qs, k=k)


class Genrec(Candidate):
    """genrec's AnnIndex: what catalogues above the exact-search limit use, string ids and all."""

    def build_and_save(self, base: np.ndarray) -> None:
        from genrec.search.index import AnnIndex

        AnnIndex.build([str(i) for i in range(len(base))], base, **self.settings).save(self.folder / "index")

    def load(self) -> None:
        from genrec.search.index import AnnIndex

        self.index = AnnIndex.load(self.folder / "index")

    def set_search(self, point: dict) -> None:
        self.index.ef, self.index.rerank = int(point["ef"]), int(point["rerank"])

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        return np.array([int(i) for i, _ in self.index.query(q, k=k)])

    def search_many(self, qs: np.ndarray, k: int) -> None:
        self.index.query_many(qs, k=k)


class Hnswlib(Candidate):
    """hnswlib as genrec used it (M 16, ef_construction 200): float32 vectors inside the graph."""

    def build_and_save(self, base: np.ndarray) -> None:
        import hnswlib

        index = hnswlib.Index(space="ip", dim=DIM)
        index.init_index(max_elements=len(base), M=self.settings["M"], ef_construction=self.settings["ef_construction"])
        index.add_items(base, np.arange(len(base)))
        index.save_index(str(self.folder / "hnsw.bin"))

    def load(self) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=DIM)
        self.index.load_index(str(self.folder / "hnsw.bin"))

    def set_search(self, point: dict) -> None:
        super().set_search(point)
        self.index.set_ef(int(point["ef"]))

    def _knn_many(self, qs: np.ndarray, k: int) -> np.ndarray:
        return self.index.knn_query(qs, k=k)[0].astype(np.int64)


class Faiss(Candidate):
    """faiss-cpu: HNSW over 8-bit scalar-quantised vectors, or IVF with SQ8 or PQ codes."""

    def factory(self, n: int) -> str:
        if self.name == "faiss-hnsw-sq8":
            return f"HNSW{self.settings['M']},SQ8"
        return f"IVF{ivf_lists(n)},{self.settings['code']}"

    def build_and_save(self, base: np.ndarray) -> None:
        import faiss

        _faiss_threads()
        index = faiss.index_factory(DIM, self.factory(len(base)), faiss.METRIC_INNER_PRODUCT)
        sample = base
        if self.name == "faiss-hnsw-sq8":
            index.hnsw.efConstruction = self.settings["ef_construction"]
        else:
            ivf = faiss.extract_index_ivf(index)
            ivf.cp.niter = 10  # 10 k-means rounds: the lists need to be balanced, not optimal
            rng = np.random.default_rng(0)
            sample = base[np.sort(rng.choice(len(base), min(len(base), 32 * ivf.nlist), replace=False))]
        index.train(sample)
        index.add(base)
        faiss.write_index(index, str(self.folder / "index.faiss"))

    def load(self) -> None:
        import faiss

        _faiss_threads()
        flag = faiss.IO_FLAG_MMAP_IFC if self.name == "faiss-hnsw-sq8" else faiss.IO_FLAG_MMAP
        self.index = faiss.read_index(str(self.folder / "index.faiss"), flag)
        self.map_vectors()

    def set_search(self, point: dict) -> None:
        import faiss

        super().set_search(point)
        if "ef" in point:
            self.index.hnsw.efSearch = int(point["ef"])
        else:
            faiss.extract_index_ivf(self.index).nprobe = int(point["nprobe"])

    def _knn(self, q: np.ndarray, k: int) -> np.ndarray:
        import faiss

        # One query on one thread, as the other libraries answer it: waking an OpenMP team costs more than
        # the search itself.
        faiss.omp_set_num_threads(1)
        try:
            return self.index.search(np.ascontiguousarray(q[None, :], dtype=np.float32), k)[1][0]
        finally:
            _faiss_threads()

    def _knn_many(self, qs: np.ndarray, k: int) -> np.ndarray:
        return self.index.search(np.ascontiguousarray(qs, dtype=np.float32), k)[1]


class Voyager(Candidate):
    """Spotify's Voyager (hnswlib's descendant) storing vectors as E4M3 floats (one byte a component)."""

    def build_and_save(self, base: np.ndarray) -> None:
        import voyager

        from genrec.utils.machine import cpu_threads

        index = voyager.Index(
            voyager.Space.InnerProduct,
            num_dimensions=DIM,
            M=self.settings["M"],
            ef_construction=self.settings["ef_construction"],
            storage_data_type=voyager.StorageDataType.E4M3,
        )
        index.add_items(base, num_threads=cpu_threads())
        index.save(str(self.folder / "index.voy"))

    def load(self) -> None:
        import voyager

        self.index = voyager.Index.load(str(self.folder / "index.voy"))
        self.map_vectors()

    def set_search(self, point: dict) -> None:
        super().set_search(point)
        self.ef = int(point["ef"])

    def _knn(self, q: np.ndarray, k: int) -> np.ndarray:
        return self.index.query(q, k, query_ef=self.ef)[0].astype(np.int64)

    def _knn_many(self, qs: np.ndarray, k: int) -> np.ndarray:
        from genrec.utils.machine import cpu_threads

        return self.index.query(qs, k, num_threads=cpu_threads(), query_ef=self.ef)[0].astype(np.int64)


class Usearch(Candidate):
    """usearch storing int8 vectors, opened as a memory-mapped view."""

    def build_and_save(self, base: np.ndarray) -> None:
        from usearch.index import Index

        from genrec.utils.machine import cpu_threads

        index = Index(
            ndim=DIM,
            metric="ip",
            dtype="i8",
            connectivity=self.settings["M"],
            expansion_add=self.settings["expansion_add"],
        )
        index.add(np.arange(len(base)), base, threads=cpu_threads())
        index.save(str(self.folder / "index.usearch"))

    def load(self) -> None:
        from usearch.index import Index

        self.index = Index.restore(str(self.folder / "index.usearch"), view=True)
        self.map_vectors()

    def set_search(self, point: dict) -> None:
        super().set_search(point)
        self.index.expansion_search = int(point["ef"])

    def _knn(self, q: np.ndarray, k: int) -> np.ndarray:
        return np.asarray(self.index.search(q, k, threads=1).keys, dtype=np.int64)

    def _knn_many(self, qs: np.ndarray, k: int) -> np.ndarray:
        from genrec.utils.machine import cpu_threads

        return np.asarray(self.index.search(qs, k, threads=cpu_threads()).keys, dtype=np.int64)


ADAPTERS: dict[str, type[Candidate]] = {
    "exact": Exact,
    "genrec": Genrec,
    "hnswlib": Hnswlib,
    "faiss-hnsw-sq8": Faiss,
    "faiss-ivf-sq8": Faiss,
    "faiss-ivf-pq": Faiss,
    "voyager-e4m3": Voyager,
    "usearch-i8": Usearch,
}


def ivf_lists(n: int) -> int:
    """IVF list count: the power of two nearest 4·√n (1024 at 100k, 4096 at 1M), the usual rule of thumb."""
    return int(2 ** round(np.log2(4 * np.sqrt(n))))


def search_points(sweep: dict[str, list]) -> list[dict]:
    """Every combination of the search knobs' values ([{}] when there are none)."""
    keys = list(sweep)
    return [dict(zip(keys, values)) for values in itertools.product(*(sweep[k] for k in keys))]


def genrec_default() -> dict:
    """The search point genrec uses by default, in the sweep's terms."""
    from genrec.search.index import ANN_DEFAULTS

    return {"ef": ANN_DEFAULTS["ef"], "rerank": ANN_DEFAULTS["rerank"]}


def genrec_sweep(sweep: dict[str, list]) -> dict[str, list]:
    """``sweep`` with genrec's default search point in it."""
    return {k: sorted({*values, genrec_default()[k]}) for k, values in sweep.items()}


# ----------------------------------------------------------------------------- child processes


def child_build(spec: dict) -> dict:
    """Build a candidate from ``base.npy`` and save it into its folder: build seconds and size on disk."""
    folder = Path(spec["folder"])
    folder.mkdir(parents=True, exist_ok=True)
    base = np.load(folder.parent / "base.npy")
    cand = ADAPTERS[spec["name"]](spec["name"], spec["build"], folder)
    t = time.perf_counter()
    cand.build_and_save(base)
    seconds = time.perf_counter() - t
    disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {"build_s": seconds, "disk_mb": disk / 2**20}


def child_serve(spec: dict) -> dict:
    """Load a saved candidate in this fresh process and measure every search point."""
    folder = Path(spec["folder"])
    qs = np.load(folder.parent / "queries.npy")
    truth = np.load(folder.parent / "truth.npy")
    cand = ADAPTERS[spec["name"]](spec["name"], spec["build"], folder)
    # Import the library before the baseline, so the RSS below is the index's, not the library's code.
    module = CANDIDATES[spec["name"]][0]
    if module:
        __import__(module)
    import genrec.search.index  # noqa: F401

    before, split0 = rss_mb(), rss_split()
    t = time.perf_counter()
    cand.load()
    load_s = time.perf_counter() - t
    loaded, split1 = rss_mb(), rss_split()
    points = []
    for point in spec["points"]:
        cand.set_search(point)
        for q in qs[:20]:  # warm-up
            cand.search(q, K)
        times, got = [], []
        for q in qs:
            t = time.perf_counter()
            got.append(cand.search(q, K))
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        cand.search_many(qs, K)
        batch_s = time.perf_counter() - t
        recall = float(np.mean([len(set(g.tolist()) & set(t_.tolist())) / K for g, t_ in zip(got, truth)]))
        ms = np.array(times) * 1000
        points.append(
            {
                **point,
                "recall_at_5": recall,
                "p50_ms": float(np.percentile(ms, 50)),
                "p99_ms": float(np.percentile(ms, 99)),
                "batch_qps": len(qs) / batch_s,
            }
        )
    after, split2 = rss_mb(), rss_split()
    return {
        "load_s": load_s,
        "rss_base_mb": before,
        "rss_mb": loaded,
        "rss_load_mb": loaded - before,
        "rss_after_mb": after - before,
        # Anonymous memory is the process's own; file-backed pages (memory-mapped index files) are the page
        # cache's, which the kernel drops and reads again under memory pressure.
        "anon_load_mb": split1.get("anon_mb", 0.0) - split0.get("anon_mb", 0.0),
        "anon_after_mb": split2.get("anon_mb", 0.0) - split0.get("anon_mb", 0.0),
        "file_after_mb": split2.get("file_mb", 0.0) - split0.get("file_mb", 0.0),
        "points": points,
    }


def child_env() -> dict[str, str]:
    """The children's environment: OpenMP threads that sleep when idle (see the note printed at the start)."""
    # faiss's OpenMP threads spin while they wait by default; on a machine shared with other jobs a spinning
    # thread burns the CPU its partner needs, and one IVF-PQ build of 5000 vectors took 270 s here.
    return {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}


def run_child(mode: str, spec: dict, work: Path) -> dict:
    """Run ``child_<mode>`` in a fresh interpreter; its result comes back through a JSON file."""
    spec_file, out_file = work / f"spec-{mode}.json", work / f"out-{mode}.json"
    spec_file.write_text(json.dumps(spec))
    out_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "benchmarks.ann", "--_child", mode, str(spec_file), str(out_file)]
    proc = subprocess.run(cmd, cwd=workspace.PROJECT, capture_output=True, text=True, env=child_env())
    if proc.returncode != 0 or not out_file.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{spec['name']} {mode} failed (exit {proc.returncode}): {' | '.join(tail)}")
    return json.loads(out_file.read_text())


# ----------------------------------------------------------------------------- the app with a big catalogue


def train_small_run(folder: Path) -> Path:
    """A 1-epoch VGG16 run at 64 px on generated clips: the app needs a run; its model size does not matter here
    (answers for library tracks use stored embeddings, no model)."""
    from genrec.training.trainer import TrainConfig, train

    cfg = TrainConfig(
        arch="vgg16", library=str(folder), epochs=1, weights="none", input_size=64, out=os.environ["GENREC_RUNS"]
    )
    return Path(train(cfg))


def kept_index(folder: Path, ids: list[str]) -> tuple[np.ndarray, Any]:
    """The vectors and genrec index a ``--keep-index`` run left in ``folder``, the index's ids made ``ids``.

    Building a million-vector graph takes a quarter of an hour on two cores; the app measurement needs one, but
    not a second one, so it can reuse the one the search measurement built over the same kind of vectors.
    """
    from genrec.search.index import AnnIndex
    from genrec.search.vectors import IdTable

    vectors = np.load(folder / "base.npy", mmap_mode="r")
    index = AnnIndex.load(folder / "index")
    if len(index) != len(ids) or index.dim != vectors.shape[1]:
        raise SystemExit(f"{folder} holds {len(index)} {index.dim}-d vectors, not the {len(ids)} asked for")
    # The kept index's ids are positions ("0", "1", ...); the catalogue's are its track ids, in the same order.
    index._ids = IdTable()
    index._ids.extend(ids)
    return vectors, index


def make_catalogue(run_path: Path, n: int, seed: int, reuse: Path | None = None) -> Path:
    """Catalogue ``big`` of ``n`` synthetic tracks (embedding-like vectors, tags, no audio files) in the run;
    its vectors and index are those kept in ``reuse`` (:func:`kept_index`) when given."""
    import pandas as pd

    from genrec.catalogue.store import Catalogue, catalogues_dir, write_catalogue
    from genrec.config import GENRES
    from genrec.runs.reader import Run
    from genrec.search.index import AnnIndex, choose_kind, l2_normalize

    run = Run.open(run_path)
    dim = int(run.arrays["embeddings"].shape[1])
    if not reuse:
        rng = np.random.default_rng([seed, n, dim])
        basis = rng.standard_normal((LATENT_DIM, dim), dtype=np.float32)
        vectors = l2_normalize(make_vectors(rng, n, dim, "embedding", basis))
    artists = np.array([f"Artist {a:05d}" for a in range(max(1, n // 50))])
    idx = np.arange(n)
    tracks = pd.DataFrame(
        {
            "track_id": [f"{artists[i % len(artists)]}/Album {i % 7}/{i:07d} Track.flac" for i in idx],
            "title": [f"Track {i}" for i in idx],
            "artist": artists[idx % len(artists)],
            "genre": np.array(GENRES)[idx % len(GENRES)],
            "predicted_genre": np.array(GENRES)[(idx // 3) % len(GENRES)],
            "confidence": 0.5,
            "digest": [f"{i:040x}" for i in idx],
        }
    )
    probabilities = np.full((n, len(GENRES)), 1 / len(GENRES), np.float32)
    t = time.perf_counter()
    if reuse:
        vectors, index = kept_index(reuse, tracks["track_id"].tolist())
    else:
        index = AnnIndex()
        index.add(tracks["track_id"].tolist(), vectors)
    build_s = time.perf_counter() - t
    kind, reason = choose_kind(n)
    record = {"kind": kind, "requested": "auto", "reason": reason, **index.describe()}
    manifest = {"name": "big", "run_id": run.id, "root": str(run_path.parent / "no-audio"), "n_tracks": n}
    manifest |= {"n_skipped": 0, "index": record, "engine": {"name": "synthetic"}, "seconds": build_s}
    path = write_catalogue(catalogues_dir(run.path) / "big", manifest, tracks, probabilities, vectors, [], index)
    t = time.perf_counter()
    Catalogue.open(path)  # fails here, with the reason, rather than as a catalogue the app leaves out
    print(f"catalogue big opened (every check, every vector read) in {time.perf_counter() - t:.1f} s", flush=True)
    print(
        f"catalogue big: {n} synthetic tracks x {dim}, index {'reused' if reuse else 'built'} in {build_s:.0f} s, "
        f"measured recall@5 {record['recall_at_5']:.3f}",
        flush=True,
    )
    return path


def child_app(spec: dict) -> dict:
    """The app under AppTest in this fresh process: the Library map, the catalogue selected, one track's answer."""
    import gc

    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    from benchmarks.measure import peak_rss_mb

    stages: list[dict] = []
    t = time.perf_counter()

    def mark(step: str) -> None:
        nonlocal t
        gc.collect()
        stages.append(
            {"step": step, "seconds": time.perf_counter() - t, "rss_mb": rss_mb(), "peak_mb": peak_rss_mb()}
            | rss_split()
        )
        print(f"  {step}: {stages[-1]['rss_mb']:.0f} MB RSS ({stages[-1]['seconds']:.1f} s)", flush=True)
        t = time.perf_counter()

    def check(at) -> None:
        if at.exception:
            raise RuntimeError("; ".join(e.value for e in at.exception))

    mark("python, before the app")
    at = AppTest.from_file(str(workspace.PROJECT / "app.py"), default_timeout=spec["timeout"])
    at.run()
    check(at)
    mark("first render")
    # app.py registers its pages as functions (st.Page); AppTest.switch_page resolves only page files, and
    # Streamlit keys a function page by the hash of its url_path (what tests/helpers/app.open_page does)
    at._page_hash = calc_hash("library_map")
    at.run()
    check(at)
    mark("Library map page")
    at.selectbox(key="map_source").set_value("big").run()
    check(at)
    mark("catalogue big selected")
    at.selectbox(key="map_track").set_value(spec["track"]).run()
    check(at)
    shown = [m.value for m in at.markdown if "similarity **" in m.value]
    mark(f"a library track's {len(shown)} recommendations from it")
    return {"stages": stages, "shown": shown}


def child_catalogue(spec: dict) -> dict:
    """The catalogue's own cost in this fresh process, step by step: opening it (every check), its index, the
    first answers from it (what the app's first answer does, without Streamlit); the graph file's resident part."""
    import gc

    import faiss  # noqa: F401 - imported before the first step, as the app has it by then
    import pandas  # noqa: F401 - likewise

    from genrec.catalogue import Catalogue
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender

    run = Run.open(Path(spec["run"]))
    tracks = run.tracks["track_id"].tolist()
    stages: list[dict] = []

    def step(name: str, work: Callable[[], Any]) -> Any:
        before, t = {"rss_mb": rss_mb(), **rss_split()}, time.perf_counter()
        result = work()
        seconds = time.perf_counter() - t
        gc.collect()
        now = {"rss_mb": rss_mb(), **rss_split()}
        stages.append({"step": name, "seconds": seconds, **{f"+{k}": now[k] - before[k] for k in now}})
        return result

    cat = step("Catalogue.open (every check)", lambda: Catalogue.open(Path(spec["catalogue"])))
    step(".index (memory-mapped graph, ids as Arrow)", lambda: cat.index)
    rec = Recommender(run, catalogue=cat)
    step("first answer (5 tracks, their files checked)", lambda: rec.for_track(tracks[0]))
    step("second answer", lambda: rec.for_track(tracks[1]))
    graph = str(Path(spec["catalogue"]) / "ann" / "graph.faiss")
    return {"stages": stages, "graph_resident_mb": _mapped_mb(graph)}


def _mapped_mb(file: str) -> float:
    """How much of ``file`` this process has resident through its memory maps (/proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and ":" not in head[0]:
            inside = len(head) == 6 and head[5] == file
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total / 1024


def measure_app(n: int, args, out: dict) -> None:
    """RSS of the Streamlit app (AppTest, a fresh process) with an ``n``-track catalogue selected."""
    from genrec.runs.reader import Run

    run_path = Path(args.run) if args.run else train_small_run(workspace.generated_library(3, 30.0))
    catalogue = make_catalogue(run_path, n, args.seed, Path(args.app_index) if args.app_index else None)
    track = str(Run.open(run_path).tracks["track_id"].iloc[0])
    with tempfile.TemporaryDirectory() as tmp:
        env_runs = os.environ["GENREC_RUNS"]
        os.environ["GENREC_RUNS"] = str(run_path.parent)
        try:
            spec = {"name": "catalogue", "run": str(run_path), "catalogue": str(catalogue)}
            split = run_child("catalogue", spec, Path(tmp))
            result = run_child("app", {"name": "app", "timeout": args.app_timeout, "track": track}, Path(tmp))
        finally:
            os.environ["GENREC_RUNS"] = env_runs
    out["app"] = {"n": n, "catalogue": str(catalogue), **result, "catalogue_split": split}
    print(f"\nthe {n}-track catalogue's own cost, step by step (a fresh process, no Streamlit; growth of each step):")
    print(report.table(split["stages"], ["step", "seconds", "+rss_mb", "+anon_mb", "+file_mb"], "{:.1f}"))
    print(f"resident part of the memory-mapped graph file after these answers: {split['graph_resident_mb']:.0f} MB")
    print(f"\nthe app (AppTest, fresh process) with the {n}-track catalogue selected on the Library map:")
    print(report.table(result["stages"], ["step", "seconds", "rss_mb", "anon_mb", "file_mb", "peak_mb"], "{:.1f}"))


# ----------------------------------------------------------------------------- the run


def keep_index(work: Path, folder: Path, keep: Path, built: dict) -> None:
    """Hard-link the vectors and genrec's saved index into ``keep`` with its build figures (for ``--app-index`` and
    a later run's reuse), replacing what is there."""
    shutil.rmtree(keep, ignore_errors=True)
    keep.mkdir(parents=True)
    os.link(work / "base.npy", keep / "base.npy")
    shutil.copytree(folder / "index", keep / "index", copy_function=os.link)
    (keep / "built.json").write_text(json.dumps(built))


def kept_build(work: Path, folder: Path, keep: Path) -> dict | None:
    """The build figures of the index kept in ``keep``, linked into ``folder`` as if just built, when it was built
    over the very vectors of ``work``; else None."""
    if not (keep / "built.json").is_file() or not (keep / "index").is_dir():
        return None
    if not np.array_equal(np.load(keep / "base.npy", mmap_mode="r"), np.load(work / "base.npy", mmap_mode="r")):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(keep / "index", folder / "index", copy_function=os.link)
    return {**json.loads((keep / "built.json").read_text()), "reused": str(keep)}


def settings_text(d: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in d.items())


def measure_size(n: int, args, out: dict, save: Callable[[], None], started: float) -> None:
    """Every candidate at ``n`` vectors: one row per (build, search point) in ``out['sizes'][n]``."""
    with tempfile.TemporaryDirectory(prefix=f"ann-{n}-", dir=args.workdir) as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        base, qs = make_data(n, args.queries, args.seed, work)
        truth = exact_truth(base, qs)
        np.save(work / "truth.npy", truth)
        del base
        size = {"n": n, "dim": DIM, "queries": args.queries, "truth_s": time.perf_counter() - t, "rows": []}
        out["sizes"][str(n)] = size
        print(f"\n{n} vectors x {DIM}: data and exact top {K} of {args.queries} queries in {size['truth_s']:.0f} s")
        default = genrec_default() if "genrec" in args.candidates else None
        for name in args.candidates:
            module, builds, sweep, every_size = CANDIDATES[name]
            if name == "genrec":
                sweep = genrec_sweep(sweep)
            for b, build in enumerate(builds):
                if (b or not every_size) and n > args.extra_max:
                    continue
                if time.perf_counter() - started > args.budget_s:
                    print(f"  {name} {settings_text(build)}: skipped, past --budget-s", flush=True)
                    continue
                if name == "genrec":
                    from genrec.search.index import ANN_DEFAULTS

                    build = {k: v for k, v in ANN_DEFAULTS.items() if k not in ("ef", "rerank")}
                folder = work / f"{name}-{b}"
                spec = {"name": name, "build": build, "folder": str(folder), "points": search_points(sweep)}
                try:
                    keep = Path(args.keep_index) / str(n) if name == "genrec" and args.keep_index else None
                    built = kept_build(work, folder, keep) if keep else None
                    if built:
                        print(f"  {name}: the index kept in {keep} (its build figures from then)", flush=True)
                    else:
                        built = run_child("build", spec, work)
                        if keep:
                            keep_index(work, folder, keep, built)
                    served = run_child("serve", spec, work)
                except RuntimeError as exc:
                    print(f"  {exc}", flush=True)
                    continue
                for point in served["points"]:
                    knobs = {k: point[k] for k in sweep}
                    row = {
                        "candidate": name,
                        "library": f"{DISTRIBUTIONS[module]} {version(module)}" if module else "numpy",
                        "build": settings_text(build),
                        "search": settings_text(knobs),
                        "default": name == "genrec" and knobs == default,
                        **{k: point[k] for k in ("recall_at_5", "p50_ms", "p99_ms", "batch_qps")},
                        **built,
                        **{k: v for k, v in served.items() if k != "points"},
                    }
                    size["rows"].append(row)
                    if row["default"]:
                        out["default"] = {"n": n, **row}
                    mark = " *" if row["default"] else ""
                    print(
                        f"  {name:<15} {row['build']:<26} {row['search']:<18} recall@5 {row['recall_at_5']:.3f}  "
                        f"p50 {row['p50_ms']:.3f} ms  p99 {row['p99_ms']:.3f} ms  {row['batch_qps']:.0f} q/s  "
                        f"build {row['build_s']:.0f} s  disk {row['disk_mb']:.0f} MB  "
                        f"RSS +{row['rss_load_mb']:.0f} / +{row['rss_after_mb']:.0f} MB{mark}",
                        flush=True,
                    )
                save()
        print_table(size)


COLUMNS = [
    "candidate",
    "build",
    "search",
    "recall_at_5",
    "p50_ms",
    "p99_ms",
    "batch_qps",
    "build_s",
    "disk_mb",
    "rss_load_mb",
    "anon_load_mb",
    "rss_after_mb",
    "anon_after_mb",
]


def print_table(size: dict) -> None:
    rows = [{**r, "candidate": r["candidate"] + (" *" if r["default"] else "")} for r in size["rows"]]
    if rows:
        print(f"\n{size['n']} vectors x {size['dim']}, {size['queries']} held-out queries, k = {K}:")
        print(report.table(rows, COLUMNS, floatfmt="{:.3f}"))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--_child":
        mode, spec_file, out_file = sys.argv[2:5]
        spec = json.loads(Path(spec_file).read_text())
        children = {"build": child_build, "serve": child_serve, "app": child_app, "catalogue": child_catalogue}
        result = children[mode](spec)
        Path(out_file).write_text(json.dumps(result))
        return 0
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--vectors", type=int, nargs="*", default=[100_000, 1_000_000], help="index sizes (100k 1M; none: app only)"
    )
    p.add_argument("--queries", type=int, default=1000, help="held-out queries per size (1000)")
    p.add_argument(
        "--candidates", nargs="+", choices=list(CANDIDATES), default=list(CANDIDATES), help="what to measure (all)"
    )
    p.add_argument(
        "--extra-max", type=int, default=200_000, help="measure build settings beyond the first only up to this size"
    )
    p.add_argument("--budget-s", type=float, default=float("inf"), help="start no build after this many seconds")
    p.add_argument("--workdir", help="folder for the temporary indexes (default: the system's temp folder)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--app-tracks",
        type=int,
        default=0,
        help="also measure the app's RSS with a catalogue of this many synthetic tracks selected (0: not)",
    )
    p.add_argument("--run", help="the run the app measurement's catalogue belongs to (default: train a small one)")
    p.add_argument(
        "--keep-index",
        help="keep genrec's built index and its vectors in DIR/N (hard links); reuse one kept there (same vectors)",
    )
    p.add_argument(
        "--app-index",
        help="a DIR/N kept by --keep-index: the app measurement's catalogue reuses its vectors and index, unbuilt",
    )
    p.add_argument("--app-timeout", type=int, default=1800, help="seconds allowed for each app step (1800)")
    workspace.add_json_arg(p)
    args = p.parse_args()
    missing = [c for c in args.candidates if CANDIDATES[c][0] and importlib.util.find_spec(CANDIDATES[c][0]) is None]
    if missing:
        print(f"not installed, left out: {', '.join(missing)} (pip install faiss-cpu voyager usearch hnswlib)")
        args.candidates = [c for c in args.candidates if c not in missing]
    started = time.perf_counter()
    report.start("Approximate search at catalogue scale: recall@5, latency, build, disk and memory per library")
    print(
        "libraries: "
        + ", ".join(f"{DISTRIBUTIONS[m]} {version(m)}" for m in DISTRIBUTIONS if importlib.util.find_spec(m))
    )
    print(f"children run with OMP_WAIT_POLICY={child_env()['OMP_WAIT_POLICY']} (faiss's OpenMP threads)")
    out: dict[str, Any] = {"args": vars(args), "cpu_flags": report.cpu_flags(), "sizes": {}, "default": None}

    def save() -> None:
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=2, default=str))

    for n in args.vectors:
        measure_size(n, args, out, save, started)
    if args.app_tracks:
        measure_app(args.app_tracks, args, out)
        save()
    if out["default"]:
        d = out["default"]
        print(
            f"\ndefault (genrec, {d['build']} {d['search']}) at {d['n']} vectors: recall@5 {d['recall_at_5']:.3f}, "
            f"p50 {d['p50_ms']:.3f} ms, p99 {d['p99_ms']:.3f} ms, process RSS after loading {d['rss_mb']:.0f} MB "
            f"(the index {d['rss_load_mb']:.0f} MB; {d['rss_after_mb']:.0f} MB after the queries)"
        )
    print(
        "\nrecall_at_5: against exact search; p50/p99_ms: one query() call; batch_qps: all queries in one call; "
        "disk_mb: the saved index (float32 vectors for re-scoring, when rerank > 0, are another "
        f"{DIM * 4 / 1024:.0f} kB a vector on disk, memory-mapped); rss_load_mb / rss_after_mb: a fresh process's RSS "
        "growth on loading the index / after all the queries, memory-mapped pages it touched included; anon_*: "
        "the anonymous part of that growth (the rest is page cache, which the kernel can drop)."
    )
    report.dump_json(args.json, out)
    return 0


if __name__ == "__main__":
    report.run_script(main)
