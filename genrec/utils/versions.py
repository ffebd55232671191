"""The one place that gathers installed package versions, for the records a run or a quantized model keeps."""

from __future__ import annotations

import importlib.metadata as md
import platform
from collections.abc import Iterable

__all__ = ["package_versions"]


def package_versions(names: Iterable[str], *, python: bool = False) -> dict[str, str]:
    """``{name: version}`` for each of ``names`` that is installed (others are left out).

    With ``python`` the interpreter's version comes first, under ``"python"``.
    """
    out = {"python": platform.python_version()} if python else {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return out
