"""What the Streamlit dashboard needs besides drawing: tables, projections, uploads, progress.

No Streamlit here: the pages call these functions and only lay out their
results, so everything below can be tested without a browser or AppTest.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from genrec.audio import SUPPORTED_FORMATS, check_extension, load_audio
from genrec.config import ARCH_LABELS, ARCHITECTURES, GENRES, PAPER_ACCURACY
from genrec.errors import AudioError
from genrec.plots import arch_label

#: Largest upload the app accepts, in MiB (2**20 bytes): about 2.5 min of CD-quality WAV; a 4-minute song fits
#: as MP3, not as WAV.
MAX_UPLOAD_MIB = 25
#: Formats people often have that genrec cannot decode: the upload widget takes them, so that genrec's own
#: message (with the ffmpeg command that converts them) answers, rather than the widget's bare refusal.
CONVERTIBLE_EXTENSIONS = (".m4a", ".aac", ".wma", ".opus", ".webm", ".mp4")

PAPER_LABEL = "paper (reference)"

#: Columns of the runs summary table, in order, with their display names.
SUMMARY_COLUMNS: dict[str, str] = {
    "run": "run",
    "architecture": "architecture",
    "library": "library",
    "split": "split",
    "weights": "weights from",
    "epochs": "epochs",
    "last_four_trainable": "last four trainable",
    "test_accuracy": "test accuracy",
    "macro_f1": "macro F1",
    "precision_at_5": "precision@5",
    "map": "mAP",
    "train_s": "training time (s)",
}

ALL_GENRES = "All genres"


# --------------------------------------------------------------------------- runs
def runs_signature(root: Path) -> tuple[tuple[str, float], ...]:
    """A cheap fingerprint of the runs folder (names and modification times) to key caches on."""
    if not root.is_dir():
        return ()
    out = []
    for path in sorted(root.iterdir()):
        if path.is_dir() and not path.name.startswith("."):
            try:
                stamp = max((f.stat().st_mtime for f in path.iterdir()), default=path.stat().st_mtime)
            except OSError:
                stamp = 0.0
            out.append((path.name, stamp))
    return tuple(out)


def default_runs(runs: Sequence, archs: Sequence[str] = ARCHITECTURES) -> dict:
    """The newest run of each architecture (None where there is none); ``runs`` are newest first."""
    from genrec.runs import newest

    return {arch: newest(list(runs), arch) for arch in archs}


def run_option_label(run) -> str:
    """How a run is named in selectboxes: its id with weights and test accuracy."""
    acc = run.metrics_summary.test.accuracy
    acc_text = f", test acc {acc:.2f}" if np.isfinite(acc) else ""
    return f"{run.id} ({run.weights_label}{acc_text})"


def run_short_label(run) -> str:
    """A compact run name for narrow widgets: creation time and test accuracy."""
    created = run.created_at.strftime("%Y-%m-%d %H:%M")
    acc = run.metrics_summary.test.accuracy
    acc_text = f" · acc {acc:.2f}" if np.isfinite(acc) else ""
    return f"{created}{acc_text}"


def weights_caption(run) -> str:
    """One line saying which weights a run's backbone started from."""
    kind = run.weights.kind
    meaning = {"imagenet": "pretrained on ImageNet", "none": "random initialisation, no pretraining"}.get(
        kind, "a local weights file"
    )
    return f"Started from **{run.weights_label}** ({meaning})"


def is_synthetic(run) -> bool:
    """Whether the run was trained on the synthetic demo library."""
    return run.library.synthetic


def summary_table(runs: Sequence, reference: bool = True) -> pd.DataFrame:
    """One row per run (display column names), with the paper's figures as reference rows at the end."""
    from genrec.runs import runs_table

    rows = runs_table(list(runs)) if runs else pd.DataFrame(columns=["run", "arch"])
    table = pd.DataFrame(
        {
            "run": rows.get("run", pd.Series(dtype=str)),
            "architecture": rows.get("arch", pd.Series(dtype=str)).map(arch_label),
            "library": rows.get("library", pd.Series(dtype=str)),
            "split": rows.get("split", pd.Series(dtype=str)),
            "weights": rows.get("weights", pd.Series(dtype=str)),
            "epochs": rows.get("epochs", pd.Series(dtype=float)),
            "last_four_trainable": rows.get("last_four_trainable", pd.Series(dtype=object)),
            "test_accuracy": rows.get("test_accuracy", pd.Series(dtype=float)),
            "macro_f1": rows.get("macro_f1", pd.Series(dtype=float)),
            "precision_at_5": rows.get("precision_at_5", pd.Series(dtype=float)),
            "map": rows.get("map", pd.Series(dtype=float)),
            "train_s": rows.get("train_s", pd.Series(dtype=float)),
        }
    )
    if reference:
        ref = pd.DataFrame(
            [
                {
                    "run": PAPER_LABEL,
                    "architecture": arch_label(a),
                    "library": "GTZAN",
                    "split": "paper",
                    "weights": "ImageNet",
                    "test_accuracy": acc,
                }
                for a, acc in PAPER_ACCURACY.items()
            ]
        )
        table = pd.concat([table.astype(object), ref.astype(object)], ignore_index=True)
    for col in ("epochs", "test_accuracy", "macro_f1", "precision_at_5", "map", "train_s"):
        table[col] = pd.to_numeric(table[col], errors="coerce")
    return table.rename(columns=SUMMARY_COLUMNS)[list(SUMMARY_COLUMNS.values())]


