"""Every `genrec` subcommand over a table of bad values (issue 23, defects 6 and 7).

Each bad value must give exit status 2 and ONE line on stderr that names the argument (and, for a number, its
allowed range): no traceback, no usage block, nothing written, and no work started. The numeric and path cases
are generated from the parser itself, so a new option or subcommand is covered (or fails the coverage tests).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

import genrec.data.gtzan
import genrec.data.library
import genrec.evaluate.report
import genrec.runs.reader
import genrec.training.pipeline
import genrec.training.trainer
from genrec.cli import build_parser, main
from genrec.cli._shared import Number, OutputPath, WholeNumber, existing_folder, split_choice, weights_choice
from genrec.cli.catalogue import ray_address
from genrec.config import MAX_WORKERS
from genrec.data.gtzan import MIRROR_ENV
from genrec.utils.machine import cpu_threads

ROOT = Path(__file__).resolve().parents[2]

#: A command line of each subcommand that the bad value is added to. Runs and libraries need not exist: a bad
#: value is refused before anything is opened ({dir} is an empty folder of the test).
BASE: dict[tuple[str, ...], list[str]] = {
    ("library",): ["library", "demo"],
    ("download",): ["download", "gtzan"],
    ("prepare",): ["prepare", "demo"],
    ("build",): ["build", "--library", "demo"],
    ("demo",): ["demo"],
    ("train",): ["train", "--arch", "vgg16"],
    ("evaluate",): ["evaluate", "RUN"],
    ("export",): ["export", "RUN"],
    ("runs",): ["runs"],
    ("runs", "pack"): ["runs", "pack", "RUN", "--out", "{dir}/runs.tar.gz"],
    ("runs", "pull"): ["runs", "pull", "{dir}"],
    ("recommend",): ["recommend", "RUN", "blues.00000"],
    ("catalogue", "build"): ["catalogue", "build", "RUN", "{dir}"],
    ("catalogue", "list"): ["catalogue", "list"],
    ("catalogue", "info"): ["catalogue", "info", "mine"],
    ("explain",): ["explain", "RUN", "blues.00000", "--out", "{dir}/cam.png"],
    ("compare",): ["compare", "RUN_A", "RUN_B"],
}
#: Arguments that take free text (a run, a library, a name, a URL...): what they name is checked where it is
#: opened, by the cases in PATH_CASES. Any other argument must have a checking type.
FREE_TEXT = {"run", "run_a", "run_b", "query", "audio", "library", "path", "folder", "name", "catalogue", "genre"}
FREE_TEXT |= {"url", "checksum", "runs", "source"}


def leaf_parsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> dict:
    """Every runnable subcommand's parser, keyed by its words (``("catalogue", "build")``)."""
    leaves = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                leaves.update(leaf_parsers(sub, (*prefix, name)))
                if sub.get_default("func") is not None:  # runnable itself (`genrec runs`), with or without words below
                    leaves[(*prefix, name)] = sub
    return leaves


def _rejected(kind, values: list[str]) -> list[str]:
    """The values ``kind`` refuses (each is checked to fail below, through the whole command)."""
    out = []
    for value in values:
        try:
            kind(value)
        except argparse.ArgumentTypeError:
            out.append(value)
    return out


def bad_values(action: argparse.Action) -> list[tuple[str, str]]:
    """(bad value, words the one-line message must hold besides the argument's name) for one argument."""
    kind = action.type
    if isinstance(kind, WholeNumber):
        below, above = str(kind.minimum - 1), str(kind.maximum + 1)
        values = [below, above, "-1", "0", "2.5", "nan", "1e300", str(2**70), "x"]
        return [(v, kind.allowed) for v in _rejected(kind, values)]
    if isinstance(kind, Number):
        below, above = f"{kind.minimum / 2 if kind.minimum > 0 else -1:g}", f"{kind.maximum * 2:g}"
        values = [below, above, "-1", "0", "nan", "inf", "1e300", "0.0001", "x"]
        return [(v, kind.allowed) for v in _rejected(kind, values)]
    if isinstance(kind, OutputPath) and kind.folder:
        return [("{file}", "is a file, not a folder"), ("{file}/sub", "is not a folder"), ("/proc/genrec", "/proc")]
    if isinstance(kind, OutputPath):
        return [("{dir}", "is a folder, not a file"), ("{file}/cam.png", "is not a folder"), ("/proc/x.png", "/proc")]
    if kind is existing_folder:
        return [("{file}", "is not a folder"), ("{dir}/missing", "no such folder")]
    if kind is weights_choice:
        return [("{dir}/missing.h5", "not imagenet, none or a weights file"), ("{dir}", "not imagenet, none")]
    if kind is split_choice:
        return [("{dir}/missing", "not paper, filtered or a folder"), ("{file}", "not paper, filtered")]
    if kind is ray_address:
        return [("http://[::1", "not a Ray address"), ("head", "not a Ray address")]
    if action.choices is not None:
        return [("bogus", "invalid choice")]
    return []


