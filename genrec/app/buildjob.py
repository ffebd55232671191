"""The app's builds: one at a time per runs folder, followed by every session.

A build runs ``genrec build`` in a child
process that prints JSON progress lines and one ``run: PATH`` line per finished
run. A thread of the process that started it follows those lines and keeps a
status file in the runs folder up to date (written to a temp file, then
renamed), so a reloaded page or a second visitor reads the same progress. A
lock file beside it holds the child's pid, the start time and the requested
build; while it names a live process nobody can start a second build, and a
lock whose process is gone is removed with a message. Pages only draw what
:func:`status` returns.

The child leads a process group of its own, which holds everything the build
started (the steps it runs in grandchildren, :mod:`genrec.utils.isolated`). When the
child ends, however it ends, the whole group is killed, so a killed build
leaves no orphan training on; its hidden staging folder is removed with it.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from genrec.errors import GenrecError
from genrec.training.plan import REAL_SETTINGS, RUN_LINE, DemoProgress, estimate_seconds, staging_prefix
from genrec.utils.fileio import atomic_write
from genrec.utils.paths import runs_home
from genrec.utils.progress import follow

LOCK_NAME = ".build.lock"
STATUS_NAME = ".build-status.json"
#: The child's stderr (its error message and warnings), kept for the failure message and for debugging.
LOG_NAME = ".build.log"

#: What the app can build: ``--library`` → what it is called.
LIBRARIES: dict[str, str] = {"demo": "Synthetic demo", "gtzan": "Real GTZAN with ImageNet weights"}
WEIGHTS = ("none", "imagenet")

#: Download sizes shown on the real-data card: GTZAN's genres.tar.gz is 1.2 GB; the two notop weight
#: files are 58.9 MB (VGG16) and 94.7 MB (ResNet50).
GTZAN_DOWNLOAD_GB = 1.2
WEIGHTS_DOWNLOAD_MB = 150
#: How often (s) the app's build panel re-reads the build's status: while one runs, and otherwise (to notice
#: one started by another visitor). Each poll reruns a fragment in the server and redraws the bar in the
#: browser, on the cores the build needs: every 2 s, not every second (benchmarks/RESULTS.md section 10).
BUILD_POLL_RUNNING_S = 2.0
BUILD_POLL_IDLE_S = 5.0
#: Full GTZAN: 100 clips in each of 10 genres.
GTZAN_CLIPS = 1000
#: Status file writes while a build runs are at least this far apart (stage changes and the end always write).
STATUS_EVERY_S = 0.5
#: How long to wait for the processes of a killed build to be gone before going on without them.
STOP_WAIT_S = 10.0


class BuildBusy(GenrecError):
    """A build is already running in this runs folder."""


# --------------------------------------------------------------------------- what to run
def build_command(library: str, weights: str, out: Path) -> list[str]:
    """The child's command line: ``genrec build`` with progress lines, runs written to ``out``."""
    return [
        sys.executable,
        "-m",
        "genrec",
        "build",
        "--library",
        library,
        "--weights",
        weights,
        "--progress-format",
        "lines",
        "--out",
        str(out),
    ]


def real_build_estimate_seconds() -> float:
    """The estimate shown on the real-data card: full GTZAN with ``genrec build``'s defaults."""
    return estimate_seconds(GTZAN_CLIPS, REAL_SETTINGS.get("chunk_seconds"))


