"""``genrec catalogue build|list|info``: embed any music folder with a run, to recommend from it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from genrec.catalogue import build_catalogue, list_catalogues, open_catalogue
from genrec.cli._shared import catalogue_batch_int, option_values, workers_int, writable_run
from genrec.errors import CatalogueError
from genrec.runs.reader import Run, list_runs
from genrec.utils.machine import cpu_threads
from genrec.utils.progress import TqdmProgress

if TYPE_CHECKING:  # the catalogue package (pandas) is imported only by the commands that use it
    from genrec.catalogue.store import IndexInfo

INDEX_CHOICES = ("auto", "exact", "ann")
#: The ``catalogue build`` options that ``build_catalogue`` takes as keywords of the same names.
BUILD_OPTIONS = ("workers", "engine", "address", "index", "batch_size")


def ray_address(text: str) -> str:
    """An argparse ``type=``: auto, local, HOST:PORT (a cluster's head) or ray://HOST[:PORT] (Ray Client)."""
    if text in ("auto", "local"):
        return text
    try:
        parts = urlsplit(text if "://" in text else f"ray://{text}")
        port = parts.port
    except ValueError as exc:  # an unclosed [, a port out of range
        why = str(exc)
    else:
        if parts.scheme == "ray" and parts.hostname and (port or "://" in text) and not parts.path.strip("/"):
            return text
        why = "not ray://HOST or HOST:PORT"
    raise argparse.ArgumentTypeError(f"{text!r} is not a Ray address ({why}); use auto, HOST:PORT or ray://HOST:PORT")


def cmd_build(a) -> None:

    if a.address and a.engine != "ray":
        raise CatalogueError(f"--address {a.address} names a Ray cluster; add --engine ray (or drop --address).")
    cores = cpu_threads()
    if a.engine == "local" and a.workers > cores:
        # one local worker already keeps every core busy (LiteRT's threads); more only add predictors in memory
        raise CatalogueError(
            f"--workers {a.workers} is outside 1..{cores} for --engine local: one process per core of this "
            f"machine at most. Use --workers {cores} or fewer, or --engine ray on a cluster."
        )
    try:
        options = option_values(a, BUILD_OPTIONS)
        report = build_catalogue(writable_run(a.run), Path(a.folder), a.name, progress=TqdmProgress(), **options)
    except ImportError as exc:  # --index ann without faiss
        raise CatalogueError(str(exc)) from exc
    cat = report.catalogue
    print(f"catalogue {cat.name}: {cat.info.n_tracks} tracks  ({cat.path})")
    print(
        f"  embedded now {report.embedded}, reused {report.reused}, skipped {len(report.skipped)}, "
        f"{report.seconds:.1f} s"
    )
    print(f"  index: {cat.index_kind} ({cat.info.index.reason})")
    for line in _index_details(cat.info.index):
        print(f"  {line}")
    _print_skipped(report.skipped)


def _index_details(index: IndexInfo) -> list[str]:
    """The library, settings and measured recall a catalogue's manifest records for an approximate index."""
    lines = []
    if index.library:
        settings = " ".join(f"{k}={v}" for k, v in (index.settings or {}).items())
        lines.append(f"library: {index.library}  settings: {settings}")
    if index.recall_at_5 is not None:
        lines.append(
            f"measured recall@5: {index.recall_at_5:.3f} against exact search, with "
            f"{_or_unknown(index.recall_sample)} of its own tracks as queries (each held out of its own answers)"
        )
    return lines


def _print_skipped(skipped, limit: int = 20) -> None:
    if len(skipped):
        print(f"skipped {len(skipped)} file(s):")
        for path, reason in list(skipped)[:limit]:
            print(f"  {path}: {reason}")
        if len(skipped) > limit:
            print(f"  … and {len(skipped) - limit} more (see skipped.csv in the catalogue folder)")


def _runs(run: str | None) -> list:

    return [Run.open(run)] if run else list_runs()[0]


def cmd_list(a) -> None:

    found = False
    for run in _runs(a.run):
        good, bad = list_catalogues(run.path)
        for cat in good:
            found = True
            print(
                f"{run.id}  {cat.name:<20} {cat.info.n_tracks:>7} tracks  index {cat.index_kind:<5}  "
                f"{cat.info.created}  root {cat.root}"
            )
        for path, reason in bad:
            found = True
            print(f"{run.id}  {path.name:<20} BROKEN: {reason}")
    if not found:
        print("no catalogues yet; build one with `genrec catalogue build RUN FOLDER`")


def cmd_info(a) -> None:

    runs = _runs(a.run)
    matches = [r for r in runs if (r.path / "catalogues" / a.name).is_dir()]
    if not matches:
        raise CatalogueError(
            f"no catalogue named {a.name!r}"
            + (f" for run {runs[0].id}" if a.run else "")
            + "; `genrec catalogue list` shows the ones there are."
        )
    if len(matches) > 1:
        raise CatalogueError(
            f"several runs have a catalogue {a.name!r} ({', '.join(r.id for r in matches)}); choose one with --run."
        )
    cat = open_catalogue(matches[0].path, a.name)
    m = cat.info
    print(f"catalogue {cat.name} of run {m.run_id}  ({cat.path})")
    print(f"root: {cat.root}   created: {m.created or '?'}   built in {_or_unknown(m.seconds)} s")
    print(f"tracks: {m.n_tracks}   skipped: {len(cat.skipped) if m.n_skipped is None else m.n_skipped}")
    print(f"index: {cat.index_kind} ({cat.index_note})")
    for line in _index_details(cat.info.index):
        print(f"  {line}")
    if m.engine:
        print(f"engine: {m.engine.name} with {_or_unknown(m.engine.workers)} worker(s)")
    print("tracks per genre (from folder names):")
    print(cat.table["genre"].value_counts().to_string())
    _print_skipped(list(cat.skipped.itertuples(index=False, name=None)))


def _or_unknown(value) -> str:
    return "?" if value is None else str(value)


def register(sub) -> None:
    """Add this group's subcommands to the ``genrec`` parser."""
    s = sub.add_parser("catalogue", help="embed a music folder with a run, to recommend from it")
    group = s.add_subparsers(dest="catalogue_command", required=True)
    b = group.add_parser("build", help="embed every audio file under FOLDER (resumable)")
    b.add_argument("run", help="run folder or run id")
    b.add_argument("folder", help="folder of music, any layout; genre folders (e.g. jazz/) label the tracks")
    b.add_argument("--name", help="catalogue name (default: the folder's name)")
    b.add_argument(
        "--workers",
        type=workers_int,
        default=1,
        help="processes (local, at most one per core) or predictor actors (ray) (default 1)",
    )
    b.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local processes (default) or a Ray Data pipeline (pip install 'genrec[ray]')",
    )
    b.add_argument(
        "--address",
        type=ray_address,
        help="Ray cluster address for --engine ray (e.g. ray://head:10001 or auto); default: a local Ray",
    )
    b.add_argument(
        "--index",
        choices=INDEX_CHOICES,
        default="auto",
        help="search index: exact, ann (approximate; pip install 'genrec[ann]'), or auto by size (default)",
    )
    b.add_argument(
        "--batch-size", type=catalogue_batch_int, default=8, help="files per decoding/predictor batch (default 8)"
    )
    b.set_defaults(func=cmd_build)
    ls = group.add_parser("list", help="the catalogues of one run, or of every run")
    ls.add_argument("run", nargs="?", help="run folder or run id (default: every run)")
    ls.set_defaults(func=cmd_list)
    i = group.add_parser("info", help="one catalogue's size, index, genres and skipped files")
    i.add_argument("name", help="catalogue name")
    i.add_argument("--run", help="run folder or id (needed when several runs have a catalogue of that name)")
    i.set_defaults(func=cmd_info)
