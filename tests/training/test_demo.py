"""Building the demo in a child process (what the app does): progress, finished runs, the child's errors."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import genrec.training.pipeline as build
from genrec.cli import main
from genrec.errors import GenrecError
from genrec.utils.progress import JsonLinesProgress, follow


def _child(lines: list[str], stderr: str = "", code: int = 0) -> list[str]:
    """A stand-in for `genrec demo --progress-format lines` that prints the given output."""
    script = (
        f"import sys\nfor line in {lines!r}: print(line, flush=True)\nsys.stderr.write({stderr!r})\nsys.exit({code})\n"
    )
    return [sys.executable, "-c", script]


def test_json_lines_round_trip():
    stream, seen = io.StringIO(), []
    JsonLinesProgress(stream)("vgg16 features", 8, 200)
    line = stream.getvalue()
    assert line.endswith("\n") and json.loads(line) == {"stage": "vgg16 features", "done": 8, "total": 200}
    assert follow(line, lambda *a: seen.append(a)) and seen == [("vgg16 features", 8, 200)]
    assert not follow("I0000 oneDNN custom operations are on", lambda *a: seen.append(a)) and len(seen) == 1


def test_progress_and_runs_are_followed(tmp_path):
    runs = [tmp_path / "vgg16-demo-1", tmp_path / "resnet50-demo-1"]
    stream = io.StringIO()
    for stage, done in (("demo library", 0), ("demo library", 200), ("vgg16 epochs", 3)):
        JsonLinesProgress(stream)(stage, done, 200)
    lines = [*stream.getvalue().splitlines(), "some chatter from a library", *(f"{build.RUN_LINE}{r}" for r in runs)]
    seen = []
    got = build.build_demo_in_subprocess(progress=lambda *a: seen.append(a), command=_child(lines))
    assert got == runs
    assert seen == [("demo library", 0, 200), ("demo library", 200, 200), ("vgg16 epochs", 3, 200)]


def test_child_error_message_reaches_the_caller():
    err = "WARNING: All log messages before absl::InitializeLog()\nerror: no network: use --weights none\n"
    with pytest.raises(GenrecError, match=r"^no network: use --weights none$"):
        build.build_demo_in_subprocess(command=_child([], stderr=err, code=2))
    with pytest.raises(GenrecError, match=r"exit status 3.*Killed"):
        build.build_demo_in_subprocess(command=_child([], stderr="Killed\n", code=3))


@pytest.mark.parametrize("argv", [["demo"], ["build", "--library", "demo"]])
def test_cli_lines_format_reports_progress_then_runs(monkeypatch, capsys, tmp_path, argv):
    # The real `genrec demo` trains for a minute; here its builder is replaced, the CLI's format is not.
    calls = []

    def fake_build(library, *, progress, report, **kw):
        calls.append((library, kw["weights"], kw["split"]))
        progress("demo library", 200, 200)
        report("said on stderr, not on the protocol's stdout")
        return [tmp_path / "vgg16-demo-x"]

    monkeypatch.setattr(build, "build", fake_build)
    assert main([*argv, "--progress-format", "lines"]) == 0
    assert calls == [("demo", "none" if argv == ["demo"] else None, None)]  # build() picks demo's defaults
    out, err = capsys.readouterr()
    assert "said on stderr" in err
    first, second = out.splitlines()
    assert json.loads(first) == {"stage": "demo library", "done": 200, "total": 200}
    assert second == f"{build.RUN_LINE}{tmp_path / 'vgg16-demo-x'}"
    assert Path(second[len(build.RUN_LINE) :]).name == "vgg16-demo-x"