def option_cases() -> list:
    cases = []
    for words, sub in leaf_parsers(build_parser()).items():
        for action in sub._actions:
            if not action.option_strings or action.nargs == 0:
                continue
            name = "/".join(action.option_strings)
            for value, expected in bad_values(action):
                tail = [value] + ["0"] * ((action.nargs if isinstance(action.nargs, int) else 1) - 1)
                argv = [*BASE[words], action.option_strings[0], *tail]
                cases.append(pytest.param(argv, [f"argument {name}: ", expected], id=" ".join([*words, name, value])))
    return cases


#: Positional arguments and combinations the parser cannot check alone: a file where a folder is expected (and
#: the reverse), a URL that cannot be parsed, options that contradict each other. The runs and libraries here
#: are refused where they are opened, which is cheap.
PATH_CASES = [
    (["library", "gtzan", "{file}"], ["{file}", "is a file, not a folder"]),
    (["prepare", "{file}"], ["{file}", "is a file, not a folder"]),
    (["build", "--library", "{file}"], ["{file}", "is a file, not a folder"]),
    (["train", "--arch", "vgg16", "--weights", "none", "--library", "{file}"], ["{file}", "is a file, not a folder"]),
    (["evaluate", "{file}"], ["{file}", "no such run directory"]),
    (["export", "{file}"], ["{file}", "no such run directory"]),
    (["recommend", "{file}", "blues.00000"], ["{file}", "no such run directory"]),
    (["explain", "{file}", "a.wav", "--out", "{dir}/cam.png"], ["{file}", "no such run directory"]),
    (["explain", "RUN", "a.wav", "--out", "{dir}/cam.jpg"], ["--out", "PNG"]),
    (["compare", "{file}", "{dir}"], ["{file}", "no such run directory"]),
    (["catalogue", "build", "{file}", "{dir}"], ["{file}", "no such run directory"]),
    (["catalogue", "list", "{file}"], ["{file}", "no such run directory"]),
    (["catalogue", "info", "mine", "--run", "{file}"], ["{file}", "no such run directory"]),
    (["catalogue", "build", "RUN", "{dir}", "--address", "auto"], ["--address", "--engine ray"]),
    (["download", "gtzan", "--list-sources", "--url", "http://[::1", "--checksum", "sha256:" + "0" * 64], ["--url"]),
    (["download", "gtzan", "--url", "ftp://host/g.tgz", "--checksum", "sha256:" + "0" * 64], ["not a valid URL"]),
    (["train", "--arch", "vgg16", "--chunk-seconds", "40"], ["--chunk-seconds 40", "30-s analysis window"]),
    (["prepare", "demo", "--clip-seconds", "600", "--chunk-seconds", "10"], ["--chunk-seconds 10", "use 20..600"]),
    (["library", "fma"], ["argument source: invalid choice: 'fma'"]),
    (["download", "kaggle"], ["argument dataset: invalid choice: 'kaggle'"]),
    (["demo", "bogus"], ["unrecognized arguments: bogus"]),
    (["runs", "--dir", "{file}"], ["argument --dir", "is not a folder"]),
    (["runs", "bogus"], ["invalid choice: 'bogus'"]),
    (["runs", "pack", "RUN", "--out", "{dir}"], ["argument --out", "is a folder, not a file"]),
    (["runs", "pull", "{dir}", "--dir", "{file}"], ["argument --dir", "is a file, not a folder"]),
    (["catalogue"], ["required"]),
]