def report_table(split_metrics: dict) -> pd.DataFrame:
    """The paper's precision / recall / F1 / support table, with the summary rows set apart."""
    from genrec.metrics import report_frame

    frame = report_frame(split_metrics)
    frame.index.name = "genre"
    return frame.reset_index()


# --------------------------------------------------------------------------- library clips
def clip_options(tracks: pd.DataFrame, genre: str = ALL_GENRES, search: str = "") -> list[str]:
    """Track ids of a library table, optionally of one genre and matching a search text (id or artist)."""
    table = tracks
    if genre and genre != ALL_GENRES:
        table = table[table["genre"] == genre]
    text = search.strip().lower()
    if text:
        hay = (
            table["track_id"].str.lower()
            + " "
            + table.get("artist", pd.Series("", index=table.index)).astype(str).str.lower()
        )
        table = table[hay.str.contains(text, regex=False)]
    return table["track_id"].tolist()


def clip_label(row: pd.Series) -> str:
    """How a library clip is listed: id, genre, split and artist when known."""
    artist = str(row.get("artist", "") or "")
    return f"{row['track_id']} · {row['genre']} · {row['split']}" + (f" · {artist}" if artist else "")


def is_audio_file(path: str | Path) -> bool:
    """Whether a library path is audio genrec can decode (not a pre-rendered spectrogram image)."""
    return Path(path).suffix.lower() in SUPPORTED_FORMATS


#: Formats browsers play natively; others (Sun .au) are decoded and sent as WAV.
BROWSER_FORMATS = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".flac": "audio/flac"}


