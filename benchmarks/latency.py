"""Query latency through genrec's public path, float against each run's chosen 8-bit predictor, side by side.

Both settings of ``GENREC_PREDICTOR`` are measured in one run of the script, their order alternating:

* forward passes: each run's predictor as ``genrec.model.predict.load_predictor`` loads it under ``float``
  (``predictor.tflite``) and under ``int8`` (``predictor-int8.tflite``, made by the recipe its
  ``predictor-int8.json`` names), on the images of one 30-s clip; wall time and CPU time (all threads);
* end to end: ``genrec.serve.answer`` for that clip as a file (decode, images, both runs, top-k), what
  ``genrec recommend`` and the Compare page call;
* whole song: ``genrec.serve.answer`` for a ``--song-seconds`` file of real clips one after another, written
  as a 44.1 kHz stereo WAV so decoding resamples, as a user's file would;
* cold start: per setting, a fresh interpreter from spawn to its first answer (it never imports TensorFlow);
* spectrogram: the clip's images (``genrec.audio.spectrogram.audio_to_images``), the same for both settings.

It also prints which predictor ``auto`` picks for each run and why, the CPU flags and the load average.
Nothing here imports TensorFlow unless runs are trained here (then the warm figures follow TensorFlow's
thread pools; the script says so). ``benchmarks.spectrogram`` compares the spectrogram with librosa's.

Without --vgg16/--resnet50 it first trains two tiny-but-real runs on the GTZAN sample (random-init weights,
few epochs, 224 px: the forward cost depends on the input size, not on the weights' values), with no 8-bit
file; then both columns answer in float and the script says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

T_PROCESS_START = time.time()  # before anything else is imported: the cold child's clock starts here

from benchmarks import report, workspace  # noqa: E402
from benchmarks.measure import iqr, median, peak_rss_mb  # noqa: E402

# genrec.model.predict.PREDICTOR_ENV, not imported so that the cold child imports genrec itself
PREDICTOR_ENV = "GENREC_PREDICTOR"
SETTINGS = ("float", "int8")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    workspace.add_run_args(p, train_epochs=3)
    p.add_argument("--clip", help="the 30-s query clip (default: the GTZAN sample's first, else the library's)")
    p.add_argument("--repeats", type=int, default=20, help="warm queries per setting (default 20)")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--no-cold", action="store_true", help="skip the cold-start subprocesses")
    p.add_argument("--song-seconds", type=float, default=240.0, help="length of the whole-song query (default 240)")
    p.add_argument("--song-repeats", type=int, default=5, help="warm whole songs per setting (default 5; 0: none)")
    workspace.add_keep_arg(p)
    workspace.add_json_arg(p)
    p.add_argument("--_child", nargs=3, metavar=("VGG", "RESNET", "CLIP"), help=argparse.SUPPRESS)
    p.add_argument("--_spawned", type=float, help=argparse.SUPPRESS)
    return p.parse_args(argv)


@contextlib.contextmanager
def predictor_setting(setting: str) -> Iterator[None]:
    """``GENREC_PREDICTOR=setting`` while predictors load (``load_predictor`` reads it then), restored after."""
    before = os.environ.get(PREDICTOR_ENV)
    os.environ[PREDICTOR_ENV] = setting
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PREDICTOR_ENV, None)
        else:
            os.environ[PREDICTOR_ENV] = before


# --------------------------------------------------------------------------- cold start (a fresh child)
def cold_child(vgg: str, resnet: str, clip: str, k: int, spawned: float) -> None:
    """Runs in a fresh interpreter: its steps to the first answer of ``genrec.serve.answer``, as one JSON line."""
    out = {"interpreter start": T_PROCESS_START - spawned}
    t = time.perf_counter()
    from genrec.runs.reader import Run
    from genrec.serve import Recommender, answer
    from genrec.serve.queries import file_query

    out["import genrec"] = time.perf_counter() - t
    t = time.perf_counter()
    recs = [Recommender(Run.open(vgg)), Recommender(Run.open(resnet))]
    out["open runs + index"] = time.perf_counter() - t
    t = time.perf_counter()
    files = [getattr(r.predictor, "path", Path("model.keras")).name for r in recs]
    out["load predictors"] = time.perf_counter() - t
    t = time.perf_counter()
    answer(recs, file_query(clip), k=k)
    out["first answer"] = time.perf_counter() - t
    out["spawn -> first answer"] = time.time() - spawned
    t = time.perf_counter()
    answer(recs, file_query(clip), k=k)
    out["second answer"] = time.perf_counter() - t
    extra = {"files": files, "peak_rss_mb": peak_rss_mb(), "tensorflow": "tensorflow" in sys.modules}
    print("COLD " + json.dumps({"steps": out, **extra}), flush=True)


def run_cold(vgg: Path, resnet: Path, clip: Path, k: int, setting: str) -> dict:
    """:func:`cold_child` in a fresh interpreter under ``GENREC_PREDICTOR=setting``; the JSON it printed."""
    spawned = time.time()
    args = ["--_child", str(vgg), str(resnet), str(clip), "-k", str(k), "--_spawned", repr(spawned)]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.latency", *args],
        capture_output=True,
        text=True,
        env={**os.environ, PREDICTOR_ENV: setting},
        cwd=str(workspace.PROJECT),
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("COLD ")), None)
    if proc.returncode or not line:
        raise RuntimeError(f"cold-start subprocess failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(line.removeprefix("COLD "))


# --------------------------------------------------------------------------- warm (this process)
def recommenders(runs: list, setting: str) -> list:
    """A Recommender per run with its predictor loaded and traced under ``setting``."""
    from genrec.serve import Recommender

    recs = [Recommender(run) for run in runs]
    with predictor_setting(setting):
        for r in recs:
            r.warm_up()
    return recs


def clip_windows(recs: list, clip: Path) -> dict:
    """Each run's analysis window of ``clip``, from one decode, as ``genrec.serve.answer`` cuts them."""
    from genrec.audio.decode import decode_audio
    from genrec.serve.windows import windows_of

    seconds = [r.clip_seconds for r in recs]
    return windows_of(decode_audio(clip, seconds=max(seconds)), seconds)