class WorkStarted(Exception):
    """Raised by the guarded entry points below: a bad value got as far as real work."""


@pytest.fixture
def no_work(monkeypatch):
    """Loading a library, training, building, downloading, evaluating or opening a run fails the test."""
    targets = [
        (genrec.data.library, "load_library"),
        (genrec.training.trainer, "train"),
        (genrec.training.trainer, "prepare_images"),
        (genrec.training.pipeline, "build"),
        (genrec.data.gtzan, "download_gtzan"),
        (genrec.evaluate.report, "evaluate_run"),
        (genrec.runs.reader, "list_runs"),
        (genrec.runs.reader, "remove_stale_runs"),
    ]

    def guard(name):
        def refuse(*args, **kwargs):
            raise WorkStarted(f"{name} was called: the bad value was not refused first")

        return refuse

    for module, name in targets:
        monkeypatch.setattr(module, name, guard(f"{module.__name__}.{name}"))
    monkeypatch.setattr(genrec.runs.reader.Run, "open", classmethod(lambda cls, *a, **k: guard("Run.open")()))


@pytest.fixture
def places(tmp_path) -> dict[str, str]:
    """{file}: a file; {dir}: an empty folder; both in the test's own folder."""
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "a-dir").mkdir()
    return {"file": str(tmp_path / "a-file"), "dir": str(tmp_path / "a-dir")}


def snapshot(*roots: Path) -> dict[str, tuple]:
    """Every path under ``roots`` with its kind, size and modification time."""
    seen = {}
    for root in roots:
        for path in [root, *root.rglob("*")] if root.exists() else []:
            st = path.lstat()
            seen[str(path)] = (path.is_dir(), st.st_size, st.st_mtime_ns if not path.is_dir() else 0)
    return seen


def run_refused(argv: list[str], expected: list[str], places: dict, tmp_path: Path, capsys) -> str:
    """Run ``argv`` in-process; check status 2, one error line holding ``expected``, nothing written."""
    argv = [a.format(**places) for a in argv]
    expected = [e.format(**places) for e in expected]
    roots = [tmp_path, Path(os.environ["GENREC_HOME"]), Path(os.environ["GENREC_RUNS"])]
    before = snapshot(*roots)
    status = main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert status == 2, f"{argv}: status {status}, stderr {err!r}"
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{argv}: not one error line: {err!r}"
    assert all(words in lines[0] for words in expected), f"{argv}: {lines[0]!r} lacks {expected}"
    assert out == "" and "Traceback" not in err
    assert snapshot(*roots) == before, f"{argv} wrote something"
    return lines[0]


# --------------------------------------------------------------------------- the table covers the parser
def test_every_subcommand_has_a_command_line_in_the_table():
    assert set(leaf_parsers(build_parser())) == set(BASE), "add the new subcommand to BASE (and to PATH_CASES)"
    nested = {"catalogue": {"build", "list", "info"}, "runs": {"pack", "pull"}}
    words = {
        tuple(argv[:2]) if argv[1:2] and argv[1] in nested.get(argv[0], ()) else (argv[0],) for argv, _ in PATH_CASES
    }
    assert words >= set(BASE)


def test_every_argument_is_checked_by_its_type_or_named_as_free_text():
    for words, sub in leaf_parsers(build_parser()).items():
        for action in sub._actions:
            if action.nargs == 0 or action.dest in ("help", "command", "catalogue_command"):
                continue
            assert action.type not in (int, float), f"genrec {' '.join(words)} {action.dest}: unbounded number"
            checked = bad_values(action) or action.dest in FREE_TEXT
            assert checked, f"genrec {' '.join(words)} {action.dest}: give it a checking type, or list it in FREE_TEXT"


def test_the_bounds_are_real_ranges():
    numbers = [
        a.type
        for sub in leaf_parsers(build_parser()).values()
        for a in sub._actions
        if isinstance(a.type, (WholeNumber, Number))
    ]
    assert len(numbers) >= 20
    for kind in numbers:
        assert kind.minimum < kind.maximum
        assert kind(str(kind.minimum)) == kind.minimum and kind(str(kind.maximum)) == kind.maximum


