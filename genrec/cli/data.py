"""``genrec library``, ``genrec download`` and ``genrec prepare``: getting music and its spectrograms."""

from __future__ import annotations

from pathlib import Path

import genrec.data.gtzan as gtzan
from genrec.cli._shared import (
    check_data_home,
    input_size_int,
    library_args,
    library_from_args,
    output_folder,
    print_library,
    print_skipped,
    strict_arg,
    window_args,
)
from genrec.config import IMAGE_SIZE
from genrec.errors import GenrecError
from genrec.training.trainer import check_window, prepare_images, select_tracks
from genrec.utils.progress import TqdmProgress


def cmd_library(a) -> None:

    if a.source == "gtzan" and not a.path:
        raise GenrecError("`genrec library gtzan` needs the GTZAN folder: genrec library gtzan PATH")
    lib = library_from_args("demo" if a.source == "demo" else a.path, a, TqdmProgress())
    print_library(lib)


def cmd_download(a) -> None:

    if bool(a.url) != bool(a.checksum):
        raise GenrecError(
            "--url and --checksum go together: a mirror's archive is only used once its checksum "
            "matches, e.g. --url https://host/genres.tar.gz --checksum sha256:HEX."
        )
    sources = gtzan.gtzan_sources(gtzan.custom_source(a.url, a.checksum) if a.url else None)
    if a.list_sources:
        print("\n".join(s.url for s in sources))
        return
    if not a.to:
        check_data_home()
    root = gtzan.download_gtzan(Path(a.to) if a.to else None, sources=sources, report=print)
    print(f"GTZAN is in {root}\nnext: genrec build --library {root}   (or: genrec library gtzan {root})")


def cmd_prepare(a) -> None:

    check_window(a.clip_seconds, a.chunk_seconds)
    progress = TqdmProgress()
    lib = library_from_args(a.library, a, progress)
    print_skipped(lib)
    prepared = prepare_images(lib, select_tracks(lib), a.chunk_seconds, a.input_size, progress, a.clip_seconds)
    n = len(prepared.tracks)
    print(f"{len(prepared.images)} images for {n} clips; {prepared.cache_hits} of {n} clips were already cached")


def register(sub) -> None:
    """Add this group's subcommands to the ``genrec`` parser."""
    s = sub.add_parser("library", help="summarise a music library (clips per genre and split)")
    s.add_argument("source", choices=["demo", "gtzan"])
    s.add_argument("path", nargs="?", help="GTZAN folder (for `gtzan`)")
    library_args(s)
    strict_arg(s)
    s.set_defaults(func=cmd_library)

    s = sub.add_parser("download", help="download a dataset (resumable, checksum-verified)")
    s.add_argument("dataset", choices=["gtzan"])
    s.add_argument(
        "--to",
        type=output_folder,
        help="destination folder (default: the data folder's gtzan/, where `genrec build --library gtzan` looks)",
    )
    s.add_argument("--url", help="a mirror of the GTZAN archive, tried before the known sources (needs --checksum)")
    s.add_argument("--checksum", help="the mirror's checksum as ALGO:HEX, e.g. sha256:24347e02...")
    s.add_argument("--list-sources", action="store_true", help="print the source URLs in the order they are tried")
    s.set_defaults(func=cmd_download)

    s = sub.add_parser("prepare", help="compute and cache the spectrogram images of a library")
    s.add_argument("library", help="'demo' or a GTZAN folder")
    window_args(s)
    s.add_argument("--input-size", type=input_size_int, default=IMAGE_SIZE)
    library_args(s)
    strict_arg(s)
    s.set_defaults(func=cmd_prepare)
