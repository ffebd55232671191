"""The paper's and the pipeline's constants, shared by every stage so training, evaluation and the app agree.

Where files live is :mod:`genrec.utils.paths`; what the machine offers, :mod:`genrec.utils.machine`.
"""

from __future__ import annotations

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
#: given a window of its own only when longer than this (genrec.serve.song.window_starts).
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


# --------------------------------------------------------------------------- allowed ranges of the settings
# Every size, length and count a user sets (the CLI's options, TrainConfig) has a minimum and a maximum here:
# the CLI's argument types (genrec.cli._shared) and genrec.training.trainer.check_settings both read them.
# The maxima are
# what the pipeline can do on a machine like the benchmarks' (2 cores, 23.5 GB; benchmarks/RESULTS.md).

#: The smallest image side VGG16 and ResNet50 accept (their five 2× poolings need at least 32 px).
MIN_INPUT_SIZE = 32
#: The largest image side. A library's images are held in memory as uint8: 1000 GTZAN clips take 0.15 GB at
#: the paper's 224 px, 0.79 GB at 512 px (3.1 GB at 1024, twice the build's 1.5-GB target), and the frozen
#: pass grows with the pixels (5.2× at 512 px). The spectrogram has only 128 mel bands: more adds no detail.
MAX_INPUT_SIZE = 512
#: The analysis window (--clip-seconds): shorter audio is refused anyway, and whole-song analysis covers at most
#: MAX_SONG_SECONDS, so a longer window would be the middle of the same file.
MIN_CLIP_SECONDS, MAX_CLIP_SECONDS = MIN_SECONDS, MAX_SONG_SECONDS
#: The shortest chunk (--chunk-seconds): 1 s is 43 spectrogram frames (SAMPLE_RATE / HOP_LENGTH per second),
#: already stretched 5× to fill a 224-px image; a shorter chunk is a few smeared columns.
MIN_CHUNK_SECONDS = 1.0
#: Chunks of one analysis window at most (--clip-seconds / --chunk-seconds). A library's images grow with them:
#: 1000 clips × 30 chunks × 150 KB (a 224-px image) = 4.5 GB, three times the paper's 3-s chunks of 30-s clips
#: (RESULTS.md section 9). So a 30-s window may be cut into 1-s chunks, a 600-s one into 20-s chunks.
MAX_CHUNKS_PER_CLIP = 30
#: Training epochs at most: the head is fitted on cached features at about 0.5 ms per training image and
#: epoch (RESULTS.md section 9), so 1000 epochs of the filtered split's 443 training clips take about 4 min
#: (40 with 3-s chunks). Early stopping ends real runs long before. Also the most --patience can mean.
MAX_EPOCHS = 1000
#: Training batch at most: the head is fitted on cached features (the frozen pass has its own small batch,
#: genrec.model.pooling.EXTRACT_BATCH), so the batch only sets the steps per epoch; 1024 holds the paper split's 800
#: training clips in one step already.
MAX_BATCH_SIZE = 1024
#: Adam's learning rate: above 1 the head's updates diverge; at 1e-6 (a thousandth of the default) MAX_EPOCHS
#: epochs move it as far as one epoch at the default does.
MIN_LEARNING_RATE, MAX_LEARNING_RATE = 1e-6, 1.0
#: --max-per-genre at most: a run's images are all held in memory, 10 genres × 10 000 clips × 150 KB (one
#: 224-px image) = 15 GB; GTZAN has 100 clips per genre.
MAX_PER_GENRE = 10_000
#: Seeds (training, split, bootstrap) at most: numpy's seeding, which keras.utils.set_random_seed calls, takes
#: 0 .. 2**32 - 1.
MAX_SEED = 2**32 - 1
#: Recommendations per query at most (-k): the answer is printed one line per track, and HNSW keeps its recall
#: only for short lists (its search widens to at least 2k nodes); 100 is twenty times the paper's 5.
MAX_TOP_K = 100
#: Bootstrap resamples of `genrec compare`: the 95-% interval's ends are the 2.5th and 97.5th percentiles, so
#: fewer than 100 leave under 3 resamples in a tail. scipy holds every resample at once: 100 000 resamples of
#: the filtered split's 290 test clips took 0.67 GB and 2.5 s (9999, the default: 0.07 GB, 0.1 s).
MIN_RESAMPLES, MAX_RESAMPLES = 100, 100_000
#: Catalogue workers at most (--workers). The local engine is held to this machine's cores (cpu_threads(): one
#: worker already uses them all, RESULTS.md section 8); each Ray actor holds one cluster CPU and its own
#: predictor (the float VGG16 file alone is 59 MB), so 64 already need a cluster of more than 64 CPUs.
MAX_WORKERS = 64
#: Files per catalogue batch at most (catalogue build --batch-size): 2 × workers batches are in flight, each
#: file a decoded 30-s window (2.6 MB as float32) and its image (0.6 MB at 224 px), so 0.2 GB per batch of 64.
MAX_CATALOGUE_BATCH = 64
