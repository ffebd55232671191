"""Plotly figures and small images for the dashboard, built from genrec data only.

Nothing here imports Streamlit, so every figure can be built (and tested) on
its own. Genres always have the same colour (:data:`GENRE_COLOURS`), in every
chart and label, so a genre is recognisable at a glance across pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import hex_to_rgb, sequential
from plotly.subplots import make_subplots

from genrec.config import ARCH_LABELS, DB_CEIL, DB_FLOOR, GENRES, HOP_LENGTH, SAMPLE_RATE

#: One fixed colour per genre (D3's category-10 palette, chosen to suit the genre names).
GENRE_COLOURS: dict[str, str] = {
    "blues": "#1f77b4",  # blue
    "classical": "#9467bd",  # purple
    "country": "#8c564b",  # brown
    "disco": "#e377c2",  # pink
    "hiphop": "#ff7f0e",  # orange
    "jazz": "#bcbd22",  # olive
    "metal": "#7f7f7f",  # grey
    "pop": "#17becf",  # cyan
    "reggae": "#2ca02c",  # green
    "rock": "#d62728",  # red
}
OTHER_COLOUR = "#444444"

#: Colour scale of every spectrogram (plot and thumbnail): magma, as ``rgb()`` strings because
#: Streamlit's plotly theme treats hex colours #000001–#000010 (magma starts at #000004) as placeholders.
SPECTROGRAM_SCALE = [
    [i / (len(sequential.Magma) - 1), "rgb({},{},{})".format(*hex_to_rgb(c))] for i, c in enumerate(sequential.Magma)
]
#: dB range shown: the range the models see.
DB_RANGE = (DB_FLOOR, DB_CEIL)


_MARGIN = dict(l=10, r=10, t=40, b=10)


def genre_order(genres) -> list[str]:
    """The distinct genres of ``genres``: GTZAN's in their label order, then any others sorted."""
    present = set(genres)
    return [g for g in GENRES if g in present] + sorted(present - set(GENRES))


def genre_colour(genre: str) -> str:
    """The fixed colour of a genre (a neutral grey for anything else)."""
    return GENRE_COLOURS.get(genre, OTHER_COLOUR)


def arch_label(arch: str) -> str:
    """'vgg16' → 'VGG16', 'resnet50' → 'ResNet50'."""
    return ARCH_LABELS.get(arch, arch)


# --------------------------------------------------------------------------- audio
def waveform_figure(
    y: np.ndarray, sr: int = SAMPLE_RATE, max_columns: int = 1500, title: str = "Waveform"
) -> go.Figure:
    """The clip's amplitude over time, drawn as a min/max envelope so long clips stay light."""
    y = np.asarray(y, dtype=np.float32)
    n = len(y)
    cols = max(1, min(max_columns, n))
    edges = np.linspace(0, n, cols + 1).astype(int)
    edges = np.unique(edges)
    lo = np.minimum.reduceat(y, edges[:-1]) if n else np.zeros(1)
    hi = np.maximum.reduceat(y, edges[:-1]) if n else np.zeros(1)
    t = edges[:-1] / sr
    fig = go.Figure()
    edge = dict(x=t, mode="lines", line=dict(width=0.6, color="#4c78a8"), showlegend=False)
    fig.add_trace(go.Scatter(y=hi, name="max", hoverinfo="skip", **edge))
    # the band between the two edges is the waveform's envelope
    fill = dict(fill="tonexty", fillcolor="rgba(76,120,168,0.55)", hovertemplate="%{x:.2f} s<extra></extra>")
    fig.add_trace(go.Scatter(y=lo, name="min", **fill, **edge))
    peak = float(max(np.abs(lo).max(initial=0), np.abs(hi).max(initial=0), 1e-3))
    fig.update_layout(title=title, height=200, margin=_MARGIN, hovermode="x")
    fig.update_xaxes(title_text="time (s)", range=[0, n / sr if n else 1])
    fig.update_yaxes(title_text="amplitude", range=[-peak * 1.05, peak * 1.05], zeroline=True)
    return fig


