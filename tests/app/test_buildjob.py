"""The app's build job: lock, stale locks, status file, reachability checks (no Streamlit, no training)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

import genrec.app.buildjob as buildjob
import genrec.data.reachability as reachability
from genrec.app.buildjob import BuildBusy, BuildStatus
from genrec.training.plan import DemoProgress, staging_prefix
from tests.helpers.builds import closed_port_url, fake_command
from tests.helpers.waiting import process_running, wait_for

#: runs them: it reports a stage, logs a TensorFlow line, and the step writes into its staging folder until killed.
KILLABLE_BUILD = textwrap.dedent("""
    import json, os, sys, tempfile, time
    from pathlib import Path
    from genrec.training.plan import staging_prefix
    from genrec.utils.isolated import run_isolated

    def train(staging, pid_file, progress):
        Path(pid_file).write_text(str(os.getpid()))
        while True:
            (Path(staging) / "weights.part").write_text(str(time.time()))
            time.sleep(0.05)

    if __name__ == "__main__":
        out, pid_file = Path(sys.argv[1]), sys.argv[2]
        print(json.dumps({"stage": "vgg16 features", "done": 10, "total": 200}), flush=True)
        print("E0000 00:00:1.0 1 NodeDef mentions attribute use_unbounded_threadpool", file=sys.stderr, flush=True)
        run_isolated(train, tempfile.mkdtemp(prefix=staging_prefix(os.getpid()), dir=out), pid_file)
""")

#: The build's process with a worker of its own; the test kills the build's process and leaves the worker.
LEFTOVER_WORKER = textwrap.dedent("""
    import subprocess, sys, time
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print(worker.pid, flush=True)
    time.sleep(600)
""")


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_build_runs_reports_progress_refuses_a_second_start_and_finishes(tmp_path):
    root = tmp_path / "models"
    argv, gate = fake_command(tmp_path)
    first = buildjob.start_build("demo", "none", root=root, command=argv)
    assert first.running and first.library == "demo" and first.title == "Synthetic demo"
    lock = json.loads((root / buildjob.LOCK_NAME).read_text())
    assert lock["library"] == "demo" and lock["weights"] == "none" and lock["argv"] == argv
    assert buildjob.pid_alive(lock["pid"], lock["identity"]) and lock["started"] == first.started
    assert lock["identity"] == buildjob.process_identity(lock["pid"]) != ""

    seen = wait_for(lambda: (s := buildjob.status(root)).text.startswith("VGG16 spectrograms") and s, "progress")
    tracker = DemoProgress()  # the fake's reports so far, each stage's share as the real build gives it
    tracker.update("demo library", 100, 200)
    tracker.update("demo library", 200, 200)
    expected = tracker.update("vgg16 spectrograms", 50, 200)[0]
    assert seen.running and 0 < seen.fraction == expected < 1 and seen.text == "VGG16 spectrograms: 50/200"
    with pytest.raises(BuildBusy, match="already running"):
        buildjob.start_build("gtzan", "imagenet", root=root, command=argv)
    assert json.loads((root / buildjob.LOCK_NAME).read_text())["library"] == "demo"  # untouched

    # another process (a second app server on the same folder) sees the same running build
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys; from genrec.app import buildjob; "
                "s = buildjob.status(sys.argv[1]); print(s.state, s.library, s.text)"
            ),
            str(root),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout.split("\n")[0] == "running demo VGG16 spectrograms: 50/200"

    gate.touch()
    done = wait_for(lambda: (s := buildjob.status(root)).state != "running" and s, "the end")
    assert done.state == "done" and done.fraction == 1.0 and done.error == ""
    assert done.runs == (str(tmp_path / "vgg16-run"), str(tmp_path / "resnet50-run"))
    assert done.finished >= done.started and not (root / buildjob.LOCK_NAME).exists()
    # the runs folder holds no run-like leftovers: only the lock's and status's own dot-files
    assert sorted(p.name for p in root.iterdir()) == sorted([buildjob.LOG_NAME, buildjob.STATUS_NAME])


def test_a_failed_build_says_the_childs_error_and_frees_the_lock(tmp_path):
    root = tmp_path / "models"
    argv, gate = fake_command(tmp_path, outcome="fail")
    buildjob.start_build("gtzan", "imagenet", root=root, command=argv)
    gate.touch()
    failed = wait_for(lambda: (s := buildjob.status(root)).state != "running" and s, "the failure")
    assert failed.state == "failed" and failed.library == "gtzan"
    assert failed.error == "the GTZAN download failed: every source refused"
    assert not (root / buildjob.LOCK_NAME).exists()
    argv2, gate2 = fake_command(tmp_path, gate="second-gate")
    assert buildjob.start_build("demo", "none", root=root, command=argv2).running  # may start again
    gate2.touch()
    wait_for(lambda: buildjob.status(root).state == "done", "the second build")


def test_stale_lock_is_removed_with_a_message_and_a_new_build_may_start(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    pid = dead_pid()
    (root / buildjob.LOCK_NAME).write_text(
        json.dumps({"pid": pid, "started": time.time() - 600, "library": "gtzan", "weights": "imagenet"})
    )
    (root / buildjob.STATUS_NAME).write_text(
        json.dumps({"state": "running", "library": "gtzan", "started": 1.0, "fraction": 0.4, "text": "x"})
    )
    stale = buildjob.status(root)
    assert stale.state == "failed" and not stale.running
    assert f"its process ({pid}) is gone, so its lock was removed" in stale.error
    assert stale.notice.startswith("The Real GTZAN with ImageNet weights build started at ")
    assert stale.notice.endswith(stale.error)
    assert not (root / buildjob.LOCK_NAME).exists()
    again = buildjob.status(root)  # everybody else then reads the outcome, without a new notice
    assert again.state == "failed" and again.notice == "" and again.error == stale.error

    argv, gate = fake_command(tmp_path)
    assert buildjob.start_build("demo", "none", root=root, command=argv).running
    gate.touch()
    wait_for(lambda: buildjob.status(root).state == "done", "the build")


def test_damaged_lock_is_removed_and_a_live_lock_is_kept(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    (root / buildjob.LOCK_NAME).write_text("{not json")
    damaged = buildjob.status(root)
    assert "unreadable lock file" in damaged.error and damaged.notice and not (root / buildjob.LOCK_NAME).exists()
    # a lock held by a live process (this one) is a running build, even before any status was written
    (root / buildjob.STATUS_NAME).unlink()
    (root / buildjob.LOCK_NAME).write_text(
        json.dumps({"pid": __import__("os").getpid(), "started": 5.0, "library": "demo", "weights": "none"})
    )
    live = buildjob.status(root)
    assert live == BuildStatus("running", "demo", "none", 5.0, text="Starting…")
    with pytest.raises(BuildBusy):
        buildjob.start_build("demo", "none", root=root, command=[sys.executable, "-c", "pass"])
    assert (root / buildjob.LOCK_NAME).exists()


def test_lock_of_a_reused_pid_is_stale(tmp_path):
    """After a restart the lock's pid may belong to another process: its start time tells them apart."""
    root = tmp_path / "models"
    root.mkdir()
    mine = __import__("os").getpid()
    identity = buildjob.process_identity(mine)
    boot, ticks = identity.rsplit(":", 1)
    (root / buildjob.LOCK_NAME).write_text(
        json.dumps(
            {"pid": mine, "identity": f"{boot}:{int(ticks) - 1}", "started": 5.0, "library": "demo", "weights": "none"}
        )
    )
    stale = buildjob.status(root)
    assert stale.state == "failed" and f"its process ({mine}) is gone" in stale.error
    assert not (root / buildjob.LOCK_NAME).exists()


