"""The ``genrec`` command line: libraries, downloads, training, evaluation, recommendations."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genrec.config import ARCHITECTURES, CLIP_SECONDS, IMAGE_SIZE, runs_home
from genrec.errors import GenrecError


def _window_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clip-seconds", type=float, default=CLIP_SECONDS,
                   help=f"analysis window cut from the middle of each file; shorter files are padded "
                        f"(default {CLIP_SECONDS:g})")
    p.add_argument("--chunk-seconds", type=float, default=None,
                   help="cut the window into chunks of this length (e.g. 3); clip predictions average the chunks")


def _library_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--split-dir", help="folder with train*.txt / valid*.txt / test*.txt split files "
                                       "(e.g. the artist-filtered GTZAN split); default: stratified 80/10/10")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the stratified split (default 0)")


def _print_library(lib) -> None:
    print(f"library: {lib.label}  ({lib.kind}, {len(lib.tracks)} clips)  root: {lib.root}")
    print(f"split: {lib.split_method}")
    print(lib.summary().to_string())
    if lib.skipped:
        print(f"\nskipped {len(lib.skipped)} file(s):")
        for path, reason in lib.skipped:
            print(f"  {path}: {reason}")


def cmd_library(a) -> None:
    from genrec.library import load_demo, load_gtzan
    from genrec.progress import TqdmProgress, per_stage

    if a.source == "demo":
        lib = load_demo(progress=per_stage(TqdmProgress(), "generating demo library"))
    else:
        if not a.path:
            raise GenrecError("`genrec library gtzan` needs the GTZAN folder: genrec library gtzan PATH")
        lib = load_gtzan(a.path, seed=a.split_seed, split_dir=a.split_dir)
    _print_library(lib)


def cmd_download(a) -> None:
    from genrec import download

    kw = {"url": a.url} if a.url else {}
    if a.checksum:
        kw.update(checksum=a.checksum, algorithm=a.algorithm)
    root = download.download_gtzan(Path(a.to), **kw)
    print(f"GTZAN is in {root}\nnext: genrec library gtzan {root}")


def cmd_prepare(a) -> None:
    from genrec.library import load_library
    from genrec.progress import TqdmProgress
    from genrec.train import check_window, prepare_images, select_tracks

    check_window(a.clip_seconds, a.chunk_seconds)
    progress = TqdmProgress()
    lib = load_library(a.library, seed=a.split_seed, split_dir=a.split_dir,
                       progress=lambda d, t: progress("demo library", d, t))
    prepared = prepare_images(lib, select_tracks(lib), a.chunk_seconds, a.input_size, progress, a.clip_seconds)
    n = len(prepared.tracks)
    print(f"{len(prepared.images)} images for {n} clips; {prepared.cache_hits} of {n} clips were already cached")


def cmd_train(a) -> None:
    from genrec.progress import TqdmProgress
    from genrec.train import TrainConfig, train

    cfg = TrainConfig(
        arch=a.arch, library=a.library, epochs=a.epochs, last_four_trainable=a.last_four_trainable,
        weights=a.weights, seed=a.seed, chunk_seconds=a.chunk_seconds, batch_size=a.batch_size,
        input_size=a.input_size, learning_rate=a.learning_rate, patience=a.patience,
        split_seed=a.split_seed, split_dir=a.split_dir, max_per_genre=a.max_per_genre, out=a.out,
        feature_norm=not a.paper_head, clip_seconds=a.clip_seconds,
    )
    run_dir = train(cfg, progress=TqdmProgress())
    _print_run(run_dir)


def _print_run(run_dir) -> None:
    from genrec.runs import Run

    run = Run.open(run_dir)
    s = run.summary()
    print(f"saved run {run.path}")
    print(f"  {s['arch']} on {s['library']}, weights: {s['weights']}, epochs run: {s['epochs']}")
    print(f"  test accuracy {s['test_accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f}"
          + (f", precision@5 {s['precision_at_5']:.3f}, mAP {s['map']:.3f}" if s["map"] is not None else ""))
    print("  seconds per stage: " + ", ".join(f"{k} {v}" for k, v in run.record["timings_seconds"].items()))


def cmd_evaluate(a) -> None:
    from genrec.evaluate import evaluate_run, format_evaluation

    print(format_evaluation(evaluate_run(a.run, recompute=not a.saved)))


def cmd_export(a) -> None:
    from genrec.runs import Run
    from genrec.serving import PREDICTOR_FILE, export_predictor

    run = Run.open(a.run)
    target = export_predictor(run.load_model(), run.path / PREDICTOR_FILE)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB); outside clips are now answered with LiteRT")


def cmd_runs(a) -> None:
    import pandas as pd

    from genrec.runs import list_runs, runs_table

    runs, broken = list_runs(Path(a.dir) if a.dir else None)
    if not runs:
        print(f"no runs in {a.dir or runs_home()}; create some with `genrec demo` or `genrec train`")
    else:
        table = runs_table(runs).drop(columns=["created"])
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for path, reason in broken:
        print(f"warning: {reason}", file=sys.stderr)


def cmd_recommend(a) -> None:
    from genrec.audio import SUPPORTED_FORMATS
    from genrec.recommend import Recommender
    from genrec.runs import Run

    rec = Recommender(Run.open(a.run))
    query = a.query
    ids = set(rec.tracks["track_id"])
    if not Path(query).exists() and query not in ids and Path(query).suffix.lower() not in SUPPORTED_FORMATS:
        raise GenrecError(f"'{query}' is neither an audio file nor a track id of this run's library "
                          f"(ids look like {sorted(ids)[0]}).")
    if query not in ids:
        answer = rec.for_audio(Path(query), k=a.k)
        print(f"query: {query} (outside the library)")
    else:
        answer = rec.for_track(query, k=a.k)
        print(f"query: library track {query} (true genre: {rec.tracks.set_index('track_id').loc[query, 'genre']})")
    print(f"run: {rec.run.id}  ({answer.arch}, weights: {answer.weights})")
    print(f"predicted genre: {answer.genre} ({answer.confidence:.1%})")
    probs = answer.probability_table().sort_values("probability", ascending=False)
    print("  " + "  ".join(f"{g} {p:.2f}" for g, p in zip(probs["genre"], probs["probability"])))
    print(f"top {a.k} similar tracks (cosine similarity, -1..1):")
    for i, row in enumerate(answer.neighbours.itertuples(), 1):
        print(f"  {i}. {row.track_id:<18} {row.genre:<10} {row.similarity:+.3f}")


def cmd_demo(a) -> None:
    from genrec.demo import RUN_LINE, build_demo
    from genrec.progress import JsonLinesProgress, TqdmProgress

    if a.progress_format == "lines":  # for a parent process (the app) following the build
        for run_dir in build_demo(weights=a.weights, out=a.out, progress=JsonLinesProgress(sys.stdout)):
            print(f"{RUN_LINE}{run_dir}", flush=True)
        return
    for run_dir in build_demo(weights=a.weights, out=a.out, progress=TqdmProgress()):
        _print_run(run_dir)
    print("\nnext: genrec runs   |   streamlit run app.py")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genrec", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("library", help="summarise a music library (clips per genre and split)")
    s.add_argument("source", choices=["demo", "gtzan"])
    s.add_argument("path", nargs="?", help="GTZAN folder (for `gtzan`)")
    _library_args(s)
    s.set_defaults(func=cmd_library)

    s = sub.add_parser("download", help="download a dataset (resumable, checksum-verified)")
    s.add_argument("dataset", choices=["gtzan"])
    s.add_argument("--to", required=True, help="destination folder")
    s.add_argument("--url", help="archive URL (default: the public GTZAN archive)")
    s.add_argument("--checksum", help="expected checksum of the archive")
    s.add_argument("--algorithm", default="sha256", help="checksum algorithm for --checksum (default sha256)")
    s.set_defaults(func=cmd_download)

    s = sub.add_parser("prepare", help="compute and cache the spectrogram images of a library")
    s.add_argument("library", help="'demo' or a GTZAN folder")
    _window_args(s)
    s.add_argument("--input-size", type=int, default=IMAGE_SIZE)
    _library_args(s)
    s.set_defaults(func=cmd_prepare)

    s = sub.add_parser("train", help="train one architecture and save a run")
    s.add_argument("--arch", required=True, choices=ARCHITECTURES)
    s.add_argument("--library", default="demo", help="'demo' (default) or a GTZAN folder")
    s.add_argument("--epochs", type=int, default=20)
    s.add_argument("--last-four-trainable", action="store_true",
                   help="also fine-tune the backbone's last four weighted layers (the paper's switch)")
    s.add_argument("--weights", default="imagenet",
                   help="imagenet (downloaded by Keras), none (random init) or a local weights file")
    s.add_argument("--seed", type=int, default=0)
    _window_args(s)
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--input-size", type=int, default=IMAGE_SIZE)
    s.add_argument("--learning-rate", type=float, default=1e-3)
    s.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs")
    s.add_argument("--paper-head", action="store_true",
                   help="the paper's head exactly: no feature standardisation before the dense layer")
    s.add_argument("--max-per-genre", type=int, default=None, help="use at most N clips per genre and split")
    s.add_argument("--out", default=str(runs_home()), help="where runs are saved (default models/)")
    _library_args(s)
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("evaluate", help="recompute a run's classification report, confusion matrix and retrieval figures")
    s.add_argument("run", help="run folder or run id")
    s.add_argument("--saved", action="store_true", help="print the saved metrics without recomputing")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("export", help="(re)write a run's predictor.tflite, used to answer clips without TensorFlow")
    s.add_argument("run", help="run folder or run id")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("runs", help="list saved runs")
    s.add_argument("--dir", help="runs folder (default models/)")
    s.set_defaults(func=cmd_runs)

    s = sub.add_parser("recommend", help="predict the genre of a clip and list the most similar tracks")
    s.add_argument("run", help="run folder or run id")
    s.add_argument("query", help="an audio file, or a library track id such as blues.00003")
    s.add_argument("-k", type=int, default=5)
    s.set_defaults(func=cmd_recommend)

    s = sub.add_parser("demo", help="build the synthetic demo library and train both architectures on it")
    s.add_argument("--weights", default="none", help="none (default: works offline), imagenet, or a file")
    s.add_argument("--out", default=None, help="where runs are saved (default models/)")
    s.add_argument("--progress-format", choices=["bars", "lines"], default="bars",
                   help="bars (default) or lines: one JSON object per progress report, for a parent process")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``genrec`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except GenrecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    return 0
