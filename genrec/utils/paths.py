"""Where genrec keeps its files: generated libraries and caches (``data_home``) and saved runs (``runs_home``).

The rule, first match wins:

1. ``GENREC_HOME`` (data) and ``GENREC_RUNS`` (runs) name the folders outright;
2. running from a checkout (the package's parent holds ``pyproject.toml`` and ``app.py``, as in a clone or an
   editable install), ``<checkout>/data`` and ``<checkout>/models``, as the README describes;
3. otherwise (an installed package, whose parent is site-packages) the user's data folder,
   ``platformdirs.user_data_dir("genrec")`` (``~/.local/share/genrec`` on Linux), with ``data`` and ``models``
   inside: never inside site-packages, and the same wherever the command is started.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["checkout_root", "data_home", "genrec_home", "runs_home"]


def checkout_root() -> Path | None:
    """The checkout genrec runs from (the folder holding ``app.py``), or None for an installed package."""
    root = Path(__file__).resolve().parent.parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "app.py").is_file() else None


def genrec_home() -> Path:
    """The folder the default ``data`` and ``models`` folders live in: the checkout, else the user's data folder."""
    return checkout_root() or Path(platformdirs.user_data_dir("genrec", appauthor=False))


def data_home() -> Path:
    """Where generated libraries and spectrogram caches live: ``GENREC_HOME``, else ``<home>/data``."""
    return Path(os.environ.get("GENREC_HOME") or genrec_home() / "data").expanduser()


def runs_home() -> Path:
    """Where saved training runs live: ``GENREC_RUNS``, else ``<home>/models``."""
    return Path(os.environ.get("GENREC_RUNS") or genrec_home() / "models").expanduser()
