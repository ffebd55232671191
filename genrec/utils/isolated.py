"""Run one heavy step in a fresh child process, so that its memory is the operating system's again when it ends.

TensorFlow does not give back what a trained model, its features or a TFLite conversion took: freed
heap stays in the process. ``genrec build`` therefore trains, converts and quantizes each architecture
in consecutive children (:func:`run_isolated`), and its own process never imports TensorFlow. The
build's peak is then the largest single step's, not the sum of everything the steps left behind.

The child is started with ``spawn`` (a fork would copy the parent's state and its threads' locks). It
reports progress and its result, or its exception, through a queue; a ``GenrecError`` raised in the
child is raised again in the parent with its own message. A child ends with its parent, even when the
parent was killed (SIGKILL) and had no chance to stop it.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from genrec.errors import GenrecError
from genrec.utils.progress import ProgressFn, silent

#: glibc malloc settings for the build's TensorFlow steps (run_isolated), unless the user set them: two
#: arenas instead of eight per core, and large blocks mmap'ed (so freed ones go back at once). They cut the
#: ResNet50 LiteRT conversion's peak from 1.63 to 1.34 GB (benchmarks/RESULTS.md section 9).
CHILD_MALLOC_ENV = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": str(1 << 20)}

#: How often (s) the parent looks whether a silent child is still alive.
_POLL_SECONDS = 0.2

#: prctl's request to be sent a signal when the parent ends (linux/prctl.h).
_PR_SET_PDEATHSIG = 1

#: Run steps in this process instead. For tests that patch a library in-process (a spawned child would
#: not see the patch), e.g. Keras' weights download pointed at a local server.
IN_PROCESS = False


def _child_main(step: Callable[..., Any], args: tuple, kwargs: dict, messages, parent: int) -> None:
    """The child: run ``step(*args, progress=..., **kwargs)`` and send back what came of it."""
    _die_with(parent)

    def progress(stage: str, done: int, total: int) -> None:
        messages.put(("progress", stage, done, total))

    try:
        messages.put(("result", step(*args, progress=progress, **kwargs)))
    except GenrecError as exc:
        messages.put(("error", exc))
    except BaseException:
        messages.put(("crash", traceback.format_exc()))
        raise


def run_isolated(
    step: Callable[..., Any],
    *args: Any,
    progress: ProgressFn = silent,
    environment: dict[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """``step(*args, progress=progress, **kwargs)`` in a fresh child process; its return value.

    The child starts with :data:`CHILD_MALLOC_ENV` and ``environment`` added to this process's environment,
    where the user has not set those variables.

    ``step`` must be a module-level function, and its arguments and result picklable. A
    ``GenrecError`` in the child is raised here as it was raised there; any other failure, or a
    child that dies without a word (killed for memory, say), raises ``GenrecError`` naming the step.
    Interrupting the parent (Ctrl-C, SIGTERM) stops the child as well.
    """
    if IN_PROCESS:
        return step(*args, progress=progress, **kwargs)
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    # not a daemon: a step may start workers of its own; the finally below stops it with the parent
    child = context.Process(target=_child_main, args=(step, args, kwargs, messages, os.getpid()))
    name = getattr(step, "__name__", "step")
    previous = signal.getsignal(signal.SIGTERM)
    on_main_thread = _install_sigterm()
    with _child_environment({**CHILD_MALLOC_ENV, **(environment or {})}):  # a spawned child inherits it
        child.start()
    try:
        outcome = _follow(child, messages, progress)
        child.join()
    finally:
        if child.is_alive():
            child.terminate()
            child.join(10)
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
        messages.close()
    if outcome is None:
        raise GenrecError(
            f"the {name} step stopped without finishing (exit status {child.exitcode}); if the machine ran out "
            f"of memory, close other programs or use a machine with more memory, then run the command again."
        )
    if outcome[0] == "error":
        raise outcome[1]
    if outcome[0] == "crash":
        last = outcome[1].strip().splitlines()[-1]
        raise GenrecError(f"the {name} step failed ({last}); the child's traceback is above, in its error output.")
    return outcome[1]


def _follow(child, messages, progress: ProgressFn) -> tuple | None:
    """Pass the child's progress reports on until its outcome arrives; None when it is gone without one."""
    while True:
        try:
            message = messages.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if child.is_alive():
                continue
            # Gone: what it sent before exiting is in the pipe by now, but may have landed just
            # after the wait above timed out, so look once more before calling it lost.
            try:
                message = messages.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                return None
        if message[0] != "progress":
            return message
        progress(*message[1:])


def _die_with(parent: int) -> None:
    """End this process as soon as ``parent`` does, even when it was killed (SIGKILL) and could not stop us.

    Otherwise a step whose parent was killed trains on for minutes as an orphan, writing into a build
    folder nobody will keep. Linux tells us at once (PR_SET_PDEATHSIG); elsewhere a thread watches.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # it died before the request took effect
                    os._exit(1)
                return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="genrec-parent-watch").start()


def _watch_parent(parent: int) -> None:
    """End this process once it has been handed to another parent (its own has ended)."""
    while os.getppid() == parent:
        time.sleep(_POLL_SECONDS)
    os._exit(1)


@contextlib.contextmanager
def _child_environment(defaults: dict[str, str]):
    """Set ``defaults`` in ``os.environ`` where unset while a child starts, then restore the environment."""
    added = [name for name in defaults if name not in os.environ]
    os.environ.update({name: defaults[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _install_sigterm() -> bool:
    """Turn SIGTERM into SystemExit, so the ``finally`` above stops the child; False off the main thread."""

    def stop(signum, frame) -> None:
        raise SystemExit(128 + signum)

    with contextlib.suppress(ValueError):  # signal handlers can only be set on the main thread
        signal.signal(signal.SIGTERM, stop)
        return True
    return False
