"""The 224×224×3 image of one 30-s clip: genrec's spectrogram before and after the float32 rewrite, side by side.

* before: the librosa-exact code genrec used until issue 21 (float64 window and FFT, the full (N_MELS × bins)
  mel product on one BLAS thread), kept here as :func:`exact_mel_db` only to be timed and compared against;
* after: :func:`genrec.audio.spectrogram.mel_db` (float32, blocks of frames, only the bins each band
  covers), on one thread and on :func:`genrec.utils.machine.cpu_threads` threads (what
  :func:`genrec.audio.spectrogram.images_of` uses for one clip).

Each way is timed on the same clip in alternating order, ``--repeats`` times, from the audio to the image
(``db_to_image``, the same for all). Then, over the GTZAN sample in ../shared (or generated clips where it is
absent), how far the new images are from the old ones: the largest dB difference inside the image's
[DB_FLOOR, DB_CEIL] range, in grey levels, and the pixels whose rounded level differs. With
``--vgg16 RUN --resnet50 RUN`` also each run's pooled prediction from old and new images.

``benchmarks.latency`` prints the same timing table (:func:`side_by_side`).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import report, workspace
from benchmarks.measure import cpu_seconds, iqr, median

if TYPE_CHECKING:  # numpy is imported where it is used: benchmarks.latency's cold child times its own imports
    import numpy as np


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeats", type=int, default=40, help="timed images per way (default 40)")
    p.add_argument("--clips", type=int, default=60, help="clips for the image comparison (default 60, 0: none)")
    p.add_argument("--vgg16", help="a run folder: compare its pooled predictions on old and new images")
    p.add_argument("--resnet50", help="a run folder: as --vgg16")
    workspace.add_json_arg(p)
    return p.parse_args(argv)


def exact_mel_db(y: np.ndarray, sr: int) -> np.ndarray:
    """genrec's mel_db before issue 21: librosa's own float64 arithmetic, bit for bit (the baseline)."""
    import numpy as np
    import scipy.fft

    from genrec.audio import spectrogram as s
    from genrec.config import HOP_LENGTH, N_FFT

    padded = np.pad(y, N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH].T
    spectrum = scipy.fft.rfft(s._hann_window(N_FFT)[:, None] * frames, axis=-2).astype(np.complex64)
    power = np.abs(spectrum) ** 2.0
    with s._one_blas_thread():
        mel = np.einsum("...ft,mf->...mt", power, s._mel_filterbank(sr), optimize=True)
    return (10.0 * np.log10(np.maximum(1e-10, mel)) - 10.0 * np.log10(s.REF_POWER)).astype(np.float32)


def ways() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Audio -> (N_MELS, frames) dB, each way this benchmark times."""
    from genrec.audio.spectrogram import mel_db
    from genrec.config import SAMPLE_RATE
    from genrec.utils.machine import cpu_threads

    return {
        "before: float64, librosa-exact": lambda y: exact_mel_db(y, SAMPLE_RATE),
        "after: float32, 1 thread": lambda y: mel_db(y),
        f"after: float32, {cpu_threads()} threads": lambda y: mel_db(y, threads=cpu_threads()),
    }


