"""Trained runs pulled into the app: at start-up from ``GENREC_RUNS_URL`` (or ``[genrec] runs_url`` in
Streamlit's secrets), and on demand with "Load trained runs" (a URL or an uploaded archive).

Every pull goes through :func:`genrec.runs.bundle.pull`, which checks everything and holds the runs folder's pull
lock: sessions pull one at a time, and a session that waited finds the runs in place.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path

import streamlit as st

import genrec.runs.bundle as bundle
from genrec.errors import GenrecError
from genrec.utils.paths import data_home
from views._caches import forget_runs
from views._guard import guard

FAILED_KEY = "startup_pull_failed"
log = logging.getLogger("genrec.app")


def configured_sources() -> str:
    """The sources to pull at start-up: ``GENREC_RUNS_URL``, else ``runs_url`` under ``[genrec]`` in secrets."""
    text = os.environ.get(bundle.RUNS_URL_ENV, "").strip()
    if text:
        return text
    try:
        return str(st.secrets.get("genrec", {}).get("runs_url", "")).strip()
    except Exception:  # no secrets.toml, or an unreadable one: nothing configured
        return ""


def _bar_progress(bar, source: str):
    def report(_stage: str, done: int, total: int) -> None:
        of = f" of {total / 1e6:.1f}" if total else ""
        bar.progress(
            min(done / total, 1.0) if total else 0.0,
            text=f"Loading trained runs from {source}: {done / 1e6:.1f}{of} MB",
        )

    return report


def startup_pull() -> None:
    """Pull the configured sources whose runs are not here yet, with a progress bar, before any page.

    A failure is shown (on every rerun of this session) and the app goes on to its build panel.
    """
    text = configured_sources()
    if not text:
        return
    if st.session_state.get(FAILED_KEY):
        st.error(st.session_state[FAILED_KEY], icon=":material/error:")
        return
    try:
        sources = bundle.parse_sources(text)
        pending = [s for s in sources if not bundle.pulled_before(s)]
    except GenrecError as exc:
        st.session_state[FAILED_KEY] = f"Could not load the trained runs: {exc}"
        st.error(st.session_state[FAILED_KEY], icon=":material/error:")
        return
    if not pending:
        return
    bar = st.progress(0.0, text="Loading trained runs…")
    try:
        for source in pending:
            results = bundle.pull(source, progress=_bar_progress(bar, source.location))
            _regenerate_demo_audio([r for res in results for r in res.added])
    except GenrecError as exc:
        st.session_state[FAILED_KEY] = f"Could not load the trained runs: {exc} You can build runs here instead."
        st.error(st.session_state[FAILED_KEY], icon=":material/error:")
    finally:
        bar.empty()
        forget_runs()


def load_panel() -> None:
    """ "Load trained runs": from a URL, or an uploaded archive made by `genrec runs pack`."""
    with st.expander("Load trained runs", icon=":material/cloud_download:"):
        st.caption("Runs packed elsewhere with `genrec runs pack … --out runs.tar.gz`: every file is checked first.")
        url = st.text_input("Archive URL", key="pull_url", placeholder="https://…/runs.tar.gz")
        checksum = st.text_input("Checksum (optional)", key="pull_checksum", placeholder="sha256:…")
        if st.button("Load from URL", key="pull_from_url", disabled=not url.strip()):
            with guard("loading trained runs"):
                bar = st.progress(0.0, text="Loading trained runs…")
                results = bundle.pull(
                    url.strip(), checksum=checksum.strip() or None, progress=_bar_progress(bar, url.strip())
                )
                bar.empty()
                _loaded(results)
        upload = st.file_uploader("…or upload an archive", type=["gz", "tgz", "tar"], key="pull_upload")
        if upload is not None and st.button("Load uploaded archive", key="pull_from_upload"):
            with guard("loading trained runs"):
                _loaded([_install_upload(upload)])


def _install_upload(upload) -> bundle.PullResult:
    """The uploaded archive, written to a private temp file (the name says only what kind of archive it is)."""
    suffix = ".tar" if upload.name.lower().endswith(".tar") else ".tar.gz"
    folder = data_home() / "bundles"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(upload.getvalue())
        return bundle.install_archive(Path(tmp), f"the uploaded {upload.name}")
    finally:
        Path(tmp).unlink(missing_ok=True)


#: The app regenerates the demo audio in one background thread, not in forked processes: two synthesis workers
#: added 0.3 GB and 4 s to the first answer after a pull on 2 cores (benchmarks/RESULTS.md section 13).
DEMO_AUDIO_WORKERS = 1


def _regenerate_demo_audio(run_ids: list[str]) -> None:
    """Make the demo library's audio for pulled demo runs in the background: answers come from the saved
    embeddings meanwhile, and the clips become playable when it is done."""
    if run_ids:
        threading.Thread(target=_audio_notes, args=(run_ids,), daemon=True, name="genrec-demo-audio").start()


def _audio_notes(run_ids: list[str]) -> None:
    # the answers go first: on Linux a thread has its own nice value (elsewhere this changes nothing)
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    try:
        for note in bundle.audio_notes(run_ids, workers=DEMO_AUDIO_WORKERS):
            log.info("%s", note)
    except Exception:  # a background thread has no page to show it on
        log.exception("could not prepare the audio of pulled runs %s", run_ids)


def _loaded(results: list[bundle.PullResult]) -> None:
    forget_runs()
    added = [r for res in results for r in res.added]
    _regenerate_demo_audio(added)
    present = [r for res in results for r in res.present]
    st.session_state.pop(FAILED_KEY, None)
    if added:
        st.success(f"Loaded {', '.join(added)}.", icon=":material/check_circle:")
        st.rerun()
    st.info(f"Nothing new: {', '.join(present)} already here.", icon=":material/info:")