# --------------------------------------------------------------------------- lock and status files
def _write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (:func:`genrec.utils.fileio.atomic_write`)."""
    atomic_write(path, json.dumps(data))


def _read_json(path: Path) -> dict | None:
    """A JSON object from ``path``; None when missing, {} when unreadable (a damaged or foreign file)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class BuildLock:
    """The lock file: whose build is running and what it builds."""

    pid: int
    started: float
    library: str
    weights: str
    identity: str = ""  # the process's boot and start time (Linux), so a reused pid is not taken for it
    group: int = 0  # the process group the child leads (0: none recorded)

    @classmethod
    def parse(cls, data: dict) -> BuildLock | None:
        """The lock from its JSON (None when the file is damaged)."""
        try:
            lock = cls(
                int(data["pid"]),
                float(data["started"]),
                str(data["library"]),
                str(data["weights"]),
                str(data.get("identity") or ""),
                int(data.get("group") or 0),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return lock if lock.pid > 0 else None


def _boot_id() -> str:
    """This boot of this machine ("" where /proc cannot tell)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_identity(pid: int) -> str:
    """Boot id and start time of a process ("" where /proc cannot tell): tells a reused pid apart."""
    boot = _boot_id()
    try:
        start_ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""
    return f"{boot}:{start_ticks}" if boot else ""


def pid_alive(pid: int, identity: str = "") -> bool:
    """Whether the process exists (one owned by another user counts) and, if given, is that same process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except (OSError, OverflowError):
        return False
    if identity:
        now = process_identity(pid)
        return not now or now == identity  # a different start time: the pid now belongs to another process
    return True


def _acquire(lock_path: Path, data: dict) -> None:
    """Create the lock file with ``data``, or raise BuildBusy when it exists (atomic: a hard link)."""
    fd, tmp = tempfile.mkstemp(prefix=f"{lock_path.name}.", suffix=".tmp", dir=lock_path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        os.link(tmp, lock_path)  # fails if the lock exists, and never shows a half-written lock
    except FileExistsError:
        raise BuildBusy(f"A build is already running (lock file {lock_path}).") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


# --------------------------------------------------------------------------- ending what is left of a build
def _pid_unused(pid: int) -> bool:
    """Whether no process at all has this pid (then the group it led can only hold the build's own leftovers)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):
        return False
    return False


def _live_members(group: int) -> list[int]:
    """Pids of the processes of ``group`` that have not exited yet; [] where /proc cannot tell (not Linux)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):  # gone meanwhile
            continue
        if pgrp == str(group) and state not in ("Z", "X"):  # a zombie runs no more code
            members.append(int(stat.parent.name))
    return members


def _stop_group(group: int, wait_s: float = STOP_WAIT_S) -> None:
    """SIGKILL every process in the build's process ``group`` and wait until none runs any more.

    Only call it while the group's leader is unreaped, or when no process has its pid: then the
    group number cannot have been handed to anybody else. The build is broken or over by then, so
    there is nothing a gentler signal would let it save.
    """
    if group <= 0 or not hasattr(os, "killpg") or group == os.getpgrp():
        return  # never this server's own group
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:  # no such group left (or not ours)
        return
    deadline = time.monotonic() + wait_s
    while _live_members(group) and time.monotonic() < deadline:
        time.sleep(0.05)


def _remove_staging(root: Path, pid: int) -> None:
    """Delete the hidden folder in which the build process ``pid`` staged runs it never finished."""
    for folder in root.glob(f"{staging_prefix(pid)}*"):
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- status
@dataclass(frozen=True)
class BuildStatus:
    """What every session shows: the running build's progress, or how the last one ended."""

    state: str  # "idle" (no build here yet), "running", "done" or "failed"
    library: str = ""
    weights: str = ""
    started: float = 0.0
    finished: float | None = None
    fraction: float = 0.0
    text: str = ""
    runs: tuple[str, ...] = ()
    error: str = ""
    notice: str = ""  # set by the call that removed a stale lock: what happened

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def title(self) -> str:
        """What is (or was) built, e.g. "Synthetic demo"."""
        return LIBRARIES.get(self.library, self.library or "build")

    @property
    def elapsed_s(self) -> float:
        """Seconds since the start (until the end, for a finished build)."""
        return max(0.0, (self.finished or time.time()) - self.started) if self.started else 0.0


def _status_from(data: dict | None) -> BuildStatus:
    if not data or data.get("state") not in ("running", "done", "failed"):
        return BuildStatus("idle")
    try:
        return BuildStatus(
            state=str(data["state"]),
            library=str(data.get("library", "")),
            weights=str(data.get("weights", "")),
            started=float(data.get("started", 0.0)),
            finished=(None if data.get("finished") is None else float(data["finished"])),
            fraction=min(1.0, max(0.0, float(data.get("fraction", 0.0)))),
            text=str(data.get("text", "")),
            runs=tuple(str(r) for r in data.get("runs", [])),
            error=str(data.get("error", "")),
        )
    except (KeyError, TypeError, ValueError):
        return BuildStatus("idle")


def _clock(stamp: float) -> str:
    return time.strftime("%H:%M", time.localtime(stamp))


def _cut_off(current: BuildStatus) -> BuildStatus:
    """A running status whose lock went without a final status: the build was cut off."""
    return BuildStatus(
        "failed",
        current.library,
        current.weights,
        current.started,
        current.finished,
        current.fraction,
        current.text,
        current.runs,
        "The build stopped without finishing. Start it again.",
    )


def status(root: Path | None = None) -> BuildStatus:
    """The build of this runs folder: running (with progress), or how the last one ended.

    A lock whose process is gone (the server was killed, the machine restarted) is removed here,
    the build is marked failed, and ``notice`` says so.
    """
    root = Path(root or runs_home())
    lock_path, status_path = root / LOCK_NAME, root / STATUS_NAME
    raw = _read_json(lock_path)
    current = _status_from(_read_json(status_path))
    if raw is None:
        return _cut_off(current) if current.running else current
    lock = BuildLock.parse(raw)
    if lock is not None and pid_alive(lock.pid, lock.identity):
        if current.running and current.started == lock.started:
            return current
        return BuildStatus("running", lock.library, lock.weights, lock.started, text="Starting…")
    error = (
        f"it stopped without finishing: its process ({lock.pid}) is gone, so its lock was removed. "
        f"Start the build again."
        if lock
        else f"it left an unreadable lock file ({lock_path}), which was removed. Start the build again."
    )
    what = (
        f"The {LIBRARIES.get(lock.library, lock.library)} build started at {_clock(lock.started)}"
        if lock
        else "A build"
    )
    failed = {
        "state": "failed",
        "library": lock.library if lock else "",
        "weights": lock.weights if lock else "",
        "started": lock.started if lock else 0.0,
        "finished": time.time(),
        "fraction": current.fraction,
        "text": current.text,
        "runs": list(current.runs),
        "error": error,
    }
    if _read_json(lock_path) != raw:  # another session cleaned it up already (and maybe started anew)
        return status(root)
    if lock is not None and _pid_unused(lock.pid):
        # nobody followed the build to its end (the server was killed): end what is left of it here; but
        # a group number from another boot or machine (a copied runs folder) is somebody else's
        if lock.identity.split(":")[0] == _boot_id() != "":
            _stop_group(lock.group)
        _remove_staging(root, lock.pid)
    _write_json(status_path, failed)
    lock_path.unlink(missing_ok=True)
    return BuildStatus(**{**failed, "runs": tuple(failed["runs"]), "notice": f"{what}: {error}"})


class _StatusWriter:
    """Keeps the status file up to date from the child's progress lines (the only writer while it runs)."""

    def __init__(self, path: Path, library: str, weights: str, started: float) -> None:
        self.path = path
        self.data = {
            "state": "running",
            "library": library,
            "weights": weights,
            "started": started,
            "finished": None,
            "fraction": 0.0,
            "text": "Starting…",
            "runs": [],
            "error": "",
        }
        self.tracker = DemoProgress()
        self._stage = ""
        self.stage = ""  # the last stage reported, as shown ("VGG16 features")
        self._written = 0.0
        self.write(force=True)

    def report(self, stage: str, done: int, total: int) -> None:
        self.data["fraction"], self.data["text"] = self.tracker.update(stage, done, total)
        self.stage = self.data["text"].rpartition(": ")[0]
        self.write(force=stage != self._stage or done >= total)
        self._stage = stage

    def add_run(self, path: str) -> None:
        self.data["runs"].append(path)
        self.write(force=True)

    def write(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._written >= STATUS_EVERY_S:
            _write_json(self.path, self.data)
            self._written = now

    def finish(self, error: str) -> None:
        self.data.update(
            state="failed" if error else "done",
            finished=time.time(),
            error=error,
            **({} if error else {"fraction": 1.0, "text": "Done"}),
        )
        self.write(force=True)


# --------------------------------------------------------------------------- starting and following a build
def start_build(
    library: str, weights: str, root: Path | None = None, command: Sequence[str] | None = None
) -> BuildStatus:
    """Start a build in a child process and follow it in a thread; BuildBusy if one is running.

    ``command`` replaces the child's command line (tests, benchmarks); it must speak the same
    protocol as ``genrec build --progress-format lines``.
    """
    root = _checked_root(library, weights, root)
    current = status(root)  # also clears a stale lock
    if current.running:
        raise BuildBusy(
            f"A build ({current.title}) is already running since {_clock(current.started)}; wait for it to finish."
        )
    argv = list(command) if command else build_command(library, weights, root)
    started = time.time()
    lock_path = root / LOCK_NAME
    record = {
        "pid": os.getpid(),
        "identity": process_identity(os.getpid()),
        "started": started,
        "library": library,
        "weights": weights,
        "argv": argv,
    }
    _acquire(lock_path, record)  # our own pid until the child has one: a live process either way
    log = open(root / LOG_NAME, "w")  # noqa: SIM115 (closed by the follower thread when the child ends)
    try:
        child = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            start_new_session=True,  # a group of its own: killing it ends everything the build started
        )
    except OSError as exc:
        log.close()
        lock_path.unlink(missing_ok=True)
        raise GenrecError(f"could not start the build ({argv[0]}: {exc.strerror or exc})") from exc
    _write_json(lock_path, {**record, "pid": child.pid, "identity": process_identity(child.pid), "group": child.pid})
    # in a group of its own the build no longer gets the terminal's Ctrl-C: it ends when this server does
    stop_at_exit = functools.partial(_stop_group, child.pid)
    atexit.register(stop_at_exit)
    writer = _StatusWriter(root / STATUS_NAME, library, weights, started)
    threading.Thread(
        target=_follow,
        args=(child, writer, lock_path, log, stop_at_exit),
        daemon=True,
        name=f"genrec-build-{child.pid}",
    ).start()
    return status(root)


def _checked_root(library: str, weights: str, root: Path | None) -> Path:
    """The runs folder, created; GenrecError for an unknown library or weights or an unwritable folder."""
    if library not in LIBRARIES:
        raise GenrecError(f"unknown library {library!r}; choose one of {', '.join(LIBRARIES)}")
    if weights not in WEIGHTS:
        raise GenrecError(f"unknown weights {weights!r}; choose one of {', '.join(WEIGHTS)}")
    root = Path(root or runs_home())
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenrecError(
            f"cannot create the runs folder {root} ({exc.strerror}); set GENREC_RUNS to a writable folder"
        ) from exc
    return root


def _exit_code_unreaped(child) -> int:
    """The child's exit status, leaving it a zombie so its pid still counts as alive.

    The lock must outlive the pid: a reader in another process that saw the pid gone before the
    final status was written would take the finished build for a stale one.
    """
    try:
        info = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    except (AttributeError, OSError):  # no waitid (Windows): reap now
        return child.wait()
    if info is None:
        return child.wait()
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _end_with(child) -> None:
    """Once the child has ended, kill what it started: a grandchild holding its output open keeps no build alive."""
    _exit_code_unreaped(child)
    _stop_group(child.pid)


def _follow(child, writer: _StatusWriter, lock_path: Path, log, stop_at_exit) -> None:
    """Copy the child's progress into the status file; at the end write the outcome and release the lock.

    Whatever of the build still runs when the child ends is killed, and after a failure its staging
    folder is removed, before the outcome is written and the lock goes (the child is reaped last, so
    its pid, and with it the group's number, stay the build's until then).
    """
    ender = threading.Thread(target=_end_with, args=(child,), daemon=True, name=f"genrec-build-end-{child.pid}")
    ender.start()
    code = None
    try:
        for line in child.stdout:
            line = line.strip()
            if line.startswith(RUN_LINE):
                writer.add_run(line[len(RUN_LINE) :])
            else:
                follow(line, writer.report)
        code = _exit_code_unreaped(child)
    finally:
        try:
            _stop_group(child.pid)  # at once when following failed; the ender has done it otherwise
            ender.join(STOP_WAIT_S)
            error = ""
            if code != 0:
                _remove_staging(lock_path.parent, child.pid)
                log.flush()
                error = (
                    "following the build failed; see the server log"
                    if code is None
                    else _child_error(Path(log.name), code, writer.stage)
                )
            writer.finish(error)
        finally:
            lock_path.unlink(missing_ok=True)
            atexit.unregister(stop_at_exit)
            child.wait()
            child.stdout.close()
            log.close()


def _child_error(log_path: Path, code: int, stage: str = "") -> str:
    """Why the build ended with exit status ``code``: stopped by a signal, its own ``error: …`` line, or the status.

    Anything else it wrote (TensorFlow's log lines, warnings) stays in the log: such lines say nothing
    about why the build ended.
    """
    during = f" during {stage}" if stage else " while starting"
    # 128 + N: a signal turned into an exit (SIGTERM in genrec.utils.isolated, Ctrl-C in the CLI)
    signum = -code if code < 0 else code - 128
    if signum in signal.valid_signals():
        name = next((f", {s.name}" for s in signal.Signals if s == signum), "")  # real-time signals have none
        return (
            f"the build was stopped (killed by signal {signum}{name}){during}; "
            f"nothing half-written was kept — start it again"
        )
    try:
        with open(log_path, errors="replace") as lines:
            tail = [ln.strip() for ln in deque(lines, maxlen=20)]
    except OSError:
        tail = []
    said = [ln.removeprefix("error: ") for ln in tail if ln.startswith("error: ")]
    if said:
        return said[-1]
    return (
        f"the build stopped (exit status {code}){during}; nothing half-written was kept. "
        f"Details are in {log_path}; start it again."
    )
