"""Catalogue building speed per engine, and exact vs HNSW search at catalogue scale.

    python -m benchmarks.catalogue                          # 200 files, 100k and 1M vectors
    python -m benchmarks.catalogue --run RUN --files 200    # embed with an existing run
    python -m benchmarks.catalogue --skip-ann               # engines only

Engines: the same files are embedded with the local engine (1 and 2 worker
processes) and with Ray Data on a local Ray, each starting from an empty
embedding cache, side by side in one run; files/s excludes Ray's start-up,
which is printed apart. Search: 256-d vectors (the embedding size) near a
32-d subspace plus noise (CNN embeddings have low intrinsic dimension), recall@5
of HNSW against exact search on the same vectors, median single-query latency,
build time, and the index's memory (exact: its float32 matrix; HNSW: hnswlib's
saved graph, which is what it holds in memory, vectors included).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import report, workspace
from benchmarks.retrieval_bench import LATENT_DIM, make_vectors, recall_at_k

DIM = 256  # the `embedding` layer's width


def train_run(folder: Path, input_size: int) -> Path:
    from genrec.train import TrainConfig, train

    t = time.perf_counter()
    cfg = TrainConfig(
        arch="vgg16",
        library=str(folder),
        epochs=1,
        weights="none",
        input_size=input_size,
        out=os.environ["GENREC_RUNS"],
    )
    run = train(cfg)
    print(f"trained vgg16 run {run.name} ({input_size}px, 1 epoch) in {time.perf_counter() - t:.0f} s", flush=True)
    return run


def bench_engines(run_path: Path, folder: Path, n_files: int, ray_workers: int) -> list[dict]:
    from genrec.catalogue import build_catalogue
    from genrec.runs import Run

    run = Run.open(run_path)
    cache = run.path / "catalogues" / ".cache"
    rows = []
    configs = [("local", 1), ("local", 2), ("ray", ray_workers)]
    for engine, workers in configs:
        shutil.rmtree(cache, ignore_errors=True)  # every engine embeds every file
        extra = {}
        if engine == "ray":
            try:
                import ray
            except ImportError:
                print("Ray is not installed (pip install 'genrec[ray]'): no Ray row")
                continue
            t = time.perf_counter()
            ray.init(
                num_cpus=os.cpu_count(),
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}},
            )
            extra["startup_s"] = time.perf_counter() - t
        t = time.perf_counter()
        try:
            built = build_catalogue(run, folder, f"bench-{engine}-{workers}", engine=engine, workers=workers)
        finally:
            if engine == "ray":
                ray.shutdown()
        secs = time.perf_counter() - t
        rows.append(
            {
                "engine": engine,
                "workers": workers,
                "files": built.embedded,
                "seconds": secs,
                "files_per_s": built.embedded / secs,
                **extra,
            }
        )
        print(f"  {engine} x{workers}: {built.embedded} files in {secs:.1f} s", flush=True)
    base = rows[0]["files_per_s"]
    for r in rows:
        r["vs_local_1"] = r["files_per_s"] / base
    return rows


def bench_search(n: int, queries: int, ef_construction: int, ef: int, seed: int) -> dict:
    from genrec.index import ExactIndex, HnswIndex, l2_normalize

    rng = np.random.default_rng([seed, n])
    basis = rng.standard_normal((LATENT_DIM, DIM), dtype=np.float32)
    base = l2_normalize(make_vectors(rng, n, DIM, "embedding", basis))
    qs = make_vectors(rng, queries, DIM, "embedding", basis)
    ids = [str(i) for i in range(n)]
    exact = ExactIndex.build(ids, base)
    t = time.perf_counter()
    ann = HnswIndex.build(ids, base, ef_construction=ef_construction, ef=ef)
    build_s = time.perf_counter() - t

    def latency(index) -> float:
        index.query(qs[0], k=5)
        times = []
        for q in qs:
            t = time.perf_counter()
            index.query(q, k=5)
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000

    with tempfile.TemporaryDirectory() as tmp:
        ann.save(Path(tmp) / "ann.npz")
        with np.load(Path(tmp) / "ann.npz") as z:
            graph_mb = z["hnsw_graph"].nbytes / 2**20
    row = {
        "n": n,
        "dim": DIM,
        "recall_at_5": recall_at_k(ann.query_many(qs, k=5), exact.query_many(qs, k=5), 5),
        "exact_ms": latency(exact),
        "hnsw_ms": latency(ann),
        "hnsw_build_s": build_s,
        "exact_mb": base.nbytes / 2**20,
        "hnsw_mb": graph_mb,
    }
    row["speedup"] = row["exact_ms"] / row["hnsw_ms"]
    print(
        f"  {n}: recall@5 {row['recall_at_5']:.3f}, exact {row['exact_ms']:.2f} ms, "
        f"HNSW {row['hnsw_ms']:.3f} ms, build {build_s:.0f} s",
        flush=True,
    )
    return row


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--run", help="run folder to embed with (default: train a 1-epoch VGG16 run here)")
    p.add_argument("--input-size", type=int, default=224, help="image size of the run trained here (224)")
    p.add_argument("--files", type=int, default=200, help="files to embed, 30-s synthetic clips (200)")
    p.add_argument("--ray-workers", type=int, default=1, help="Ray predictor actors, one CPU each (default 1)")
    p.add_argument("--ann-sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--ef-construction", type=int, default=100)
    p.add_argument("--ef", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-engines", action="store_true")
    p.add_argument("--skip-ann", action="store_true")
    workspace.add_json_arg(p)
    args = p.parse_args()
    report.start("Catalogue engines (files/s) and search at catalogue scale (recall@5, latency, memory)")
    out: dict = {"args": vars(args)}
    if not args.skip_engines:
        per_genre = max(1, args.files // 10)
        folder = workspace.generated_library(per_genre, 30.0)
        print(f"{per_genre * 10} files: {folder} (genrec's synthetic 30-s clips)", flush=True)
        run = Path(args.run) if args.run else train_run(folder, args.input_size)
        out["engines"] = bench_engines(run, folder, per_genre * 10, args.ray_workers)
        print(
            "\n"
            + report.table(
                out["engines"],
                ["engine", "workers", "files", "seconds", "files_per_s", "vs_local_1", "startup_s"],
                floatfmt="{:.2f}",
            )
        )
        print("files_per_s excludes Ray's start-up (startup_s); vs_local_1: throughput over 1 local worker.")
    if not args.skip_ann:
        print(
            f"\nsearch: {DIM}-d embedding-like vectors, {args.queries} queries, k=5, "
            f"HNSW M=16 ef_construction={args.ef_construction} ef={args.ef}",
            flush=True,
        )
        out["search"] = [
            bench_search(n, args.queries, args.ef_construction, args.ef, args.seed) for n in args.ann_sizes
        ]
        print(
            "\n"
            + report.table(
                out["search"],
                ["n", "recall_at_5", "exact_ms", "hnsw_ms", "speedup", "hnsw_build_s", "exact_mb", "hnsw_mb"],
                floatfmt="{:.3f}",
            )
        )
        print(
            "exact_ms / hnsw_ms: median single-query latency; exact_mb: the exact index's float32 matrix; "
            "hnsw_mb: hnswlib's graph with its vectors."
        )
    report.dump_json(args.json, out)
    return 0


if __name__ == "__main__":
    report.run_script(main)
