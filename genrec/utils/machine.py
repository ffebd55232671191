"""What this machine offers the pipeline: how many cores this process may use, and which CPU features."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cpu_features", "cpu_threads", "describe_cpu"]


def cpu_threads() -> int:
    """Cores this process may use: its CPU affinity where the system has one (containers narrow it), else
    the machine's count. LiteRT's interpreters and the spectrogram images use this many threads."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


#: The CPU features that decide how fast 8-bit (and float) inference runs: AVX2 is the x86 baseline, AVX-512
#: and VNNI/AMX add int8 dot products, which is where 8-bit arithmetic beats float.
SPEED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


def cpu_features(cpuinfo: str = "/proc/cpuinfo") -> dict[str, bool] | None:
    """Which of :data:`SPEED_FLAGS` this CPU lists, plus ``int8_dot`` (any of :data:`INT8_DOT_FLAGS`);
    None where there is no ``/proc/cpuinfo`` to say (macOS, Windows)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return None
    present: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            present = set(line.split(":", 1)[1].split())
            break
    features = {flag: flag in present for flag in SPEED_FLAGS}
    features["int8_dot"] = any(present.intersection(INT8_DOT_FLAGS))
    return features


def describe_cpu(features: dict[str, bool] | None) -> str:
    """``features`` in a few words, e.g. "avx2 (no avx512f, avx512_vnni, ...)"; "unknown" for None."""
    if features is None:
        return "unknown (no /proc/cpuinfo)"
    have = [f for f in SPEED_FLAGS if features.get(f)]
    lacks = [f for f in SPEED_FLAGS if not features.get(f)]
    return " ".join(have or ["none"]) + (f" (no {', '.join(lacks)})" if lacks else "")