# --------------------------------------------------------------------------- the table
@pytest.mark.parametrize("argv, expected", option_cases())
def test_bad_option_values_are_refused_in_one_line_before_any_work(argv, expected, places, tmp_path, capsys, no_work):
    run_refused(argv, expected, places, tmp_path, capsys)


@pytest.mark.parametrize("argv, expected", PATH_CASES, ids=[" ".join(argv) for argv, _ in PATH_CASES])
def test_bad_paths_and_combinations_are_refused_in_one_line(argv, expected, places, tmp_path, capsys):
    run_refused(argv, expected, places, tmp_path, capsys)


def test_issue_examples_name_the_allowed_range(places, tmp_path, capsys, no_work):
    for argv, line in [
        (["prepare", "G", "--input-size", "100000"], "argument --input-size: 100000 is outside 32..512 px"),
        (["prepare", "G", "--chunk-seconds", "0.0001"], "argument --chunk-seconds: 0.0001 is outside 1..600 s"),
        (["build", "--input-size", "1000000000"], "argument --input-size: 1000000000 is outside 32..512 px"),
        (["prepare", "G", "--clip-seconds", "1e300"], "argument --clip-seconds: 1e300 is outside 3..600 s"),
        (["train", "--seed", "1180591620717411303424"], "1180591620717411303424 is outside 0..4294967295"),
        (["compare", "A", "B", "--resamples", "0"], "argument --resamples: 0 is outside 100..100000"),
        (["compare", "A", "B", "--resamples", "1e12"], "'1e12' is not a whole number in 100..100000"),
        (["compare", "A", "B", "--seed", "-1"], "argument --seed: -1 is outside 0..4294967295"),
        (["demo", "--out", "/etc/passwd"], "argument --out: /etc/passwd is a file, not a folder"),
        (["explain", "R", "a", "--out", "/etc/passwd/cam.png"], "/etc/passwd is not a folder, so"),
        (["download", "gtzan", "--to", "/etc/passwd/x"], "argument --to: /etc/passwd is not a folder, so"),
    ]:
        assert line in run_refused(argv, [], places, tmp_path, capsys)


def test_local_catalogue_workers_are_held_to_the_cores(places, tmp_path, capsys, no_work):
    too_many = cpu_threads() + 1
    assert too_many <= MAX_WORKERS  # else the parser's own bound refuses it, as the generated cases check
    argv = ["catalogue", "build", "RUN", "{dir}", "--workers", str(too_many)]
    run_refused(
        argv, [f"--workers {too_many} is outside 1..{cpu_threads()} for --engine local"], places, tmp_path, capsys
    )


def test_mirror_variable_that_is_not_a_url_is_refused_even_when_listing(places, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, "http://[::1 sha256:" + "0" * 64)
    line = run_refused(["download", "gtzan", "--list-sources"], [MIRROR_ENV], places, tmp_path, capsys)
    assert "is not a valid URL (Invalid IPv6 URL)" in line


def test_unusable_data_folder_is_refused_before_any_work(places, tmp_path, capsys, monkeypatch, no_work):
    monkeypatch.setenv("GENREC_HOME", places["file"])
    for argv in (["library", "demo"], ["prepare", "demo"], ["build", "--library", "demo"], ["download", "gtzan"]):
        run_refused(argv, ["the data folder (GENREC_HOME)", "is a file, not a folder"], places, tmp_path, capsys)


def test_help_still_exits_0(capsys):
    assert main(["train", "--help"]) == 0
    assert "[32..512 px]" in capsys.readouterr().out  # each bounded option's help shows its range


# --------------------------------------------------------------------------- real processes
@pytest.mark.parametrize(
    "argv, words",
    [
        (["prepare", "G", "--input-size", "100000"], "argument --input-size: 100000 is outside 32..512 px"),
        (["demo", "--out", "{file}"], "is a file, not a folder"),
        (["compare", "A", "B", "--resamples", "1e12"], "argument --resamples"),
        (["download", "gtzan", "--url", "http://[::1", "--checksum", "sha256:" + "0" * 64, "--list-sources"], "URL"),
        (["train", "--arch", "vgg16", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_a_real_process_prints_one_line_and_no_traceback(argv, words, places, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "genrec", *[a.format(**places) for a in argv]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and words.format(**places) in proc.stderr and "Traceback" not in proc.stderr
