"""Shared fixtures: an isolated genrec home, generated audio, tiny libraries and trained runs."""

from __future__ import annotations

import http.server
import os
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers.audio import make_gtzan_folder
from tests.helpers.http import RangeHandler, Server, ServerState
from tests.helpers.shared import GTZAN_SAMPLE


@pytest.fixture(autouse=True)
def genrec_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test writes caches and runs into a temporary home, never into the project."""
    home = tmp_path_factory.getbasetemp() / "genrec-home"
    monkeypatch.setenv("GENREC_HOME", str(home / "data"))
    monkeypatch.setenv("GENREC_RUNS", str(home / "models"))
    return home


@pytest.fixture(autouse=True)
def float_predictor(monkeypatch) -> None:
    """Uploads are answered by the float predictor, whose outputs equal Keras' (tests of exact answers rely on
    it); tests/model/test_quantize.py sets GENREC_PREDICTOR itself to test the 8-bit predictor and the auto choice."""
    monkeypatch.setenv("GENREC_PREDICTOR", "float")


@pytest.fixture
def without_faiss(monkeypatch) -> None:
    """`import faiss` fails, as where the `ann` extra (approximate catalogue search) is not installed."""
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "faiss" or name.startswith("faiss."):
            raise ImportError("No module named 'faiss'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.fixture(scope="session")
def tiny_library_dir(tmp_path_factory) -> Path:
    """A 10-genre, 5-clips-per-genre GTZAN-layout folder of generated 4-s clips."""
    return make_gtzan_folder(tmp_path_factory.mktemp("tiny-gtzan") / "genres")


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory, tiny_library_dir) -> dict[str, Path]:
    """One tiny trained run per architecture (32-px images, 2 epochs), shared by the tests that only read runs."""
    from genrec.data.library import load_gtzan
    from genrec.training.trainer import TrainConfig, train

    home = tmp_path_factory.mktemp("tiny-runs-home")
    old = {k: os.environ.get(k) for k in ("GENREC_HOME", "GENREC_RUNS")}
    os.environ["GENREC_HOME"] = str(home / "data")
    try:
        lib = load_gtzan(tiny_library_dir)
        out = home / "models"
        runs = {
            arch: train(
                TrainConfig(
                    arch=arch,
                    library=str(tiny_library_dir),
                    epochs=2,
                    input_size=32,
                    batch_size=16,
                    weights="none",
                    out=str(out),
                ),
                library=lib,
            )
            for arch in ("vgg16", "resnet50")
        }
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return runs


@pytest.fixture
def gtzan_sample() -> Path:
    """The 60 real GTZAN clips in ../shared; skipped with a reason where ../shared is absent."""
    if not GTZAN_SAMPLE.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{GTZAN_SAMPLE} is missing in CI, where ../shared must be present")
        pytest.skip(f"{GTZAN_SAMPLE} not present (it is provided beside the project in CI, not in a user's clone)")
    return GTZAN_SAMPLE


# --------------------------------------------------------------------------- local HTTP server (Range requests)


def _serve_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A Range-capable HTTP server on 127.0.0.1 serving ``tmp_path/srv``, stopped afterwards."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    root = tmp_path / "srv"
    root.mkdir()
    state = ServerState(root=root)
    handler = type("Handler", (RangeHandler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield Server(state, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The local file server (see :class:`Server`)."""
    yield from _serve_files(tmp_path, monkeypatch)


@pytest.fixture
def http_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The same, for modules whose own ``server`` fixture is the app's server."""
    yield from _serve_files(tmp_path, monkeypatch)


# --------------------------------------------------------------------------- archives and downloads


# --------------------------------------------------------------------------- reachability
class _HeadHandler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(404 if "missing" in self.path else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    """A server that answers HEAD requests: 404 for paths with "missing", else 200."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HeadHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
