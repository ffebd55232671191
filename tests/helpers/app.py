"""Driving the Streamlit app with AppTest, and reading what it shows."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import soundfile as sf
from streamlit.util import calc_hash

from genrec.config import SAMPLE_RATE

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"


TIMEOUT = 120


# --------------------------------------------------------------------------- helpers
def copy_runs(tiny_runs: dict[str, Path], dest: Path, broken: bool = False) -> Path:
    """The tiny runs under ``dest`` (model files linked, not copied); optionally one broken run too."""
    dest.mkdir(parents=True, exist_ok=True)
    for src in tiny_runs.values():
        target = dest / src.name
        target.mkdir()
        for f in src.iterdir():
            if f.name == "model.keras":
                os.symlink(f, target / f.name)
            else:
                shutil.copy2(f, target / f.name)
    if broken:
        src = tiny_runs["vgg16"]
        bad = dest / "vgg16-broken-run"
        bad.mkdir()
        for f in ("run.json", "metrics.json", "history.csv", "tracks.csv"):
            shutil.copy2(src / f, bad / f)
    return dest


def start(**kw):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(at, url_path: str):
    """Switch ``at`` to one of app.py's pages by its ``url_path`` (e.g. "training_runs") and run it.

    The pages are functions registered with ``st.Page`` (see app.py), and ``AppTest.switch_page`` only
    resolves page *files*; Streamlit keys a function page by the hash of its url_path, which is what a
    browser opening ``/training_runs`` asks for.
    """
    at._page_hash = calc_hash(url_path)
    return at.run()


def figures(at) -> list:
    """The plotly figures on the page, decoded."""
    return [go.Figure(_decode(json.loads(el.proto.spec))) for el in at.get("plotly_chart")]


def markdown(at) -> list[str]:
    return [m.value for m in at.markdown]


def recommendations(at) -> list[str]:
    return [m for m in markdown(at) if "similarity **" in m]


def metric_values(at, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def wav_bytes(y: np.ndarray, sr: int = SAMPLE_RATE) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def no_traceback(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    for err in at.error:
        assert "Traceback" not in err.value and 'File "' not in err.value


def _decode(obj):
    """Plotly's JSON carries numeric arrays as {dtype, bdata(base64), shape}: turn them into numpy arrays."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
            shape = obj.get("shape")
            return arr.reshape([int(n) for n in str(shape).split(",")]) if shape else arr
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj
