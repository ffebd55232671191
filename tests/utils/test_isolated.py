"""Steps in fresh child processes (genrec.utils.isolated), and ``genrec build`` through them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from genrec.errors import GenrecError, LibraryError
from genrec.training.pipeline import CONVERSION_ENV
from genrec.utils.isolated import CHILD_MALLOC_ENV, run_isolated
from tests.helpers.waiting import process_running, wait_for

ROOT = Path(__file__).resolve().parents[2]

#: A parent whose step (in a child, as genrec.utils.isolated runs it) sleeps; the test kills the parent.
SLEEPING_STEP = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from genrec.utils.isolated import run_isolated

    def sleep(pid_file, progress):
        Path(pid_file).write_text(str(os.getpid()))
        time.sleep(600)

    if __name__ == "__main__":
        run_isolated(sleep, sys.argv[1])
""")

#: A parent with a child that asks genrec.utils.isolated to end it with its parent, on the given platform's way.
WATCHING_CHILD = textwrap.dedent("""
    import subprocess, sys, time
    child = (
        "import os, sys, time; from pathlib import Path; from genrec.utils import isolated; "
        "sys.platform = sys.argv[1]; isolated._die_with(os.getppid()); "
        "Path(sys.argv[2]).write_text(str(os.getpid())); time.sleep(600)"
    )
    subprocess.Popen([sys.executable, "-c", child, *sys.argv[1:]])
    time.sleep(600)
""")


def square_with_progress(x: int, progress) -> tuple[int, int]:
    for done in range(3):
        progress("squaring", done, 2)
    return x * x, os.getpid()


def refuse(progress) -> None:
    raise LibraryError("tracks.csv: no 'path' column. Rebuild the run with `genrec build`.")


def crash(progress) -> None:
    progress("halfway", 1, 2)
    {}["missing key"]  # a bug in a step, as the parent sees it


def killed(progress) -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would


def test_a_step_runs_in_another_process_and_reports_its_progress() -> None:
    seen = []
    (value, pid) = run_isolated(square_with_progress, 7, progress=lambda *a: seen.append(a))
    assert value == 49 and pid != os.getpid()
    assert seen == [("squaring", 0, 2), ("squaring", 1, 2), ("squaring", 2, 2)]


def malloc_settings(progress) -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in CHILD_MALLOC_ENV}


def test_the_child_gets_the_lean_malloc_settings_unless_the_user_chose_their_own(monkeypatch) -> None:
    for name in CHILD_MALLOC_ENV:
        monkeypatch.delenv(name, raising=False)
    assert run_isolated(malloc_settings) == CHILD_MALLOC_ENV
    assert not any(name in os.environ for name in CHILD_MALLOC_ENV)  # the parent's own environment is unchanged
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert run_isolated(malloc_settings)["MALLOC_ARENA_MAX"] == "4"


def onednn_setting(progress) -> str | None:
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS")


def test_a_step_can_start_with_more_settings_and_the_users_own_still_win(monkeypatch) -> None:
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    # the build's conversion child: oneDNN's custom ops off (genrec.training.pipeline.CONVERSION_ENV)
    assert run_isolated(onednn_setting, environment=CONVERSION_ENV) == "0"
    assert run_isolated(onednn_setting) is None and "TF_ENABLE_ONEDNN_OPTS" not in os.environ
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert run_isolated(onednn_setting, environment=CONVERSION_ENV) == "1"


def test_a_genrec_error_in_the_step_is_raised_again_with_its_own_message() -> None:
    with pytest.raises(LibraryError, match=r"tracks.csv: no 'path' column\. Rebuild"):
        run_isolated(refuse)


def test_a_bug_in_the_step_names_the_step_and_the_error() -> None:
    with pytest.raises(GenrecError, match=r"the crash step failed \(KeyError: 'missing key'\)"):
        run_isolated(crash)


def test_a_step_killed_from_outside_says_it_stopped_and_what_to_try() -> None:
    with pytest.raises(GenrecError, match=r"killed step stopped without finishing \(exit status -9\).*memory"):
        run_isolated(killed)


def _ends_with_its_parent(parent_argv: list[str], pid_file: Path) -> None:
    """Start ``parent_argv``, whose child writes its pid to ``pid_file``; SIGKILL the parent; the child must end."""
    parent = subprocess.Popen(parent_argv)
    child = 0
    try:
        child = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the child", timeout=30))
        assert process_running(child)
        parent.kill()  # no chance to stop its child itself
        parent.wait()
        wait_for(lambda: not process_running(child), "the orphaned child to end", timeout=5)
    finally:
        parent.kill()
        parent.wait()
        if child:  # never leave it sleeping, whatever failed above (and never signal pid 0: our own group)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


def test_a_step_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    script, pid_file = tmp_path / "parent.py", tmp_path / "step.pid"
    script.write_text(SLEEPING_STEP)
    _ends_with_its_parent([sys.executable, str(script), str(pid_file)], pid_file)


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_both_ways_of_ending_with_the_parent_work(platform: str, tmp_path: Path) -> None:
    """Linux's parent-death signal, and the watching thread of systems without one (macOS)."""
    pid_file = tmp_path / "child.pid"
    _ends_with_its_parent([sys.executable, "-c", WATCHING_CHILD, platform, str(pid_file)], pid_file)


@pytest.mark.slow
def test_build_trains_and_converts_in_children_and_the_parent_never_loads_tensorflow(
    tiny_library_dir: Path, tmp_path: Path
) -> None:
    """A real build (one architecture, tiny settings) from a fresh interpreter: complete runs, light parent."""
    out = tmp_path / "models"
    script = (
        "import json, sys\n"
        "from genrec.training.pipeline import build\n"
        f"runs = build({str(tiny_library_dir)!r}, weights='none', split='paper', input_size=32, epochs=2,"
        f" architectures=('vgg16',), out={str(out)!r})\n"
        "print(json.dumps({'runs': [str(r) for r in runs], 'tf': 'tensorflow' in sys.modules}))\n"
    )
    env = {**os.environ, "GENREC_HOME": str(tmp_path / "home"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tf"] is False  # the parent stayed light: every TensorFlow step ran in a child

    (run_dir,) = map(Path, result["runs"])
    assert run_dir.parent == out
    assert sorted(p.name for p in out.iterdir()) == [run_dir.name]  # the hidden build folder is gone
    names = {p.name for p in run_dir.iterdir()}
    assert {"model.keras", "predictor.tflite", "head.npz", "predictor-int8.tflite", "predictor-int8.json"} <= names
    record = json.loads((run_dir / "run.json").read_text())
    assert record["run_id"] == run_dir.name
    assert record["predictor"] == "predictor.tflite" and record["timings_seconds"]["export"] > 0
    assert record["config"]["out"] == str(out)  # where the run lives, not the folder it was built in

    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender

    run = Run.open(run_dir)
    answer = Recommender(run).for_track(run.tracks["track_id"].iloc[0], 5)
    assert len(answer.neighbours) == 5
