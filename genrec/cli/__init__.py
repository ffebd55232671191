"""genrec command line: libraries, downloads, training, evaluation, recommendations.

Each module of this package registers one group of subcommands on the parser
(``register(subparsers)``) and holds their handlers; :func:`main` runs one and
turns a :class:`~genrec.errors.GenrecError` into a one-line message. Arguments
are checked while parsing (ranges from genrec.config, output paths), before any
work, and a bad one is a one-line message too.
"""

from __future__ import annotations

import argparse
import os
import sys

from genrec.cli import analysis, build, catalogue, data, recommend, training
from genrec.cli._shared import OneLineParser
from genrec.errors import GenrecError

#: Command groups, in the order ``genrec --help`` lists them.
COMMAND_GROUPS = (data, build, training, recommend, catalogue, analysis)


def build_parser() -> argparse.ArgumentParser:
    """The ``genrec`` parser with every command group's subcommands (all one-line-error parsers)."""
    parser = OneLineParser(prog="genrec", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``genrec`` command; returns the exit status (2 for a bad argument, after one line)."""
    # TensorFlow's C++ start-up chatter is noise on a terminal; real failures still raise. Set here, not on
    # `import genrec`, so that a notebook keeps its own setting.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a refused argument (2), already printed
        return exc.code if isinstance(exc.code, int) else 0
    try:
        args.func(args)
    except GenrecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    return 0
