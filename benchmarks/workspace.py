"""What a benchmark works on: a quiet TensorFlow, a throwaway GENREC_HOME, the library and runs to measure.

Every benchmark writes its caches and runs into a temporary GENREC_HOME / GENREC_RUNS (never into the
project's ``models/`` or ``data/``).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SHARED_SAMPLE = PROJECT.parent / "shared" / "data" / "gtzan-sample"
AUDIO_SUFFIXES = (".wav", ".au", ".flac", ".ogg", ".mp3")


def quiet_tensorflow() -> None:
    """Keep TensorFlow's start-up chatter and Python warnings out of the benchmark output.

    Call it first in ``main()``: TF_CPP_MIN_LOG_LEVEL only counts if set before TensorFlow is imported,
    and the environment variables also quieten the subprocesses a benchmark starts.
    """
    import logging
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    warnings.filterwarnings("ignore")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass


def setup_home(keep: bool = False, prefix: str = "genrec-bench-") -> Path:
    """Point GENREC_HOME / GENREC_RUNS at a fresh temp dir (removed at exit unless ``keep``)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["GENREC_HOME"] = str(root / "data")
    os.environ["GENREC_RUNS"] = str(root / "runs")
    if not keep:
        atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def default_library(n_per_genre: int = 6, seconds: float = 30.0) -> tuple[Path, str]:
    """The shared real GTZAN sample if present, else a generated GTZAN-layout folder of WAV clips.

    Returns (folder, description).
    """
    if SHARED_SAMPLE.is_dir() and any(SHARED_SAMPLE.rglob("*.wav")):
        n = sum(1 for _ in SHARED_SAMPLE.rglob("*.wav"))
        return SHARED_SAMPLE, f"{SHARED_SAMPLE} ({n} real GTZAN clips)"
    return generated_library(n_per_genre, seconds), (
        f"generated folder ({n_per_genre} synthetic {seconds:g}-s clips per genre; {SHARED_SAMPLE} not found)"
    )


def generated_library(n_per_genre: int = 6, seconds: float = 30.0) -> Path:
    """A GTZAN-layout folder <genre>/<genre>.000NN.wav of genrec's synthetic clips, under GENREC_HOME."""
    import soundfile as sf

    import genrec.data.synth as synth
    from genrec.config import GENRES, SAMPLE_RATE

    root = Path(os.environ.get("GENREC_HOME", tempfile.mkdtemp())) / "generated-gtzan"
    for genre in GENRES:
        for i in range(n_per_genre):
            path = root / genre / f"{genre}.{i:05d}.wav"
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, synth.synthesize_clip(genre, i, seed=0, seconds=seconds), SAMPLE_RATE, subtype="PCM_16")
    return root


def train_two_runs(library: str | None, epochs: int, input_size: int) -> tuple[Path, Path, str]:
    """Train a tiny-but-real VGG16 run and ResNet50 run into GENREC_RUNS; return (vgg16, resnet50, how).

    Random-init weights (ImageNet weights cannot be downloaded here); forward cost and memory depend on
    the architecture and input size, not on the weights' values.
    """
    from genrec.training.trainer import TrainConfig, train

    root, desc = (Path(library), library) if library else default_library()
    runs = []
    for arch in ("vgg16", "resnet50"):
        t = time.perf_counter()
        cfg = TrainConfig(
            arch=arch,
            library=str(root),
            epochs=epochs,
            weights="none",
            input_size=input_size,
            out=os.environ["GENREC_RUNS"],
        )
        runs.append(train(cfg))
        print(f"trained {arch} run {runs[-1].name} in {time.perf_counter() - t:.0f} s", flush=True)
    how = (
        f"trained here on {desc}: weights 'none' (random init; ImageNet weights cannot be downloaded "
        f"here), {epochs} epochs, {input_size}px"
    )
    return runs[0], runs[1], how