def test_killing_the_build_ends_its_process_tree_frees_the_lock_and_says_it_was_stopped(tmp_path):
    """`kill -9` of the build's process while a step trains in a grandchild (issue 23, defect 3)."""
    root = tmp_path / "models"
    root.mkdir()
    script, pid_file = tmp_path / "killable_build.py", tmp_path / "step.pid"
    script.write_text(KILLABLE_BUILD)
    buildjob.start_build("demo", "none", root=root, command=[sys.executable, str(script), str(root), str(pid_file)])
    child = psutil.Process(json.loads((root / buildjob.LOCK_NAME).read_text())["pid"])
    step = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the step's grandchild", timeout=60))
    tree = [child, *child.children(recursive=True)]
    try:
        assert step in [p.pid for p in tree] and wait_for(lambda: list(root.glob(".tmp-*/weights.part")), "staging")
        assert buildjob.status(root).text == "VGG16 features: 10/200"

        child.kill()
        wait_for(lambda: not (root / buildjob.LOCK_NAME).exists(), "the lock to go", timeout=10)
        assert [p.pid for p in tree if process_running(p.pid)] == []  # the step died with the build
        stopped = buildjob.status(root)
        assert stopped.state == "failed" and not stopped.running
        assert stopped.error == (
            "the build was stopped (killed by signal 9, SIGKILL) during VGG16 features; "
            "nothing half-written was kept — start it again"
        )  # not the TensorFlow line it logged last
        assert sorted(p.name for p in root.iterdir()) == sorted([buildjob.LOG_NAME, buildjob.STATUS_NAME])
    finally:
        for process in tree:  # never leave them running, whatever failed above
            with contextlib.suppress(psutil.Error):
                process.kill()