def shared_tracks(tracks_by_arch: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Library tracks present in every given run's table (the first table's rows and order)."""
    tables = [t for t in tracks_by_arch.values() if t is not None]
    if not tables:
        return pd.DataFrame(columns=["track_id", "path", "genre", "split", "artist"])
    first = tables[0]
    common = set(first["track_id"])
    for t in tables[1:]:
        common &= set(t["track_id"])
    return first[first["track_id"].isin(common)].reset_index(drop=True)


# --------------------------------------------------------------------------- uploads
@dataclass
class Query:
    """A clip to analyse, decoded into the 30-s analysis window."""

    kind: str  # "library", "upload" or "recording"
    label: str  # what to call it on the page
    samples: np.ndarray | None  # mono window at SAMPLE_RATE (None for image-only library entries)
    digest: str = ""  # identifies the audio, to cache answers on
    data: bytes | None = None  # the uploaded or recorded file (each run cuts its own window from it)
    track_id: str | None = None
    true_genre: str | None = None
    split: str | None = None
    path: str | None = None
    extra: dict = field(default_factory=dict)


def upload_widget_limit_mb(max_mib: float = MAX_UPLOAD_MIB) -> int:
    """The upload widget's ``max_upload_size`` that lets every file within ``max_mib`` MiB through.

    Streamlit's browser side counts the widget's megabytes as 10**6 bytes (1024**2 on Windows), so the
    widget gets the MiB limit rounded up in decimal MB and the app's own check (:func:`read_upload`)
    applies the exact limit, with its own message.
    """
    return math.ceil(max_mib * 2**20 / 10**6)


def upload_types() -> list[str]:
    """Extensions the upload widget accepts: the decodable ones plus :data:`CONVERTIBLE_EXTENSIONS`."""
    return [e.lstrip(".") for e in (*SUPPORTED_FORMATS, *CONVERTIBLE_EXTENSIONS)]


def read_upload(data: bytes, name: str, kind: str = "upload", max_mib: float = MAX_UPLOAD_MIB) -> Query:
    """Check and decode uploaded (or recorded) audio bytes; AudioError with the fix when unusable."""
    if len(data) == 0:
        raise AudioError(f"{name}: the file is empty (0 bytes). Choose another file.")
    if len(data) > max_mib * 2**20:
        raise AudioError(
            f"{name}: {len(data) / 2**20:.1f} MiB is over the {max_mib:g} MiB limit. "
            f"Upload a shorter excerpt, or the song as MP3, OGG or FLAC."
        )
    check_extension(name)
    y = load_audio(data, name=name)
    digest = hashlib.sha1(data).hexdigest()
    return Query(kind=kind, label=name, samples=y, digest=digest, data=data)


def library_query(track: pd.Series, media: Path | None) -> Query:
    """A library clip as a query; ``media`` is its file as :meth:`genrec.runs.Run.media_path` vetted it.

    Its audio is decoded for display only when that file is audio; with ``media`` None the clip is
    answered from the saved embeddings and shown as "audio not available".
    """
    path = str(media) if media is not None else None
    samples = load_audio(media) if media is not None and is_audio_file(media) else None
    return Query(
        kind="library",
        label=str(track["track_id"]),
        samples=samples,
        digest=f"track:{track['track_id']}:{path}",
        track_id=str(track["track_id"]),
        true_genre=str(track["genre"]),
        split=str(track["split"]),
        path=path,
    )


def agreement_text(genres: dict[str, str]) -> tuple[bool, str]:
    """Whether the predicted genres (by architecture) agree, and a sentence saying so."""
    if len(genres) < 2:
        return True, ""
    names = list(genres)
    values = list(genres.values())
    if len(set(values)) == 1:
        return True, f"Both models predict **{values[0]}**."
    said = ", ".join(f"{arch_label(a)} says **{genres[a]}**" for a in names)
    return False, f"The models disagree: {said}."


# --------------------------------------------------------------------------- projections
def projection_methods() -> list[str]:
    """2-D projection methods available here: PCA and t-SNE always, UMAP when ``umap-learn`` is installed."""
    methods = ["PCA", "t-SNE"]
    if importlib.util.find_spec("umap") is not None:
        methods.append("UMAP")
    return methods


def project(embeddings: np.ndarray, method: str = "PCA", seed: int = 0) -> np.ndarray:
    """Project embeddings (n, d) to (n, 2) with PCA, t-SNE or UMAP (deterministic for a seed)."""
    x = np.asarray(embeddings, dtype=np.float64)
    n = len(x)
    if n == 0:
        return np.zeros((0, 2))
    if n < 3 or x.shape[1] < 2:
        out = np.zeros((n, 2))
        out[:, : min(2, x.shape[1])] = x[:, :2]
        return out
    if method == "PCA":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "t-SNE":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (n - 1) / 3)))
        return TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=seed, metric="cosine"
        ).fit_transform(x)
    if method == "UMAP":
        try:
            import umap
        except ImportError as exc:
            raise ValueError("UMAP needs the umap-learn package (pip install umap-learn)") from exc
        return umap.UMAP(n_components=2, random_state=seed, metric="cosine", n_neighbors=min(15, n - 1)).fit_transform(
            x
        )
    raise ValueError(f"unknown projection method {method!r}; choose one of {', '.join(projection_methods())}")


def projection_table(tracks: pd.DataFrame, embeddings: np.ndarray, method: str = "PCA") -> pd.DataFrame:
    """Library tracks with their 2-D coordinates (columns x, y, track_id, genre, split, artist)."""
    xy = project(embeddings, method)
    table = tracks[["track_id", "genre", "split"]].copy().reset_index(drop=True)
    table["artist"] = tracks["artist"].fillna("").astype(str).to_numpy() if "artist" in tracks else ""
    table["x"], table["y"] = xy[:, 0], xy[:, 1]
    return table


def selected_track(selection) -> str | None:
    """The track id of the first selected point of a plotly selection event (None when none)."""
    if not selection:
        return None
    try:
        points = selection["selection"]["points"]
    except (KeyError, TypeError):
        points = getattr(getattr(selection, "selection", None), "points", None) or []
    for point in points or []:
        data = point.get("customdata") if isinstance(point, dict) else None
        if data:
            return str(data[0] if isinstance(data, (list, tuple)) else data)
    return None


# --------------------------------------------------------------------------- first start
#: Rough share of the demo build each stage takes (for one overall progress bar).
_DEMO_STAGES = [("demo library", 0.25)] + [
    (f"{arch} {stage}", share)
    for arch in ARCHITECTURES
    for stage, share in (("spectrograms", 0.08), ("features", 0.20), ("epochs", 0.095))
]


class DemoProgress:
    """Turns ``build_demo``'s per-stage reports into one overall fraction and a status line."""

    def __init__(self, architectures: Sequence[str] = ARCHITECTURES) -> None:
        self.stages = [(s, w) for s, w in _DEMO_STAGES if s == "demo library" or s.split()[0] in architectures]
        total = sum(w for _, w in self.stages)
        self.stages = [(s, w / total) for s, w in self.stages]
        self.fraction = 0.0

    def update(self, stage: str, done: int, total: int) -> tuple[float, str]:
        """Record a report; return (overall fraction 0–1, never going back, and a status line)."""
        start = 0.0
        for name, share in self.stages:
            if name == stage:
                part = min(1.0, done / total) if total else 1.0
                self.fraction = max(self.fraction, min(1.0, start + share * part))
                break
            start += share
        what = stage
        for arch, label in ARCH_LABELS.items():
            what = what.replace(arch, label)
        return self.fraction, f"{what}: {done}/{total}"


def demo_description() -> str:
    """What building the demo does, for the first-start panel."""
    from genrec.build import DEMO_SETTINGS
    from genrec.library import DEMO_CLIPS_PER_GENRE

    return (
        f"generates a **synthetic demo library** of {DEMO_CLIPS_PER_GENRE * len(GENRES)} clips "
        f"({DEMO_CLIPS_PER_GENRE} per genre, {len(GENRES)} genres) and trains **VGG16** and **ResNet50** "
        f"on it (up to {DEMO_SETTINGS['epochs']} epochs each, {DEMO_SETTINGS['input_size']}-px images)."
    )
