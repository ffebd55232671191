"""What a server that pulls runs and answers clips imports (issue 19: at most 0.5 GB during the pull and the first
answer). Pages are files that Streamlit runs when opened, so a page's own needs load with it, not at start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sklearn", "scipy.stats", "tensorflow", "genrec.evaluate", "genrec.training.trainer")


def _imported_after(*modules: str) -> list[str]:
    """Which of HEAVY a fresh interpreter holds after importing ``modules`` from the project root."""
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_the_start_up_pages_leave_scikit_learn_and_scipy_stats_to_the_pages_that_draw_them():
    # the router with its sidebar and start-up pull, and the pages a visitor meets first
    assert _imported_after("app", "views.compare", "views.get_started", "views.build_runs") == []
    # the check sees them where they are used: "Training runs" (statistics) and "Library map" (projections)
    assert {"sklearn", "scipy.stats", "genrec.evaluate"} <= set(_imported_after("views.training_runs"))
    assert "sklearn" in _imported_after("views.library_map")