def side_by_side(y: np.ndarray, repeats: int) -> list[dict]:
    """Time each of :func:`ways` from audio to image on ``y``, alternating; print and return the table rows.

    Besides the median wall time: the fastest (on a shared machine, the calls no other job interrupted) and
    the CPU time of the process (all threads), which other jobs do not inflate.
    """
    from genrec.audio.spectrogram import db_to_image

    timed = ways()
    times: dict[str, list[float]] = {name: [] for name in timed}
    cpu: dict[str, list[float]] = {name: [] for name in timed}
    for way in timed.values():  # untimed: first-call effects (caches, thread start) out of the figures
        db_to_image(way(y))
    names = list(timed)
    for i in range(repeats):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            start, start_cpu = time.perf_counter(), cpu_seconds()
            db_to_image(timed[name](y))
            times[name].append(time.perf_counter() - start)
            cpu[name].append(cpu_seconds() - start_cpu)
    before = median(times[names[0]])
    rows = []
    for name in names:
        low, high = iqr(times[name])
        rows.append(
            {
                "30-s clip -> 224x224x3 image": name,
                "median ms": 1000 * median(times[name]),
                "IQR ms": f"{1000 * low:.1f}-{1000 * high:.1f}",
                "fastest ms": 1000 * min(times[name]),
                "CPU ms": 1000 * median(cpu[name]),
                "before/this": f"{before / median(times[name]):.2f}x",
            }
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nSPECTROGRAM IMAGE, before and after (median of {repeats}, alternating; 1-min load now {load:.2f})")
    print(report.table(rows, floatfmt="{:.1f}"))
    return rows


def clips(n: int) -> list[Path]:
    """Up to ``n`` clips spread over the GTZAN sample's genres (generated ones where it is absent)."""
    root, _ = workspace.default_library()
    paths = sorted(p for p in root.rglob("*.*") if p.suffix.lower() in {".wav", ".au", ".flac"})
    return paths[:: max(1, len(paths) // n)][:n] if n else []


def image_differences(paths: list[Path]) -> dict:
    """Old against new: whole-clip and 3-s chunk images of each clip."""
    import numpy as np

    from genrec.audio.decode import chunk_audio, load_audio
    from genrec.audio.spectrogram import DB_CEIL, DB_FLOOR, db_to_image, mel_db
    from genrec.config import IMAGE_SIZE, SAMPLE_RATE

    worst_db, images, differing, pixels = 0.0, 0, 0, 0
    for path in paths:
        y = load_audio(path)
        for piece in [y, *chunk_audio(y, 3.0, SAMPLE_RATE)]:
            old, new = exact_mel_db(piece, SAMPLE_RATE), mel_db(piece)
            gap = np.abs(np.clip(old, DB_FLOOR, DB_CEIL) - np.clip(new, DB_FLOOR, DB_CEIL)).max()
            worst_db = max(worst_db, float(gap))
            changed = int((db_to_image(old)[..., 0] != db_to_image(new)[..., 0]).sum())
            images, differing, pixels = images + 1, differing + (changed > 0), pixels + changed
    levels = worst_db * 255 / (DB_CEIL - DB_FLOOR)
    print(f"\nIMAGES, before vs after, on {len(paths)} clips (whole clip + ten 3-s chunks each):")
    print(
        f"  largest dB difference inside [{DB_FLOOR:g}, {DB_CEIL:g}] dB: {worst_db:.4f} dB = {levels:.4f} grey levels"
    )
    print(f"  images with a pixel a level apart: {differing} of {images}; pixels {pixels} of {images * IMAGE_SIZE**2}")
    return {"worst_db": worst_db, "worst_levels": levels, "images": images, "differing": differing, "pixels": pixels}


def prediction_differences(run_dirs: list[Path], paths: list[Path]) -> list[dict]:
    """Each run's pooled prediction per clip from old and from new images, with its float and 8-bit predictor.

    For scale, the last column is the same predictor's own spread: the new images answered one clip a call
    against all clips in one call (8-bit activations are quantized per call, so the batch moves them).
    """
    import numpy as np

    from genrec.audio.decode import chunk_audio, load_audio
    from genrec.audio.spectrogram import audio_to_images, db_to_image
    from genrec.config import SAMPLE_RATE
    from genrec.model.predict import LitePredictor, choose_predictor, predict_clips
    from genrec.runs.reader import Run

    rows = []
    for run_dir in run_dirs:
        run = Run.open(run_dir)
        chunk, size = run.spectrogram.chunk_seconds, run.spectrogram.size
        old, new = [], []
        for path in paths:
            y = load_audio(path, seconds=run.spectrogram.clip_seconds)
            pieces = list(chunk_audio(y, chunk, SAMPLE_RATE)) if chunk else [y]
            old.append(np.stack([db_to_image(exact_mel_db(p, SAMPLE_RATE), size) for p in pieces]))
            new.append(audio_to_images(y, chunk_seconds=chunk, size=size))
        for setting in ("float", "int8"):
            choice = choose_predictor(run, setting)
            if choice.kind == "keras" or (setting == "int8" and choice.kind != "int8"):
                continue
            predictor = LitePredictor(choice.path)
            p_old, _ = predict_clips(predictor, old)
            p_new, _ = predict_clips(predictor, new)
            p_alone = np.concatenate([predict_clips(predictor, [images])[0] for images in new])
            rows.append(
                {
                    "run": run_dir.name,
                    "predictor": choice.path.name,
                    "clips": len(paths),
                    "same top-1": f"{int((p_old.argmax(1) == p_new.argmax(1)).sum())}/{len(paths)}",
                    "max |prob diff|": f"{np.abs(p_old - p_new).max():.1e}",
                    "own spread": f"{np.abs(p_alone - p_new).max():.1e}",
                }
            )
    print("\nPOOLED PREDICTIONS, before vs after images (own spread: same images, one clip a call vs all at once)")
    print(report.table(rows))
    return rows


def main(argv=None) -> int:
    a = parse_args(argv)
    report.start("genrec benchmark: the spectrogram image of one 30-s clip, before and after")
    from genrec.audio.decode import load_audio

    paths = clips(max(a.clips, 1))
    y = load_audio(paths[0], seconds=30.0)
    print(f"clip:     {paths[0]} ({len(y)} samples)", flush=True)
    timing = side_by_side(y, a.repeats)
    images = image_differences(paths[: a.clips]) if a.clips else None
    run_dirs = [Path(r) for r in (a.vgg16, a.resnet50) if r]
    predictions = prediction_differences(run_dirs, paths[: a.clips]) if run_dirs and a.clips else None
    report.dump_json(a.json, {"timing": timing, "images": images, "predictions": predictions})
    return 0


if __name__ == "__main__":
    report.run_script(main)
