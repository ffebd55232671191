"""Shared fixtures: an isolated genrec home, generated audio, tiny libraries and trained runs."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import tarfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import psutil
import pytest
import soundfile as sf

from genrec.config import GENRES, SAMPLE_RATE

SHARED = Path(__file__).resolve().parents[2] / "shared"
GTZAN_SAMPLE = SHARED / "data" / "gtzan-sample"
SPLITS = SHARED / "data" / "splits"


def tone(
    seconds: float = 5.0, freq: float = 440.0, sr: int = SAMPLE_RATE, seed: int = 0, noise: float = 0.05
) -> np.ndarray:
    """A decaying-note pattern with a little noise: music-like enough for every stage."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    beat = np.exp(-6 * (t % 0.5))
    y = 0.4 * np.sin(2 * np.pi * freq * t) * beat + noise * rng.standard_normal(len(t))
    return y.astype(np.float32)


def write_audio(path: Path, y: np.ndarray, sr: int = SAMPLE_RATE, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sr, **kw)
    return path


def wait_for(check, what: str, timeout: float = 30.0):
    """Poll until ``check()`` is truthy (a deadline against hanging, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def process_running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie nobody has reaped yet has exited)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


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
    it); tests/test_quantize.py sets GENREC_PREDICTOR itself to test the 8-bit predictor and the auto choice."""
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


def make_gtzan_folder(
    root: Path, per_genre: int = 5, seconds: float = 4.0, ext: str = "wav", genres: tuple[str, ...] = GENRES
) -> Path:
    """A GTZAN-like folder <root>/<genre>/<genre>.000NN.<ext> whose genres differ audibly (pitch, noise)."""
    for gi, genre in enumerate(genres):
        for n in range(per_genre):
            y = tone(seconds, freq=110.0 * (1 + gi), seed=gi * 100 + n, noise=0.02 + 0.03 * (gi % 3))
            write_audio(root / genre / f"{genre}.{n:05d}.{ext}", y, subtype="PCM_16" if ext != "au" else None)
    return root


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


def own_run(src: Path, dest: Path):
    """A private copy of a tiny run (catalogues are written into the run folder), opened as a Run."""
    from genrec.runs.reader import Run

    dest.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file():
            (os.symlink if f.name == "model.keras" else shutil.copy2)(f, dest / f.name)
    return Run.open(dest)


# --------------------------------------------------------------------------- local HTTP server (Range requests)


@dataclass
class ServerState:
    root: Path
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    drop_after: dict[str, int] = field(default_factory=dict)  # path -> bytes, first request only
    ignore_range: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class RangeHandler(BaseHTTPRequestHandler):
    """Serves files from ``state.root`` with Range support and scripted failures."""

    state: ServerState  # set on a per-fixture subclass

    def log_message(self, *args: object) -> None:  # keep pytest output quiet
        pass

    def do_GET(self) -> None:
        st = self.state
        rng = self.headers.get("Range")
        with st.lock:
            st.requests.append((self.path, rng))
            drop = st.drop_after.pop(self.path, None)
        file = st.root / self.path.lstrip("/")
        if not file.is_file():
            self.send_error(404, "Not Found")
            return
        data = file.read_bytes()
        start = 0
        if rng and not st.ignore_range:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if drop is not None:  # simulate a connection lost mid-transfer
            self.wfile.write(body[:drop])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@dataclass
class Server:
    state: ServerState
    base: str

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def publish(self, name: str, data: bytes) -> str:
        path = self.state.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self.url(name)

    def count(self) -> int:
        return len(self.state.requests)


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


GTZAN_LIKE = {
    f"genres/{g}/{g}.{i:05d}.au": f"{g}-{i}-".encode() * 10 for g in ("blues", "classical", "rock") for i in range(2)
}


def make_targz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Temporary extraction folders or .part files left in ``folder``."""
    return [p.name for p in folder.iterdir() if ".extracting-" in p.name or p.name.endswith(".part")]
