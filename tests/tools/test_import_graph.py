"""The import graph of genrec has no cycle (tools/import_graph.py), and the checker finds cycles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_checker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.import_graph", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / next(iter(files)).split("/")[0]


def test_genrec_has_no_import_cycle():
    result = run_checker()
    assert result.returncode == 0, result.stderr
    assert "no import cycle" in result.stdout


def test_a_cycle_through_a_function_level_import_is_named(tmp_path):
    package = write_package(
        tmp_path,
        {
            "fakepkg/__init__.py": "",
            "fakepkg/a.py": "def f():\n    from fakepkg import b\n    return b\n",
            "fakepkg/b.py": "from .a import f\n",
            "fakepkg/c.py": "import fakepkg.b\n",  # imports into the cycle but is not part of it
        },
    )
    result = run_checker("--package", str(package))
    assert result.returncode == 1
    assert "import cycle: fakepkg.a -> fakepkg.b -> fakepkg.a" in result.stderr
    assert "fakepkg/a.py:2: fakepkg.a imports fakepkg.b (inside a function)" in result.stderr
    assert "fakepkg/b.py:1: fakepkg.b imports fakepkg.a (at module level)" in result.stderr
    assert "fakepkg.c" not in result.stderr
    assert "1 import cycle(s)" in result.stdout


def test_a_package_may_reexport_submodules_that_import_each_other(tmp_path):
    package = write_package(
        tmp_path,
        {
            "fakepkg/__init__.py": "from fakepkg.sub import thing\n",
            "fakepkg/sub/__init__.py": "from fakepkg.sub.leaf import thing\n",
            "fakepkg/sub/leaf.py": "from fakepkg.sub.base import base\nthing = base\n",
            "fakepkg/sub/base.py": "base = 1\n",
        },
    )
    result = run_checker("--package", str(package), "--deferred")
    assert result.returncode == 0, result.stderr
    assert "4 modules, 3 imports (0 inside functions): no import cycle" in result.stdout


def test_a_submodule_importing_its_own_package_back_is_a_cycle(tmp_path):
    package = write_package(
        tmp_path,
        {
            "fakepkg/__init__.py": "from fakepkg.leaf import thing\n",
            "fakepkg/leaf.py": "import fakepkg\nthing = 1\n",
        },
    )
    result = run_checker("--package", str(package))
    assert result.returncode == 1
    assert "import cycle: fakepkg -> fakepkg.leaf -> fakepkg" in result.stderr