def clip_images(recs: list, windows: dict) -> dict[str, object]:
    """Each run's images of its window, made once per distinct input as ``genrec.serve.answer`` makes them."""
    from genrec.audio.spectrogram import audio_to_images

    made: dict[tuple, object] = {}
    for r in recs:
        key = (r.clip_seconds, r.chunk_seconds, r.input_size)
        if key not in made:
            made[key] = audio_to_images(windows[r.clip_seconds], chunk_seconds=r.chunk_seconds, size=r.input_size)
    return {r.run.arch: made[(r.clip_seconds, r.chunk_seconds, r.input_size)] for r in recs}


def timed(fn) -> tuple[float, float]:
    """(wall s, CPU s of this process, all threads) of one call of ``fn``."""
    s, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - s, time.process_time() - c


def warm(recs: dict[str, list], clip: Path, repeats: int, k: int) -> dict[str, dict[str, list[float]]]:
    """Per setting, the wall (and CPU) times of each forward pass and of ``answer``; the images' under "images".

    Settings and measurements rotate each round, so neither gets a systematically warmer cache.
    """
    from genrec.serve import answer
    from genrec.serve.queries import file_query

    images = clip_images(recs[SETTINGS[0]], clip_windows(recs[SETTINGS[0]], clip))
    for setting in SETTINGS:  # untimed: first-call effects out of the figures
        answer(recs[setting], file_query(clip), k=k)
    times: dict[str, dict[str, list[float]]] = {s: {} for s in (*SETTINGS, "images")}
    for i in range(repeats):
        wall, _ = timed(lambda: clip_images(recs[SETTINGS[0]], clip_windows(recs[SETTINGS[0]], clip)))
        times["images"].setdefault("decode + images", []).append(wall)
        for setting in SETTINGS[i % 2 :] + SETTINGS[: i % 2]:
            got = times[setting]
            for r in recs[setting] if i % 2 == 0 else recs[setting][::-1]:
                wall, cpu = timed(lambda r=r: r.predictor(images[r.run.arch]))
                got.setdefault(f"{r.run.arch} forward", []).append(wall)
                got.setdefault(f"{r.run.arch} forward CPU", []).append(cpu)
            wall, _ = timed(lambda setting=setting: answer(recs[setting], file_query(clip), k=k))
            got.setdefault("end to end", []).append(wall)
    return times


def spectrogram_times(recs: list, clip: Path, repeats: int) -> list[float]:
    """The clip's images alone (:func:`clip_images`), from windows decoded once beforehand."""
    windows = clip_windows(recs, clip)
    clip_images(recs, windows)  # untimed: first-call effects out of the figures
    return [timed(lambda: clip_images(recs, windows))[0] for _ in range(2 * repeats)]


