"""Progress reporting shared by the CLI (tqdm bars) and the app (``st.progress``).

Long stages call ``progress(stage, done, total)``; the caller decides how to show it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Protocol, TextIO

from tqdm.auto import tqdm


class ProgressFn(Protocol):
    def __call__(self, stage: str, done: int, total: int) -> None: ...


def silent(stage: str, done: int, total: int) -> None:
    """A progress sink that shows nothing (tests, library use)."""


class TqdmProgress:
    """One tqdm bar per stage, opened on a stage's first report and closed at its end.

    ``unit="B"`` counts bytes (a download): the bar shows kB/MB and a byte rate instead of steps, and a total
    of 0 means unknown (a server that sent no length), so the bar counts up without one and stays open.
    """

    def __init__(self, unit: str = "step") -> None:
        self._bars: dict[str, object] = {}
        self._bytes = unit == "B"
        self._unit = {"unit": unit, "unit_scale": True, "unit_divisor": 1024} if self._bytes else {"unit": unit}

    def __call__(self, stage: str, done: int, total: int) -> None:

        bar = self._bars.get(stage)
        if bar is None and done >= total > 0:
            return  # a closing report for a stage whose bar already finished (e.g. early stopping)
        unknown = self._bytes and total <= 0
        if bar is None:
            bar = self._bars[stage] = tqdm(total=None if unknown else total, desc=stage, leave=True, **self._unit)
        bar.total = None if unknown else total
        bar.n = done
        bar.refresh()
        if done >= total and not unknown:
            bar.close()
            del self._bars[stage]


class JsonLinesProgress:
    """One JSON object per report on a text stream, for a parent process to follow (see :func:`follow`)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stream.write(json.dumps({"stage": stage, "done": done, "total": total}) + "\n")
        self.stream.flush()


def follow(line: str, progress: ProgressFn) -> bool:
    """Pass one line written by :class:`JsonLinesProgress` on to ``progress``; False if it is not one."""
    try:
        report = json.loads(line)
        stage, done, total = report["stage"], int(report["done"]), int(report["total"])
    except (ValueError, KeyError, TypeError):
        return False
    progress(stage, done, total)
    return True


def per_stage(progress: ProgressFn, stage: str) -> Callable[[int, int], None]:
    """Adapt a stage-aware progress function to a ``(done, total)`` callback."""
    return lambda done, total: progress(stage, done, total)


def prefixed(progress: ProgressFn, prefix: str) -> ProgressFn:
    """``progress`` with every stage named after ``prefix`` first (``vgg16 epochs``)."""
    return lambda stage, done, total: progress(f"{prefix} {stage}", done, total)
