"""Polling with a deadline, and process checks."""

from __future__ import annotations

import time

import psutil


def wait_for(check, what: str, timeout: float = 30.0):
    """Poll until ``check()`` is truthy (a deadline against hanging, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def process_running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie nobody has reaped yet has exited)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
