"""What this machine offers the pipeline: how many cores this process may use."""

from __future__ import annotations

import os

__all__ = ["cpu_threads"]


def cpu_threads() -> int:
    """Cores this process may use: its CPU affinity where the system has one (containers narrow it), else
    the machine's count. LiteRT's interpreters and the spectrogram images use this many threads."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1
