"""genrec command line: libraries, downloads, training, evaluation, recommendations.

Each module of this package registers one group of subcommands on the parser
(``register(subparsers)``) and holds their handlers; :func:`main` runs one and
turns a :class:`~genrec.errors.GenrecError` into a one-line message.
"""

from __future__ import annotations

import argparse
import sys

from genrec.cli import analysis, build, catalogue, data, recommend, training
from genrec.errors import GenrecError

#: Command groups, in the order ``genrec --help`` lists them.
COMMAND_GROUPS = (data, build, training, recommend, catalogue, analysis)


def build_parser() -> argparse.ArgumentParser:
    """The ``genrec`` parser with every command group's subcommands."""
    parser = argparse.ArgumentParser(prog="genrec", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``genrec`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except GenrecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    return 0