def test_a_stale_lock_ends_what_is_left_of_its_build(tmp_path):
    """The server that followed the build died with it: the next look at the lock ends the rest of the build."""
    root = tmp_path / "models"
    root.mkdir()
    leader = subprocess.Popen(
        [sys.executable, "-c", LEFTOVER_WORKER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    worker = int(leader.stdout.readline())
    try:
        identity = buildjob.process_identity(leader.pid)
        leader.kill()
        leader.wait()  # the build's own process is gone; its worker still runs in its process group
        lock = {"pid": leader.pid, "group": leader.pid, "started": time.time(), "library": "demo", "weights": "none"}
        # the same lock from another machine (a copied runs folder): that group number is not its build's here
        foreign = {**lock, "identity": "0a1b2c3d-another-boot:" + identity.rsplit(":", 1)[1]}
        (root / buildjob.LOCK_NAME).write_text(json.dumps(foreign))
        assert buildjob.status(root).state == "failed" and process_running(worker)

        staging = root / f"{staging_prefix(leader.pid)}x1y2"
        staging.mkdir()
        (staging / "weights.part").write_text("half")
        (root / buildjob.LOCK_NAME).write_text(json.dumps({**lock, "identity": identity}))
        stale = buildjob.status(root)
        assert stale.state == "failed" and f"its process ({leader.pid}) is gone" in stale.error
        assert not process_running(worker)
        assert not staging.exists() and not (root / buildjob.LOCK_NAME).exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)
        leader.stdout.close()


def test_a_build_that_fails_without_a_message_does_not_show_its_log_lines(tmp_path):
    root = tmp_path / "models"
    crash = "import sys; print('E0000 NodeDef mentions attribute', file=sys.stderr); sys.exit(1)"
    buildjob.start_build("demo", "none", root=root, command=[sys.executable, "-c", crash])
    failed = wait_for(lambda: (s := buildjob.status(root)).state != "running" and s, "the failure")
    assert failed.error == (
        "the build stopped (exit status 1) while starting; nothing half-written was kept. "
        f"Details are in {root / buildjob.LOG_NAME}; start it again."
    )
    assert "E0000" in (root / buildjob.LOG_NAME).read_text()  # kept for whoever looks into it


def test_lock_is_exclusive(tmp_path):
    lock = tmp_path / buildjob.LOCK_NAME
    buildjob._acquire(lock, {"pid": 1})
    with pytest.raises(BuildBusy, match="already running"):
        buildjob._acquire(lock, {"pid": 2})
    assert json.loads(lock.read_text()) == {"pid": 1}
    assert [p.name for p in tmp_path.iterdir()] == [buildjob.LOCK_NAME]  # no temp files left


def test_unknown_choices_and_missing_program_are_refused(tmp_path):
    with pytest.raises(buildjob.GenrecError, match="unknown library 'kaggle'"):
        buildjob.start_build("kaggle", "none", root=tmp_path)
    with pytest.raises(buildjob.GenrecError, match="unknown weights"):
        buildjob.start_build("demo", "file.h5", root=tmp_path)
    with pytest.raises(buildjob.GenrecError, match="could not start the build"):
        buildjob.start_build("demo", "none", root=tmp_path, command=[str(tmp_path / "no-such-program")])
    assert not (tmp_path / buildjob.LOCK_NAME).exists()


def test_build_command_writes_runs_into_the_runs_folder(tmp_path):
    argv = buildjob.build_command("gtzan", "imagenet", tmp_path)
    assert argv[:3] == [sys.executable, "-m", "genrec"]
    assert argv[argv.index("--weights") + 1] == "imagenet" and argv[argv.index("--out") + 1] == str(tmp_path)
    assert argv[argv.index("--progress-format") + 1] == "lines"


def test_sources_reachable_on_a_local_server(local_server):
    closed = closed_port_url()
    found = reachability.check_sources(
        [f"{local_server}/missing.tar.gz", closed, f"{local_server}/genres.tar.gz"], [f"{local_server}/vgg16_notop.h5"]
    )
    assert found.ok and not found.offline and found.problem == ""
    assert [(p.ok, p.answered, p.detail) for p in found.sources] == [
        (False, True, "HTTP 404"),
        (False, False, "could not connect"),
        (True, True, "HTTP 200"),
    ]


def test_offline_and_partly_reachable_are_told_apart(local_server):
    closed = closed_port_url()
    offline = reachability.check_sources([closed], [closed])
    assert not offline.ok and offline.offline and "This machine is offline" in offline.problem
    no_weights = reachability.check_sources([f"{local_server}/genres.tar.gz"], [f"{local_server}/missing.h5"])
    assert not no_weights.ok and not no_weights.offline
    assert "ImageNet weights" in no_weights.problem and "HTTP 404" in no_weights.problem


def test_default_sources_are_the_download_modules_and_keras_hosts():
    from genrec.data.gtzan import gtzan_sources

    assert reachability.gtzan_source_urls() == [source.url for source in gtzan_sources()]
    assert all(
        u.startswith("https://storage.googleapis.com/tensorflow/keras-applications/") and u.endswith("_notop.h5")
        for u in reachability.KERAS_WEIGHTS_URLS
    )
