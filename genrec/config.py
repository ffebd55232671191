"""Constants shared by every stage, so training, evaluation and the app agree."""

from __future__ import annotations

import os
from pathlib import Path

#: The ten GTZAN genres, in label-index order.
GENRES: tuple[str, ...] = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)
#: Genre name -> label index (the position in ``GENRES``).
GENRE_INDEX: dict[str, int] = {genre: index for index, genre in enumerate(GENRES)}

SAMPLE_RATE = 22050  # GTZAN's own rate; everything is resampled to it
CLIP_SECONDS = 30.0  # the analysis window of one clip
MIN_SECONDS = 3.0  # shorter audio is refused rather than padded
MAX_SONG_SECONDS = 600.0  # whole-song analysis covers at most this much (the middle of longer files)
#: How much longer than a run's window an upload may be and still count as one clip (its middle window),
#: not a song: GTZAN's "30-s" clips last up to about 30.6 s. A song's rest after its last whole window is
#: given a window of its own only when longer than this (genrec.song.window_starts).
SONG_SLACK_SECONDS = 1.0
N_MELS = 128
#: Power in dB (against a fixed reference of 1.0) mapped to grey 0 and 255: the range the models see and the
#: app's spectrograms show.
DB_FLOOR, DB_CEIL = -80.0, 40.0
#: Recommendations per query: the paper's 5 most cosine-similar clips (also precision@k, hubness, agreement).
TOP_K = 5
N_FFT = 2048
HOP_LENGTH = 512
IMAGE_SIZE = 224  # the paper's input: 224 x 224 x 3

ARCHITECTURES: tuple[str, ...] = ("vgg16", "resnet50")
#: How the architectures are named on screen.
ARCH_LABELS: dict[str, str] = {"vgg16": "VGG16", "resnet50": "ResNet50"}
#: Test accuracy the paper reports (ImageNet weights, full GTZAN), per architecture: the reference rows.
PAPER_ACCURACY: dict[str, float] = {"vgg16": 0.60, "resnet50": 0.40}
#: Backbone weights of a training run unless told otherwise: ImageNet, the paper's transfer learning
#: (Keras downloads them once). ``TrainConfig`` and ``genrec train --weights`` both default to it.
DEFAULT_WEIGHTS = "imagenet"
#: Weights of the synthetic demo build: random init, so that it works offline.
DEMO_WEIGHTS = "none"


def cpu_threads() -> int:
    """Cores this process may use: its CPU affinity where the system has one (containers narrow it), else
    the machine's count. LiteRT's interpreters and the spectrogram images use this many threads."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def project_root() -> Path:
    """The folder holding ``app.py`` (the package's parent)."""
    return Path(__file__).resolve().parent.parent


def data_home() -> Path:
    """Where generated libraries and spectrogram caches live.

    ``GENREC_HOME`` overrides the default ``<project>/data`` (kept out of git).
    """
    return Path(os.environ.get("GENREC_HOME", project_root() / "data")).expanduser()


def runs_home() -> Path:
    """Where saved training runs live; ``GENREC_RUNS`` overrides ``<project>/models``."""
    return Path(os.environ.get("GENREC_RUNS", project_root() / "models")).expanduser()


#: Age after which a hidden work folder (a run being written, an archive being extracted) is surely abandoned:
#: far longer than writing a run or extracting GTZAN takes, so only leftovers of killed processes are removed.
STALE_WORK_SECONDS = 6 * 3600
#: How often (s) the app's build panel re-reads the build's status: while one runs, and otherwise (to notice
#: one started by another visitor). Each poll reruns a fragment in the server and redraws the bar in the
#: browser, on the cores the build needs: every 2 s, not every second (benchmarks/RESULTS.md section 10).
BUILD_POLL_RUNNING_S = 2.0
BUILD_POLL_IDLE_S = 5.0
#: glibc malloc settings for the build's TensorFlow steps (genrec.isolated), unless the user set them: two
#: arenas instead of eight per core, and large blocks mmap'ed (so freed ones go back at once). They cut the
#: ResNet50 LiteRT conversion's peak from 1.63 to 1.34 GB (benchmarks/RESULTS.md section 9).
CHILD_MALLOC_ENV = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": str(1 << 20)}
#: The smallest image side VGG16 and ResNet50 accept (their five 2× poolings need at least 32 px).
MIN_INPUT_SIZE = 32
