"""``genrec catalogue build|list|info``: embed any music folder with a run, to recommend from it."""

from __future__ import annotations

from pathlib import Path

from genrec.cli._shared import option_values
from genrec.errors import CatalogueError

INDEX_CHOICES = ("auto", "exact", "ann")
#: The ``catalogue build`` options that ``build_catalogue`` takes as keywords of the same names.
BUILD_OPTIONS = ("workers", "engine", "address", "index", "batch_size")


def cmd_build(a) -> None:
    from genrec.catalogue import build_catalogue
    from genrec.progress import TqdmProgress
    from genrec.runs import Run

    try:
        options = option_values(a, BUILD_OPTIONS)
        report = build_catalogue(Run.open(a.run), Path(a.folder), a.name, progress=TqdmProgress(), **options)
    except ImportError as exc:  # --index ann without faiss
        raise CatalogueError(str(exc)) from exc
    cat = report.catalogue
    print(f"catalogue {cat.name}: {cat.manifest['n_tracks']} tracks  ({cat.path})")
    print(
        f"  embedded now {report.embedded}, reused {report.reused}, skipped {len(report.skipped)}, "
        f"{report.seconds:.1f} s"
    )
    print(f"  index: {cat.index_kind} ({cat.manifest['index']['reason']})")
    for line in _index_details(cat.manifest["index"]):
        print(f"  {line}")
    _print_skipped(report.skipped)


def _index_details(index: dict) -> list[str]:
    """The library, settings and measured recall a catalogue's manifest records for an approximate index."""
    lines = []
    if "library" in index:
        settings = " ".join(f"{k}={v}" for k, v in dict(index.get("settings", {})).items())
        lines.append(f"library: {index['library']}  settings: {settings}")
    if "recall_at_5" in index:
        lines.append(
            f"measured recall@5: {float(index['recall_at_5']):.3f} against exact search, with "
            f"{index.get('recall_sample', '?')} of its own tracks as queries (each held out of its own answers)"
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
    from genrec.runs import Run, list_runs

    return [Run.open(run)] if run else list_runs()[0]


def cmd_list(a) -> None:
    from genrec.catalogue import list_catalogues

    found = False
    for run in _runs(a.run):
        good, bad = list_catalogues(run.path)
        for cat in good:
            found = True
            m = cat.manifest
            print(
                f"{run.id}  {cat.name:<20} {m['n_tracks']:>7} tracks  index {cat.index_kind:<5}  "
                f"{m.get('created', '')}  root {cat.root}"
            )
        for path, reason in bad:
            found = True
            print(f"{run.id}  {path.name:<20} BROKEN: {reason}")
    if not found:
        print("no catalogues yet; build one with `genrec catalogue build RUN FOLDER`")


def cmd_info(a) -> None:
    from genrec.catalogue import open_catalogue

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
    m = cat.manifest
    print(f"catalogue {cat.name} of run {m['run_id']}  ({cat.path})")
    print(f"root: {cat.root}   created: {m.get('created', '?')}   built in {m.get('seconds', '?')} s")
    print(f"tracks: {m['n_tracks']}   skipped: {m.get('n_skipped', len(cat.skipped))}")
    print(f"index: {cat.index_kind} ({cat.index_note})")
    for line in _index_details(m["index"]):
        print(f"  {line}")
    engine = m.get("engine", {})
    print(f"engine: {engine.get('name', '?')} with {engine.get('workers', '?')} worker(s)")
    print("tracks per genre (from folder names):")
    print(cat.tracks["genre"].value_counts().to_string())
    _print_skipped(list(cat.skipped.itertuples(index=False, name=None)))


def register(sub) -> None:
    """Add this group's subcommands to the ``genrec`` parser."""
    s = sub.add_parser("catalogue", help="embed a music folder with a run, to recommend from it")
    group = s.add_subparsers(dest="catalogue_command", required=True)
    b = group.add_parser("build", help="embed every audio file under FOLDER (resumable)")
    b.add_argument("run", help="run folder or run id")
    b.add_argument("folder", help="folder of music, any layout; genre folders (e.g. jazz/) label the tracks")
    b.add_argument("--name", help="catalogue name (default: the folder's name)")
    b.add_argument("--workers", type=int, default=1, help="processes (local) or predictor actors (ray)")
    b.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local processes (default) or a Ray Data pipeline (pip install 'genrec[ray]')",
    )
    b.add_argument(
        "--address", help="Ray cluster address for --engine ray (e.g. ray://head:10001 or auto); default: a local Ray"
    )
    b.add_argument(
        "--index",
        choices=INDEX_CHOICES,
        default="auto",
        help="search index: exact, ann (approximate; pip install 'genrec[ann]'), or auto by size (default)",
    )
    b.add_argument("--batch-size", type=int, default=8, help="files per decoding/predictor batch (default 8)")
    b.set_defaults(func=cmd_build)
    ls = group.add_parser("list", help="the catalogues of one run, or of every run")
    ls.add_argument("run", nargs="?", help="run folder or run id (default: every run)")
    ls.set_defaults(func=cmd_list)
    i = group.add_parser("info", help="one catalogue's size, index, genres and skipped files")
    i.add_argument("name", help="catalogue name")
    i.add_argument("--run", help="run folder or id (needed when several runs have a catalogue of that name)")
    i.set_defaults(func=cmd_info)
