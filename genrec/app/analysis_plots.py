"""Figures of the explanations and comparisons: Grad-CAM overlays, song timelines, head-to-head charts.

Plotly figures for the app, and a PIL rendering of the Grad-CAM overlay for
``genrec explain`` (no browser or extra plotting library needed to write a PNG).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image, ImageDraw
from plotly.colors import sequential

from genrec.app.plots import (
    DB_RANGE,
    _hz_label,
    _lut,
    add_genre_traces,
    arch_label,
    genre_colour,
    spectrogram_figure,
)
from genrec.config import HOP_LENGTH, SAMPLE_RATE
from genrec.utils.fileio import atomic_write

#: Colour scale of Grad-CAM weight, drawn half-transparent over a grey spectrogram.
HEAT_SCALE = "Inferno"
HEAT_OPACITY = 0.6
_HEAT_LUT = _lut(sequential.Inferno)
WEIGHT_TITLE = "weight (1 = average)"


def gradcam_figure(explanation, band_hz: np.ndarray, zmax: float, title: str | None = None) -> go.Figure:
    """The clip's spectrogram in grey with the Grad-CAM map over it, on the spectrogram figure's axes.

    ``zmax`` is the top of the colour scale; give several figures the same one to compare them.
    """
    fig = spectrogram_figure(explanation.db, band_hz, title=title or f"Grad-CAM: {explanation.genre}")
    base = fig.data[0]
    base.update(
        colorscale="Greys",
        reversescale=True,
        showscale=False,
        hovertemplate="%{x:.2f} s · %{customdata} Hz<extra></extra>",
    )
    times = np.asarray(base.x, dtype=float)
    weight = explanation.relative(times)
    fig.add_trace(
        go.Heatmap(
            z=np.round(weight, 3),
            x=base.x,
            y=base.y,
            customdata=base.customdata,
            colorscale=HEAT_SCALE,
            zmin=0.0,
            zmax=zmax,
            opacity=HEAT_OPACITY,
            colorbar=dict(title=dict(text=WEIGHT_TITLE), thickness=12),
            hovertemplate="%{x:.2f} s · %{customdata} Hz<br>weight %{z:.2f}<extra></extra>",
            name="Grad-CAM",
        )
    )
    return fig


def timeline_figure(timeline, region: tuple[float, float] | None = None, title: str | None = None) -> go.Figure:
    """Genre probabilities of each window over the song (one line per genre), the chosen region shaded."""
    frame = timeline.frame()
    fig = go.Figure()
    add_genre_traces(
        fig,
        frame,
        "middle",
        "probability",
        lambda genre, part: dict(
            mode="lines+markers",
            line=dict(color=genre_colour(genre), width=2),
            marker=dict(size=5),
            customdata=np.stack([part["start"], part["end"]], axis=1),
            hovertemplate=genre + " %{y:.0%}<br>%{customdata[0]:.0f}–%{customdata[1]:.0f} s<extra></extra>",
        ),
    )
    if region is not None:
        fig.add_vrect(x0=region[0], x1=region[1], fillcolor="#888", opacity=0.15, line_width=0)
    fig.update_layout(
        title=title or f"{arch_label(timeline.arch)}: genre probability over the song",
        height=340,
        margin=dict(l=10, r=10, t=40, b=10),
        hovermode="x unified",
        # below the axis title, not over it (the legend wraps to three rows in a half-width column)
        legend=dict(orientation="h", yanchor="top", y=-0.32),
    )
    fig.update_xaxes(title_text="time (s)", title_standoff=6, range=[0, float(timeline.starts[-1] + timeline.window)])
    fig.update_yaxes(title_text="probability", range=[0, 1.02], tickformat=".0%")
    return fig


def f1_difference_figure(difference: pd.Series, label_a: str, label_b: str) -> go.Figure:
    """Per-genre F1 of run A minus run B as horizontal bars (right: A better)."""
    values = difference.to_numpy(dtype=float)
    fig = go.Figure(
        go.Bar(
            x=values,
            y=list(difference.index),
            orientation="h",
            marker_color=["#2b7bba" if v >= 0 else "#d6604d" for v in values],
            text=[f"{v:+.2f}" for v in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:+.2f}<extra></extra>",
        )
    )
    top = max(0.1, float(np.abs(values).max(initial=0)) * 1.25)
    fig.update_layout(
        title=f"F1 per genre: {label_a} minus {label_b}",
        height=360,
        margin=dict(l=10, r=30, t=40, b=10),
        showlegend=False,
    )
    fig.update_xaxes(range=[-top, top], zeroline=True, title_text=f"← {label_b} better · {label_a} better →")
    fig.update_yaxes(autorange="reversed")
    return fig


def confusion_difference_figure(difference: pd.DataFrame, label_a: str, label_b: str) -> go.Figure:
    """Confusion matrix of run A minus that of run B (rows: true genre), diverging colours around 0."""
    z = difference.to_numpy(dtype=float)
    top = max(1.0, float(np.abs(z).max(initial=0)))
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(difference.columns),
            y=list(difference.index),
            colorscale="RdBu",
            zmid=0,
            zmin=-top,
            zmax=top,
            text=[[f"{int(v):+d}" if v else "" for v in row] for row in z],
            texttemplate="%{text}",
            colorbar=dict(title=dict(text="clips"), thickness=12),
            hovertemplate="true %{y} → predicted %{x}: %{z:+d}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Confusion matrix: {label_a} minus {label_b}", height=420, margin=dict(l=10, r=10, t=40, b=10)
    )
    fig.update_xaxes(title_text="predicted genre", tickangle=-45)
    fig.update_yaxes(title_text="true genre", autorange="reversed")
    return fig


# --------------------------------------------------------------------------- PNG for the CLI
def _panel(explanation, band_hz: np.ndarray, zmax: float, width: int, band_px: int):
    """One overlay panel with its title, Hz labels on the left and time labels below (a PIL image)."""

    lo, hi = DB_RANGE
    bands, frames = explanation.db.shape
    grey = (np.clip(explanation.db, lo, hi) - lo) / (hi - lo)
    grey = np.asarray(
        Image.fromarray(np.ascontiguousarray(grey[::-1], dtype=np.float32), mode="F").resize(
            (width, bands * band_px), Image.Resampling.BILINEAR
        )
    )
    times = (np.arange(width) + 0.5) * frames * HOP_LENGTH / SAMPLE_RATE / width
    weight = explanation.relative(times, (np.arange(bands * band_px) + 0.5) / band_px - 0.5)[::-1]
    share = np.clip(weight / zmax, 0, 1)
    colour = _HEAT_LUT[np.rint(share * 255).astype(np.uint8)].astype(float)
    alpha = (HEAT_OPACITY * share)[..., None]
    rgb = (1 - alpha) * (np.clip(grey, 0, 1)[..., None] * 255) + alpha * colour
    left, top, bottom = 64, 22, 30
    canvas = Image.new("RGB", (left + width + 10, top + rgb.shape[0] + bottom), "white")
    canvas.paste(Image.fromarray(rgb.astype(np.uint8)), (left, top))
    draw = ImageDraw.Draw(canvas)
    draw.text(
        (left, 4),
        f"{arch_label(explanation.arch)}: Grad-CAM for '{explanation.genre}' (predicted '{explanation.predicted}')",
        fill="black",
    )
    height = rgb.shape[0]
    for hz in (250, 500, 1000, 2000, 4000, 8000):
        band = int(np.argmin(np.abs(band_hz - hz)))
        y = top + height - (band + 0.5) * band_px
        draw.line([(left - 4, y), (left, y)], fill="black")
        draw.text((4, y - 6), _hz_label(hz), fill="black")
    seconds = frames * HOP_LENGTH / SAMPLE_RATE
    step = 1 if seconds <= 8 else 5 if seconds <= 45 else 10
    for t in np.arange(0, seconds + 1e-9, step):
        x = left + t / seconds * width
        draw.line([(x, top + height), (x, top + height + 4)], fill="black")
        draw.text((x - 6, top + height + 6), f"{t:g}", fill="black")
    draw.text((left + width - 40, top + height + 16), "time (s)", fill="black")
    return canvas


def write_overlay_png(
    explanations: list, band_hz: np.ndarray, zmax: float, target: Path, width: int = 900, band_px: int = 2
) -> Path:
    """The Grad-CAM overlays of several runs stacked in one PNG with a shared colour bar, written atomically."""

    panels = [_panel(e, band_hz, zmax, width, band_px) for e in explanations]
    bar_h = 40
    canvas = Image.new("RGB", (max(p.width for p in panels), sum(p.height for p in panels) + bar_h), "white")
    y = 0
    for panel in panels:
        canvas.paste(panel, (0, y))
        y += panel.height
    ramp = np.repeat(_HEAT_LUT[np.linspace(0, 255, 300).astype(np.uint8)][None], 10, axis=0)
    canvas.paste(Image.fromarray(ramp), (64, y + 6))
    draw = ImageDraw.Draw(canvas)
    draw.text((64, y + 20), f"0 … {zmax:.1f}  Grad-CAM {WEIGHT_TITLE}, one scale for all panels", fill="black")
    return atomic_write(Path(target), lambda out: canvas.save(out, format="PNG"))
