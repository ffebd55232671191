"""The app loading trained runs (views/_pull.py), driven with AppTest: the start-up pull from GENREC_RUNS_URL
against a local HTTP server on 127.0.0.1, its failure, and "Load trained runs" from an uploaded archive."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from genrec.runs.bundle import pack
from tests.helpers.http import Server

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180
slow = pytest.mark.slow  # packs and serves the tiny trained runs


@pytest.fixture(scope="module")
def archive(tiny_runs, tmp_path_factory) -> Path:
    return pack(list(tiny_runs.values()), tmp_path_factory.mktemp("app-bundle") / "runs.tar.gz").path


@pytest.fixture
def empty_runs(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("GENREC_RUNS", str(root))
    monkeypatch.delenv("GENREC_RUNS_URL", raising=False)
    return root


def start():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def visible_runs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) if root.is_dir() else []


@slow
def test_start_up_pull_shows_progress_then_the_compare_page(
    archive: Path, tiny_runs, server: Server, empty_runs: Path, monkeypatch
) -> None:
    import views._pull as pull_page

    url = server.publish("runs.tar.gz", archive.read_bytes())
    monkeypatch.setenv("GENREC_RUNS_URL", f"{url} sha256:{hashlib.sha256(archive.read_bytes()).hexdigest()}")
    shown = []
    real = pull_page._bar_progress

    def spy(bar, source):
        report = real(bar, source)

        def wrapped(stage: str, done: int, total: int) -> None:
            report(stage, done, total)
            shown.append((source, done, total))

        return wrapped

    monkeypatch.setattr(pull_page, "_bar_progress", spy)
    at = start()
    size = archive.stat().st_size
    assert shown[0] == (url, 0, size) and shown[-1] == (url, size, size)  # bytes of this source, up to all
    assert "Compare VGG16 and ResNet50" in at.title[0].value
    assert visible_runs(empty_runs) == sorted(p.name for p in tiny_runs.values())
    at.run()  # a rerun (or another session) finds the runs in place: no second download
    assert server.count() == 1 and "Compare VGG16 and ResNet50" in at.title[0].value


@slow
def test_failed_start_up_pull_shows_the_message_and_the_build_panel(
    archive: Path, server: Server, empty_runs: Path, monkeypatch
) -> None:
    url = server.publish("runs.tar.gz", archive.read_bytes())
    monkeypatch.setenv("GENREC_RUNS_URL", f"{url} sha256:{'0' * 64}")
    at = start()
    assert any("Could not load the trained runs" in e.value and "checksum" in e.value for e in at.error)
    assert "Welcome to genrec" in at.title[0].value and at.button(key="build_demo")  # the build panel
    assert visible_runs(empty_runs) == []
    at.run()  # the failure is remembered for the session, not retried on every rerun
    assert server.count() == 1 and any("Could not load the trained runs" in e.value for e in at.error)


@slow
def test_load_trained_runs_from_an_uploaded_archive(archive: Path, tiny_runs, empty_runs: Path) -> None:
    at = start()
    assert "Welcome to genrec" in at.title[0].value
    at.file_uploader(key="pull_upload").set_value(("runs.tar.gz", b"not an archive", "application/gzip")).run()
    at.button(key="pull_from_upload").click().run()
    assert any("the uploaded runs.tar.gz" in e.value for e in at.error) and visible_runs(empty_runs) == []
    at.file_uploader(key="pull_upload").set_value(("runs.tar.gz", archive.read_bytes(), "application/gzip")).run()
    at.button(key="pull_from_upload").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert visible_runs(empty_runs) == sorted(p.name for p in tiny_runs.values())
    assert "Compare VGG16 and ResNet50" in at.title[0].value
