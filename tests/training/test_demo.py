"""Building the demo in a child process (what the app does): progress, finished runs, the child's errors."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import pytest

import genrec.training.pipeline as pipeline
import genrec.training.plan as build
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

    monkeypatch.setattr(pipeline, "build", fake_build)
    assert main([*argv, "--progress-format", "lines"]) == 0
    assert calls == [("demo", "none" if argv == ["demo"] else None, None)]  # build() picks demo's defaults
    out, err = capsys.readouterr()
    assert "said on stderr" in err
    first, second = out.splitlines()
    assert json.loads(first) == {"stage": "demo library", "done": 200, "total": 200}
    assert second == f"{build.RUN_LINE}{tmp_path / 'vgg16-demo-x'}"
    assert Path(second[len(build.RUN_LINE) :]).name == "vgg16-demo-x"


# --------------------------------------------------------------------------- one overall bar
QUANTIZE = "8-bit: quantize and check"  # what genrec.model.quantize.choose_recipe reports, once per recipe


def _bar_through(tracker: build.DemoProgress, reports: list[tuple[str, int, int]]) -> list[float]:
    return [tracker.update(*r)[0] for r in reports]


def test_the_8bit_stage_moves_the_bar_and_ends_it():
    tracker = build.DemoProgress()
    before = _bar_through(tracker, [("demo library", 200, 200), ("vgg16 epochs", 50, 50)])[-1]
    vgg = _bar_through(tracker, [(f"vgg16 {QUANTIZE}", d, 2) for d in (0, 1, 2)])
    after = _bar_through(tracker, [("resnet50 spectrograms", 0, 200), ("resnet50 epochs", 30, 30)])
    resnet = _bar_through(tracker, [(f"resnet50 {QUANTIZE}", d, 2) for d in (0, 1, 2)])
    # VGG16's 8-bit stage starts where its fit ended and rises step by step to where ResNet50 starts
    assert before == vgg[0] < vgg[1] < vgg[2] == after[0]
    # once ResNet50's fit is done the bar still has its 8-bit stage ahead, and ends exactly full
    assert after[-1] == resnet[0] < resnet[1] < resnet[2] == 1.0
    assert tracker.update(f"vgg16 {QUANTIZE}", 1, 2) == (1.0, "VGG16 8-bit: quantize and check: 1/2")  # never back


def test_the_8bit_stage_has_a_share_for_each_architecture_alone():
    for arch in ("vgg16", "resnet50"):
        tracker = build.DemoProgress([arch])
        done_fitting = tracker.update(f"{arch} epochs", 5, 5)[0]
        assert 0 < done_fitting < tracker.update(f"{arch} {QUANTIZE}", 1, 2)[0] < 1.0
        assert tracker.update(f"{arch} {QUANTIZE}", 2, 2)[0] == 1.0


@pytest.mark.slow  # quantizes a tiny trained run
@pytest.mark.parametrize("arch", ["vgg16", "resnet50"])
def test_the_bar_follows_what_quantizing_a_run_reports(tiny_runs, tmp_path, arch):
    """The stage the bar has a share for is the one the build's 8-bit child really reports (prefixed by arch)."""
    from genrec.model.predict import AGREEMENT_FILE, QUANTIZED_FILE
    from genrec.model.quantize import quantize_or_none
    from genrec.runs.reader import Run
    from genrec.utils.progress import prefixed

    run = Run.open(shutil.copytree(tiny_runs[arch], tmp_path / "run"))
    for name in (QUANTIZED_FILE, AGREEMENT_FILE):
        (run.path / name).unlink()
    tracker = build.DemoProgress([arch])
    start = tracker.update(f"{arch} epochs", 2, 2)[0]
    bar: list[tuple[str, float]] = []
    quantize_or_none(run, prefixed(lambda *r: bar.append((r[0], tracker.update(*r)[0])), arch))
    assert (run.path / QUANTIZED_FILE).is_file()
    moved = [fraction for stage, fraction in bar if stage == f"{arch} {QUANTIZE}"]
    assert len(moved) >= 2 and start == moved[0] < moved[-1] == 1.0
    assert [f for _, f in bar] == sorted(f for _, f in bar)
