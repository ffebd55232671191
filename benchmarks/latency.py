"""Latency of one 30-s clip end to end: decode -> spectrogram image -> VGG16 and ResNet50 -> top-5.

End to end is ``genrec.serve.recommend.compare([vgg16, resnet50], source=clip)``, what the CLI and the app
call for an outside clip. Measured

* cold: the first query in a NEW process (a subprocess), split into importing genrec, importing
  TensorFlow/Keras, opening the two runs (tables, embeddings, index), loading the two models, the
  first query (which also traces the forward pass) and a second query for contrast;
* warm: the median of ``--repeats`` queries in this process after a warm-up, with a per-stage
  breakdown timed separately in the same iterations: decode, spectrogram, vgg16 forward, resnet50
  forward, top-5 search (probability averaging + cosine index query + neighbour table).

* song: a whole song (``--song-seconds``, default 240 s, written as 44.1 kHz stereo WAV so decoding
  includes resampling) answered by both models window by window (genrec.serve.song: decode once, one image
  per window, song-level mean and top-5), median of ``--song-repeats`` warm runs, with its stages and
  the ratio to one 30-s query measured in the same run. It runs in a fresh process that never imports
  TensorFlow, as the app's server does: in this process the Keras comparison has loaded TensorFlow, whose
  thread pools and allocator made the same song 0.4 s slower (2.67 against 2.25 s on 2026-11-26).
  After the song, the same process times the networks alone over its window images: each run's
  answering predictor on every core, and each predictor file on one thread, whose sum over the runs
  divided by the cores bounds any schedule from below.
* spectrogram: the clip's image the librosa-exact float64 way genrec used before and the float32 way it uses
  now, side by side (``benchmarks.spectrogram.side_by_side``).

The floor is the two forward passes alone; the ratio end-to-end / floor says how much of a query is
spent outside the networks.

Without --vgg16/--resnet50 it first trains two tiny-but-real runs on the GTZAN sample (random-init
weights, few epochs, 224 px: the forward cost depends on the input size, not on the weights' values).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

T_PROCESS_START = time.time()  # before anything else is imported: the cold child's clock starts here

from benchmarks import report, spectrogram, workspace  # noqa: E402
from benchmarks.measure import iqr, median, peak_rss_mb  # noqa: E402

# genrec.model.predict.PREDICTOR_ENV, not imported so that the cold child imports genrec itself
PREDICTOR_ENV = "GENREC_PREDICTOR"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    workspace.add_run_args(p, train_epochs=3)
    p.add_argument("--clip", help="the 30-s query clip (default: the first clip of the library)")
    p.add_argument("--repeats", type=int, default=20, help="warm queries (default 20)")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--no-cold", action="store_true", help="skip the cold-start subprocess")
    p.add_argument("--song-seconds", type=float, default=240.0, help="length of the whole-song query (default 240)")
    p.add_argument("--song-repeats", type=int, default=5, help="warm whole-song queries (default 5; 0 skips them)")
    p.add_argument("--predictors", default="float,int8", help="GENREC_PREDICTOR values to compare (default float,int8)")
    workspace.add_keep_arg(p)
    workspace.add_json_arg(p)
    p.add_argument("--_child", nargs=3, metavar=("VGG", "RESNET", "CLIP"), help=argparse.SUPPRESS)
    p.add_argument("--_spawned", type=float, help=argparse.SUPPRESS)
    p.add_argument("--_song", nargs=4, metavar=("VGG", "RESNET", "SONG", "CLIP"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --------------------------------------------------------------------------- cold (child process)
def cold_child(vgg: str, resnet: str, clip: str, k: int, spawned: float) -> None:
    """Runs in a fresh interpreter; prints one JSON line of stage timings."""
    out = {"interpreter_start_s": T_PROCESS_START - spawned}
    t = time.perf_counter()
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender, compare

    out["import_genrec_s"] = time.perf_counter() - t

    t = time.perf_counter()
    recs = [Recommender(Run.open(vgg)), Recommender(Run.open(resnet))]
    out["open_runs_and_index_s"] = time.perf_counter() - t

    t = time.perf_counter()
    for r in recs:
        r._predictor  # noqa: B018  load the model (cached_property)
    out["load_models_s"] = time.perf_counter() - t
    out["predictors"] = [getattr(r._predictor, "path", Path(type(r._predictor).__name__)).name for r in recs]
    out["tensorflow_imported"] = "tensorflow" in sys.modules

    t = time.perf_counter()
    answers, _ = compare(recs, source=Path(clip), k=k)
    out["first_query_s"] = time.perf_counter() - t
    out["first_answer"] = [(a.arch, a.genre, a.neighbours["track_id"].tolist()) for a in answers]

    t = time.perf_counter()
    compare(recs, source=Path(clip), k=k)
    out["second_query_s"] = time.perf_counter() - t
    out["spawn_to_first_answer_s"] = time.time() - spawned - out["second_query_s"]
    out["peak_rss_mb"] = peak_rss_mb()
    print("COLD " + json.dumps(out), flush=True)


def run_child(args: list[str], tag: str, predictor: str) -> dict:
    """Run this script again in a fresh process with ``args``; return the JSON it printed after ``tag``."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.latency", *args],  # cwd: the project
        capture_output=True,
        text=True,
        env={**os.environ, PREDICTOR_ENV: predictor},
        cwd=str(workspace.PROJECT),
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(tag + " ")), None)
    if proc.returncode or not line:
        raise RuntimeError(f"{tag.lower()} subprocess failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(line[len(tag) + 1 :])


def run_cold(vgg: Path, resnet: Path, clip: Path, k: int, predictor: str = "auto") -> dict:
    spawned = time.time()
    args = ["--_child", str(vgg), str(resnet), str(clip), "-k", str(k), "--_spawned", repr(spawned)]
    out = run_child(args, "COLD", predictor)
    out["subprocess_wall_s"] = time.time() - spawned
    return out


# --------------------------------------------------------------------------- warm (this process)
def staged_query(recs, clip: Path, k: int) -> dict:
    """One query with each stage timed on its own (the same work compare() does)."""
    import numpy as np

    from genrec.audio.decode import load_audio
    from genrec.audio.spectrogram import audio_to_images
    from genrec.search.index import l2_normalize

    t = {}
    s = time.perf_counter()
    y = load_audio(clip)
    t["decode"] = time.perf_counter() - s

    s = time.perf_counter()
    images = {}
    for r in recs:
        key = (r.chunk_seconds, r.input_size)
        if key not in images:
            images[key] = audio_to_images(y, chunk_seconds=r.chunk_seconds, size=r.input_size).astype(np.float32)
    t["spectrogram"] = time.perf_counter() - s

    outputs = []
    for r in recs:
        s = time.perf_counter()
        probs, emb = r._predictor(images[(r.chunk_seconds, r.input_size)])
        t[f"{r.run.arch} forward"] = time.perf_counter() - s
        outputs.append((r, probs, emb))

    s = time.perf_counter()
    for r, probs, emb in outputs:
        p = np.asarray(probs).mean(axis=0)
        e = l2_normalize(l2_normalize(np.asarray(emb)).mean(axis=0, keepdims=True))[0]
        r._answer(p, e, k)
    t[f"top-{k} search"] = time.perf_counter() - s
    return t


def images_for(recs, clip: Path) -> dict:
    from genrec.audio.decode import load_audio
    from genrec.audio.spectrogram import audio_to_images

    y = load_audio(clip)
    return {r.run.arch: audio_to_images(y, chunk_seconds=r.chunk_seconds, size=r.input_size) for r in recs}


def compare_runtimes(recs, images: dict, repeats: int) -> list[dict]:
    """The forward pass of each run in LiteRT (predictor.tflite, and predictor-int8.tflite where the run has one)
    and in Keras, side by side."""
    import numpy as np

    from genrec.model.predict import (
        PREDICTOR_FILE,
        QUANTIZED_FILE,
        KerasPredictor,
        LitePredictor,
        lite_runtime_available,
    )

    rows = []
    for r in recs:
        if not ((r.run.path / PREDICTOR_FILE).is_file() and lite_runtime_available()):
            print(f"\n{r.run.arch}: no {PREDICTOR_FILE} or no LiteRT here; Keras only (`genrec export RUN`)")
            continue
        x = images[r.run.arch].astype(np.float32)
        ways = {"LiteRT": LitePredictor(r.run.path / PREDICTOR_FILE), "Keras": KerasPredictor(r.run.load_model())}
        if (r.run.path / QUANTIZED_FILE).is_file():
            ways["LiteRT int8"] = LitePredictor(r.run.path / QUANTIZED_FILE)
        times: dict[str, list[float]] = {k: [] for k in ways}
        outs = {k: fn(x) for k, fn in ways.items()}  # warm-up, and the outputs to compare
        cpu: dict[str, list[float]] = {k: [] for k in ways}  # CPU time: the work, whatever the machine's queue
        for i in range(repeats):
            for name in list(ways) if i % 2 == 0 else list(ways)[::-1]:
                s, c = time.perf_counter(), time.process_time()
                ways[name](x)
                times[name].append(time.perf_counter() - s)
                cpu[name].append(time.process_time() - c)
        int8 = "LiteRT int8" in times
        rows.append(
            {
                "arch": r.run.arch,
                "images": len(x),
                "litert_ms": 1000 * median(times["LiteRT"]),
                "keras_ms": 1000 * median(times["Keras"]),
                "keras/litert": f"{median(times['Keras']) / median(times['LiteRT']):.2f}x",
                "max|dprob|": f"{np.abs(outs['LiteRT'][0] - outs['Keras'][0]).max():.1e}",
                "int8_ms": 1000 * median(times["LiteRT int8"]) if int8 else None,
                "litert/int8": f"{median(times['LiteRT']) / median(times['LiteRT int8']):.2f}x" if int8 else "",
                "int8 max|dprob|": f"{np.abs(outs['LiteRT int8'][0] - outs['LiteRT'][0]).max():.1e}" if int8 else "",
                "litert_cpu_ms": 1000 * median(cpu["LiteRT"]),
                "int8_cpu_ms": 1000 * median(cpu["LiteRT int8"]) if int8 else None,
                "litert/int8 cpu": f"{median(cpu['LiteRT']) / median(cpu['LiteRT int8']):.2f}x" if int8 else "",
            }
        )
    if rows:
        print(
            f"\nFORWARD PASS: LiteRT float, LiteRT int8 and Keras on the same images (median of {repeats}, "
            "rotating order)"
        )
        print(
            report.table(
                rows,
                [
                    "arch",
                    "images",
                    "litert_ms",
                    "keras_ms",
                    "keras/litert",
                    "max|dprob|",
                    "int8_ms",
                    "litert/int8",
                    "int8 max|dprob|",
                    "litert_cpu_ms",
                    "int8_cpu_ms",
                    "litert/int8 cpu",
                ],
                "{:.1f}",
            )
        )
    return rows


def make_song(run_dir: Path, seconds: float) -> Path:
    """A ``seconds``-long 44.1 kHz stereo WAV of the run's library clips one after another (real music for
    the GTZAN sample), as a user's song file would be."""
    import librosa
    import numpy as np
    import soundfile as sf

    from genrec.audio.decode import load_audio
    from genrec.runs.reader import Run

    paths = sorted(p for p in Run.open(run_dir).tracks["path"] if Path(p).is_file())
    pieces, total, i = [], 0.0, 0
    while total < seconds and paths:
        y = load_audio(paths[i % len(paths)], seconds=30.0)
        pieces.append(y)
        total += len(y) / 22050
        i += 1
    y = np.concatenate(pieces)[: int(seconds * 22050)]
    stereo = librosa.resample(y, orig_sr=22050, target_sr=44100)
    target = Path(os.environ["GENREC_HOME"]) / "song.wav"
    target.parent.mkdir(parents=True, exist_ok=True)
    sf.write(target, np.stack([stereo, stereo], axis=1), 44100, subtype="PCM_16")
    return target


def song_child(vgg: str, resnet: str, song_path: str, clip: str, repeats: int, k: int) -> None:
    """Runs in a fresh interpreter that, like the app's server, never imports TensorFlow; prints one JSON
    line: whole-song answers of both runs vs one 30-s query, warm, alternating order, with the song's stages."""
    from genrec.audio.spectrogram import images_of
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender, compare
    from genrec.serve.song import analyse_song, decode_song, song_answers, window_of, window_samples, window_starts
    from genrec.utils.machine import cpu_threads

    recs = [Recommender(Run.open(vgg)), Recommender(Run.open(resnet))]
    for r in recs:
        r.warm_up()

    def whole() -> dict:
        t = {}
        cpu = time.process_time()
        s = time.perf_counter()
        song = decode_song(Path(song_path))
        t["decode + resample"] = time.perf_counter() - s
        s = time.perf_counter()
        timelines = analyse_song(recs, song)
        t["windows: images + both forwards"] = time.perf_counter() - s
        s = time.perf_counter()
        song_answers(recs, timelines, k=k)
        t[f"song-level mean + top-{k}"] = time.perf_counter() - s
        t["windows per run"] = len(timelines[0].starts)
        t["cpu"] = time.process_time() - cpu
        return t

    whole()
    compare(recs, source=Path(clip), k=k)  # warm-up
    songs, clips = [], []
    for i in range(repeats):
        for what in ("song", "clip") if i % 2 == 0 else ("clip", "song"):
            if what == "song":
                songs.append(whole())
            else:
                s = time.perf_counter()
                compare(recs, source=Path(clip), k=k)
                clips.append(time.perf_counter() - s)
    # The song's window images built all at once (genrec.audio.spectrogram.images_of, on every core) and one at a
    # time on one thread, alternating: the images' share of the song, side by side in this process.
    song = decode_song(Path(song_path))
    window = window_of(recs[0])
    pieces = window_samples(song.samples, window_starts(song.seconds, window), window)
    ways = {
        "all cores": lambda: images_of(pieces, size=recs[0].input_size),
        "one at a time": lambda: [images_of([p], size=recs[0].input_size) for p in pieces],
    }
    image_s: dict[str, list[float]] = {name: [] for name in ways}
    for i in range(max(repeats, 5)):
        for name in list(ways) if i % 2 == 0 else list(ways)[::-1]:
            s = time.perf_counter()
            ways[name]()
            image_s[name].append(time.perf_counter() - s)
    out = {
        "song_stages": songs,
        "clip_s": clips,
        "images_s": image_s,
        "image_count": len(pieces),
        "network_s": network_passes(recs, song, repeats=3),
        "cores": cpu_threads(),
        "predictors": [r.predictor.path.name for r in recs],
        "answering": {r.run.arch: r.predictor.path.name for r in recs},
        "tensorflow_imported": "tensorflow" in sys.modules,
    }
    print("SONG " + json.dumps(out), flush=True)


def network_passes(recs, song, repeats: int) -> dict[str, list[float]]:
    """The networks alone over the song's window images, alternating, keyed "arch file threads": each run's
    answering predictor on every core as the song uses it, and each predictor file it has on one thread
    (the arithmetic in core-seconds, no thread waiting for another: on c cores no schedule answers the song
    faster than the runs' sum divided by c)."""
    from genrec.audio.spectrogram import images_of
    from genrec.model.predict import PREDICTOR_FILE, QUANTIZED_FILE, LitePredictor
    from genrec.serve.song import window_of, window_samples, window_starts
    from genrec.utils.machine import cpu_threads

    passes = {}
    for r in recs:
        window = window_of(r)
        images = images_of(window_samples(song.samples, window_starts(song.seconds, window), window), size=r.input_size)
        passes[f"{r.run.arch} {r.predictor.path.name} {cpu_threads()}"] = (r.predictor, images)
        for name in (PREDICTOR_FILE, QUANTIZED_FILE):
            if (r.run.path / name).is_file():
                predictor = LitePredictor(r.run.path / name, threads=1)
                predictor(images[:1])  # XNNPACK packs the weights on the first call
                passes[f"{r.run.arch} {name} 1"] = (predictor, images)
    times: dict[str, list[float]] = {label: [] for label in passes}
    for i in range(repeats):
        for label in list(passes) if i % 2 == 0 else list(passes)[::-1]:
            predictor, images = passes[label]
            s = time.perf_counter()
            predictor(images)
            times[label].append(time.perf_counter() - s)
    return times


def song_latency(vgg: Path, resnet: Path, song_path: Path, clip: Path, repeats: int, k: int, predictor: str) -> dict:
    """Measure the whole song in a TensorFlow-free child (:func:`song_child`) and print its table."""
    args = ["--_song", str(vgg), str(resnet), str(song_path), str(clip), "--song-repeats", str(repeats), "-k", str(k)]
    result = run_child(args, "SONG", predictor)
    songs, clips = result["song_stages"], result["clip_s"]
    extra = ("windows per run", "cpu")
    totals = [sum(v for n, v in t.items() if n not in extra) for t in songs]
    rows = [{"stage": n, "median_ms": 1000 * median([t[n] for t in songs])} for n in songs[0] if n not in extra]
    rows += [
        {"stage": "WHOLE SONG, both models", "median_ms": 1000 * median(totals)},
        {"stage": "one 30-s clip, both models (compare())", "median_ms": 1000 * median(clips)},
    ]
    print(
        f"\nWHOLE SONG  ({song_path.name}: {median([t['windows per run'] for t in songs]):.0f} windows per run; "
        f"median of {repeats} warm runs, alternating with a 30-s query, in a fresh process without TensorFlow "
        f"(imported: {result['tensorflow_imported']}); predictors {result['predictors']})"
    )
    print(report.table(rows, ["stage", "median_ms"], "{:.0f}"))
    lo, hi = iqr(totals)
    print(
        f"whole song / one 30-s clip = {median(totals) / median(clips):.1f}x;  whole song "
        f"{median(totals):.2f} s (IQR {lo:.2f}-{hi:.2f} s), target <= 2 s warm"
    )
    images = {name: median(xs) for name, xs in result["images_s"].items()}
    print(
        f"the song's {result['image_count']} window images: all at once on every core "
        f"{1000 * images['all cores']:.0f} ms, one at a time {1000 * images['one at a time']:.0f} ms "
        f"({images['one at a time'] / images['all cores']:.2f}x; median, alternating, same process)"
    )
    print(
        f"CPU time of the whole song (all threads of the child): median {median([t['cpu'] for t in songs]):.2f} s "
        f"(the wall time on an idle machine with 2 cores is at most this, less where LiteRT uses both)"
    )
    nets = {tuple(label.split(" ")): median(xs) for label, xs in result["network_s"].items()}
    cores = result["cores"]
    every = {arch: v for (arch, _, threads), v in nets.items() if threads != "1"}
    print(
        f"\nThe networks alone over the song's windows (median of 3, alternating, same process): on {cores} cores, "
        + " + ".join(f"{arch} {v:.2f} s" for arch, v in every.items())
        + f" = {sum(every.values()):.2f} s of the whole song's {median(totals):.2f} s"
    )
    one = {(arch, name): v for (arch, name, threads), v in nets.items() if threads == "1"}
    print("  on one thread (core-seconds): " + ";  ".join(f"{a} {n} {v:.2f} s" for (a, n), v in one.items()))
    answering = sum(v for (arch, name), v in one.items() if result["answering"][arch] == name)
    fastest = sum(min(v for (a, _), v in one.items() if a == arch) for arch in result["answering"])
    for what, total in (("the answering predictors", answering), ("each run's fastest file", fastest)):
        floor = total / cores
        print(f"  bound with {what}: {total:.2f} core-s / {cores} cores = {floor:.2f} s before decoding and images")
    return {"song_s": totals, **result}


def main(argv=None) -> int:
    a = parse_args(argv)
    if a._child:
        workspace.quiet_tensorflow()
        cold_child(*a._child, k=a.k, spawned=a._spawned)
        return 0
    if a._song:
        song_child(*a._song, repeats=a.song_repeats, k=a.k)
        return 0
    report.start("genrec benchmark: query latency of one 30-s clip, end to end, both models", a.keep)
    vgg, resnet, how = workspace.runs_from_args(a)

    from genrec.audio.decode import load_audio
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender, compare

    clip = Path(a.clip) if a.clip else workspace.first_clip(vgg)
    import soundfile as sf

    info = sf.info(str(clip))
    print(f"runs:     {vgg.name} / {resnet.name} ({how})")
    print(f"clip:     {clip} ({info.duration:.1f} s, {info.samplerate} Hz, {info.channels} ch, {info.subtype})")

    predictors = [x.strip() for x in a.predictors.split(",") if x.strip()]
    colds = {}
    for predictor in predictors if not a.no_cold else ():
        print(f"cold start in a fresh process (GENREC_PREDICTOR={predictor}) ...", flush=True)
        colds[predictor] = run_cold(vgg, resnet, clip, a.k, predictor)

    recs = {}
    for predictor in predictors:  # the predictor is chosen when it loads, i.e. at warm_up
        os.environ[PREDICTOR_ENV] = predictor
        recs[predictor] = [Recommender(Run.open(vgg)), Recommender(Run.open(resnet))]
        for r in recs[predictor]:
            r.warm_up()
        compare(recs[predictor], source=clip, k=a.k)  # one untimed query: first-call effects out of the figures
        staged_query(recs[predictor], clip, a.k)
    first = recs[predictors[0]]
    sizes = sorted({r.input_size for r in first})
    print(
        f"inputs:   {', '.join(f'{r.run.arch} {r.input_size}px chunks={r.chunk_seconds}' for r in first)}; "
        f"library index {len(first[0].index)} tracks; predictors "
        f"{ {p: [r._predictor.path.name for r in rs] for p, rs in recs.items()} }",
        flush=True,
    )

    e2e = {p_: [] for p_ in predictors}
    stages = {p_: [] for p_ in predictors}
    for i in range(a.repeats):
        # rotate which predictor and which measurement go first, so none systematically gets a warmer cache
        for predictor in predictors[i % len(predictors) :] + predictors[: i % len(predictors)]:
            for what in ("e2e", "staged") if i % 2 == 0 else ("staged", "e2e"):
                if what == "e2e":
                    s = time.perf_counter()
                    compare(recs[predictor], source=clip, k=a.k)
                    e2e[predictor].append(time.perf_counter() - s)
                else:
                    stages[predictor].append(staged_query(recs[predictor], clip, a.k))
    floors = {p_: report_warm(p_, e2e[p_], stages[p_], a.repeats, sizes) for p_ in predictors}
    for predictor, cold in colds.items():
        report_cold(predictor, cold, median(e2e[predictor]), a.k)
    if "float" in predictors and len(predictors) > 1:
        print("\nSIDE BY SIDE  (float / other, same run of this script; > 1 means the other is faster)")
        rows = []
        for other in (p_ for p_ in predictors if p_ != "float"):
            for stage in [n for n in stages["float"][0] if n.endswith("forward")]:
                float_ms = 1000 * median([x[stage] for x in stages["float"]])
                other_ms = 1000 * median([x[stage] for x in stages[other]])
                rows.append(
                    {
                        "what": f"{stage} (median ms)",
                        "float": float_ms,
                        other: other_ms,
                        "float/other": f"{float_ms / other_ms:.2f}x",
                    }
                )
            for label, f_, o_ in (
                ("both forwards (ms)", floors["float"], floors[other]),
                ("end to end (ms)", e2e["float"], e2e[other]),
            ):
                rows.append(
                    {
                        "what": label,
                        "float": 1000 * median(f_),
                        other: 1000 * median(o_),
                        "float/other": f"{median(f_) / median(o_):.2f}x",
                    }
                )
            if "float" in colds and other in colds:
                f_, o_ = colds["float"]["spawn_to_first_answer_s"], colds[other]["spawn_to_first_answer_s"]
                rows.append(
                    {
                        "what": "cold: spawn -> first answer (s)",
                        "float": f_,
                        other: o_,
                        "float/other": f"{f_ / o_:.2f}x",
                    }
                )
            print(report.table(rows, ["what", "float", other, "float/other"], "{:.2f}"))

    runtimes = compare_runtimes(first, images_for(first, clip), a.repeats)
    spectrogram_rows = spectrogram.side_by_side(load_audio(clip), 2 * a.repeats)
    song = None
    if a.song_repeats > 0:
        song_path = make_song(vgg, a.song_seconds)
        song = song_latency(vgg, resnet, song_path, clip, a.song_repeats, a.k, predictors[0])
    report.dump_json(
        a.json,
        {
            "runs": [str(vgg), str(resnet)],
            "clip": str(clip),
            "e2e_s": e2e,
            "stages_s": stages,
            "floor_s": floors,
            "cold": colds,
            "runtimes": runtimes,
            "spectrogram": spectrogram_rows,
            "song": song,
        },
    )
    return 0


def report_warm(predictor: str, e2e: list, stages: list, repeats: int, sizes: list) -> list:
    """Print one predictor's warm per-stage table; return its forward floor per query."""
    names = list(stages[0])
    fwd = [n for n in names if n.endswith("forward")]
    floor = [sum(s[n] for n in fwd) for s in stages]
    staged_total = [sum(s.values()) for s in stages]
    rows = []
    for label, xs in [(n, [s[n] for s in stages]) for n in names] + [
        ("sum of stages", staged_total),
        ("floor: both forwards", floor),
        ("END TO END compare()", e2e),
    ]:
        lo, hi = iqr(xs)
        rows.append(
            {
                "stage": label,
                "median_ms": 1000 * median(xs),
                "p25_ms": 1000 * lo,
                "p75_ms": 1000 * hi,
                "share_of_e2e": f"{100 * median(xs) / median(e2e):.1f}%",
            }
        )
    print(
        f"\nWARM, GENREC_PREDICTOR={predictor}  (median of {repeats} in-process queries after warm-up; "
        f"input {'/'.join(map(str, sizes))}px)"
    )
    print(report.table(rows, ["stage", "median_ms", "p25_ms", "p75_ms", "share_of_e2e"], "{:.1f}"))
    print(
        f"end-to-end / floor (two forward passes alone) = {median(e2e) * 1000:.0f} ms / "
        f"{median(floor) * 1000:.0f} ms = {median(e2e) / median(floor):.2f}x"
    )
    return floor


def report_cold(predictor: str, cold: dict, warm_median: float, k: int) -> None:
    keys = [
        "interpreter_start_s",
        "import_genrec_s",
        "open_runs_and_index_s",
        "load_models_s",
        "first_query_s",
        "second_query_s",
    ]
    print(f"\nCOLD, GENREC_PREDICTOR={predictor}  (one fresh process: interpreter, import, load, first query)")
    print(
        report.table(
            [{"stage": k_.removesuffix("_s").replace("_", " "), "seconds": cold[k_]} for k_ in keys]
            + [{"stage": "spawn -> first answer", "seconds": cold["spawn_to_first_answer_s"]}],
            ["stage", "seconds"],
            "{:.2f}",
        )
    )
    print(
        f"first query / warm median = {cold['first_query_s'] / warm_median:.1f}x;  "
        f"child peak RSS {cold['peak_rss_mb']:.0f} MB; predictors {cold['predictors']}; "
        f"TensorFlow imported: {cold['tensorflow_imported']}"
    )
    print(f"cold answer (arch, genre, top-{k}): {cold['first_answer']}")


if __name__ == "__main__":
    report.run_script(main)
