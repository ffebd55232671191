"""Default folders: GENREC_HOME / GENREC_RUNS, else the checkout, else the user's data folder (never site-packages)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genrec.utils import paths

REPO = Path(__file__).resolve().parents[2]


def test_a_checkout_keeps_data_and_runs_beside_app_py(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENREC_HOME", raising=False)
    monkeypatch.delenv("GENREC_RUNS", raising=False)
    assert paths.checkout_root() == REPO
    assert paths.data_home() == REPO / "data"
    assert paths.runs_home() == REPO / "models"


def test_environment_variables_name_the_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GENREC_HOME", str(tmp_path / "d"))
    monkeypatch.setenv("GENREC_RUNS", str(tmp_path / "r"))
    assert paths.data_home() == tmp_path / "d"
    assert paths.runs_home() == tmp_path / "r"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_DATA_HOME is the Linux user data folder")
def test_an_installed_package_uses_the_user_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GENREC_HOME", raising=False)
    monkeypatch.delenv("GENREC_RUNS", raising=False)
    monkeypatch.setattr(paths, "checkout_root", lambda: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.data_home() == tmp_path / "xdg" / "genrec" / "data"
    assert paths.runs_home() == tmp_path / "xdg" / "genrec" / "models"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_DATA_HOME is the Linux user data folder")
def test_a_pip_installed_genrec_keeps_its_folders_out_of_site_packages(tmp_path: Path) -> None:
    # Build from a copy holding only what the package needs, so the checkout gets no build/ or egg-info.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "requirements.txt", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "genrec", source / "genrec", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", target, source],
        check=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("GENREC_HOME", "GENREC_RUNS")}
    env.update(PYTHONPATH=str(target), XDG_DATA_HOME=str(tmp_path / "xdg"))
    script = (
        "import json, genrec; from genrec.utils.paths import data_home, runs_home; "
        "print(json.dumps([genrec.__file__, str(data_home()), str(runs_home())]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    package, data, runs = json.loads(out.stdout)
    assert Path(package).is_relative_to(target)  # the installed copy ran, not the checkout
    assert Path(data) == tmp_path / "xdg" / "genrec" / "data"
    assert Path(runs) == tmp_path / "xdg" / "genrec" / "models"
    assert not Path(data).is_relative_to(target) and not Path(runs).is_relative_to(target)
