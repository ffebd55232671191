"""``genrec runs pack`` and ``genrec runs pull``: trained runs that travel (see :mod:`genrec.runs.bundle`)."""

from __future__ import annotations

from pathlib import Path

from genrec.cli._shared import output_file, output_folder
from genrec.runs.bundle import audio_notes, pack, pull
from genrec.utils.progress import TqdmProgress


def cmd_pack(a) -> None:

    packed = pack(a.runs, Path(a.out), all_predictors=a.all_predictors, keras=a.keras)
    print(f"wrote {packed.path}: {len(packed.runs)} run(s), {packed.size / 1e6:.1f} MB ({packed.size} bytes)")
    print(f"sha256:{packed.sha256}")


def cmd_pull(a) -> None:

    root = Path(a.dir) if a.dir else None
    for result in pull(a.source, checksum=a.checksum, root=root, progress=TqdmProgress(unit="B")):
        print(result)
        for note in audio_notes(result.added + result.present, root):
            print(note)


def register_runs(runs_parser) -> None:
    """Add ``pack`` and ``pull`` under the ``genrec runs`` parser (which alone still lists the runs)."""
    sub = runs_parser.add_subparsers(dest="runs_command", metavar="{pack,pull}")
    s = sub.add_parser("pack", help="write runs into one archive that `genrec runs pull` installs anywhere")
    s.add_argument("runs", nargs="+", metavar="RUN", help="run folder or run id")
    s.add_argument("--out", required=True, type=output_file, help="the archive to write (*.tar.gz)")
    s.add_argument(
        "--all-predictors",
        action="store_true",
        help="carry both the float and the 8-bit LiteRT predictor (default: the one `auto` answers with)",
    )
    s.add_argument("--keras", action="store_true", help="also carry model.keras (needed to retrain or re-export)")
    s.set_defaults(func=cmd_pack)

    s = sub.add_parser("pull", help="install the runs of an archive (URL, file or folder of archives)")
    s.add_argument("source", help="http(s) URL, local archive, or a folder of archives")
    s.add_argument("--checksum", help="sha256:HEX the archive must have (printed by `genrec runs pack`)")
    s.add_argument("--dir", type=output_folder, help="runs folder (default models/)")
    s.set_defaults(func=cmd_pull)
