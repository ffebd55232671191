"""``genrec explain`` and ``genrec compare``: where a model looks, and whether one run really beats another."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genrec.app.analysis_plots import write_overlay_png
from genrec.audio.decode import check_extension
from genrec.audio.spectrogram import mel_frequencies
from genrec.cli._shared import output_file, resamples_int, seed_int
from genrec.config import GENRES
from genrec.errors import GenrecError
from genrec.evaluate.headtohead import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, format_head_to_head, head_to_head
from genrec.runs.reader import Run
from genrec.serve.explain import describe, explain, shared_scale
from genrec.serve.recommend import Recommender


def cmd_explain(a) -> None:

    if a.genre is not None and a.genre not in GENRES:
        raise GenrecError(f"--genre {a.genre}: unknown genre; choose one of {', '.join(GENRES)}.")
    if Path(a.out).suffix.lower() != ".png":
        raise GenrecError(f"--out {a.out}: the overlay is written as PNG; give a file name ending in .png.")
    rec = Recommender(Run.open(a.run))
    if a.audio in set(rec.tracks["track_id"]):
        source = rec.run.media_path(a.audio)  # only audio under the run's library root is read
        if source is None:
            raise GenrecError(
                f"{a.audio}: this track's audio is not available under the library root of run "
                f"{rec.run.id}; pass the audio file itself instead."
            )
    else:
        source = Path(a.audio)
    check_extension(str(source))
    (expl,) = explain([rec], source=source, genre=a.genre)
    times = np.linspace(0, expl.seconds, 400)
    target = write_overlay_png([expl], mel_frequencies(), shared_scale([expl], times), Path(a.out))
    print(f"run {rec.run.id} ({expl.arch}); clip {source}")
    print(f"predicted genre: {expl.predicted} ({expl.probabilities.max():.0%}); explained: {expl.genre}")
    print(describe(expl))
    print(f"wrote {target}")


def cmd_compare(a) -> None:

    print(format_head_to_head(head_to_head(Run.open(a.run_a), Run.open(a.run_b), seed=a.seed, n_resamples=a.resamples)))


def register(sub) -> None:
    """Add this group's subcommands to the ``genrec`` parser."""

    s = sub.add_parser("explain", help="Grad-CAM: where on the spectrogram a run finds a genre (writes a PNG)")
    s.add_argument("run", help="run folder or run id")
    s.add_argument("audio", help="an audio file, or a library track id such as blues.00003")
    s.add_argument("--genre", help="the genre to explain (default: the predicted one)")
    s.add_argument("--out", type=output_file, required=True, help="the PNG to write")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("compare", help="head-to-head of two runs on their shared test clips (bootstrap, McNemar)")
    s.add_argument("run_a", help="run folder or run id (A)")
    s.add_argument("run_b", help="run folder or run id (B)")
    s.add_argument("--seed", type=seed_int, default=BOOTSTRAP_SEED, help=f"bootstrap seed (default {BOOTSTRAP_SEED})")
    s.add_argument(
        "--resamples",
        type=resamples_int,
        default=BOOTSTRAP_RESAMPLES,
        help=f"bootstrap resamples (default {BOOTSTRAP_RESAMPLES})",
    )
    s.set_defaults(func=cmd_compare)
