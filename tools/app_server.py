"""The real Streamlit server of ``app.py`` on a free local port, for the browser test and the benchmarks.

One place starts, health-checks and stops it, so that the end-to-end test and the benchmarks that time or
measure the server run it the same way. Headless Chromium (Debian's, driven by Playwright) is named here too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Debian's Chromium (``.ci/install-browser.sh``); Playwright's own browser downloads are not used.
CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and nothing that reaches the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_command(
    app: str | Path, port: int, python: str | Path = sys.executable, watcher: str | None = "none"
) -> list[str]:
    """The command line of a headless Streamlit server for ``app`` on 127.0.0.1:``port``.

    ``watcher``: Streamlit's file watcher setting; None leaves it to ``.streamlit/config.toml``.
    """
    cmd = [str(python), "-m", "streamlit", "run", str(app), "--server.headless", "true", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    return cmd + (["--server.fileWatcherType", watcher] if watcher else [])


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    """Return once ``url``'s health endpoint answers "ok"; RuntimeError (with the log's tail) if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}; {log}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200 and reply.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"streamlit not healthy after {timeout:.0f} s; {log}:\n{_tail(log)}")


@contextmanager
def serve(
    app: str | Path,
    *,
    env: dict[str, str],
    log: Path,
    cwd: str | Path | None = None,
    python: str | Path = sys.executable,
    watcher: str | None = "none",
    timeout: float = 120.0,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``streamlit run app`` on a free port; yield (its URL, the process) once healthy; stop it afterwards.

    The server gets its own process group, so stopping it also stops whatever it started (a build's
    child process), first with SIGTERM and after 20 s with SIGKILL. Its output goes to ``log``.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = streamlit_command(app, port, python=python, watcher=watcher)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(url, proc, log, timeout)
        yield url, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return ""
