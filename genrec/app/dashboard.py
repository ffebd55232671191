"""What the Streamlit dashboard needs besides drawing: run labels, tables, clip lists and captions.

No Streamlit here: the pages call these functions and only lay out their
results, so everything below can be tested without a browser or AppTest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from genrec.app.plots import arch_label
from genrec.config import ARCHITECTURES, GENRES, PAPER_ACCURACY
from genrec.data.library import DEMO_CLIPS_PER_GENRE
from genrec.runs.reader import Run, newest, runs_table
from genrec.runs.record import SplitMetrics, paper_table
from genrec.training.plan import DEMO_SETTINGS

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
def default_runs(runs: Sequence[Run], archs: Sequence[str] = ARCHITECTURES) -> dict[str, Run | None]:
    """The newest run of each architecture (None where there is none); ``runs`` are newest first."""

    return {arch: newest(list(runs), arch) for arch in archs}


def run_option_label(run: Run) -> str:
    """How a run is named in selectboxes: its id with weights and test accuracy."""
    acc = run.metrics_summary.test.accuracy
    acc_text = f", test acc {acc:.2f}" if np.isfinite(acc) else ""
    return f"{run.id} ({run.weights_label}{acc_text})"


def run_short_label(run: Run) -> str:
    """A compact run name for narrow widgets: creation time and test accuracy."""
    created = run.created_at.strftime("%Y-%m-%d %H:%M")
    acc = run.metrics_summary.test.accuracy
    acc_text = f" · acc {acc:.2f}" if np.isfinite(acc) else ""
    return f"{created}{acc_text}"


def weights_caption(run: Run) -> str:
    """One line saying which weights a run's backbone started from."""
    kind = run.weights.kind
    meaning = {"imagenet": "pretrained on ImageNet", "none": "random initialisation, no pretraining"}.get(
        kind, "a local weights file"
    )
    return f"Started from **{run.weights_label}** ({meaning})"


def is_synthetic(run: Run) -> bool:
    """Whether the run was trained on the synthetic demo library."""
    return run.library.synthetic


def summary_table(runs: Sequence[Run], reference: bool = True) -> pd.DataFrame:
    """One row per run (display column names), with the paper's figures as reference rows at the end."""

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


def report_table(split: SplitMetrics) -> pd.DataFrame:
    """The paper's precision / recall / F1 / support table, with the summary rows set apart."""

    frame = paper_table(split.labels, split.per_genre, split.n, split.accuracy, split.macro_avg, split.weighted_avg)
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
def demo_description() -> str:
    """What building the demo does, for the first-start panel."""

    return (
        f"generates a **synthetic demo library** of {DEMO_CLIPS_PER_GENRE * len(GENRES)} clips "
        f"({DEMO_CLIPS_PER_GENRE} per genre, {len(GENRES)} genres) and trains **VGG16** and **ResNet50** "
        f"on it (up to {DEMO_SETTINGS['epochs']} epochs each, {DEMO_SETTINGS['input_size']}-px images)."
    )
