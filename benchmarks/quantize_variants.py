"""LiteRT quantization variants of the predictor, side by side: file size, forward time, agreement with float.

For each run (VGG16 and ResNet50), the run's float ``predictor.tflite`` is quantized with
``genrec.model.quantize.quantize_predictor`` (AI Edge Quantizer) in every recipe: the ones runs try
(``RECIPES``: dynamic with the pooled-feature shift corrected, weights-only, weights-only with a float head) and
the others (``EXTRA_RECIPES``: plain dynamic, dynamic with a float head, float16 weights, full integer); the
calibrated ones use the run's own training spectrograms (``genrec.model.quantize.calibration_sample``). Each
file then answers, in LiteRT's interpreter with its default XNNPACK delegate, on this CPU (its flags are printed
in the header):

* the forward pass of one query's images (median of ``--repeats``, variants in rotating order, so
  every variant sees the same machine load);
* the same with XNNPACK's "latest features" switch on (``experimental_default_delegate_latest_features``);
* CPU seconds of the pass on one thread (``--threads 1``, the default): on a machine shared with other
  jobs, wall time mostly measures the queue for the cores, CPU time the work;
* the agreement with the float model on the run's own library (``genrec.model.quantize.agreement``: top-1
  genre agreement, top-5 overlap, max probability difference).

Runs keep the first of ``RECIPES`` that agrees with float (``genrec.model.quantize.choose_recipe``); this
table shows the whole curve, and why the others are not tried.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks import measure, report, workspace


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    workspace.add_run_args(p, train_epochs=3)
    p.add_argument(
        "--variants",
        default="float,dynamic,dynamic-float-head,weights-only,float16",
        help="comma-separated",
    )
    p.add_argument("--archs", default="vgg16,resnet50", help="which of the two runs to measure (default both)")
    p.add_argument("--repeats", type=int, default=10, help="timed forward passes per variant (default 10)")
    p.add_argument("--threads", type=int, default=1, help="LiteRT threads (default 1: CPU time = work)")
    p.add_argument(
        "--agreement-tracks",
        type=int,
        default=None,
        help="check agreement on a seeded sample of this many library tracks (default all)",
    )
    workspace.add_keep_arg(p)
    workspace.add_json_arg(p)
    return p.parse_args(argv)


def signature_runner(path: Path, latest: bool, threads: int):
    """(probabilities, embeddings) of a batch through a LiteRT file; ``latest``: XNNPACK's newest kernels."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    run = Interpreter(
        model_path=str(path), num_threads=threads, experimental_default_delegate_latest_features=latest
    ).get_signature_runner()

    def call(images):
        out = run(image=np.ascontiguousarray(images, dtype=np.float32))
        return out["output_0"], out["output_1"]

    return call


def measure_run(
    run_dir: Path, variants: list[str], repeats: int, workdir: Path, threads: int, agreement_tracks: int | None
) -> list[dict]:
    import numpy as np

    import genrec.model.quantize as Q
    from genrec.runs.reader import Run

    run = Run.open(run_dir)
    rows_all = np.arange(len(run.tracks))
    images, owner = Q.run_library_images(run, rows_all)
    checked = rows_all
    if agreement_tracks and agreement_tracks < len(rows_all):
        checked = np.sort(np.random.default_rng(0).choice(rows_all, agreement_tracks, replace=False))
    is_train = (run.tracks["split"].to_numpy() == "train")[owner]
    calibration = Q.calibration_sample(images, is_train)
    query = images[owner == 0].astype(np.float32)  # one query's images (one clip: 1 image, or its chunks)
    files, convert_s = {}, {}
    for v in variants:
        t = time.perf_counter()
        float_file = run.path / "predictor.tflite"
        data = float_file.read_bytes() if v == "float" else Q.quantize_predictor(float_file, v, calibration)
        convert_s[v] = time.perf_counter() - t
        files[v] = workdir / f"{run.arch}-{v}.tflite"
        files[v].write_bytes(data)
        print(f"  [{run.arch}] {v}: converted in {convert_s[v]:.1f} s, {len(data) / 1e6:.1f} MB", flush=True)
    ways = {(v, latest): signature_runner(files[v], latest, threads) for v in variants for latest in (False, True)}
    times: dict = {k: [] for k in ways}
    cpu: dict = {k: [] for k in ways}
    for fn in ways.values():
        fn(query)  # warm-up: XNNPACK packs weights on the first call
    keys = list(ways)
    for i in range(repeats):
        for k in keys[i % len(keys) :] + keys[: i % len(keys)]:
            s, c = time.perf_counter(), time.process_time()
            ways[k](query)
            times[k].append(time.perf_counter() - s)
            cpu[k].append(time.process_time() - c)
    base = measure.median(cpu[("float", False)]) if ("float", False) in cpu else None
    mask = np.isin(owner, checked)
    local = np.searchsorted(checked, owner[mask])
    out = []
    for v in variants:
        probs, embs = Q.predict_library(ways[(v, False)], images[mask], local, len(checked))
        agree = Q.agreement(run, probs, embs, checked)
        ms, ms_latest = 1000 * measure.median(times[(v, False)]), 1000 * measure.median(times[(v, True)])
        cpu_ms = 1000 * min(measure.median(cpu[(v, False)]), measure.median(cpu[(v, True)]))
        out.append(
            {
                "arch": run.arch,
                "variant": v,
                "MB": files[v].stat().st_size / 1e6,
                "convert_s": convert_s[v],
                "ms": ms,
                "ms_latest": ms_latest,
                "cpu_ms": cpu_ms,
                "float/this cpu": f"{1000 * base / cpu_ms:.2f}x" if base else "",
                "top1": agree.top1_agreement,
                "top5_overlap": agree.top5_overlap,
                "max_dprob": agree.max_prob_diff,
                "tracks": agree.tracks,
                "query_images": len(query),
            }
        )
    return out


def main(argv=None) -> int:
    a = parse_args(argv)
    report.start("genrec benchmark: LiteRT quantization variants (size, XNNPACK forward time, agreement)", a.keep)
    vgg, resnet, how = workspace.runs_from_args(a)
    print(f"runs:     {vgg.name} / {resnet.name} ({how})\n", flush=True)
    variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    rows = []
    columns = [
        "arch",
        "variant",
        "MB",
        "convert_s",
        "ms",
        "ms_latest",
        "cpu_ms",
        "float/this cpu",
        "top1",
        "top5_overlap",
        "max_dprob",
        "tracks",
    ]
    with tempfile.TemporaryDirectory(prefix="genrec-variants-") as work:
        for run_dir in [r for r, arch in ((vgg, "vgg16"), (resnet, "resnet50")) if arch in a.archs.split(",")]:
            rows += measure_run(run_dir, variants, a.repeats, Path(work), a.threads, a.agreement_tracks)
            print(report.table(rows, columns, "{:.3f}"), flush=True)
    print(
        f"\nVARIANTS  (forward pass of one query on {a.threads} thread(s), median of {a.repeats}; ms: wall, "
        "ms_latest: wall with XNNPACK latest features on; cpu_ms: CPU time, the better of the two; "
        "float/this cpu: float's CPU time over this variant's)"
    )
    print(report.table(rows, columns, "{:.3f}"))
    report.dump_json(a.json, {"runs": [str(vgg), str(resnet)], "rows": rows})
    return 0


if __name__ == "__main__":
    report.run_script(main)