def make_song(clips: list[Path], seconds: float, target: Path) -> Path:
    """A ``seconds``-long 44.1 kHz stereo WAV of ``clips`` one after another, as a user's song file would be."""
    import numpy as np
    import soundfile as sf
    import soxr

    from genrec.audio.decode import load_audio
    from genrec.config import SAMPLE_RATE

    pieces, total = [], 0
    while total < seconds * SAMPLE_RATE:
        pieces.append(load_audio(clips[len(pieces) % len(clips)], seconds=30.0))
        total += len(pieces[-1])
    mono = soxr.resample(np.concatenate(pieces)[: int(seconds * SAMPLE_RATE)], SAMPLE_RATE, 44100)
    sf.write(target, np.stack([mono, mono], axis=1), 44100, subtype="PCM_16")
    return target


def song_times(recs: dict[str, list], song: Path, repeats: int, k: int) -> tuple[dict[str, list[float]], int]:
    """Per setting, the wall times of ``answer`` for the whole song (alternating); and its windows per run."""
    from genrec.serve import SONG, answer
    from genrec.serve.queries import file_query

    reply = answer(recs[SETTINGS[0]], file_query(song), k=k)  # untimed warm-up
    if reply.kind != SONG:
        raise RuntimeError(f"{song} was answered as a {reply.kind}, not a song; give a longer --song-seconds")
    times: dict[str, list[float]] = {s: [] for s in SETTINGS}
    for i in range(repeats):
        for setting in SETTINGS[i % 2 :] + SETTINGS[: i % 2]:
            times[setting].append(timed(lambda setting=setting: answer(recs[setting], file_query(song), k=k))[0])
    return times, len(reply.song.timelines[0].starts)


# --------------------------------------------------------------------------- report
def describe(runs: list, clip: Path, how: str) -> dict[str, str]:
    """Print the runs, the clip and each setting's predictor per run; return each run's 8-bit recipe."""
    import soundfile as sf

    from genrec.model.predict import choose_predictor

    info = sf.info(str(clip))
    print(f"runs:     {', '.join(r.path.name for r in runs)} ({how})")
    print(f"clip:     {clip} ({info.duration:.1f} s, {info.samplerate} Hz, {info.channels} ch, {info.subtype})")
    recipes = {}
    for run in runs:
        chosen = {s: choose_predictor(run, s) for s in (*SETTINGS, "auto")}
        got = chosen["int8"]
        recipes[run.arch] = got.agreement.recipe if got.kind == "int8" and got.agreement else "none"
        if got.kind != "int8":
            print(f"!! {run.arch}: no 8-bit predictor ({got.reason}); its int8 column is float")
        print(f"{run.arch + ':':9} int8 = {got.path.name} ({recipes[run.arch]} recipe; {got.agreement})")
        print(f"          auto answers with {chosen['auto']}")
    return recipes


def ratio_row(what: str, f: list[float], q: list[float], scale: float, fmt: str) -> dict:
    """One row of the side-by-side table: medians (and IQRs) of float and 8-bit, and float / 8-bit."""
    row = {"what": what}
    for name, xs in (("float", f), ("8-bit", q)):
        lo, hi = iqr(xs)
        spread = f" ({fmt.format(scale * lo)}-{fmt.format(scale * hi)})" if len(xs) > 1 else ""
        row[name] = fmt.format(scale * median(xs)) + spread
    row["float / 8-bit"] = f"{median(f) / median(q):.2f}x"
    return row


