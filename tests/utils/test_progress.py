"""genrec.utils.progress: the CLI's tqdm bars."""

from __future__ import annotations

import pytest
import tqdm.auto

import genrec.utils.progress
from genrec.utils.progress import TqdmProgress


@pytest.fixture
def bars(monkeypatch) -> list[tqdm.auto.tqdm]:
    drawn: list[tqdm.auto.tqdm] = []

    class RecordingTqdm(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            drawn.append(self)

    monkeypatch.setattr(genrec.utils.progress, "tqdm", RecordingTqdm)
    return drawn


def test_steps_by_default_one_bar_per_stage_closed_at_its_end(bars):
    progress = TqdmProgress()
    for done in range(4):
        progress("epochs", done, 3)
    progress("epochs", 3, 3)  # a second closing report opens no new bar
    assert [(bar.desc, bar.unit, bar.n, bar.total, bar.disable) for bar in bars] == [("epochs", "step", 3, 3, True)]


def test_bytes_are_counted_in_scaled_units(bars, capsys):
    progress = TqdmProgress(unit="B")
    for done in (0, 3 << 20, 6 << 20):
        progress("runs.tar.gz", done, 6 << 20)
    assert [(bar.unit, bar.unit_scale, bar.unit_divisor, bar.n) for bar in bars] == [("B", True, 1024, 6 << 20)]
    assert "6.00M/6.00M" in capsys.readouterr().err


def test_bytes_of_an_unknown_total_count_up_on_one_open_bar(bars):
    progress = TqdmProgress(unit="B")
    for done in (0, 1000, 2000):
        progress("runs.tar.gz", done, 0)  # the server sent no length
    assert len(bars) == 1 and bars[0].n == 2000 and bars[0].total is None and not bars[0].disable
    bars[0].close()
