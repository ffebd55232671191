"""Fail on import cycles between genrec's modules, counting imports inside functions.

Run from the repository root::

    python -m tools.import_graph            # exit 1 and name each cycle, else a one-line summary
    python -m tools.import_graph --deferred # also list every import made inside a function

Every ``.py`` file under ``genrec/`` is parsed with :mod:`ast` (nothing is imported).
An edge ``a -> b`` is any ``import``/``from ... import`` of ``b`` anywhere in ``a``:
at module level, inside a function or method, or under ``if TYPE_CHECKING:``.
A deferred import only postpones a cycle to the first call; it does not remove it.

``from pkg import name`` points at the submodule ``pkg.name`` when that file exists,
else at ``pkg`` itself.  Relative imports are resolved against the importing module.
Importing ``pkg.sub`` also runs ``pkg/__init__.py``; that implicit edge is *not*
counted, so a package may re-export its submodules (``genrec.data.synth`` does) while
those submodules import each other.  A submodule that imports its own package's
``__init__`` (``from genrec.data.synth import synthesize_clip`` inside ``genrec/synth/``)
does count, and closes a cycle when the package imports it back.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "genrec"


@dataclass(frozen=True)
class Edge:
    """One import statement of a genrec module by another."""

    source: str
    target: str
    line: int
    deferred: bool  # inside a function or method: runs on the first call, not at import time


def module_files(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``package_dir``."""
    out: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: set[str]):
        self.module, self.is_package, self.modules = module, is_package, modules
        self.edges: list[Edge] = []
        self._function_depth = 0

    def _add(self, target: str, line: int) -> None:
        # the longest prefix that is one of our modules ("genrec.data.synth.song.Song" -> "genrec.data.synth.song")
        parts = target.split(".")
        while parts and ".".join(parts) not in self.modules:
            parts.pop()
        if parts and ".".join(parts) != self.module:
            self.edges.append(Edge(self.module, ".".join(parts), line, self._function_depth > 0))

    def _function(self, node: ast.AST) -> None:
        self._function_depth += 1
        self.generic_visit(node)
        self._function_depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(self.module, self.is_package, node.level, node.module)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(submodule if submodule in self.modules else base, node.lineno)


def import_edges(package_dir: Path = ROOT / PACKAGE) -> list[Edge]:
    """Every import of one package module by another, in file and line order."""
    files = module_files(package_dir)
    edges: list[Edge] = []
    for module, path in files.items():
        visitor = _ImportVisitor(module, path.name == "__init__.py", set(files))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        edges.extend(visitor.edges)
    return edges


def find_cycles(edges: list[Edge]) -> list[list[Edge]]:
    """The cycles among modules, as lists of edges: for each strongly connected group (Tarjan),
    the shortest cycle through each of its modules, without repeats."""
    graph: dict[str, dict[str, Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
        graph.setdefault(edge.target, {})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:  # recursion depth is bounded by the number of modules
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    cycles: list[list[Edge]] = []
    seen: set[frozenset[tuple[str, str]]] = set()
    for group in sorted(groups):
        for start in group:
            cycle = _shortest_cycle(graph, group, start)
            key = frozenset((edge.source, edge.target) for edge in cycle)
            if key not in seen:
                seen.add(key)
                cycles.append(cycle)
    return cycles


def _shortest_cycle(graph: dict[str, dict[str, Edge]], group: list[str], start: str) -> list[Edge]:
    """The shortest cycle from ``start`` back to itself inside ``group`` (breadth-first)."""
    members = set(group)
    parent: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt, edge in sorted(graph[node].items()):
                if nxt not in members:
                    continue
                if nxt == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, parent[path[0].source])
                    return path
                if nxt not in parent:
                    parent[nxt] = edge
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - Tarjan found one


def describe(cycle: list[Edge], root: Path = ROOT) -> str:
    """``a -> b -> a`` and, per edge, where the import is written."""
    names = " -> ".join([cycle[0].source] + [edge.target for edge in cycle])
    lines = [f"import cycle: {names}"]
    for edge in cycle:
        where = edge.source.replace(".", "/")
        path = root / f"{where}.py"
        if not path.exists():
            path = root / where / "__init__.py"
        kind = "inside a function" if edge.deferred else "at module level"
        lines.append(f"  {path.relative_to(root)}:{edge.line}: {edge.source} imports {edge.target} ({kind})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.import_graph", description=__doc__.split("\n")[0])
    parser.add_argument("--package", type=Path, default=ROOT / PACKAGE, help="package folder (default: genrec/)")
    parser.add_argument("--deferred", action="store_true", help="list every import made inside a function")
    args = parser.parse_args(argv)
    edges = import_edges(args.package)
    if args.deferred:
        for edge in edges:
            if edge.deferred:
                print(f"{edge.source}:{edge.line}: deferred import of {edge.target}")
    cycles = find_cycles(edges)
    for cycle in cycles:
        print(describe(cycle, args.package.resolve().parent), file=sys.stderr)
    modules = {edge.source for edge in edges} | {edge.target for edge in edges}
    deferred = sum(edge.deferred for edge in edges)
    print(
        f"{len(modules)} modules, {len(edges)} imports ({deferred} inside functions): "
        + (f"{len(cycles)} import cycle(s)" if cycles else "no import cycle")
    )
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