def side_by_side(times: dict, colds: dict, songs: dict | None, spectrogram: list[float], recipes: dict) -> list[dict]:
    """Print the table of medians (IQR) float against 8-bit; return its rows."""
    f, q = times["float"], times["int8"]
    rows = [ratio_row(f"{name} (ms)", f[name], q[name], 1000, "{:.0f}") for name in f if name != "end to end"]
    both = [[a + b for a, b in zip(*(t[n] for n in t if n.endswith("forward")))] for t in (f, q)]
    rows.append(ratio_row("both forward passes (ms)", *both, 1000, "{:.0f}"))
    rows.append(
        ratio_row("END TO END, answer() on the 30-s file (ms)", f["end to end"], q["end to end"], 1000, "{:.0f}")
    )
    if songs:
        rows.append(ratio_row("WHOLE SONG, answer() (s)", songs["float"], songs["int8"], 1, "{:.2f}"))
    if colds:
        for step in ("spawn -> first answer", "first answer"):
            f_, q_ = ([colds[s]["steps"][step]] for s in SETTINGS)
            rows.append(ratio_row(f"COLD: {step} (s)", f_, q_, 1, "{:.2f}"))
        f_, q_ = ([colds[s]["peak_rss_mb"]] for s in SETTINGS)
        rows.append(ratio_row("COLD: the child's peak RSS (MB)", f_, q_, 1, "{:.0f}"))
    images = ratio_row("spectrogram: the clip's images (ms)", spectrogram, spectrogram, 1000, "{:.1f}")
    rows.append({**images, "8-bit": "the same", "float / 8-bit": ""})
    recipe = ", ".join(f"{arch} {name}" for arch, name in recipes.items())
    print(f"\nSIDE BY SIDE: float against the chosen 8-bit ({recipe}); median (IQR); > 1x: 8-bit faster (smaller)")
    print(report.table(rows, ["what", "float", "8-bit", "float / 8-bit"]))
    return rows


def print_context(times: dict, colds: dict, songs: dict | None, windows: int, repeats: int, song_repeats: int) -> None:
    """The lines that say what the table's figures are: counts, the cold children, the machine now."""
    print(
        f"forward passes and end to end: {repeats} rounds; whole song: {song_repeats} per setting, {windows} windows "
        f"per run; 'decode + images' median {1000 * median(times['images']['decode + images']):.0f} ms; CPU: this "
        "process's CPU time over all threads (other jobs do not inflate it)"
    )
    for setting, cold in colds.items():
        steps = ", ".join(f"{k} {v:.2f} s" for k, v in cold["steps"].items())
        print(
            f"cold {setting}: {steps}; files {cold['files']}; peak RSS {cold['peak_rss_mb']:.0f} MB; "
            f"TensorFlow imported: {cold['tensorflow']}"
        )
    load = os.getloadavg()
    print(f"cpu flags: {report.cpu_flags()}")
    print(f"load:      1/5/15-min load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    print(f"TensorFlow imported in this process: {'tensorflow' in sys.modules}")


def default_clip(run_dir: Path) -> Path:
    """The GTZAN sample's first clip (real music, not in a demo library), else the run's library's first."""
    found = sorted(workspace.SHARED_SAMPLE.rglob("*.wav"))
    return found[0] if found else workspace.first_clip(run_dir)


def song_clips(run_dir: Path) -> list[Path]:
    """Real clips for the song: one of each GTZAN sample genre where it is here, else the run's library."""
    found = sorted(workspace.SHARED_SAMPLE.rglob("*.00001.wav"))
    return found or [workspace.first_clip(run_dir)]


def main(argv=None) -> int:
    a = parse_args(argv)
    if a._child:
        cold_child(*a._child, k=a.k, spawned=a._spawned)
        return 0
    home = report.start("genrec benchmark: latency through genrec.serve.answer, float against 8-bit", a.keep)
    vgg, resnet, how = workspace.runs_from_args(a)

    from genrec.runs.reader import Run

    runs = [Run.open(vgg), Run.open(resnet)]
    clip = Path(a.clip) if a.clip else default_clip(vgg)
    recipes = describe(runs, clip, how)
    colds = {} if a.no_cold else {s: run_cold(vgg, resnet, clip, a.k, s) for s in SETTINGS}
    recs = {s: recommenders(runs, s) for s in SETTINGS}
    times = warm(recs, clip, a.repeats, a.k)
    spectrogram = spectrogram_times(recs["float"], clip, a.repeats)
    songs, windows = None, 0
    if a.song_repeats > 0:
        song = make_song(song_clips(vgg), a.song_seconds, home / "song.wav")
        songs, windows = song_times(recs, song, a.song_repeats, a.k)
    rows = side_by_side(times, colds, songs, spectrogram, recipes)
    print_context(times, colds, songs, windows, a.repeats, a.song_repeats)
    report.dump_json(
        a.json,
        {"runs": [str(vgg), str(resnet)], "clip": str(clip), "recipes": recipes, "warm_s": times, "song_s": songs}
        | {"cold": colds, "spectrogram_s": spectrogram, "table": rows, "cpu_flags": report.cpu_flags()},
    )
    return 0


if __name__ == "__main__":
    report.run_script(main)
