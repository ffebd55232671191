"""Fail when a function in genrec, the app or its views is longer than the limit.

Run from the repository root::

    python -m tools.long_functions          # exit 1 and list each function over 60 lines
    python -m tools.long_functions --top 10 # also print the ten longest, over or not

A function's length is its ``def`` line to its last line, decorators excluded and its
docstring included, as :mod:`ast` reports them (nothing is imported).  Nested functions are
counted on their own and inside their parent.  The synthetic scores under
``genrec/data/synth/`` are exempt: they are data written as code (one note list per genre).
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 60
CHECKED = ("genrec", "views", "app.py")
EXEMPT = ("genrec/data/synth/",)


@dataclass(frozen=True)
class Function:
    """One ``def`` and its length in lines."""

    path: str
    name: str
    line: int
    lines: int


def functions(root: Path = ROOT) -> list[Function]:
    """Every function and method under the checked paths, longest first."""
    found = []
    for top in CHECKED:
        base = root / top
        files = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in files:
            rel = path.relative_to(root).as_posix()
            if rel.startswith(EXEMPT):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    found.append(Function(rel, node.name, node.lineno, node.end_lineno - node.lineno + 1))
    return sorted(found, key=lambda f: -f.lines)


def main(argv: list[str] | None = None) -> int:
    """Print offenders (and optionally the longest functions); exit 1 when any is over the limit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=0, help="also print the N longest functions")
    parser.add_argument("--limit", type=int, default=LIMIT, help=f"most lines allowed (default {LIMIT})")
    args = parser.parse_args(argv)
    every = functions()
    for f in every[: args.top]:
        print(f"{f.lines:4d}  {f.path}:{f.line}  {f.name}")
    over = [f for f in every if f.lines > args.limit]
    for f in over:
        print(f"{f.path}:{f.line}: {f.name} is {f.lines} lines (limit {args.limit}); split it into named steps")
    if not over:
        print(f"long functions: none over {args.limit} lines in {len(every)} functions")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