def _hz_label(hz: float) -> str:
    return f"{hz / 1000:g} kHz" if hz >= 1000 else f"{hz:g} Hz"


def spectrogram_figure(
    db: np.ndarray,
    band_hz: Sequence[float],
    sr: int = SAMPLE_RATE,
    hop: int = HOP_LENGTH,
    max_frames: int = 700,
    title: str = "Mel spectrogram",
) -> go.Figure:
    """Heatmap of a (bands, frames) dB mel spectrogram: time in s, frequency in Hz, dB colour bar.

    Bands are drawn evenly (the mel scale, as the model sees them) with the axis
    labelled in Hz; long clips are averaged down to ``max_frames`` columns.
    """
    db = np.asarray(db, dtype=np.float32)
    bands, frames = db.shape
    step = max(1, int(np.ceil(frames / max_frames)))
    if step > 1:
        usable = frames // step * step
        shown = db[:, :usable].reshape(bands, -1, step).mean(axis=2)
        if usable < frames:
            shown = np.concatenate([shown, db[:, usable:].mean(axis=1, keepdims=True)], axis=1)
    else:
        shown = db
    times = (np.arange(shown.shape[1]) * step + step / 2) * hop / sr
    band_hz = np.asarray(band_hz, dtype=float)
    ticks_hz = [t for t in (500, 1000, 2000, 4000, 8000) if t <= band_hz[-1]]
    tickvals = [int(np.argmin(np.abs(band_hz - t))) for t in ticks_hz]
    hz_text = np.repeat(np.round(band_hz).astype(int)[:, None], shown.shape[1], axis=1)
    fig = go.Figure(
        go.Heatmap(
            z=np.round(shown, 1),
            x=np.round(times, 3),
            y=np.arange(bands),
            customdata=hz_text,
            colorscale=SPECTROGRAM_SCALE,
            zmin=DB_RANGE[0],
            zmax=DB_RANGE[1],
            colorbar=dict(title=dict(text="dB"), thickness=12),
            hovertemplate="%{x:.2f} s · %{customdata} Hz<br>%{z:.1f} dB<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=300, margin=_MARGIN)
    fig.update_xaxes(title_text="time (s)")
    fig.update_yaxes(
        title_text="frequency (Hz, mel scale)",
        tickvals=tickvals,
        ticktext=[_hz_label(t) for t in ticks_hz],
        range=[-0.5, bands - 0.5],
    )
    return fig


def _lut(scale: Sequence[str] = sequential.Magma, n: int = 256) -> np.ndarray:
    """An (n, 3) uint8 lookup table interpolated from a plotly colour scale."""
    rgb = np.array([hex_to_rgb(c) for c in scale], dtype=float)
    pos = np.linspace(0, 1, len(rgb))
    x = np.linspace(0, 1, n)
    return np.stack([np.interp(x, pos, rgb[:, c]) for c in range(3)], axis=1).astype(np.uint8)


_MAGMA = _lut()


def spectrogram_thumbnail(db: np.ndarray, width: int = 192, height: int = 72) -> np.ndarray:
    """A small (height, width, 3) uint8 colour picture of a dB spectrogram, low frequencies at the bottom.

    Trailing frames of pure silence (the padding of clips shorter than the window) are left out.
    """

    lo, hi = DB_RANGE
    db = np.asarray(db, dtype=np.float32)
    sounding = np.flatnonzero(db.max(axis=0) > lo)
    if len(sounding):
        db = db[:, : sounding[-1] + 1]
    scaled = (np.clip(db, lo, hi) - lo) / (hi - lo)
    picture = Image.fromarray(np.ascontiguousarray(scaled[::-1]), mode="F")
    small = np.asarray(picture.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
    return _MAGMA[np.clip(np.rint(small * 255), 0, 255).astype(np.uint8)]


def grey_thumbnail(image: np.ndarray, width: int = 192, height: int = 72) -> np.ndarray:
    """Colour a grey (rows, cols[, channels]) 0–255 spectrogram image like :func:`spectrogram_thumbnail`."""

    grey = np.asarray(image, dtype=np.float32)
    if grey.ndim == 3:
        grey = grey[..., :3].mean(axis=2)
    small = np.asarray(Image.fromarray(grey, mode="F").resize((width, height), Image.Resampling.BILINEAR))
    return _MAGMA[np.clip(np.rint(small), 0, 255).astype(np.uint8)]


# --------------------------------------------------------------------------- predictions
def probability_figure(
    probabilities: pd.DataFrame,
    true_genre: str | None = None,
    title: str | None = None,
    height: int = 300,
    x_max: float | None = None,
) -> go.Figure:
    """Horizontal bars of a ``genre, probability`` table in genre order, coloured per genre.

    The predicted genre's bar is outlined; the true genre (when known) is marked with ✓.
    ``x_max`` fixes the axis (to compare several charts); by default it fits the largest bar.
    """
    table = probabilities.copy()
    order = [g for g in GENRES if g in set(table["genre"])] + [g for g in table["genre"] if g not in GENRES]
    table = table.set_index("genre").loc[order].reset_index()
    best = table["probability"].idxmax()
    labels = [f"{g} ✓" if g == true_genre else g for g in table["genre"]]
    text = [f"{p:.0%}" for p in table["probability"]]
    opacity = [1.0 if i == best else 0.55 for i in range(len(table))]
    fig = go.Figure(
        go.Bar(
            x=table["probability"],
            y=labels,
            orientation="h",
            text=text,
            textposition="outside",
            marker=dict(
                color=[genre_colour(g) for g in table["genre"]],
                opacity=opacity,
                line=dict(width=[2 if i == best else 0 for i in range(len(table))], color="#222"),
            ),
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
            cliponaxis=False,
        )
    )
    fig.update_layout(
        title=title, height=height, margin=dict(l=10, r=40, t=30 if title else 10, b=10), showlegend=False
    )
    if x_max is None:
        x_max = probability_axis_max([table["probability"].max()])
    fig.update_xaxes(range=[0, x_max], tickformat=".0%", title_text="probability")
    fig.update_yaxes(autorange="reversed")
    return fig


def probability_axis_max(peaks) -> float:
    """An axis end that leaves room for the labels of the largest probability (at least 25 %, at most 115 %)."""
    peak = float(max(peaks, default=0.0))
    return min(1.15, max(0.25, peak * 1.2 + 0.03))


# --------------------------------------------------------------------------- training runs
def history_figure(history: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Accuracy and loss per epoch, training (solid) and validation (dashed), side by side."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"), horizontal_spacing=0.12)
    styles = {"": dict(color="#1f77b4"), "val_": dict(color="#ff7f0e", dash="dash")}
    for metric, col in (("accuracy", 1), ("loss", 2)):
        for prefix, line in styles.items():
            name = f"{prefix}{metric}"
            if name not in history:
                continue
            fig.add_trace(
                go.Scatter(
                    x=history["epoch"],
                    y=history[name],
                    mode="lines+markers",
                    line=line,
                    name="training" if not prefix else "validation",
                    legendgroup=prefix or "train",
                    showlegend=col == 1,
                    hovertemplate=f"epoch %{{x}}<br>{name} %{{y:.3f}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="epoch", dtick=max(1, len(history) // 10 or 1))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=1)
    fig.update_layout(
        title=title,
        height=320,
        margin=dict(l=10, r=10, t=80 if title else 60, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.12, xanchor="right", x=1),
    )
    return fig


def confusion_figure(frame: pd.DataFrame, normalized: bool = False, title: str | None = None) -> go.Figure:
    """Heatmap of a confusion matrix (rows: true genre, columns: predicted) with each cell's value written in."""
    z = frame.to_numpy(dtype=float)
    top = 1.0 if normalized else max(1.0, float(z.max(initial=0)))
    text = [[(f"{v:.0%}" if normalized else f"{int(v)}") if v else "" for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(frame.columns),
            y=list(frame.index),
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=top,
            colorbar=dict(
                title=dict(text="share" if normalized else "clips"),
                thickness=12,
                tickformat=".0%" if normalized else "d",
                dtick=0.25 if normalized else max(1, int(np.ceil(top / 5))),
            ),
            hovertemplate="true %{y} → predicted %{x}: %{z" + (":.0%" if normalized else "") + "}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=420, margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    fig.update_xaxes(title_text="predicted genre", side="bottom", tickangle=-45)
    fig.update_yaxes(title_text="true genre", autorange="reversed")
    return fig


def add_genre_traces(
    fig: go.Figure, frame: pd.DataFrame, x: str, y: str, trace: Callable[[str, pd.DataFrame], dict]
) -> None:
    """One Scatter of columns ``x`` and ``y`` per genre in ``frame``, in :func:`genre_order`, named by genre.

    ``trace(genre, rows)`` gives the Scatter's other arguments for that genre's rows.
    """
    for genre in genre_order(frame["genre"]):
        rows = frame[frame["genre"] == genre]
        fig.add_trace(go.Scatter(x=rows[x], y=rows[y], name=genre, **trace(genre, rows)))


def _add_markers(fig: go.Figure, rows: pd.DataFrame, name: str, marker: dict) -> None:
    """Markers drawn over a map at ``rows``' x and y (no hover of their own), when there are any."""
    if len(rows):
        fig.add_trace(go.Scatter(x=rows["x"], y=rows["y"], mode="markers", name=name, hoverinfo="skip", marker=marker))


# --------------------------------------------------------------------------- library map
def projection_figure(
    points: pd.DataFrame, highlight: str | None = None, title: str | None = None, neighbours: Sequence[str] = ()
) -> go.Figure:
    """Scatter of a 2-D projection (columns x, y, track_id, genre, split, artist), one trace per genre.

    Each point carries its ``track_id`` as customdata (for selection events);
    ``highlight`` circles one track and ``neighbours`` ring its recommendations.
    """
    fig = go.Figure()
    artist = points["artist"].replace("", "—") if "artist" in points else pd.Series("—", index=points.index)
    add_genre_traces(
        fig,
        points,
        "x",
        "y",
        lambda genre, part: dict(
            mode="markers",
            marker=dict(color=genre_colour(genre), size=9, opacity=0.85, line=dict(width=0.5, color="white")),
            customdata=np.stack([part["track_id"], part["split"], artist.loc[part.index]], axis=1),
            hovertemplate=f"<b>%{{customdata[0]}}</b><br>{genre} · %{{customdata[1]}} split<br>"
            "artist: %{customdata[2]}<extra></extra>",
        ),
    )
    ring = dict(size=16, color="rgba(0,0,0,0)", line=dict(width=2, color="#222"))
    _add_markers(fig, points[points["track_id"].isin(list(neighbours))], "recommended", ring)
    chosen = points[points["track_id"] == highlight] if highlight else points.iloc[0:0]
    if len(chosen):
        colour = genre_colour(chosen["genre"].iloc[0])
        star = dict(symbol="star", size=20, color=colour, line=dict(width=2, color="#111"))
        _add_markers(fig, chosen, "selected", star)
    fig.update_layout(
        title=title,
        height=560,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        legend=dict(title_text="genre", itemsizing="constant"),
        dragmode="pan",
        clickmode="event+select",
    )
    fig.update_xaxes(showticklabels=False, title_text="component 1", zeroline=False)
    fig.update_yaxes(showticklabels=False, title_text="component 2", zeroline=False)
    return fig