#: Benchmark options that are TrainConfig fields of the same name: (type, help with the default's place).
#: ``bool`` marks a flag.
TRAIN_OPTIONS: dict[str, tuple[type, str]] = {
    "epochs": (int, "at most this many epochs (default {})"),
    "patience": (int, "early-stopping patience in epochs (default {})"),
    "batch_size": (int, "images per training batch (default {})"),
    "input_size": (int, "image side in pixels (default {})"),
    "seed": (int, "training seed (default {})"),
    "weights": (str, "imagenet (the paper's; Keras downloads it), none (random init) or a weights file (default {})"),
    "chunk_seconds": (float, "cut each clip into chunks of this many seconds (default: the whole 30-s clip)"),
    "last_four_trainable": (bool, "also train the backbone's last four weighted layers (the paper's switch)"),
}


def add_train_args(parser: argparse.ArgumentParser, **defaults: object) -> None:
    """Add ``--NAME`` for each keyword (a TRAIN_OPTIONS name) with that default; ``train_config`` reads them.

    A flag's keyword (``last_four_trainable=False``) is its default too: off.
    """
    for name, default in defaults.items():
        kind, text = TRAIN_OPTIONS[name]
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            parser.add_argument(flag, action="store_true", help=text)
        else:
            parser.add_argument(flag, type=kind, default=default, help=text.format(default))


def train_config(args: argparse.Namespace, arch: str, **overrides: object):
    """A TrainConfig from the TRAIN_OPTIONS ``args`` has, then ``overrides``; runs go to GENREC_RUNS by default."""
    from genrec.training.trainer import TrainConfig

    given = {name: getattr(args, name) for name in TRAIN_OPTIONS if hasattr(args, name)}
    return TrainConfig(arch=arch, **{"out": os.environ["GENREC_RUNS"], **given, **overrides})


def add_keep_arg(parser: argparse.ArgumentParser) -> None:
    """``--keep``: keep the throwaway GENREC_HOME (``setup_home``) instead of removing it at exit."""
    parser.add_argument("--keep", action="store_true", help="keep the temporary GENREC_HOME (runs, caches)")


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    """``--json``: where ``report.dump_json`` writes the raw figures."""
    parser.add_argument("--json", help="also write the raw figures to this JSON file")


def add_run_args(parser: argparse.ArgumentParser, train_epochs: int) -> None:
    """The options naming the two runs to measure, or how to train them here (``runs_from_args`` reads them)."""
    parser.add_argument("--vgg16", help="a saved VGG16 run folder (default: train one)")
    parser.add_argument("--resnet50", help="a saved ResNet50 run folder (default: train one)")
    parser.add_argument(
        "--library",
        help=f"library to train on when no runs are given (default {SHARED_SAMPLE.name}, else generated clips)",
    )
    parser.add_argument(
        "--train-epochs", type=int, default=train_epochs, help=f"epochs of the runs trained here ({train_epochs})"
    )
    parser.add_argument("--input-size", type=int, default=224, help="input size of the runs trained here (224)")


def runs_from_args(args: argparse.Namespace) -> tuple[Path, Path, str]:
    """The two runs given on the command line (``add_run_args``), or two trained here when neither is given."""
    if args.vgg16 and args.resnet50:
        return Path(args.vgg16).resolve(), Path(args.resnet50).resolve(), "given on the command line"
    if args.vgg16 or args.resnet50:
        sys.exit("give both --vgg16 and --resnet50, or neither (then two runs are trained here)")
    return train_two_runs(args.library, args.train_epochs, args.input_size)


def first_clip(run_dir: Path) -> Path:
    """The first audio file of a run's library (a real 30-s clip for the GTZAN sample)."""
    from genrec.runs.reader import Run

    tracks = Run.open(run_dir).tracks
    paths = sorted(p for p in tracks["path"] if Path(p).suffix.lower() in AUDIO_SUFFIXES and Path(p).is_file())
    if not paths:
        raise SystemExit(f"{run_dir}: none of its library's audio files is on this machine; pass --clip")
    return Path(paths[0])
