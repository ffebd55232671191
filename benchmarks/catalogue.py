"""Catalogue building speed per engine.

    python -m benchmarks.catalogue                          # 200 files
    python -m benchmarks.catalogue --run RUN --files 200    # embed with an existing run

The same files are embedded with the local engine (1 and 2 worker processes)
and with Ray Data on a local Ray (1 and 2 predictor actors), each starting from
an empty embedding cache, side by side in one run; files/s excludes Ray's
start-up, which is printed apart. Each predictor actor holds one of Ray's CPU
slots for the whole build, and the engine refuses actors that would leave none
for decoding; so the local Ray gets ``actors + 1`` slots where the machine has
fewer cores (2 actors on 2 cores: 3 slots, the cores shared), and the row says
how many (``--ray-cpus`` sets them; a refused build is a row saying so). Search
at catalogue scale is ``python -m benchmarks.ann``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from benchmarks import report, workspace


def train_run(folder: Path, input_size: int) -> Path:
    from genrec.training.trainer import TrainConfig, train

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


def ray_slots(workers: int, asked: int | None) -> int:
    """CPU slots for a local Ray with ``workers`` predictor actors: ``asked``, else the cores, at least one
    more than the actors (which the engine needs to decode)."""
    return asked if asked else max(os.cpu_count() or 1, workers + 1)


def bench_engines(
    run_path: Path, folder: Path, n_files: int, ray_workers: list[int], ray_cpus: int | None = None
) -> list[dict]:
    from genrec.catalogue import build_catalogue
    from genrec.errors import CatalogueError
    from genrec.runs.reader import Run

    run = Run.open(run_path)
    cache = run.path / "catalogues" / ".cache"
    rows = []
    configs = [("local", 1), ("local", 2), *(("ray", w) for w in ray_workers)]
    for engine, workers in configs:
        shutil.rmtree(cache, ignore_errors=True)  # every engine embeds every file
        extra = {}
        if engine == "ray":
            try:
                import ray
            except ImportError:
                print("Ray is not installed (pip install 'genrec[ray]'): no Ray row")
                continue
            extra["ray_cpus"] = ray_slots(workers, ray_cpus)
            t = time.perf_counter()
            ray.init(
                num_cpus=extra["ray_cpus"],
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}},
            )
            extra["startup_s"] = time.perf_counter() - t
        t = time.perf_counter()
        try:
            built = build_catalogue(run, folder, f"bench-{engine}-{workers}", engine=engine, workers=workers)
        except CatalogueError as exc:  # e.g. more Ray actors than leave a CPU for decoding
            rows.append({"engine": engine, "workers": workers, "refused": str(exc), **extra})
            print(f"  {engine} x{workers}: refused: {exc}", flush=True)
            continue
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
        if "files_per_s" in r:
            r["vs_local_1"] = r["files_per_s"] / base
    return rows


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--run", help="run folder to embed with (default: train a 1-epoch VGG16 run here)")
    p.add_argument("--input-size", type=int, default=224, help="image size of the run trained here (224)")
    p.add_argument("--files", type=int, default=200, help="files to embed, 30-s synthetic clips (200)")
    p.add_argument(
        "--ray-workers", type=int, nargs="+", default=[1, 2], help="Ray predictor actors per Ray row (default 1 2)"
    )
    p.add_argument(
        "--ray-cpus",
        type=int,
        help="CPU slots of the local Ray (default: the cores, at least one more than the actors)",
    )
    workspace.add_json_arg(p)
    args = p.parse_args()
    report.start("Catalogue engines: files/s of the local engine and of Ray Data")
    out: dict = {"args": vars(args)}
    per_genre = max(1, args.files // 10)
    folder = workspace.generated_library(per_genre, 30.0)
    print(f"{per_genre * 10} files: {folder} (genrec's synthetic 30-s clips)", flush=True)
    run = Path(args.run) if args.run else train_run(folder, args.input_size)
    out["engines"] = bench_engines(run, folder, per_genre * 10, args.ray_workers, args.ray_cpus)
    print(
        "\n"
        + report.table(
            out["engines"],
            ["engine", "workers", "ray_cpus", "files", "seconds", "files_per_s", "vs_local_1", "startup_s", "refused"],
            floatfmt="{:.2f}",
        )
    )
    print(
        "files_per_s excludes Ray's start-up (startup_s); vs_local_1: throughput over 1 local worker; "
        f"ray_cpus: the local Ray's CPU slots on this machine's {os.cpu_count()} cores."
    )
    report.dump_json(args.json, out)
    return 0


if __name__ == "__main__":
    report.run_script(main)
